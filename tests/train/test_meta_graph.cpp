// Meta-graphs: TensorFlow 1's export_meta_graph / import_meta_graph workflow (train, export,
// continue training in a fresh state with no model code, bitwise equal to an unbroken run),
// collections, signatures, variables bound or created by name, name clashes, stale variable ids
// and malformed files.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing.hpp"
#include "xflow/checkpoint.hpp"
#include "xflow/meta_graph.hpp"
#include "xflow/saved_model.hpp"
#include "xflow/saver.hpp"
#include "xflow/nn.hpp"
#include "xflow/optim.hpp"
#include "xflow/session.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"
#include "temp_files.hpp"

using namespace xf;
using namespace xf::train;

namespace {

// A fresh directory per test case, removed at the end.
struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("meta") {}
};

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined() || a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Tensor x = a.contiguous(), y = b.contiguous();
  return std::memcmp(x.raw_data(), y.raw_data(), static_cast<size_t>(x.size()) * dtype_size(x.dtype())) == 0;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// The MLP train step, TensorFlow 1 style: placeholders x and y_true, two dense layers, softmax
// cross-entropy, accuracy, an Adam update.
struct Built {
  Graph graph;
  int x = 0, y = 0, loss = 0, accuracy = 0, logits = 0;
  std::vector<Variable> keep;  // the layers' variables, Adam's slots and step count
};
Built build_train_step() {
  manual_seed(42);
  nn::Dense fc1(4, 16, nn::Activation::relu, "fc1"), fc2(16, 3, nn::Activation::none, "fc2");
  Adam opt(0.05);
  std::vector<Variable> vars = fc1.variables();
  for (const Variable& v : fc2.variables()) vars.push_back(v);
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {8, 4}, "x");
  Tensor y = b.placeholder(DType::int32, {8}, "y_true");
  Tensor logits;
  Tensor loss = opt.minimize(
      [&](const std::vector<Tensor>&) {
        logits = fc2(fc1(x));
        NameScope s("loss");
        return mean(nn::sparse_softmax_cross_entropy_with_logits(y, logits));
      },
      vars);
  Tensor acc;
  {
    NameScope s("accuracy");
    acc = nn::accuracy(y, logits);
  }
  Built r;
  r.graph = b.finish({loss, acc});
  r.x = b.value_of(x);
  r.y = b.value_of(y);
  r.loss = b.value_of(loss);
  r.accuracy = b.value_of(acc);
  r.logits = b.value_of(logits);
  r.keep = global_variables();
  return r;
}

// The batch of step i: inputs and labels that depend on i only.
Tensor batch_x(int i) { return testing::input({8, 4}, 11 * i + 3); }
Tensor batch_y(int i) {
  std::vector<int32_t> l(8);
  for (int k = 0; k < 8; ++k) l[static_cast<size_t>(k)] = (k * 7 + i * 5) % 3;
  return Tensor::from_vector(l, {8});
}

MetaGraph tf1_meta_graph(const Built& m) {
  MetaGraph mg(m.graph);
  mg.add_to_collection("train_var", mg.value(m.x));
  mg.add_to_collection("train_var", mg.value(m.y));
  mg.add_to_collection("train_var", mg.value(m.accuracy));
  mg.add_to_collection("train_op", group(m.graph, "train_op"));
  mg.add_to_collection("losses", mg.value(m.loss));
  return mg;
}

}  // namespace

TEST_CASE("meta_graph: train, export, import with no model code, keep training: bitwise an unbroken run") {
  TempDir dir;
  const std::string path = dir / "model_ckpt.meta.json";
  const int n1 = 3, n2 = 4;

  // The unbroken run: n1 + n2 steps of the original graph.
  std::vector<Tensor> losses_a;
  std::map<std::string, Tensor> final_a;
  {
    reset_variables();
    Built m = build_train_step();
    Session s(m.graph);
    GraphItem train_op = group(m.graph);
    for (int i = 0; i < n1 + n2; ++i)
      losses_a.push_back(run(s, {train_op, GraphItem::of_value(m.loss)},
                             {{GraphItem::of_value(m.x), batch_x(i)}, {GraphItem::of_value(m.y), batch_y(i)}})[1]);
    final_a = variable_values(global_variables());
  }
  REQUIRE(final_a.count("fc1/kernel"));
  REQUIRE(final_a.count("fc1/kernel/Adam/m"));
  REQUIRE(final_a.count("Adam/iterations"));

  // The broken run: build, export, n1 steps, keep the values by name (what a checkpoint holds).
  std::vector<Tensor> losses_b;
  std::map<std::string, Tensor> checkpoint, at_export;
  {
    reset_variables();
    Built m = build_train_step();
    MetaGraph mg = tf1_meta_graph(m);
    export_meta_graph(path, mg, {{"train_op", "train_var"}, {}, 1});
    at_export = variable_values(global_variables());
    Session s(m.graph);
    GraphItem train_op = group(m.graph);
    for (int i = 0; i < n1; ++i)
      losses_b.push_back(run(s, {train_op, GraphItem::of_value(m.loss)},
                             {{GraphItem::of_value(m.x), batch_x(i)}, {GraphItem::of_value(m.y), batch_y(i)}})[1]);
    checkpoint = variable_values(global_variables());
  }  // the model, the optimizer and their variables are gone

  // A fresh state: no variable exists, no model code runs. Import, restore by name, train.
  reset_variables();
  REQUIRE(global_variables().empty());
  MetaGraph mg = import_meta_graph(path);
  REQUIRE(mg.collection_names() == std::vector<std::string>{"train_op", "train_var"});  // "losses" not listed
  REQUIRE(mg.get_collection("losses").empty());
  // Every variable was created from the file, with the values it had at export.
  REQUIRE(mg.variables().size() == at_export.size());
  for (const Variable& v : mg.variables()) {
    INFO(v.name());
    REQUIRE(at_export.count(v.name()));
    CHECK(same_bits(v.value(), at_export.at(v.name())));
  }
  CHECK_FALSE(mg.variable("fc1/kernel/Adam/m").trainable());
  CHECK(mg.variable("fc1/kernel").trainable());
  CHECK(trainable_variables().size() == 4);

  assign_variables(checkpoint);
  Session s(mg.graph());
  const std::vector<GraphItem>& tv = mg.get_collection("train_var");
  REQUIRE(tv.size() == 3);
  CHECK(tv[0].name == "x");
  CHECK(tv[1].name == "y_true");
  GraphItem train_op = mg.get_collection("train_op")[0];
  CHECK(train_op.is_op());
  // The loss is output 0 of the graph; fetch it next to the train op.
  GraphItem loss = GraphItem::of_value(mg.graph().outputs[0]);
  for (int i = n1; i < n1 + n2; ++i) {
    std::vector<Tensor> r = run(s, {train_op, loss, tv[2]}, {{tv[0], batch_x(i)}, {tv[1], batch_y(i)}});
    CHECK_FALSE(r[0].defined());  // an op yields no tensor
    CHECK(r[2].dtype() == DType::float32);
    losses_b.push_back(r[1]);
  }
  REQUIRE(losses_b.size() == losses_a.size());
  for (size_t i = 0; i < losses_a.size(); ++i) {
    INFO("step " << i);
    CHECK(same_bits(losses_a[i], losses_b[i]));
  }
  std::map<std::string, Tensor> final_b = variable_values(mg.variables());
  REQUIRE(final_b.size() == final_a.size());
  for (const auto& [name, t] : final_a) {
    INFO(name);
    REQUIRE(final_b.count(name));
    CHECK(same_bits(t, final_b.at(name)));
  }
  CHECK(mg.variable("Adam/iterations").value().item<int64_t>() == static_cast<int64_t>(losses_a.size()) + 1);  // + the build's step
  // The loss went down: the imported graph really trains.
  CHECK(losses_b.back().item<float>() < losses_b.front().item<float>());
}

TEST_CASE("meta_graph: without restoring, the import starts from the values at export") {
  TempDir dir;
  reset_variables();
  Built m = build_train_step();
  MetaGraph mg0 = tf1_meta_graph(m);
  export_meta_graph(dir / "m.json", mg0);
  Session s0(m.graph);
  Tensor expected = s0.run({m.loss}, {{m.x, batch_x(0)}, {m.y, batch_y(0)}})[0];
  m.keep.clear();
  reset_variables();
  MetaGraph mg = import_meta_graph(dir / "m.json");
  Session s(mg.graph());
  auto tv = mg.get_collection("train_var");
  Tensor loss = run(s, {GraphItem::of_value(mg.graph().outputs[0])}, {{tv[0], batch_x(0)}, {tv[1], batch_y(0)}})[0];
  CHECK(same_bits(loss, expected));
}

TEST_CASE("meta_graph: collections, signatures, saver settings and tags round trip") {
  TempDir dir;
  reset_variables();
  Built m = build_train_step();
  MetaGraph mg = tf1_meta_graph(m);
  mg.add_signature("serving_default", make_signature(m.graph, {{"x", m.x}}, {{"logits", m.logits}}));
  mg.add_signature("eval", make_signature(m.graph, {{"x", m.x}, {"labels", m.y}}, {{"accuracy", m.accuracy}},
                                          "classify"));
  mg.set_saver_def(R"({"max_to_keep": 3, "keep_checkpoint_every_n_hours": 2.5, "sharded": false})");
  mg.tags = {"train", "serve"};
  export_meta_graph(dir / "m.json", mg);
  MetaGraph back = import_meta_graph(dir / "m.json");

  CHECK(back.collection_names() == mg.collection_names());
  for (const std::string& c : mg.collection_names()) {
    const auto& a = mg.get_collection(c);
    const auto& b = back.get_collection(c);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].kind == b[i].kind);
      CHECK(a[i].values == b[i].values);
      CHECK(b[i].name == (a[i].name.empty() ? Session(m.graph).name_of(a[i].value()) : a[i].name));
    }
  }
  CHECK(back.get_collection("train_var")[2].name == Session(m.graph).name_of(m.accuracy));
  CHECK(back.get_collection("train_var")[2].name.rfind("accuracy/", 0) == 0);
  REQUIRE(back.signatures().size() == 2);
  const Signature& s = back.signature("serving_default");
  CHECK(s.method_name == "predict");
  REQUIRE(s.inputs.size() == 1);
  CHECK(s.inputs.at("x").value == m.x);
  CHECK(s.inputs.at("x").shape == Shape{8, 4});
  CHECK(s.outputs.at("logits").value == m.logits);
  CHECK(s.outputs.at("logits").dtype == DType::float32);
  CHECK(s.outputs.at("logits").shape == Shape{8, 3});
  const Signature& e = back.signature("eval");
  CHECK(e.method_name == "classify");
  CHECK(e.inputs.at("labels").dtype == DType::int32);
  CHECK(error_of([&] { back.signature("nope"); }).find("there are 'eval', 'serving_default'") != std::string::npos);
  CHECK(back.saver_def().find("\"max_to_keep\":3") != std::string::npos);
  CHECK(back.tags == std::vector<std::string>{"train", "serve"});
  // The variables keep their collections; the graph round-trips exactly.
  for (const VariableDef& d : back.variable_defs()) {
    INFO(d.name);
    bool trainable = d.name.find("/Adam/") == std::string::npos && d.name != "Adam/iterations";
    CHECK(d.trainable == trainable);
    CHECK(std::count(d.collections.begin(), d.collections.end(), "trainable_variables") == (trainable ? 1 : 0));
    CHECK(std::count(d.collections.begin(), d.collections.end(), "global_variables") == 1);
  }
  // Exporting the import again gives the same document.
  CHECK(meta_graph_to_json(back) == meta_graph_to_json(import_meta_graph(dir / "m.json")));
  // An unknown collection in collection_list, a bad saver setting, a bad signature.
  CHECK_THROWS_AS(meta_graph_to_json(mg, {{"nope"}, {}, -1}), InvalidArgument);
  CHECK_THROWS_AS(mg.set_saver_def("[1, 2]"), InvalidArgument);
  CHECK_THROWS_AS(mg.set_saver_def("{"), InvalidArgument);
  CHECK_THROWS_AS(make_signature(m.graph, {{"x", 100000}}, {{"y", m.loss}}), InvalidArgument);
  CHECK_THROWS_AS(make_signature(m.graph, {{"x", m.x}}, {{"y", m.loss}}, "train"), InvalidArgument);
}

TEST_CASE("meta_graph: variables that exist under the same names are bound, not created") {
  TempDir dir;
  reset_variables();
  Built m = build_train_step();
  export_meta_graph(dir / "m.json", tf1_meta_graph(m));
  size_t before = global_variables().size();
  // The live fc1/kernel holds other values than the file's: the import uses the live ones.
  Variable k = m.keep[0];
  REQUIRE(k.name() == "fc1/kernel");
  k.assign(full(k.shape(), 0.25, k.dtype()));
  MetaGraph mg = import_meta_graph(dir / "m.json");
  CHECK(global_variables().size() == before);
  CHECK(mg.variable("fc1/kernel").id() == k.id());
  CHECK(mg.variable("fc1/kernel").value().to_vector<float>()[0] == 0.25f);

  // With create_missing off, a fresh state is a NotFound naming the variables.
  m.keep.clear();
  mg = MetaGraph();
  reset_variables();
  std::string err = error_of([&] { import_meta_graph(dir / "m.json", ImportOptions{false}); });
  CHECK(err.find("'fc1/kernel'") != std::string::npos);
  CHECK(err.find("m.json") != std::string::npos);
  CHECK_THROWS_AS(import_meta_graph(dir / "m.json", ImportOptions{false}), NotFound);
}

TEST_CASE("meta_graph: a variable of the same name but another shape is a clear error") {
  TempDir dir;
  reset_variables();
  {
    Built m = build_train_step();
    export_meta_graph(dir / "m.json", tf1_meta_graph(m));
  }
  reset_variables();
  Variable clash(zeros({5, 5}), "fc1/kernel");
  std::string err;
  try {
    import_meta_graph(dir / "m.json");
  } catch (const InvalidArgument& e) {
    err = e.what();
  }
  CHECK(err.find("'fc1/kernel' exists in this process as (5, 5) float32") != std::string::npos);
  CHECK(err.find("(4, 16) float32") != std::string::npos);
  // Nothing was created by the failed import.
  CHECK(global_variables().size() == 1);
}

TEST_CASE("graph JSON from another process binds its variables by name") {
  reset_variables();
  std::string json;
  {
    Variable a(Tensor::from_vector<float>({1, 2, 3}, {3}), "a");
    Variable counter(Tensor(int64_t{0}), "counter", false);
    Graph g = trace_graph(
        [&](const std::vector<Tensor>& in) {
          counter.assign_add(Tensor(int64_t{1}));
          return std::vector<Tensor>{a.value() * in[0]};
        },
        {Tensor::from_vector<float>({1, 1, 1}, {3})});
    json = g.to_json();
  }  // the writer's variables are gone: their ids mean nothing now
  reset_variables();
  Graph g = Graph::from_json(json);
  std::string err = error_of([&] { g.run({Tensor::from_vector<float>({1, 1, 1}, {3})}); });
  INFO(err);
  CHECK(err.find("variable 'counter'") != std::string::npos);
  CHECK(err.find("bind") != std::string::npos);

  // An id that names another live variable is refused, not silently read.
  Variable other(Tensor::from_vector<float>({7, 7, 7}, {3}), "other");
  std::string text = json;
  // Point every variable node at `other`'s id.
  std::string key = "\"var_id\":";
  for (size_t p = text.find(key); p != std::string::npos; p = text.find(key, p + 1)) {
    size_t e = text.find_first_of(",}", p);
    text.replace(p + key.size(), e - p - key.size(), std::to_string(other.id()));
  }
  Graph stale = Graph::from_json(text);
  CHECK_THROWS_AS(stale.run({Tensor::from_vector<float>({1, 1, 1}, {3})}), FailedPrecondition);

  // Missing variables: NotFound naming both.
  err = error_of([&] { bind_variables(g); });
  CHECK(err.find("'a'") != std::string::npos);
  CHECK(err.find("'counter'") != std::string::npos);

  Variable a(Tensor::from_vector<float>({10, 20, 30}, {3}), "a");
  Variable counter(Tensor(int64_t{5}), "counter", false);
  std::vector<Variable> bound = bind_variables(g);
  REQUIRE(bound.size() == 2);
  Tensor y = g.run({Tensor::from_vector<float>({1, 2, 3}, {3})})[0];
  CHECK(y.to_vector<float>() == std::vector<float>{10, 40, 90});
  CHECK(counter.value().item<int64_t>() == 6);

  // A graph that uses a name with another shape than the live variable's.
  reset_variables();
  Variable small(zeros({2}), "a");
  Variable c2(Tensor(int64_t{0}), "counter", false);
  Graph g2 = Graph::from_json(json);
  CHECK_THROWS_AS(bind_variables(g2), InvalidArgument);
}

TEST_CASE("meta_graph: a variable's initial value can be a graph that computes it") {
  TempDir dir;
  reset_variables();
  {
    Variable w(Tensor::from_vector<float>({1, 2}, {2}), "w");
    GraphBuilder b;
    Tensor x = b.placeholder(DType::float32, {2}, "x");
    Tensor y = w.value() * x;
    Graph g = b.finish({y});
    MetaGraph mg(g);
    Graph init = trace_graph([](const std::vector<Tensor>&) { return std::vector<Tensor>{mul(ones({2}), 3.0f)}; }, {});
    ExportOptions o;
    o.initializers.emplace("w", init);
    export_meta_graph(dir / "m.json", mg, o);
    // A wrong initializer: another shape.
    ExportOptions bad;
    bad.initializers.emplace("w", trace_graph([](const std::vector<Tensor>&) { return std::vector<Tensor>{ones({3})}; }, {}));
    CHECK_THROWS_AS(meta_graph_to_json(mg, bad), InvalidArgument);
  }
  CHECK(read_text(dir / "m.json").find("\"kind\": \"graph\"") != std::string::npos);
  reset_variables();
  MetaGraph mg = import_meta_graph(dir / "m.json");
  CHECK(mg.variable("w").value().to_vector<float>() == std::vector<float>{3, 3});
  Session s(mg.graph());
  CHECK(s.run({"mul"}, {{"x", Tensor::from_vector<float>({1, 2}, {2})}})[0].to_vector<float>() ==
        std::vector<float>{3, 6});
}

TEST_CASE("meta_graph: malformed files are clear errors naming the file, never a crash") {
  TempDir dir;
  reset_variables();
  std::string good;
  {
    Built m = build_train_step();
    MetaGraph mg = tf1_meta_graph(m);
    mg.add_signature("serving_default", make_signature(m.graph, {{"x", m.x}}, {{"logits", m.logits}}));
    good = meta_graph_to_json(mg, {{}, {}, -1});
  }
  const std::string path = dir / "bad.json";
  auto import_text = [&](const std::string& text) {
    reset_variables();
    write_text(path, text);
    return error_of([&] {
      try {
        import_meta_graph(path);
      } catch (const xf::Error&) {
        throw;
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string("not an xflow error: ") + e.what());
      }
    });
  };
  CHECK(import_text(good).empty());
  CHECK_THROWS_AS(import_meta_graph(dir / "missing.json"), NotFound);

  struct Case {
    std::string text, expect;
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    size_t p = t.find(from);
    REQUIRE(p != std::string::npos);
    return t.replace(p, from.size(), to);
  };
  std::vector<Case> cases = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[]", "must be an object"},
      {"null", "must be an object"},
      {"{\"format\": \"xflow.graph\"}", "format"},
      {"{\"format\": \"xflow.meta_graph\", \"schema_version\": [2, 0], \"graph\": {}}", "major version 2"},
      {std::string(200, '[') + std::string(200, ']'), "nested more than"},
      {replaced("\"graph\":{", "\"graph\":7,\"x\":{"), "must be a graph object"},
      {replaced("\"kind\":\"op\"", "\"kind\":\"frob\""), "must be \"value\" or \"op\""},
      {replaced("\"method_name\":\"predict\"", "\"method_name\":\"train\""), "method_name"},
      {replaced("\"dtype\":\"float32\",\"initializer\"", "\"dtype\":\"float33\",\"initializer\""), "unknown dtype"},
      {replaced("\"initializer\":{\"data\":\"", "\"initializer\":{\"data\":\"AAAA"), "base64"},
      {replaced("\"trainable\":true", "\"trainable\":1"), "trainable"},
      {replaced("\"value\":0", "\"value\":99999"), "is not a value of the graph"},
      {replaced("\"value\":0", "\"value\":-1"), "out of range"},
      {replaced("\"schema_version\":[1,1]", "\"schema_version\":\"1.0\""), "schema_version"},
      {good.substr(0, good.size() / 2), "not valid JSON"},
  };
  for (const Case& c : cases) {
    INFO(c.text.substr(0, 200));
    std::string err = import_text(c.text);
    CHECK(err.find("not an xflow error") == std::string::npos);
    CHECK_FALSE(err.empty());
    CHECK(err.find(c.expect) != std::string::npos);
    if (err.find("[meta_graph]") != std::string::npos) CHECK(err.find(path) != std::string::npos);
  }
  // A signature whose dtype is not its value's.
  std::string sig = good;
  size_t p = sig.find("\"serving_default\"");
  REQUIRE(p != std::string::npos);
  p = sig.find("\"dtype\":\"float32\"", p);
  sig.replace(p, 17, "\"dtype\":\"float64\"");
  CHECK(import_text(sig).find("says (8, 4) float64, but value") != std::string::npos);

  // Damage at many positions: every outcome is success or an xflow error.
  for (size_t pos = 0; pos < good.size(); pos += good.size() / 97 + 1) {
    for (char ch : {'\0', '"', '9', '}', 'x'}) {
      std::string t = good;
      t[pos] = ch;
      INFO("position " << pos);
      CHECK(import_text(t).find("not an xflow error") == std::string::npos);
    }
  }
}

// ---- SavedModel-like exports ----

namespace {

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// An inference graph over trained variables: x -> fc1 -> fc2 -> softmax, with the signature
// serving_default (x -> logits, probabilities).
struct Servable {
  Graph graph;
  int x = 0, logits = 0, probs = 0;
  std::vector<Variable> keep;
};
Servable build_servable() {
  manual_seed(7);
  nn::Dense fc1(4, 16, nn::Activation::relu, "fc1"), fc2(16, 3, nn::Activation::none, "fc2");
  fc1.bias.assign(full({16}, 0.125, DType::float32));  // not the initializer's value
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {8, 4}, "x");
  Tensor logits = fc2(fc1(x));
  Tensor probs = softmax(logits);
  Servable s;
  s.graph = b.finish({probs});
  s.x = b.value_of(x);
  s.logits = b.value_of(logits);
  s.probs = b.value_of(probs);
  s.keep = global_variables();
  return s;
}

train::MetaGraph servable_meta_graph(const Servable& s) {
  train::MetaGraph mg(s.graph);
  mg.add_signature("serving_default",
                   make_signature(s.graph, {{"x", s.x}}, {{"logits", s.logits}, {"probabilities", s.probs}}));
  mg.add_signature("classify", make_signature(s.graph, {{"inputs", s.x}}, {{"scores", s.probs}}, "classify"));
  return mg;
}

}  // namespace

TEST_CASE("saved_model: export, load, run a signature: bitwise the original model's outputs") {
  TempDir dir;
  reset_variables();
  Servable s = build_servable();
  const std::string base = dir / "models";
  std::string path = export_saved_model(base, 3, servable_meta_graph(s));
  CHECK(path == base + "/3");
  CHECK(entries(base) == std::vector<std::string>{"3"});
  CHECK(entries(path) == std::vector<std::string>{"saved_model.json", "variables"});
  CHECK(entries(path + "/variables") ==
        std::vector<std::string>{"variables.data-00000-of-00001", "variables.index"});
  CHECK(saved_model_versions(base) == std::vector<int64_t>{3});
  // The bundle holds the variables' current values by name.
  io::BundleReader r(path + "/variables/variables");
  CHECK(same_bits(r.read("fc1/bias"), s.keep[1].value()));
  CHECK(r.entries().size() == 4);

  Session orig(s.graph);
  Tensor x = testing::input({8, 4}, 5);
  std::vector<Tensor> want = orig.run({s.logits, s.probs}, {{s.x, x}});
  // Variables change after the export: the export keeps the values it saved.
  Tensor saved_bias = s.keep[1].value();
  s.keep[1].assign(full({16}, -1.0, DType::float32));
  s.keep.clear();
  reset_variables();

  SavedModel m = load_saved_model(path);
  CHECK(global_variables().empty());  // a loaded model creates no Variable
  CHECK(m.signature_names() == std::vector<std::string>{"classify", "serving_default"});
  std::map<std::string, Tensor> out = m.run("serving_default", {{"x", x}});
  REQUIRE(out.size() == 2);
  CHECK(same_bits(out.at("logits"), want[0]));
  CHECK(same_bits(out.at("probabilities"), want[1]));
  CHECK(same_bits(m.run("classify", {{"inputs", x}}).at("scores"), want[1]));
  CHECK(m.signature("classify").method_name == "classify");
  CHECK(m.meta_graph().tags == std::vector<std::string>{"serve"});

  // Errors: unknown signature, missing, extra, wrong dtype or shape.
  std::string err = error_of([&] { m.run("predict", {{"x", x}}); });
  CHECK(err.find("no signature 'predict' (there are 'classify', 'serving_default')") != std::string::npos);
  CHECK_THROWS_AS(m.run("predict", {{"x", x}}), NotFound);
  err = error_of([&] { m.run("serving_default", {}); });
  CHECK(err.find("needs input 'x' ((8, 4) float32)") != std::string::npos);
  err = error_of([&] { m.run("serving_default", {{"x", x}, {"y", x}}); });
  CHECK(err.find("has no input 'y' (its inputs: 'x')") != std::string::npos);
  err = error_of([&] { m.run("serving_default", {{"x", cast(x, DType::float64)}}); });
  CHECK(err.find("input 'x' of signature 'serving_default' must be (8, 4) float32, got (8, 4) float64") !=
        std::string::npos);
  CHECK_THROWS_AS(m.run("serving_default", {{"x", zeros({2, 4})}}), InvalidArgument);
  CHECK_THROWS_AS(m.run("serving_default", {{"x", Tensor()}}), InvalidArgument);
}

TEST_CASE("saved_model: a signature with any batch size (-1) runs the graph's batch over any number of rows") {
  TempDir dir;
  reset_variables();
  Servable s = build_servable();  // the graph's batch: 8 rows
  train::MetaGraph mg(s.graph);
  train::Signature sig = make_signature(s.graph, {{"x", s.x}}, {{"probabilities", s.probs}});
  set_any_batch_size(sig);
  CHECK(sig.inputs.at("x").shape == Shape{-1, 4});
  mg.add_signature("serving_default", sig);
  std::string path = export_saved_model(dir / "models", 1, mg);
  Session orig(s.graph);
  Tensor x = testing::input({8, 4}, 5);
  Tensor want = orig.run({s.probs}, {{s.x, x}})[0];
  s.keep.clear();
  reset_variables();
  SavedModel m = load_saved_model(path);
  CHECK(m.signature("serving_default").inputs.at("x").shape == Shape{-1, 4});
  CHECK(m.signature("serving_default").outputs.at("probabilities").shape == Shape{-1, 3});
  // 8 rows: one run; 3 rows: padded; 19 rows: three runs. Each row's result is the row's own.
  const std::vector<float> all = want.to_vector<float>();
  for (int64_t rows : {8, 3, 19, 1}) {
    INFO(rows);
    std::vector<float> in;
    const std::vector<float> xs = x.to_vector<float>();
    for (int64_t r = 0; r < rows; ++r) in.insert(in.end(), xs.begin() + (r % 8) * 4, xs.begin() + (r % 8) * 4 + 4);
    Tensor got = m.run("serving_default", {{"x", Tensor::from_vector(in, {rows, 4})}}).at("probabilities");
    REQUIRE(got.shape() == Shape{rows, 3});
    std::vector<float> g = got.to_vector<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int k = 0; k < 3; ++k) CHECK(g[static_cast<size_t>(r * 3 + k)] == all[static_cast<size_t>((r % 8) * 3 + k)]);
  }
  Tensor none = m.run("serving_default", {{"x", zeros({0, 4})}}).at("probabilities");
  CHECK(none.shape() == Shape{0, 3});
  std::string err = error_of([&] { m.run("serving_default", {{"x", zeros({2, 5})}}); });
  CHECK(err.find("must be (-1, 4) float32, got (2, 5) float32") != std::string::npos);
  // -1 only in dimension 0, and only in a signature.
  CHECK(train::signature_shape_fits({-1, 4}, {8, 4}));
  CHECK(!train::signature_shape_fits({8, -1}, {8, 4}));
  CHECK(!train::signature_shape_fits({-1}, {8, 4}));
}

TEST_CASE("saved_model: a version appears whole or not at all, and is never replaced") {
  TempDir dir;
  reset_variables();
  Servable s = build_servable();
  train::MetaGraph mg = servable_meta_graph(s);
  const std::string base = dir / "models";

  // While the export writes, base/1 does not exist; the temporary directory is complete.
  SavedModelOptions o;
  bool called = false;
  o.before_rename = [&](const std::string& tmp) {
    called = true;
    if (std::filesystem::exists(base + "/1")) throw std::runtime_error("the version is visible too early");
    if (std::filesystem::path(tmp).filename().string().rfind(".tmp-1-", 0) != 0)
      throw std::runtime_error("unexpected temporary name " + tmp);
    if (!std::filesystem::exists(tmp + "/variables/variables.index")) throw std::runtime_error("incomplete");
    if (saved_model_versions(base) != std::vector<int64_t>{}) throw std::runtime_error("listed as a version");
  };
  export_saved_model(base, 1, mg, o);
  CHECK(called);
  CHECK(entries(base) == std::vector<std::string>{"1"});

  // An export that fails before the rename leaves nothing behind.
  SavedModelOptions crash;
  crash.before_rename = [](const std::string&) { throw DataLoss("simulated crash"); };
  CHECK_THROWS_AS(export_saved_model(base, 2, mg, crash), DataLoss);
  CHECK(entries(base) == std::vector<std::string>{"1"});

  // An existing version is refused and left as it was.
  std::string before = read_text(base + "/1/saved_model.json");
  std::string err = error_of([&] { export_saved_model(base, 1, mg); });
  CHECK(err.find("version 1 already exists") != std::string::npos);
  CHECK_THROWS_AS(export_saved_model(base, 1, mg), FailedPrecondition);
  CHECK(read_text(base + "/1/saved_model.json") == before);
  CHECK(entries(base) == std::vector<std::string>{"1"});
  // Even an empty directory of that name is not replaced.
  std::filesystem::create_directory(base + "/5");
  CHECK_THROWS_AS(export_saved_model(base, 5, mg), FailedPrecondition);
  CHECK(std::filesystem::is_empty(base + "/5"));

  export_saved_model(base, 10, mg);
  CHECK(saved_model_versions(base) == std::vector<int64_t>{1, 5, 10});
  CHECK_THROWS_AS(export_saved_model(base, -1, mg), InvalidArgument);
}

TEST_CASE("saved_model: signatures must be read-only and closed over their inputs; damaged exports fail clearly") {
  TempDir dir;
  reset_variables();
  // A train step: its loss output needs the label placeholder; the train op assigns.
  Built m = build_train_step();
  train::MetaGraph mg(m.graph);
  mg.add_signature("serving_default", make_signature(m.graph, {{"x", m.x}}, {{"loss", m.loss}}));
  std::string err = error_of([&] { export_saved_model(dir / "a", 1, mg); });
  CHECK(err.find("needs placeholder 'y_true', which is not one of its inputs") != std::string::npos);
  train::MetaGraph mg2(m.graph);
  GraphItem op = group(m.graph);
  mg2.add_signature("serving_default",
                    make_signature(m.graph, {{"x", m.x}, {"y", m.y}}, {{"new_kernel", op.values[1]}}));
  err = error_of([&] { export_saved_model(dir / "a", 1, mg2); });
  CHECK(err.find("changes state") != std::string::npos);
  CHECK_THROWS_AS(export_saved_model(dir / "a", 1, train::MetaGraph(m.graph)), InvalidArgument);  // no signature
  CHECK(!std::filesystem::exists(dir / "a/1"));

  // The train graph's logits are servable (its assign nodes are simply not needed).
  train::MetaGraph mg3(m.graph);
  mg3.add_signature("serving_default", make_signature(m.graph, {{"x", m.x}}, {{"logits", m.logits}}));
  std::string path = export_saved_model(dir / "b", 1, mg3);
  Tensor want = Session(m.graph).run({m.logits}, {{m.x, batch_x(1)}})[0];
  CHECK(same_bits(load_saved_model(path).run("serving_default", {{"x", batch_x(1)}}).at("logits"), want));

  // Damaged exports.
  CHECK_THROWS_AS(load_saved_model(dir / "nope"), NotFound);
  std::filesystem::remove(path + "/variables/variables.index");
  CHECK_THROWS_AS(load_saved_model(path), NotFound);
  write_text(path + "/saved_model.json", "{\"format\": 1}");
  err = error_of([&] { load_saved_model(path); });
  CHECK(err.find(path + "/saved_model.json") != std::string::npos);
}

// TensorFlow 1's workflow end to end: the Saver writes the checkpoint and PREFIX.meta; a fresh
// process state imports the latest checkpoint's meta-graph, restores it, and keeps training.
TEST_CASE("meta_graph: Saver.save writes PREFIX.meta; import it, restore the latest checkpoint, keep training") {
  TempDir dir;
  const int n1 = 2, n2 = 3;
  auto feeds = [](const Built& m, int i) {
    return std::vector<std::pair<GraphItem, Tensor>>{{GraphItem::of_value(m.x), batch_x(i)},
                                                      {GraphItem::of_value(m.y), batch_y(i)}};
  };
  std::map<std::string, Tensor> final_a;
  std::vector<Tensor> losses_a;
  {
    reset_variables();
    Built m = build_train_step();
    Session s(m.graph);
    GraphItem train_op = group(m.graph);
    for (int i = 0; i < n1 + n2; ++i) {
      auto f = feeds(m, i);
      losses_a.push_back(run(s, {train_op, GraphItem::of_value(m.loss)}, f)[1]);
    }
    final_a = variable_values(global_variables());
  }
  {
    reset_variables();
    Built m = build_train_step();
    xf::train::SaverOptions so;
    so.meta_graph = std::make_shared<MetaGraph>(tf1_meta_graph(m));
    xf::train::Saver saver(so);
    Session s(m.graph);
    GraphItem train_op = group(m.graph);
    for (int i = 0; i < n1; ++i) {
      auto f = feeds(m, i);
      run(s, {train_op}, f);
    }
    saver.save(dir / "model.ckpt", n1);
  }
  reset_variables();
  const std::string latest = xf::io::latest_checkpoint(dir.path);
  REQUIRE(latest == dir / ("model.ckpt-" + std::to_string(n1)));
  MetaGraph mg = import_meta_graph(latest + ".meta");
  CHECK(nlohmann::json::parse(mg.saver_def()).at("max_to_keep") == 5);
  xf::train::Saver(mg.variables()).restore(latest);
  Session s(mg.graph());
  const std::vector<GraphItem>& tv = mg.get_collection("train_var");
  REQUIRE(tv.size() == 3);
  GraphItem train_op = mg.get_collection("train_op")[0];
  GraphItem loss = mg.get_collection("losses").at(0);
  for (int i = n1; i < n1 + n2; ++i) {
    std::vector<Tensor> r = run(s, {train_op, loss}, {{tv[0], batch_x(i)}, {tv[1], batch_y(i)}});
    INFO("step " << i);
    CHECK(same_bits(r[1], losses_a[static_cast<size_t>(i)]));
  }
  std::map<std::string, Tensor> final_b = variable_values(mg.variables());
  REQUIRE(final_b.size() == final_a.size());
  for (const auto& [name, t] : final_a) {
    INFO(name);
    REQUIRE(final_b.count(name));
    CHECK(same_bits(t, final_b.at(name)));
  }
}
