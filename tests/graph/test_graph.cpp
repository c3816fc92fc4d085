// Graphs: tracing eager calls, replaying them, and the JSON round trip.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "testing.hpp"
#include "graph/op_families.hpp"
#include "ops/prims.hpp"
#include "xflow/graph.hpp"
#include "xflow/xflow.hpp"

using namespace xf;
using nlohmann::json;

namespace {
using testing::input;

std::vector<Tensor> mlp(const std::vector<Tensor>& in) {
  Tensor w = reshape(linspace(-1, 1, 12), {4, 3});  // made inside: a constant
  Tensor h;
  {
    NameScope s("dense1");
    h = relu(matmul(in[0], w) + 0.5f);
  }
  Tensor y = softmax(h);
  return {y, sum(y * y, Axes{1})};
}
}  // namespace

TEST_CASE("a trace records one node per primitive with scope and source location", "[graph]") {
  Tensor x = input({2, 4});
  int line = __LINE__ + 1;
  Graph g = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{exp(in[0]) * 2.0f}; }, {x});
  REQUIRE(g.nodes.size() == 2);
  CHECK(g.nodes[0].op == "exp");
  CHECK(g.nodes[1].op == "mul");
  CHECK(g.inputs.size() == 1);
  CHECK(g.values[g.inputs[0]].kind == GraphValue::Kind::placeholder);
  CHECK(g.values[g.nodes[1].inputs[1]].kind == GraphValue::Kind::constant);  // the scalar 2
  CHECK(g.nodes[0].file.find("test_graph.cpp") != std::string::npos);
  CHECK(g.nodes[0].line == line);
  Graph g2 = trace_graph(mlp, {x});
  bool scoped = false;
  for (const GraphNode& n : g2.nodes)
    if (n.op == "matmul") {
      CHECK(n.scope == "dense1/matmul");
      scoped = true;
    }
  CHECK(scoped);
  CHECK(current_name_scope().empty());
}

TEST_CASE("replay equals eager bitwise, also on new inputs", "[graph]") {
  Tensor x = input({2, 4});
  Graph g = trace_graph(mlp, {x});
  g.validate();
  for (int salt : {0, 5, 11}) {
    Tensor xi = input({2, 4}, salt);
    std::vector<Tensor> eager = mlp({xi});
    std::vector<Tensor> replay = g.run({xi});
    REQUIRE(replay.size() == 2);
    CHECK(bitwise_equal(eager[0], replay[0]));
    CHECK(bitwise_equal(eager[1], replay[1]));
  }
}

TEST_CASE("replay of every kind of primitive equals eager", "[graph]") {
  auto cases = testing::op_families();
  Tensor a = input({3, 4}, 1), b = input({3, 4}, 2);
  for (auto& [name, fn] : cases) {
    INFO(name);
    Graph g = trace_graph(fn, {a, b});
    g.validate();
    manual_seed(7);  // the random family: every run draws the same numbers
    std::vector<Tensor> eager = fn({a, b});
    manual_seed(7);
    std::vector<Tensor> replay = g.run({a, b});
    Graph loaded = Graph::from_json(g.to_json());
    manual_seed(7);
    std::vector<Tensor> reloaded = loaded.run({a, b});
    REQUIRE(eager.size() == replay.size());
    for (size_t i = 0; i < eager.size(); ++i) {
      INFO("output " << i);
      CHECK(bitwise_equal(eager[i], replay[i]));
      CHECK(bitwise_equal(eager[i], reloaded[i]));
    }
  }
}

TEST_CASE("the op families call every primitive of the primitive list", "[graph]") {
  // tests/graph/op_families.hpp says "every": checked against lib/ops/primitive.hpp.
  std::string missing = testing::missing_primitives();
  INFO("no family calls: " << missing);
  CHECK(missing.empty());
}

TEST_CASE("random nodes draw fresh numbers on every replay", "[graph]") {
  manual_seed(3);
  Graph g = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + random_normal({4})}; },
                        {zeros({4})});
  std::vector<Tensor> r1 = g.run({zeros({4})});
  std::vector<Tensor> r2 = g.run({zeros({4})});
  CHECK_FALSE(bitwise_equal(r1[0], r2[0]));
  // A replay draws exactly what eager would draw at the same generator position.
  manual_seed(9);
  Tensor eager = zeros({4}) + random_normal({4});
  manual_seed(9);
  CHECK(bitwise_equal(g.run({zeros({4})})[0], eager));
}

TEST_CASE("JSON round trip is exact, NaN and Inf constants included", "[graph]") {
  Tensor special({std::nanf(""), INFINITY, -INFINITY, -0.0f});
  Graph g = trace_graph(
      [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{maximum(in[0], special), pad(in[0], {{1, 1}}, -2.5)}; },
      {input({4})});
  std::string text = g.to_json();
  Graph back = Graph::from_json(text);
  CHECK(back.to_json() == text);
  auto r1 = g.run({input({4}, 3)});
  auto r2 = back.run({input({4}, 3)});
  CHECK(bitwise_equal(r1[0], r2[0]));
  CHECK(bitwise_equal(r1[1], r2[1]));
  json j = json::parse(text);
  CHECK(j["format"] == "xflow.graph");
  CHECK(j["schema_version"][0] == 1);
  CHECK(j["nodes"][0]["meta"]["file"].get<std::string>().find("test_graph.cpp") != std::string::npos);
  CHECK(j["values"][0]["bytes"] == 16);
}

TEST_CASE("save and load through a file", "[graph]") {
  Graph g = trace_graph(mlp, {input({2, 4})});
  std::string path = "test_graph_roundtrip.json";
  g.save(path);
  Graph back = Graph::load(path);
  CHECK(bitwise_equal(back.run({input({2, 4}, 7)})[0], g.run({input({2, 4}, 7)})[0]));
  std::remove(path.c_str());
  CHECK_THROWS_AS(Graph::load("no/such/dir/graph.json"), NotFound);
}

TEST_CASE("malformed graph JSON raises InvalidArgument naming the field", "[graph]") {
  Graph g = trace_graph(mlp, {input({2, 4})});
  std::string text = g.to_json();
  auto expect_error = [](const std::string& doc, const std::string& fragment) {
    try {
      Graph::from_json(doc);
      FAIL("no exception for: " << fragment);
    } catch (const InvalidArgument& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    }
  };
  expect_error(text.substr(0, text.size() / 2), "not valid JSON");
  expect_error("[1, 2]", "must be an object");
  json j = json::parse(text);
  {
    json k = j;
    k["nodes"][0]["op"] = "frobnicate";
    expect_error(k.dump(), "nodes[0].op: unknown op 'frobnicate'");
  }
  {
    json k = j;
    k["values"][0]["shape"] = "wide";
    expect_error(k.dump(), "values[0].shape");
  }
  {
    json k = j;
    k["schema_version"] = {2, 0};
    expect_error(k.dump(), "schema_version: major version 2");
  }
  {
    json k = j;
    k["nodes"][0]["inputs"][0] = 999;
    expect_error(k.dump(), "does not exist");
  }
  {
    json k = j;  // a node reading the output of a later node: a cycle or a bad order
    int later = k["nodes"][k["nodes"].size() - 1]["outputs"][0];
    k["nodes"][0]["inputs"][0] = later;
    expect_error(k.dump(), "used before it is defined");
  }
  {
    json k = j;
    k["nodes"][0].erase("attrs");
    expect_error(k.dump(), "nodes[0].attrs: missing");
  }
  {
    json k = j;
    k["values"][1]["data"] = "AAAA";
    expect_error(k.dump(), "values[1].data");
  }
  {
    json k = j;
    k["outputs"][0] = 12345;
    expect_error(k.dump(), "outputs");
  }
  {
    json k = j;
    k["values"][0]["dtype"] = "float16";
    expect_error(k.dump(), "values[0].dtype");
  }
}

TEST_CASE("run checks its arguments", "[graph]") {
  Graph g = trace_graph(mlp, {input({2, 4})});
  CHECK_THROWS_AS(g.run({}), InvalidArgument);
  try {
    g.run({input({3, 4})});
    FAIL("no exception");
  } catch (const InvalidArgument& e) {
    CHECK(std::string(e.what()).find("arg 0 must be (2, 4) float32, got (3, 4) float32") != std::string::npos);
  }
}

TEST_CASE("nodes hold a typed op id; its name is for JSON and display", "[graph]") {
  Graph g = trace_graph(mlp, {input({2, 4})});
  const GraphNode& mm = *std::find_if(g.nodes.begin(), g.nodes.end(), [](const GraphNode& n) { return n.op == "matmul"; });
  CHECK(mm.op == OpId::from_name("matmul"));
  CHECK(mm.op != OpId::from_name("add"));
  CHECK(std::string(mm.op.name()) == "matmul");
  CHECK(OpId(mm.op.index()) == mm.op);
  std::ostringstream os;
  os << mm.op;
  CHECK(os.str() == "matmul");
  CHECK_THROWS_AS(OpId::from_name("frobnicate"), NotFound);
  CHECK_THROWS_AS(OpId(-1), NotFound);
  CHECK_THROWS_AS(OpId(100000), NotFound);
  CHECK(std::string(OpId().name()) == "?");
  // A node without an op does not validate.
  Graph bad = g;
  bad.nodes[0].op = OpId();
  CHECK_THROWS_AS(bad.validate(), InvalidArgument);
}

TEST_CASE("variable nodes name their variable; graph JSON 1.0 files still load", "[graph]") {
  reset_variables();
  Variable v(Tensor::from_vector(std::vector<float>{1, 2}, {2}), "layer/kernel");
  Graph g = trace_graph([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{v.value() * in[0]}; },
                        {input({2})});
  json j = json::parse(g.to_json());
  CHECK(j["schema_version"] == json::array({1, 3}));
  json* read = nullptr;
  for (json& n : j["nodes"])
    if (n["op"] == "read_variable") read = &n;
  REQUIRE(read != nullptr);
  CHECK((*read)["attrs"]["name"] == "layer/kernel");
  Graph back = Graph::from_json(j.dump());
  CHECK(back.to_json() == g.to_json());

  // The same document as 1.0 wrote it: no variable name.
  json old = j;
  old["schema_version"] = {1, 0};
  for (json& n : old["nodes"])
    if (n["op"] == "read_variable") n["attrs"].erase("name");
  Graph g10 = Graph::from_json(old.dump());
  CHECK(g10.nodes.size() == g.nodes.size());
  // 1.1 requires it.
  json missing = old;
  missing["schema_version"] = {1, 1};
  CHECK_THROWS_AS(Graph::from_json(missing.dump()), InvalidArgument);
  reset_variables();
}
