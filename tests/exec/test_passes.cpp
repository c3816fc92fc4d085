// Graph passes: each fires where it should, does nothing where it must not, records provenance,
// and never changes what the graph computes (bitwise).
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "testing.hpp"
#include "ops/prims.hpp"
#include "xflow/graph.hpp"
#include "xflow/passes.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {

using Fn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Values in [-3, 3) with -0.0, +0.0, NaN and infinities mixed in (tests/testing.hpp).
Tensor input(const Shape& s, int salt = 0) { return testing::input(s, salt, true); }

size_t count_op(const Graph& g, const std::string& op) {
  size_t n = 0;
  for (const GraphNode& node : g.nodes) n += node.op == op;
  return n;
}

size_t count_constants(const Graph& g) {
  size_t n = 0;
  for (const GraphValue& v : g.values) n += v.kind == GraphValue::Kind::constant;
  return n;
}

std::vector<const GraphProvenance*> entries(const Graph& g, const std::string& pass, const std::string& action = "") {
  std::vector<const GraphProvenance*> out;
  for (const GraphProvenance& p : g.provenance)
    if (p.pass == pass && (action.empty() || p.action == action)) out.push_back(&p);
  return out;
}

bool has_detail(const Graph& g, const std::string& pass, const std::string& fragment) {
  for (const GraphProvenance* p : entries(g, pass))
    if (p->detail.find(fragment) != std::string::npos) return true;
  return false;
}

// Checks both graphs are valid and compute bitwise the same outputs on `inputs`.
void check_same_results(const Graph& a, const Graph& b, const std::vector<Tensor>& inputs) {
  a.validate();
  b.validate();
  manual_seed(11);
  std::vector<Tensor> ra = a.run(inputs);
  manual_seed(11);
  std::vector<Tensor> rb = b.run(inputs);
  REQUIRE(ra.size() == rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    INFO("output " << i << ": " << ra[i] << " vs " << rb[i]);
    CHECK(bitwise_equal(ra[i], rb[i]));
  }
}

// Ids 0..n-1 in order, producers and outputs consistent (validate() checks the rest).
void check_ids(const Graph& g) {
  for (size_t i = 0; i < g.values.size(); ++i) CHECK(g.values[i].id == static_cast<int>(i));
  for (size_t i = 0; i < g.nodes.size(); ++i) CHECK(g.nodes[i].id == static_cast<int>(i));
}

// ---- the graphs ----

std::vector<Tensor> mlp(const std::vector<Tensor>& in) {
  Tensor w1 = reshape(linspace(-1, 1, 12), {4, 3});  // made inside the trace: constant subgraphs
  Tensor b1 = linspace(-0.5, 0.5, 3);
  Tensor h;
  {
    NameScope s("dense1");
    h = relu(matmul(in[0], w1) + b1);
  }
  Tensor w2 = transpose(reshape(linspace(-2, 2, 6), {2, 3}));
  Tensor y;
  {
    NameScope s("dense2");
    y = matmul(h, w2) * 1.0f + 0.25f;
  }
  Tensor p = softmax(y);
  return {p, sum(p * p, Axes{1}), mean(h)};
}

std::vector<Tensor> repeated(const std::vector<Tensor>& in) {
  const Tensor &x = in[0], y = in[1];
  Tensor a = exp(x) * 2.0f + sum(y, Axes{0});
  Tensor b = exp(x) * 2.0f + sum(y, Axes{0});  // the same, again
  Tensor c = x * y + y * x;                    // commutative, swapped
  Tensor d = sum(x, Axes{0}) * sum(x, Axes{0});
  return {a - b, c, d, maximum(x, y) - maximum(y, x), (x < y) == (x < y)};
}

std::vector<Tensor> constants(const std::vector<Tensor>& in) {
  Tensor c = Tensor({1.0f, 2.0f, 3.0f, 4.0f});
  Tensor k = exp(c) * 2.0f + reshape(arange(4, DType::float32), {4});  // all constant
  Tensor m = transpose(reshape(arange(8, DType::float32), {2, 4}));     // a constant view chain
  return {in[0] * k, matmul(in[0], m), k};
}

std::vector<Tensor> negations(const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  Tensor a = neg(neg(x));
  Tensor b = transpose(transpose(x));
  Tensor c = reshape(reshape(x, {3, 2, 2}), {3, 4});
  Tensor d = transpose(transpose(reshape(x, {2, 3, 2}), {1, 2, 0}), {2, 0, 1});
  Tensor e = -(-(-x));
  Tensor f = reshape(x, {3, 4}) - 0.0f + (-0.0f);
  Tensor r = reshape(reshape(x, {2, 6}), {12});
  return {a + 1.0f, b, c, d, e, f / 1.0f, neg(neg(neg(neg(x)))), r};
}

struct Case {
  const char* name;
  Fn fn;
  std::vector<Tensor> inputs;
};

std::vector<Case> cases() {
  return {
      {"mlp", mlp, {input({2, 4})}},
      {"repeated", repeated, {input({3, 4}, 1), input({3, 4}, 2)}},
      {"constants", constants, {input({2, 4}, 3)}},
      {"negations", negations, {input({3, 4}, 4)}},
  };
}

}  // namespace

// ---- dead code elimination ----

TEST_CASE("dce drops nodes that reach no output, and unused constants", "[passes][dce]") {
  Tensor x = input({2, 3});
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        Tensor unused = exp(in[0]) * 3.0f;  // two nodes and a constant nobody reads
        (void)unused;
        return std::vector<Tensor>{in[0] + 1.0f};
      },
      {x});
  REQUIRE(g.nodes.size() == 3);
  Graph d = dead_code_elimination(g);
  d.validate();
  check_ids(d);
  CHECK(d.nodes.size() == 1);
  CHECK(d.nodes[0].op == "add");
  CHECK(count_constants(d) == 1);
  auto removed = entries(d, "dce", "removed");
  REQUIRE(removed.size() == 3);  // exp, mul, then one entry for the constant
  CHECK(removed[0]->nodes == std::vector<int>{0});
  CHECK(removed[0]->detail == "exp: its outputs reach no graph output");
  CHECK(removed[1]->nodes == std::vector<int>{1});
  CHECK(removed[2]->nodes.empty());
  CHECK(removed[2]->detail.find("1 unused constant") != std::string::npos);
  check_same_results(g, d, {input({2, 3}, 5)});
  // Nothing left to do: no new provenance.
  Graph again = dead_code_elimination(d);
  CHECK(again.provenance.size() == d.provenance.size());
  CHECK(again.to_json() == d.to_json());
}

TEST_CASE("dce keeps random nodes, read or not: they advance the generator as eager does", "[passes][dce]") {
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        Tensor r = random_uniform({3});
        (void)r;
        return std::vector<Tensor>{in[0] * 2.0f};
      },
      {input({3})});
  Graph d = dead_code_elimination(g);
  CHECK(count_op(d, "random_uniform") == 1);
  check_same_results(g, d, {input({3}, 1)});
  // A later random node draws what eager draws after the unread one.
  auto two = [](const std::vector<Tensor>& in) {
    Tensor unread = random_uniform({3});
    (void)unread;
    return std::vector<Tensor>{in[0] + random_uniform({3})};
  };
  Graph g2 = dead_code_elimination(trace_graph(two, {input({3})}));
  manual_seed(21);
  Tensor eager = two({input({3})})[0];
  manual_seed(21);
  CHECK(bitwise_equal(g2.run({input({3})})[0], eager));

  Graph kept = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + random_uniform({3})}; },
                           {input({3})});
  Graph d2 = dead_code_elimination(kept);
  CHECK(count_op(d2, "random_uniform") == 1);
  CHECK(entries(d2, "dce").empty());
}

TEST_CASE("dce keeps guarded values and remaps the guards", "[passes][dce]") {
  Tensor x = input({4});
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        Tensor dead = exp(in[0]);
        (void)dead;
        Tensor guarded = sum(in[0] * in[0]);  // read by the host in the real function
        (void)guarded;
        return std::vector<Tensor>{in[0] - 1.0f};
      },
      {x});
  // exp (node 0), mul (1), reduce_sum (2), sub (3). Guard the sum.
  REQUIRE(g.nodes[2].op == "reduce_sum");
  int guarded = g.nodes[2].outputs[0];
  g.guards.push_back(GraphGuard{guarded, Tensor(0.0f), "f.cpp", 7});
  g.validate();
  Graph d = dead_code_elimination(g);
  d.validate();
  CHECK(count_op(d, "exp") == 0);
  CHECK(count_op(d, "reduce_sum") == 1);
  CHECK(count_op(d, "mul") == 1);
  REQUIRE(d.guards.size() == 1);
  const GraphValue& v = d.values[d.guards[0].value];
  REQUIRE(v.kind == GraphValue::Kind::node_output);
  CHECK(d.nodes[v.producer].op == "reduce_sum");
  CHECK(d.guards[0].file == "f.cpp");
  check_same_results(g, d, {input({4}, 2)});
}

// ---- common subexpression elimination ----

TEST_CASE("cse merges equal nodes, equal constants and swapped commutative inputs", "[passes][cse]") {
  Tensor x = input({3, 4}, 1), y = input({3, 4}, 2);
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        const Tensor &x = in[0], y = in[1];
        Tensor a, b;
        {
          NameScope s("left");
          a = exp(x) * 2.0f;
        }
        {
          NameScope s("right");
          b = exp(x) * 2.0f;
        }
        return std::vector<Tensor>{a + b, x * y, y * x};
      },
      {x, y});
  // exp, mul(const 2), exp, mul(const 2'), add, mul, mul: 7 nodes, two equal scalar constants.
  REQUIRE(g.nodes.size() == 7);
  REQUIRE(count_constants(g) == 2);
  Graph c = common_subexpression_elimination(g);
  c.validate();
  check_ids(c);
  CHECK(c.nodes.size() == 4);  // exp, mul, add, mul
  CHECK(count_constants(c) == 1);
  auto merged = entries(c, "cse", "merged");
  REQUIRE(merged.size() == 4);  // the constant, exp, mul, the swapped mul
  CHECK(merged[0]->nodes.empty());
  CHECK(merged[0]->detail.find("() float32") != std::string::npos);
  CHECK(merged[1]->nodes == std::vector<int>{2, 0});
  CHECK(merged[1]->detail == "right/exp: same as node 0 (left/exp)");
  CHECK(merged[2]->nodes == std::vector<int>{3, 1});
  CHECK(merged[3]->nodes == std::vector<int>{6, 5});
  CHECK(merged[3]->detail.find("with its inputs swapped") != std::string::npos);
  // Both merged outputs are now the same value.
  CHECK(c.outputs[1] == c.outputs[2]);
  check_same_results(g, c, {input({3, 4}, 3), input({3, 4}, 4)});
}

TEST_CASE("cse does not merge different attributes, non-commutative swaps, float max/min swaps", "[passes][cse]") {
  Tensor x = input({3, 4}, 1), y = input({3, 4}, 2);
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        const Tensor &x = in[0], y = in[1];
        return std::vector<Tensor>{sum(x, Axes{0}), sum(x, Axes{1}), sum(x, Axes{1}, true), x - y, y - x,
                                   transpose(x), transpose(x, {1, 0}), maximum(x, y), maximum(y, x),
                                   x * 2.0f, x * -2.0f, x + 0.0f, x + (-0.0f)};
      },
      {x, y});
  Graph c = common_subexpression_elimination(g);
  // transpose(x) and transpose(x, {1, 0}) are the same permute: the only node merge.
  CHECK(c.nodes.size() == g.nodes.size() - 1);
  auto merged = entries(c, "cse", "merged");
  size_t node_merges = 0;
  for (const GraphProvenance* p : merged) node_merges += !p->nodes.empty();
  CHECK(node_merges == 1);
  CHECK(count_op(c, "maximum") == 2);  // maximum(+0, -0) is +0 but maximum(-0, +0) is -0
  CHECK(count_op(c, "reduce_sum") == 3);
  CHECK(count_op(c, "sub") == 2);
  // 2.0 and -2.0 differ, and so do 0.0 and -0.0: no constant merges.
  CHECK(count_constants(c) == count_constants(g));
  check_same_results(g, c, {input({3, 4}, 5), input({3, 4}, 6)});
  Tensor pz = Tensor({0.0f, -0.0f}), nz = Tensor({-0.0f, 0.0f});
  Graph g2 = trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{maximum(in[0], in[1]), maximum(in[1], in[0])};
  }, {pz, nz});
  check_same_results(g2, common_subexpression_elimination(g2), {pz, nz});
  // Integer maximum is commutative bit for bit: merged.
  Tensor i = Tensor({1, -2, 3}), j = Tensor({0, 5, 3});
  Graph g3 = trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{maximum(in[0], in[1]), maximum(in[1], in[0])};
  }, {i, j});
  Graph c3 = common_subexpression_elimination(g3);
  CHECK(c3.nodes.size() == 1);
  check_same_results(g3, c3, {i, j});
}

TEST_CASE("cse never merges random nodes, even with equal attributes", "[passes][cse]") {
  Graph g;
  int x = g.add_placeholder(DType::float32, {4}, "input0");
  RandomAttrs a;
  a.shape = {4};
  auto attrs = make_attrs(a);
  int r1 = g.add_node("random_normal", attrs, {}, {{DType::float32, {4}}}, "noise1");
  int r2 = g.add_node("random_normal", attrs, {}, {{DType::float32, {4}}}, "noise2");
  int s1 = g.add_node("add", make_attrs(NoAttrs{}), {x, g.nodes[r1].outputs[0]}, {{DType::float32, {4}}});
  int s2 = g.add_node("add", make_attrs(NoAttrs{}), {x, g.nodes[r2].outputs[0]}, {{DType::float32, {4}}});
  g.outputs = {g.nodes[s1].outputs[0], g.nodes[s2].outputs[0]};
  g.validate();
  Graph c = common_subexpression_elimination(g);
  CHECK(c.nodes.size() == 4);
  CHECK(entries(c, "cse").empty());
  Graph f = constant_folding(g);  // no inputs, but random: never folded
  CHECK(f.nodes.size() == 4);
  Graph o = optimize(g);
  CHECK(count_op(o, "random_normal") == 2);
  std::vector<Tensor> out = o.run({zeros({4})});
  CHECK_FALSE(bitwise_equal(out[0], out[1]));
  check_same_results(g, o, {zeros({4})});
}

// ---- constant folding ----

TEST_CASE("fold evaluates constant subgraphs once", "[passes][fold]") {
  Tensor x = input({2, 4}, 3);
  Graph g = trace_graph(constants, {x});
  Graph f = constant_folding(g);
  f.validate();
  check_ids(f);
  // Left: the two graph-input ops (mul, matmul). Everything else read only constants.
  CHECK(f.nodes.size() == 2);
  CHECK(count_op(f, "mul") == 1);
  CHECK(count_op(f, "matmul") == 1);
  auto folded = entries(f, "fold", "folded");
  CHECK(folded.size() == g.nodes.size() - 2);
  CHECK(has_detail(f, "fold", "exp: inputs are constants, folded into a constant (4,) float32"));
  // The third output (k) is itself a constant now.
  CHECK(f.values[f.outputs[2]].kind == GraphValue::Kind::constant);
  check_same_results(g, f, {input({2, 4}, 8)});
  // The constants the folded nodes read are now unread: dce removes them.
  Graph d = dead_code_elimination(f);
  CHECK(count_constants(d) == 2);
  check_same_results(g, d, {input({2, 4}, 9)});
}

TEST_CASE("fold leaves nodes reading inputs, big outputs, broadcasts and failing kernels", "[passes][fold]") {
  Tensor big = zeros({1025, 1024});  // more than 2^20 elements
  Graph g = trace_graph(
      [&](const std::vector<Tensor>& in) {
        Tensor s = sum(exp(big));                              // exp(big) is too big to fold
        Tensor b = broadcast_to(Tensor(2.0f), {100, 100});    // a view; materialized: 10,000 floats
        Tensor small = broadcast_to(Tensor(3.0f), {4});        // small: folds
        return std::vector<Tensor>{in[0] * s, b + 1.0f, exp(in[0]) + small};
      },
      {input({4})});
  Graph f = constant_folding(g);
  CHECK(count_op(f, "exp") == 2);
  CHECK(count_op(f, "reduce_sum") == 1);
  CHECK(count_op(f, "broadcast_to") == 1);
  size_t big_constants = 0;  // only the captured one
  for (const GraphValue& v : f.values) big_constants += v.kind == GraphValue::Kind::constant && numel(v.shape) > 4096;
  CHECK(big_constants == 1);
  CHECK(has_detail(f, "fold", "broadcast_to: inputs are constants, folded into a constant (4,) float32"));
  CHECK_FALSE(has_detail(f, "fold", "(100, 100)"));
  check_same_results(g, f, {input({4}, 1)});

  // gather with an index out of range: the error belongs to run time, not to the pass.
  Graph h;
  int c = h.add_constant(Tensor({1.0f, 2.0f, 3.0f}));
  int i = h.add_constant(Tensor({5}));
  int n = h.add_node("gather", make_attrs(AxisAttrs{0}), {c, i}, {{DType::float32, {1}}});
  h.outputs = {h.nodes[n].outputs[0]};
  h.validate();
  Graph hf = constant_folding(h);
  CHECK(hf.nodes.size() == 1);
  CHECK_THROWS_AS(hf.run({}), OutOfRange);
}

// ---- simplify ----

TEST_CASE("simplify removes exact identities", "[passes][simplify]") {
  Tensor x = input({3, 4}, 4);
  Graph g = trace_graph(negations, {x});
  Graph s = simplify(g);
  s.validate();
  check_ids(s);
  check_same_results(g, s, {input({3, 4}, 7)});
  CHECK(has_detail(s, "simplify", "neg: neg(neg(x)) -> x"));
  CHECK(has_detail(s, "simplify", "permute: permute(permute(x, (1, 0)), (1, 0)) -> x"));
  CHECK(has_detail(s, "simplify", "permute: permute(permute(x, (1, 2, 0)), (2, 0, 1)) -> x"));
  CHECK(has_detail(s, "simplify", "reshape: reshape(reshape(x)) -> x"));
  CHECK(has_detail(s, "simplify", "reshape: reshape(reshape(x)) -> reshape(x, (12,))"));
  CHECK(has_detail(s, "simplify", "sub: x-0.0 -> x"));
  CHECK(has_detail(s, "simplify", "add: x+(-0.0) -> x"));
  CHECK(has_detail(s, "simplify", "div: x/1 -> x"));
  for (const GraphProvenance* p : entries(s, "simplify")) CHECK(p->action == "simplified");
  // Outputs that were rewritten to the input point at the placeholder.
  CHECK(s.outputs[1] == s.inputs[0]);  // transpose(transpose(x))
  CHECK(s.outputs[2] == s.inputs[0]);  // reshape(reshape(x))
  CHECK(s.outputs[6] == s.inputs[0]);  // neg^4
  // neg^3 is one neg of x.
  const GraphValue& e = s.values[s.outputs[4]];
  REQUIRE(e.kind == GraphValue::Kind::node_output);
  CHECK(s.nodes[e.producer].op == "neg");
  CHECK(s.nodes[e.producer].inputs[0] == s.inputs[0]);
  // With dce the dead inner nodes go too: only neg (for neg^3), a reshape for d and one for r, and
  // add (for a) remain.
  Graph o = optimize(g);
  CHECK(count_op(o, "neg") == 1);
  CHECK(count_op(o, "permute") == 0);
  CHECK(count_op(o, "reshape") == 2);
  CHECK(count_op(o, "sub") == 0);
  CHECK(count_op(o, "div") == 0);
  CHECK(o.nodes.size() == 4);
  check_same_results(g, o, {input({3, 4}, 8)});
}

TEST_CASE("simplify: x*1 and 1*x; the output list follows the rewrite", "[passes][simplify]") {
  Tensor x = input({2, 3});
  Graph g = trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{in[0] * 1.0f, 1 * in[0], in[0] * ones({3})};
  }, {x});
  Graph s = simplify(g);
  CHECK(s.nodes.empty());
  CHECK(s.outputs == std::vector<int>{s.inputs[0], s.inputs[0], s.inputs[0]});
  auto simplified = entries(s, "simplify", "simplified");
  REQUIRE(simplified.size() == 3);
  CHECK(simplified[0]->detail == "mul: x*1 -> x");
  CHECK(simplified[0]->nodes == std::vector<int>{0});
  CHECK(simplified[1]->detail == "mul: 1*x -> x");
  check_same_results(g, s, {input({2, 3}, 1)});
  // Scoped names show in the detail.
  Graph g2 = trace_graph([](const std::vector<Tensor>& in) {
    NameScope sc("dense1");
    return std::vector<Tensor>{relu(in[0]) * 1.0f};
  }, {x});
  CHECK(has_detail(simplify(g2), "simplify", "dense1/mul: x*1 -> x"));
}

TEST_CASE("simplify does not rewrite what is not exact", "[passes][simplify]") {
  Tensor x = input({3}, 0);  // holds -0.0
  REQUIRE(std::signbit(x.to_vector<float>()[0]));
  Graph g = trace_graph(
      [](const std::vector<Tensor>& in) {
        const Tensor& x = in[0];
        return std::vector<Tensor>{
            x + 0.0f,                      // -0.0 + 0.0 = +0.0
            0.0f + x,
            x - (-0.0f),                   // x + 0.0
            x * ones({2, 3}),              // the ones broadcast x to (2, 3)
            x * Tensor({1.0f, 2.0f, 1.0f}),  // not every element is 1
            x * -1.0f,
            x / Tensor({1.0f, 1.0f, 0.5f}),
            1.0f / x,                      // not x/1
            1.0f - x,
            -0.0f - x,
            abs(abs(x)),                   // not an identity we know
        };
      },
      {x});
  Graph s = simplify(g);
  CHECK(entries(s, "simplify").empty());
  CHECK(s.nodes.size() == g.nodes.size());
  check_same_results(g, s, {x});
  // The reason, measured: x + 0 differs from x in the sign of zero.
  CHECK_FALSE(bitwise_equal(g.run({x})[0], x));
}

TEST_CASE("simplify: integer x+0, permute composition, reshape and cast to the same spec", "[passes][simplify]") {
  Tensor xi = Tensor({{1, -2, 3}, {4, 5, -6}});
  Graph g = trace_graph([](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    return std::vector<Tensor>{x + 0, 0 + x, x - 0, x * 1, x * 1 + 0,
                               transpose(transpose(reshape(x, {1, 2, 3}), {1, 2, 0}), {1, 2, 0})};
  }, {xi});
  Graph s = simplify(g);
  CHECK(has_detail(s, "simplify", "add: x+0 -> x (integer)"));
  CHECK(has_detail(s, "simplify", "add: 0+x -> x (integer)"));
  CHECK(has_detail(s, "simplify", "sub: x-0 -> x"));
  CHECK(has_detail(s, "simplify", "permute(permute(x, (1, 2, 0)), (1, 2, 0)) -> permute(x, (2, 0, 1))"));
  for (int i = 0; i < 5; ++i) CHECK(s.outputs[static_cast<size_t>(i)] == s.inputs[0]);
  check_same_results(g, s, {Tensor({{7, 8, 9}, {-1, 0, 2}})});
  Graph o = optimize(g);
  CHECK(count_op(o, "permute") == 1);
  check_same_results(g, o, {Tensor({{7, 8, 9}, {-1, 0, 2}})});

  // A cast to the dtype it already has, a reshape or broadcast_to to the shape it already has (the
  // public ops do not record these; a graph may still have them).
  Graph h;
  int x = h.add_placeholder(DType::float32, {3}, "input0");
  int c = h.add_node("cast", make_attrs(CastAttrs{DType::float32}), {x}, {{DType::float32, {3}}}, "cast");
  int b = h.add_node("broadcast_to", make_attrs(ShapeAttrs{{3}}), {h.nodes[c].outputs[0]}, {{DType::float32, {3}}});
  int rs = h.add_node("reshape", make_attrs(ShapeAttrs{{3}}), {h.nodes[b].outputs[0]}, {{DType::float32, {3}}});
  int d = h.add_node("cast", make_attrs(CastAttrs{DType::int32}), {h.nodes[rs].outputs[0]}, {{DType::int32, {3}}});
  h.outputs = {h.nodes[rs].outputs[0], h.nodes[d].outputs[0]};
  h.validate();
  Graph hs = simplify(h);
  CHECK(has_detail(hs, "simplify", "cast: cast to the same dtype -> x"));
  CHECK(has_detail(hs, "simplify", "broadcast_to: broadcast_to the same shape -> x"));
  CHECK(has_detail(hs, "simplify", "reshape: reshape to the same shape -> x"));
  CHECK(hs.nodes.size() == 1);
  CHECK(hs.outputs[0] == hs.inputs[0]);
  check_same_results(h, hs, {input({3}, 2)});
}

// ---- the pipeline ----

TEST_CASE("every pass and every combination of passes keeps results bitwise equal", "[passes][optimize]") {
  for (const Case& c : cases()) {
    INFO(c.name);
    Graph g = trace_graph(c.fn, c.inputs);
    g.validate();
    std::vector<Tensor> fresh;
    for (size_t i = 0; i < c.inputs.size(); ++i) fresh.push_back(input(c.inputs[i].shape(), static_cast<int>(i) + 17));
    for (auto pass : {dead_code_elimination, common_subexpression_elimination, constant_folding, simplify}) {
      Graph p = pass(g);
      check_ids(p);
      check_same_results(g, p, c.inputs);
      check_same_results(g, p, fresh);
    }
    for (int mask = 0; mask < 16; ++mask) {
      INFO("options mask " << mask);
      PassOptions opt;
      opt.dce = mask & 1;
      opt.cse = mask & 2;
      opt.fold = mask & 4;
      opt.simplify = mask & 8;
      Graph o = optimize(g, opt);
      check_ids(o);
      CHECK(o.nodes.size() <= g.nodes.size());
      check_same_results(g, o, c.inputs);
      check_same_results(g, o, fresh);
      // Only enabled passes leave provenance.
      CHECK((opt.dce || entries(o, "dce").empty()));
      CHECK((opt.cse || entries(o, "cse").empty()));
      CHECK((opt.fold || entries(o, "fold").empty()));
      CHECK((opt.simplify || entries(o, "simplify").empty()));
      // The eager function agrees too.
      std::vector<Tensor> eager = c.fn(fresh);
      std::vector<Tensor> replay = o.run(fresh);
      for (size_t i = 0; i < eager.size(); ++i) CHECK(bitwise_equal(eager[i], replay[i]));
    }
  }
}

TEST_CASE("optimize shrinks the test graphs and reaches a fixed point", "[passes][optimize]") {
  Graph m = trace_graph(mlp, {input({2, 4})});
  Graph om = optimize(m);
  CHECK(om.nodes.size() < m.nodes.size());
  CHECK(count_op(om, "matmul") == 2);
  CHECK(count_op(om, "reshape") == 0);  // the weights were folded
  CHECK(count_op(om, "permute") == 0);
  CHECK_FALSE(entries(om, "fold", "folded").empty());
  CHECK(has_detail(om, "simplify", "dense2/mul: x*1 -> x"));
  // A second run finds nothing.
  Graph again = optimize(om);
  CHECK(again.provenance.size() == om.provenance.size());
  CHECK(again.to_json() == om.to_json());

  Graph r = trace_graph(repeated, {input({3, 4}, 1), input({3, 4}, 2)});
  Graph orep = optimize(r);
  CHECK(count_op(orep, "exp") == 1);
  CHECK(count_op(orep, "maximum") == 2);
  CHECK(count_op(orep, "less") == 1);
  CHECK_FALSE(entries(orep, "cse", "merged").empty());

  // With every pass off, the graph comes back as it was.
  PassOptions none{false, false, false, false};
  CHECK(optimize(m, none).to_json() == m.to_json());
}

TEST_CASE("provenance: copied from the input graph, appended per pass, survives JSON", "[passes][provenance]") {
  Graph g = trace_graph(mlp, {input({2, 4})});
  g.provenance.push_back(GraphProvenance{"earlier", "noted", {0}, "from before"});
  Graph o = optimize(g);
  REQUIRE(o.provenance.size() > 1);
  CHECK(o.provenance[0].pass == "earlier");
  for (const GraphProvenance& p : o.provenance) {
    CHECK_FALSE(p.pass.empty());
    CHECK_FALSE(p.action.empty());
    CHECK_FALSE(p.detail.empty());
  }
  Graph back = Graph::from_json(o.to_json());
  back.validate();
  REQUIRE(back.provenance.size() == o.provenance.size());
  for (size_t i = 0; i < o.provenance.size(); ++i) {
    CHECK(back.provenance[i].pass == o.provenance[i].pass);
    CHECK(back.provenance[i].action == o.provenance[i].action);
    CHECK(back.provenance[i].nodes == o.provenance[i].nodes);
    CHECK(back.provenance[i].detail == o.provenance[i].detail);
  }
  CHECK(back.to_json() == o.to_json());
  check_same_results(g, back, {input({2, 4}, 3)});
}
