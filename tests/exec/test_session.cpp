// GraphBuilder and Session: explicit graphs, pruned runs, feeding any value, names, errors.
#include <catch2/catch.hpp>
#include <thread>

#include "testing.hpp"
#include "core/observer.hpp"
#include "xflow/session.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {
using testing::input;

const Tensor& weights() {
  static Tensor w = reshape(linspace(-1, 1, 12), {4, 3});
  return w;
}

// The model, eagerly: dense1 = relu(x @ w + 0.5); y = softmax(dense1); z = sum(y * y, 1).
struct Model {
  Tensor dense1, y, z, side;
};
Model model(const Tensor& x) {
  Model m;
  {
    NameScope s("dense1");
    m.dense1 = relu(matmul(x, weights()) + 0.5f);
  }
  m.y = softmax(m.dense1);
  m.z = sum(m.y * m.y, Axes{1});
  {
    NameScope s("side");
    m.side = exp(x) * 3.0f;  // a branch no fetch of y or z needs
  }
  return m;
}

struct Built {
  Graph graph;
  int x, dense1, y, z, side;
};
Built build() {
  weights();  // made before the builder: a constant (made inside, its ops would be recorded)
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {2, 4}, "x");
  Model m = model(x);
  Built r{b.finish({m.y, m.z}), b.value_of(x), b.value_of(m.dense1), b.value_of(m.y), b.value_of(m.z),
          b.value_of(m.side)};
  return r;
}

int count_scope(const Graph& g, const std::string& prefix) {
  int n = 0;
  for (const GraphNode& node : g.nodes) n += node.scope.rfind(prefix, 0) == 0;
  return n;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}
}  // namespace

TEST_CASE("GraphBuilder records ops on placeholders with scopes", "[session]") {
  size_t before = observers().size();
  Built b = build();
  CHECK(observers().size() == before);  // finish() and the destructor stop recording
  {
    GraphBuilder unfinished;
    CHECK(observers().size() == before + 1);
  }
  CHECK(observers().size() == before);
  const Graph& g = b.graph;
  g.validate();
  REQUIRE(g.inputs.size() == 1);
  CHECK(g.values[b.x].kind == GraphValue::Kind::placeholder);
  CHECK(g.values[b.x].name == "x");
  CHECK(g.values[b.dense1].kind == GraphValue::Kind::node_output);
  CHECK(g.nodes[g.values[b.dense1].producer].scope == "dense1/relu");
  CHECK(g.outputs == std::vector<int>{b.y, b.z});
  std::string scopes;
  for (const GraphNode& n : g.nodes) scopes += n.scope + " ";
  INFO(scopes);
  CHECK(count_scope(g, "dense1/") == 3);  // matmul, add, relu
  CHECK(count_scope(g, "side/") == 2);
  bool has_matmul = false;
  for (const GraphNode& n : g.nodes)
    if (n.op == "matmul") {
      has_matmul = true;
      CHECK(n.file.find("test_session.cpp") != std::string::npos);
    }
  CHECK(has_matmul);

  GraphBuilder gb;
  Tensor a = gb.placeholder(DType::int32, {3}, "");
  Tensor c = gb.placeholder(DType::int32, {3}, "");
  CHECK(gb.value_of(a) == 0);
  CHECK(gb.value_of(c) == 1);
  CHECK_THROWS_AS(gb.placeholder(DType::int32, {3}, "input0"), InvalidArgument);
  CHECK_THROWS_AS(gb.value_of(input({2})), NotFound);
  CHECK_THROWS_AS(gb.value_of(Tensor()), InvalidArgument);
  Tensor outside = input({3});
  Graph g2 = gb.finish({a + c, outside});
  CHECK(g2.values[g2.inputs[0]].name == "input0");
  CHECK(g2.values[g2.inputs[1]].name == "input1");
  CHECK(g2.values[g2.outputs[1]].kind == GraphValue::Kind::constant);
  CHECK(gb.value_of(outside) == g2.outputs[1]);
  Tensor after = a * c;  // not recorded any more
  CHECK_THROWS_AS(gb.value_of(after), NotFound);
  CHECK(gb.finish({a}).nodes.size() == 1);
  CHECK_THROWS_AS(gb.placeholder(DType::int32, {3}, "late"), FailedPrecondition);
  CHECK_THROWS_AS(GraphBuilder().placeholder(DType::float32, {-1}, "neg"), ShapeError);
}

TEST_CASE("reading a placeholder's stand-in value while building throws", "[session]") {
  GraphBuilder b;
  Tensor x = b.placeholder(DType::float32, {2}, "x");
  Tensor y = sum(x);
  std::string msg = error_of([&] { (void)y.item<float>(); });
  CHECK(msg.find("placeholder 'x'") != std::string::npos);
  CHECK(msg.find("test_session.cpp") != std::string::npos);
  CHECK_THROWS_AS(x.to_vector<float>(), FailedPrecondition);
  CHECK_THROWS_AS(static_cast<bool>(y > 0.0f), FailedPrecondition);
  CHECK_THROWS_AS(x.str(), FailedPrecondition);
  // Values that do not depend on a placeholder can be read.
  Tensor k = sum(input({3}));
  CHECK_NOTHROW(k.item<float>());
  CHECK_NOTHROW((k * 2.0f).item<float>());
}

TEST_CASE("a run computes only the nodes its fetches need", "[session]") {
  Built b = build();
  Session s(b.graph);
  const int total = static_cast<int>(b.graph.nodes.size());
  Tensor x = input({2, 4});

  s.run({"dense1/relu"}, {{"x", x}});
  CHECK(s.last_run_node_count() == 3);

  auto r = s.run({b.y, b.z}, {{b.x, x}});
  CHECK(s.last_run_node_count() == total - 2);  // everything but the side branch
  CHECK(s.last_run_node_count() == total - count_scope(b.graph, "side/"));

  s.run({"side/mul"}, {{"x", x}});
  CHECK(s.last_run_node_count() == 2);

  s.run({"x"}, {{"x", x}});  // a fed value is returned as fed
  CHECK(s.last_run_node_count() == 0);
  CHECK(s.run(std::vector<std::string>{}).empty());
  CHECK(s.last_run_node_count() == 0);
}

TEST_CASE("results equal eager computation bitwise", "[session]") {
  Built b = build();
  Session s(b.graph);
  for (int salt : {0, 3, 17}) {
    Tensor x = input({2, 4}, salt);
    Model eager = model(x);
    auto r = s.run({"dense1/relu", "x", "side/mul"}, {{"x", x}});
    REQUIRE(r.size() == 3);
    CHECK(bitwise_equal(r[0], eager.dense1));
    CHECK(bitwise_equal(r[1], x));
    CHECK(bitwise_equal(r[2], eager.side));
    auto ids = s.run({b.y, b.z, b.y}, {{b.x, x}});
    CHECK(bitwise_equal(ids[0], eager.y));
    CHECK(bitwise_equal(ids[1], eager.z));
    CHECK(bitwise_equal(ids[2], eager.y));
  }
}

TEST_CASE("feeding an intermediate value skips its producers", "[session]") {
  Built b = build();
  Session s(b.graph);
  Tensor h = input({2, 3}, 5);
  // x is not fed and not needed: dense1 is fed.
  auto r = s.run({b.y, b.z}, {{b.dense1, h}});
  int softmax_and_after = static_cast<int>(b.graph.nodes.size()) - count_scope(b.graph, "dense1/") -
                          count_scope(b.graph, "side/");
  CHECK(s.last_run_node_count() == softmax_and_after);
  Tensor y = softmax(h);
  CHECK(bitwise_equal(r[0], y));
  CHECK(bitwise_equal(r[1], sum(y * y, Axes{1})));
  // By name, and fetching the fed value itself.
  auto r2 = s.run({"dense1/relu", s.name_of(b.y)}, {{"dense1/relu", h}});
  CHECK(bitwise_equal(r2[0], h));
  CHECK(bitwise_equal(r2[1], y));
  // Feeding a value the fetch does not need is allowed and changes nothing.
  Tensor x = input({2, 4});
  auto r3 = s.run({"side/mul"}, {{"x", x}, {"dense1/relu", h}});
  CHECK(s.last_run_node_count() == 2);
  CHECK(bitwise_equal(r3[0], model(x).side));
  // A constant can be fed as well: it replaces the captured value.
  int w = -1;
  for (const GraphValue& v : b.graph.values)
    if (v.kind == GraphValue::Kind::constant && v.shape == Shape{4, 3}) w = v.id;
  REQUIRE(w >= 0);
  Tensor w2 = weights() * 2.0f;
  auto r4 = s.run({b.dense1}, {{b.x, x}, {w, w2}});
  CHECK(bitwise_equal(r4[0], relu(matmul(x, w2) + 0.5f)));
}

TEST_CASE("fetch and feed names", "[session]") {
  GraphBuilder gb;
  Tensor x = gb.placeholder(DType::float32, {3}, "x");
  Tensor a, c, d;
  {
    NameScope s("blk");
    a = x + 1.0f;   // blk/add
    c = a + 2.0f;   // blk/add_1
    d = c + 3.0f;   // blk/add_2
  }
  Session s(gb.finish({d}));
  CHECK(s.value_id("x") == gb.value_of(x));
  CHECK(s.value_id("x:0") == gb.value_of(x));
  CHECK(s.value_id("blk/add") == gb.value_of(a));
  CHECK(s.value_id("blk/add:0") == gb.value_of(a));
  CHECK(s.value_id("blk/add_1") == gb.value_of(c));
  CHECK(s.value_id("blk/add_2") == gb.value_of(d));
  CHECK(s.name_of(gb.value_of(c)) == "blk/add_1");
  CHECK(s.name_of(gb.value_of(x)) == "x");
  CHECK_THROWS_AS(s.value_id("blk/add:1"), NotFound);
  CHECK_THROWS_AS(s.value_id("x:1"), NotFound);
  CHECK_THROWS_AS(s.value_id("blk/add_3"), NotFound);
  CHECK_THROWS_AS(s.value_id("blk"), NotFound);
  CHECK_THROWS_AS(s.name_of(999), NotFound);
  Tensor xv = input({3});
  auto r = s.run({"blk/add_1"}, {{"x:0", xv}});
  CHECK(bitwise_equal(r[0], (xv + 1.0f) + 2.0f));
  CHECK(s.last_run_node_count() == 2);

  // A traced graph's placeholders are input0, input1, ...
  Graph t = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * in[1]}; },
                        {input({2}), input({2}, 1)});
  Session st(t);
  auto m = st.run({"mul"}, {{"input0", input({2}, 4)}, {"input1", input({2}, 6)}});
  CHECK(bitwise_equal(m[0], input({2}, 4) * input({2}, 6)));
}

TEST_CASE("random nodes draw fresh numbers on every run", "[session]") {
  GraphBuilder gb;
  Tensor x = gb.placeholder(DType::float32, {4}, "x");
  Tensor y = x + random_normal({4});
  Session s(gb.finish({y}));
  Tensor z = zeros({4});
  auto r1 = s.run({s.name_of(s.graph().outputs[0])}, {{"x", z}});
  auto r2 = s.run({s.graph().outputs[0]}, {{0, z}});
  CHECK_FALSE(bitwise_equal(r1[0], r2[0]));
  // A run draws what eager would draw at the same generator position.
  manual_seed(11);
  Tensor eager = z + random_normal({4});
  manual_seed(11);
  CHECK(bitwise_equal(s.run({s.graph().outputs[0]}, {{0, z}})[0], eager));
}

TEST_CASE("session errors", "[session]") {
  Built b = build();
  Session s(b.graph);
  Tensor x = input({2, 4});

  std::string msg = error_of([&] { s.run({"dense1/relu"}); });
  CHECK(msg.find("fetch 'dense1/relu' needs placeholder 'x', which is not fed") != std::string::npos);
  CHECK_THROWS_AS(s.run({b.z}), InvalidArgument);
  msg = error_of([&] { s.run({b.z}); });
  CHECK(msg.find("placeholder 'x'") != std::string::npos);
  CHECK(msg.find("test_session.cpp") != std::string::npos);

  CHECK_THROWS_AS(s.run({"nope"}, {{"x", x}}), NotFound);
  CHECK_THROWS_AS(s.run({"dense1/relu"}, {{"nope", x}}), NotFound);
  CHECK_THROWS_AS(s.run({"dense1/relu:1"}, {{"x", x}}), NotFound);
  CHECK_THROWS_AS(s.run(std::vector<int>{12345}), NotFound);
  CHECK_THROWS_AS(s.run({b.y}, {{-1, x}}), NotFound);
  CHECK(error_of([&] { s.run({"nope"}); }).find("'nope'") != std::string::npos);

  msg = error_of([&] { s.run({"dense1/relu"}, {{"x", input({3, 4})}}); });
  CHECK(msg.find("feed 'x' must be (2, 4) float32, got (3, 4) float32") != std::string::npos);
  CHECK_THROWS_AS(s.run({"dense1/relu"}, {{"x", input({3, 4})}}), InvalidArgument);
  msg = error_of([&] { s.run({"dense1/relu"}, {{"x", cast(x, DType::float64)}}); });
  CHECK(msg.find("feed 'x' must be (2, 4) float32, got (2, 4) float64") != std::string::npos);
  msg = error_of([&] { s.run({b.dense1}, {{b.dense1, input({2, 4})}}); });
  CHECK(msg.find("feed 'dense1/relu' must be (2, 3) float32, got (2, 4) float32") != std::string::npos);
  msg = error_of([&] { s.run({"x"}, {{"x", Tensor()}}); });
  CHECK(msg.find("got an empty handle") != std::string::npos);
  CHECK_THROWS_AS(s.run({"x"}, {{"x", x}, {"x:0", x}}), InvalidArgument);
  CHECK(error_of([&] { s.run({"x"}, {{"x", x}, {"x:0", x}}); }).find("fed twice") != std::string::npos);

  GraphBuilder gb;
  Tensor p = gb.placeholder(DType::float32, {2}, "p");
  Tensor q = gb.placeholder(DType::float32, {2}, "q");
  Tensor r = gb.placeholder(DType::float32, {2}, "r");
  Session s2(gb.finish({p * q + r}));
  msg = error_of([&] { s2.run({s2.graph().outputs[0]}, {{gb.value_of(q), input({2})}}); });
  CHECK(msg.find("needs placeholders 'p' and 'r', which are not fed") != std::string::npos);
  CHECK(s2.run({}).empty());
  CHECK(s2.run({}, {{"p", input({2})}}).empty());

  Graph bad = b.graph;
  bad.nodes[0].inputs[0] = 9999;
  CHECK_THROWS_AS(Session(bad), InvalidArgument);
}

TEST_CASE("concurrent runs of one session", "[session]") {
  Built b = build();
  Session s(b.graph);
  std::vector<Tensor> xs{input({2, 4}, 1), input({2, 4}, 2)};
  std::vector<Tensor> got(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) got[t] = s.run({b.y}, {{b.x, xs[t]}})[0];
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 2; ++t) CHECK(bitwise_equal(got[t], model(xs[t]).y));
}

TEST_CASE("a session run is a planned replay: passes, fusion, one cached plan per fetch set", "[session]") {
  Tensor c = full({}, 2.0f);
  GraphBuilder gb;
  Tensor x = gb.placeholder(DType::float32, {1000}, "x");
  Tensor y = tanh(x * 0.5f + 1.0f) * sigmoid(x) - (x * x) / 3.0f;
  Tensor k = c * 3.0f;  // constants only: folded
  Tensor z = y * k;
  Graph g = gb.finish({z});
  Session s(g);
  Tensor xv = input({1000}, 3);
  Tensor got = s.run({gb.value_of(z)}, {{gb.value_of(x), xv}})[0];
  Tensor want = (tanh(xv * 0.5f + 1.0f) * sigmoid(xv) - (xv * xv) / 3.0f) * (c * 3.0f);
  CHECK(bitwise_equal(got, want));
  std::shared_ptr<Plan> p = s.plan_for({gb.value_of(z)}, {gb.value_of(x)});
  CHECK(p == s.plan_for({gb.value_of(z)}, {gb.value_of(x)}));  // cached
  int fused = 0;
  for (const PlanStep& st : p->steps()) fused += st.fused;
  CHECK(fused >= 1);
  bool folded = false;
  for (const GraphProvenance& pr : p->graph().provenance) folded = folded || pr.action == "folded";
  CHECK(folded);
  CHECK(p->graph().nodes.size() < g.nodes.size());

  SessionOptions off;
  off.passes = PassOptions{false, false, false, false};
  off.plan.fuse = false;
  Session plain(g, off);
  CHECK(bitwise_equal(plain.run({gb.value_of(z)}, {{gb.value_of(x), xv}})[0], want));
  for (const PlanStep& st : plain.plan_for({gb.value_of(z)}, {gb.value_of(x)})->steps()) CHECK_FALSE(st.fused);
}

TEST_CASE("a session checks the guards of a traced graph it runs", "[session]") {
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        Tensor m = max(in[0]);
        float top = m.item<float>();  // a host read: a guard
        return std::vector<Tensor>{in[0] * top};
      },
      {Tensor::from_vector(std::vector<float>{1, 2, 3}, {3})});
  REQUIRE(g.guards.size() == 1);
  Session s(g);
  Tensor same = Tensor::from_vector(std::vector<float>{3, 1, 2}, {3});
  CHECK(bitwise_equal(s.run({"input0"}, {{"input0", same}})[0], same));
  CHECK(s.run({g.outputs[0]}, {{g.inputs[0], same}})[0].to_vector<float>() == std::vector<float>{9, 3, 6});
  Tensor other = Tensor::from_vector(std::vector<float>{1, 5, 2}, {3});
  CHECK_THROWS_AS(s.run({g.outputs[0]}, {{g.inputs[0], other}}), GuardFailure);
}
