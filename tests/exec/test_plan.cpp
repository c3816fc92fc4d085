// Plans: fusion, the memory plan, levels, and exactness against eager (the differ).
#include <catch2/catch.hpp>
#include <thread>
#include <limits>
#include <map>

#include "testing.hpp"
#include "exec/fusion.hpp"
#include "graph/op_families.hpp"
#include "ops/prims.hpp"
#include "xflow/passes.hpp"
#include "xflow/plan.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {
using testing::input;
std::vector<Tensor> w3(const std::vector<Tensor>& in) {
  const Tensor& x = in[0];
  return {tanh(x * 0.5f + 1.0f) * sigmoid(x) - (x * x) / 3.0f + exp(-(x * x))};
}
std::vector<Tensor> mlp(const std::vector<Tensor>& in) {
  Tensor w1 = reshape(linspace(-0.1, 0.1, 64 * 128), {64, 128});
  Tensor w2 = reshape(linspace(-0.2, 0.2, 128 * 10), {128, 10});
  Tensor h = relu(matmul(in[0], w1) + 0.01f);
  Tensor logits = matmul(h * 2.0f + 1.0f, w2);
  return {softmax(logits)};
}
}  // namespace

TEST_CASE("an elementwise chain fuses into one step and equals eager bitwise", "[plan]") {
  Tensor x = input({4096 + 13});
  Graph g = trace_graph(w3, {x});
  Plan plan(g);
  int fused = 0;
  for (const PlanStep& s : plan.steps()) fused += s.fused;
  CHECK(fused == 1);
  CHECK(plan.steps().size() == 1);
  for (int salt : {0, 3}) {
    Tensor xi = input({4096 + 13}, salt);
    CHECK(bitwise_equal(plan.run({xi})[0], w3({xi})[0]));
  }
  auto prov = plan.provenance();
  REQUIRE_FALSE(prov.empty());
  CHECK(prov[0].pass == "fuse");
}

TEST_CASE("every combination of plan options equals eager bitwise", "[plan]") {
  using Fn = std::vector<Tensor> (*)(const std::vector<Tensor>&);
  for (Fn fn : {&w3, &mlp}) {
    Tensor x = fn == &w3 ? input({1000}) : input({8, 64});
    Graph g = trace_graph(fn, {x});
    for (const PlanOptions& o : testing::all_plan_options()) {
      INFO(testing::options_str(o));
      Plan plan(g, o);
      CHECK(bitwise_equal(plan.run({x})[0], fn({x})[0]));
      CHECK(bitwise_equal(plan.run({x})[0], fn({x})[0]));  // a second run reuses the arena
      CHECK(diff_replay(g, {x}, o).empty());
    }
  }
}

TEST_CASE("the memory plan reuses buffers: peak below one buffer per value", "[plan]") {
  Tensor x = input({64, 64});
  Graph g = trace_graph(mlp, {x});
  Plan planned(g, PlanOptions{false, true, true, false});
  Plan unplanned(g, PlanOptions{false, false, false, false});
  CHECK(planned.peak_bytes() < unplanned.peak_bytes());
  bool inplace = false;
  for (const ValueSlot& s : planned.slots()) inplace |= s.inplace_of >= 0;
  CHECK(inplace);
  bool buffer_prov = false;
  for (const GraphProvenance& p : planned.provenance()) buffer_prov |= p.pass == "plan_memory";
  CHECK(buffer_prov);
}

TEST_CASE("independent branches share a level and run concurrently", "[plan]") {
  auto two = [](const std::vector<Tensor>& in) {
    Tensor a = matmul(in[0], in[0]);
    Tensor b = matmul(in[1], in[0]);
    return std::vector<Tensor>{a + b};
  };
  Tensor x = input({32, 32}), y = input({32, 32}, 5);
  Graph g = trace_graph(two, {x, y});
  Plan plan(g);
  std::vector<int> matmul_levels;
  for (const PlanStep& s : plan.steps())
    if (g.nodes[s.nodes[0]].op == "matmul") matmul_levels.push_back(s.level);
  REQUIRE(matmul_levels.size() == 2);
  CHECK(matmul_levels[0] == matmul_levels[1]);
  set_num_threads(2);
  CHECK(bitwise_equal(plan.run({x, y})[0], two({x, y})[0]));
  set_num_threads(0);
}

TEST_CASE("random steps draw fresh numbers, exactly as eager would", "[plan]") {
  auto noisy = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + random_uniform({16}) * 2.0f}; };
  Graph g = trace_graph(noisy, {zeros({16})});
  Plan plan(g);
  manual_seed(11);
  Tensor eager = noisy({zeros({16})})[0];
  manual_seed(11);
  Tensor replay = plan.run({zeros({16})})[0];
  CHECK(bitwise_equal(eager, replay));
  CHECK_FALSE(bitwise_equal(plan.run({zeros({16})})[0], replay));
}

TEST_CASE("outputs are fresh: a later run does not overwrite them", "[plan]") {
  Graph g = trace_graph(mlp, {input({8, 64})});
  Plan plan(g);
  Tensor first = plan.run({input({8, 64}, 1)})[0];
  Tensor copy = first.contiguous();
  Tensor copy2 = Tensor::from_vector(copy.to_vector<float>(), copy.shape());
  plan.run({input({8, 64}, 2)});
  CHECK(bitwise_equal(first, copy2));
}

TEST_CASE("the differ names the first node whose output differs", "[plan]") {
  Tensor x = input({100});
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor c = Tensor({2.0f});
    Tensor y = exp(in[0]) * c;
    return std::vector<Tensor>{y + 1.0f};
  };
  Graph g = trace_graph(fn, {x});
  CHECK(diff_replay(g, {x}).empty());
  Graph changed = g;
  for (GraphValue& v : changed.values)
    if (v.kind == GraphValue::Kind::constant && v.constant.size() == 1 && v.constant.item<float>() == 2.0f)
      v.constant = Tensor({2.5f});
  Plan plan(changed, PlanOptions{false, true, true, true});
  std::string d = diff_replay(g, plan, {x});
  CHECK(d.find("(mul)") != std::string::npos);
  CHECK(d.find("test_plan.cpp:") != std::string::npos);
}

TEST_CASE("plan.run checks its arguments", "[plan]") {
  Graph g = trace_graph(w3, {input({10})});
  Plan plan(g);
  CHECK_THROWS_AS(plan.run({input({11})}), InvalidArgument);
  CHECK_THROWS_AS(plan.run({}), InvalidArgument);
}

TEST_CASE("generated kernels equal eager bitwise, tails and scalar operands included", "[plan][codegen]") {
  PlanOptions o;
  o.codegen = true;
  for (int64_t n : {1, 7, 8, 9, 4096 + 13}) {
    Tensor x = input({n});
    Graph g = trace_graph(w3, {x});
    Plan plan(g, o);
    INFO("n = " << n);
    CHECK(bitwise_equal(plan.run({x})[0], w3({x})[0]));
    CHECK(plan.provenance()[0].detail.find("generated") != std::string::npos);
  }
  Tensor d = cast(input({100}), DType::float64);
  Graph g64 = trace_graph([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{floor_div(in[0], 0.7) + mod(in[0], 0.3) * atan2(in[0], 2.0)};
  }, {d});
  Plan p64(g64, o);
  CHECK(bitwise_equal(p64.run({d})[0], floor_div(d, 0.7) + mod(d, 0.3) * atan2(d, 2.0)));
}

TEST_CASE("the generated source calls the eager functors", "[plan][codegen]") {
  Graph g = trace_graph(w3, {input({64})});
  PlanOptions o;
  o.codegen = false;
  Plan plan(g, o);
  CHECK(plan.provenance()[0].detail.find("interpreted") != std::string::npos);
  // The source a generated kernel would be compiled from (lib/exec/codegen.cpp), for the one fused
  // step of w3: tanh(x * 0.5 + 1) * sigmoid(x) - (x * x) / 3 + exp(-(x * x)).
  REQUIRE(plan.steps().size() == 1);
  const PlanStep& step = plan.steps()[0];
  REQUIRE(step.fused);
  auto fused = Plan::Fused::build(plan.graph(), step.nodes, step.outputs);
  std::string src = kernel_source(*fused);
  INFO(src);
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = src.find(what); at != std::string::npos; at = src.find(what, at + 1)) ++n;
    return n;
  };
  // The eager kernels' functors (ops/elementwise_fns.hpp) from the eager loops' header, one call
  // per fused node, each with as many operands as the primitive has inputs.
  CHECK(count("#include \"ops/elementwise_loops.hpp\"") == 1);
  CHECK(count("::batch(") == step.nodes.size());
  CHECK(count("TanhFn::batch(") == 1);
  CHECK(count("SigmoidFn::batch(") == 1);
  CHECK(count("ExpFn::batch(") == 1);
  CHECK(count("NegFn::batch(") == 1);
  CHECK(count("DivFn::batch(") == 1);
  CHECK(count("SubFn::batch(") == 1);
  CHECK(count("AddFn::batch(") == 2);
  CHECK(count("MulFn::batch(") == 4);  // x * x twice: plans do not run CSE
  // float32 batches; the tail is one zero-padded batch, as in the eager loops; one entry point.
  CHECK(count("using T = float;") == 1);
  CHECK(count("if (i < end) body<true>(e, o, i, end - i);") == 1);
  CHECK(count("extern \"C\" void xflow_kernel(") == 1);
  // float64 groups use double batches.
  Tensor d = cast(input({16}), DType::float64);
  Graph g64 = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{exp(in[0]) * 2.0}; }, {d});
  Plan p64(g64, o);
  REQUIRE(p64.steps().size() == 1);
  std::string src64 = kernel_source(*Plan::Fused::build(p64.graph(), p64.steps()[0].nodes, p64.steps()[0].outputs));
  CHECK(src64.find("using T = double;") != std::string::npos);
  CHECK(src64.find("ExpFn::batch(e0)") != std::string::npos);
}

TEST_CASE("the differ finds no difference for any primitive under any plan options", "[plan][differ]") {
  // Every primitive (the families are checked against the primitive list), under every
  // combination of the plan options, generated kernels on and off.
  REQUIRE(testing::missing_primitives().empty());
  Tensor a = input({3, 4}, 1), b = input({3, 4}, 2);
  int generated[2] = {0, 0};  // fused steps run by a generated kernel, by codegen off/on
  for (auto& [name, fn] : testing::op_families()) {
    Graph g = trace_graph(fn, {a, b});
    for (const PlanOptions& o : testing::all_plan_options()) {
      INFO(name << ": " << testing::options_str(o));
      CHECK(diff_replay(g, {a, b}, o).empty());
      Plan plan(g, o);
      for (const GraphProvenance& p : plan.provenance())
        if (p.pass == "fuse") generated[o.codegen] += p.detail.find("generated") != std::string::npos;
      manual_seed(5);  // the random family: eager and the plan draw the same numbers
      std::vector<Tensor> eager = fn({a, b});
      manual_seed(5);
      std::vector<Tensor> replay = plan.run({a, b});
      REQUIRE(eager.size() == replay.size());
      for (size_t i = 0; i < eager.size(); ++i) CHECK(bitwise_equal(eager[i], replay[i]));
    }
    // And after the passes.
    CHECK(diff_replay(optimize(g), {a, b}).empty());
  }
  // Codegen on really ran generated kernels (a missing compiler would fall back to the interpreter).
  CHECK(generated[0] == 0);
  CHECK(generated[1] > 0);
}

TEST_CASE("one plan runs from four threads at once, each run with its own arena", "[plan][threads]") {
  Tensor x0 = input({8, 64});
  Graph g = trace_graph(mlp, {x0});
  Plan plan(g);
  REQUIRE(plan.arena_bytes() > 0);  // intermediates live in an arena: runs must not share it
  std::vector<Tensor> xs, want;
  for (int t = 0; t < 4; ++t) {
    xs.push_back(input({8, 64}, t + 1));
    want.push_back(mlp({xs.back()})[0]);
  }
  std::vector<int> equal(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      int ok = 0;
      for (int i = 0; i < 25; ++i) ok += bitwise_equal(plan.run({xs[t]})[0], want[t]);
      equal[t] = ok;
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK(equal[t] == 25);
}

TEST_CASE("a failed run leaves the plan usable", "[plan]") {
  Graph g = trace_graph(w3, {input({100})});
  Plan plan(g);
  CHECK_THROWS_AS(plan.run({input({99})}), InvalidArgument);
  Tensor x = input({100}, 5);
  CHECK(bitwise_equal(plan.run({x})[0], w3({x})[0]));
}

TEST_CASE("every elementwise primitive with a float result fuses, interpreted and generated, equal to eager",
          "[plan][codegen][registry]") {
  // Walks the primitive table, so an op added to the list is covered without being named here: it
  // must have a tile function (the fusion table is derived from the list) and its functor name must
  // compile in a generated kernel.
  Tensor a = input({3, 37}, 1), b = input({3, 37}, 2);
  int covered = 0;
  for (int i = 0; i < kNumPrims; ++i) {
    Prim p = static_cast<Prim>(i);
    const OpDef& d = op_def(p);
    if (!d.elementwise || d.elementwise->result == ew::Result::boolean) continue;
    INFO(d.name << " (functor " << d.elementwise->functor << ")");
    int arity = d.elementwise->arity;
    auto fn = [p, arity](const std::vector<Tensor>& in) {
      Tensor y = arity == 1 ? apply1(p, {in[0]}, Loc::current()) : apply1(p, {in[0], in[1]}, Loc::current());
      return std::vector<Tensor>{add(y, in[1])};  // a chain of two: one fused group
    };
    Graph g = trace_graph(fn, {a, b});
    for (bool codegen : {false, true}) {
      INFO("codegen " << codegen);
      PlanOptions o;
      o.codegen = codegen;
      Plan plan(g, o);
      int fused = 0;
      for (const PlanStep& s : plan.steps()) fused += s.fused;
      CHECK(fused == 1);
      bool how = false;
      for (const GraphProvenance& pv : plan.provenance())
        if (pv.pass == "fuse") how |= pv.detail.find(codegen ? "generated" : "interpreted") != std::string::npos;
      CHECK(how);
      CHECK(bitwise_equal(plan.run({a, b})[0], fn({a, b})[0]));
    }
    ++covered;
  }
  CHECK(covered >= 33);
}

TEST_CASE("hypot and logaddexp fuse into one generated kernel, bitwise equal to eager on special values",
          "[plan][codegen]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> va = {inf, -inf, nan, 0.0f, -0.0f, 3.0f, 1e30f, -1e-30f, 1e38f, -2.5f, 88.0f};
  std::vector<float> vb = {1.0f, -inf, 2.0f, -0.0f, 0.0f, 4.0f, 1e30f, 5.0f, 3e38f, nan, -88.0f};
  auto fn = [](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{logaddexp(hypot(in[0], in[1]), in[1]) - hypot(in[1], 2.0f)};
  };
  for (DType d : {DType::float32, DType::float64}) {
    Tensor a = cast(Tensor::from_vector(va, {11}), d), b = cast(Tensor::from_vector(vb, {11}), d);
    Graph g = trace_graph(fn, {a, b});
    PlanOptions o;
    o.codegen = true;
    Plan plan(g, o);
    REQUIRE(plan.steps().size() == 1);
    CHECK(plan.steps()[0].fused);
    CHECK(plan.provenance()[0].detail.find("generated") != std::string::npos);
    CHECK(bitwise_equal(plan.run({a, b})[0], fn({a, b})[0]));
  }
}

TEST_CASE("fused_read: which input shapes a fused group reads, and how", "[plan][broadcast]") {
  CHECK(fused_read({4, 5}, {4, 5}) == FusedRead::full);
  CHECK(fused_read({}, {4, 5}) == FusedRead::scalar);
  CHECK(fused_read({1, 1}, {4, 5}) == FusedRead::scalar);
  CHECK(fused_read({5}, {4, 5}) == FusedRead::row);
  CHECK(fused_read({1, 5}, {4, 5}) == FusedRead::row);
  CHECK(fused_read({5}, {2, 3, 5}) == FusedRead::row);
  CHECK(fused_read({4, 1}, {4, 5}) == FusedRead::column);
  CHECK(fused_read({2, 3, 1}, {2, 3, 5}) == FusedRead::column);
  CHECK(fused_read({3, 1}, {2, 3, 5}) == FusedRead::none);  // constant along two axes
  CHECK(fused_read({3, 5}, {2, 3, 5}) == FusedRead::none);  // broadcast along a middle axis
  CHECK(fused_read({1, 4}, {4, 1}) == FusedRead::none);
  CHECK(fused_read({2, 4, 5}, {4, 5}) == FusedRead::none);
  CHECK(fused_read({5}, {0, 5}) == FusedRead::none);  // empty outputs: no rows
  CHECK(fused_read({4, 1}, {4, 0}) == FusedRead::none);
  CHECK(fused_read({0, 5}, {0, 5}) == FusedRead::full);
}

namespace {
// Bias rows (the last axis) and columns (constant along it) inside one elementwise chain.
std::vector<Tensor> bias_chain(const std::vector<Tensor>& in) {
  const Tensor &x = in[0], &row = in[1], &col = in[2];
  return {relu(x + row) * col - exp(x - col) / (row * row + 2.0f)};
}
}  // namespace

TEST_CASE("row and column operands fuse into one step, bitwise equal to eager under every plan option",
          "[plan][broadcast]") {
  // Rows shorter than a SIMD batch, with odd tails, longer than a tile (512), and outputs longer
  // than a parallel chunk whose chunks begin inside a row; special values throughout.
  struct Case {
    Shape x, row, col;
  };
  // Generated kernels gather short rows that are not whole batches (37, 3) and run long rows
  // (69: with a tail; 11000: without) row by row.
  for (const Case& c : {Case{{5, 37}, {37}, {5, 1}}, Case{{2, 3, 37}, {1, 37}, {2, 3, 1}}, Case{{7, 3}, {3}, {7, 1}},
                        Case{{5, 69}, {69}, {5, 1}}, Case{{4, 16}, {16}, {4, 1}},
                        Case{{3, 11000}, {11000}, {3, 1}}, Case{{11000, 3}, {3}, {11000, 1}}}) {
    INFO("x " << shape_str(c.x) << ", row " << shape_str(c.row) << ", col " << shape_str(c.col));
    std::vector<Tensor> in = {input(c.x, 1, true), input(c.row, 2, true), input(c.col, 3, true)};
    Graph g = trace_graph(bias_chain, in);
    Tensor expected = bias_chain(in)[0];
    for (const PlanOptions& o : testing::all_plan_options()) {
      INFO(testing::options_str(o));
      Plan plan(g, o);
      if (o.fuse) {  // every node of x's shape in one fused step (row * row + 2 is a step of its own)
        int steps_of_x_shape = 0;
        for (const PlanStep& s : plan.steps())
          if (g.values[g.nodes[s.nodes.back()].outputs[0]].shape == c.x) {
            ++steps_of_x_shape;
            CHECK(s.fused);
            CHECK(s.nodes.size() == 7);  // add, relu, mul, sub, exp, div, sub
          }
        CHECK(steps_of_x_shape == 1);
        bool generated = false;
        for (const GraphProvenance& e : plan.provenance())
          if (e.pass == "fuse" && e.nodes.size() == 7) generated = e.detail.find("generated") != std::string::npos;
        CHECK(generated == o.codegen);
      }
      CHECK(bitwise_equal(plan.run(in)[0], expected));
      CHECK(diff_replay(g, in, o).empty());
    }
  }
}

TEST_CASE("a broadcast along a middle axis stays a plain step", "[plan][broadcast]") {
  std::vector<Tensor> in = {input({2, 3, 5}), input({3, 5}, 1), input({2, 3, 1}, 2)};
  Graph g = trace_graph(bias_chain, in);
  Plan plan(g);
  bool plain_add = false;
  for (const PlanStep& s : plan.steps())
    if (!s.fused && g.nodes[s.nodes[0]].op == "add") plain_add = true;
  CHECK(plain_add);
  CHECK(bitwise_equal(plan.run(in)[0], bias_chain(in)[0]));
}

TEST_CASE("a fused group reads a broadcast_to view through to its input, bitwise equal to eager", "[plan][broadcast]") {
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    return std::vector<Tensor>{x * broadcast_to(in[1], x.shape()) + broadcast_to(in[2], x.shape()) * 0.5f};
  };
  std::vector<Tensor> in = {input({9, 13}, 0, true), input({9, 1}, 1, true), input({13}, 2, true)};
  Graph g = trace_graph(fn, in);
  for (const PlanOptions& o : testing::all_plan_options()) {
    INFO(testing::options_str(o));
    Plan plan(g, o);
    if (o.fuse) {  // the group's program reads the (9, 1) column and the (13,) row, not the views
      const PlanStep* fused = nullptr;
      for (const PlanStep& s : plan.steps())
        if (s.fused) fused = &s;
      REQUIRE(fused != nullptr);
      CHECK(fused->nodes.size() == 3);
      auto f = Plan::Fused::build(g, fused->nodes, fused->outputs);
      std::vector<int> ext = f->ext_values;  // the three inputs and the constant 0.5
      REQUIRE(ext.size() == 4);
      for (int v : {g.inputs[0], g.inputs[1], g.inputs[2]}) CHECK(std::count(ext.begin(), ext.end(), v) == 1);
      CHECK(f->cols == 13);
    }
    CHECK(bitwise_equal(plan.run(in)[0], fn(in)[0]));
    CHECK(diff_replay(g, in, o).empty());
  }
}

TEST_CASE("rows and columns of empty outputs: plain steps, equal to eager", "[plan][broadcast]") {
  for (const Shape& x : {Shape{0, 5}, Shape{4, 0}}) {
    INFO("x " << shape_str(x));
    std::vector<Tensor> in = {input(x), input({x[1]}, 1), input({x[0], 1}, 2)};
    Graph g = trace_graph(bias_chain, in);
    for (const PlanOptions& o : testing::all_plan_options()) {
      INFO(testing::options_str(o));
      Plan plan(g, o);
      Tensor y = plan.run(in)[0];
      CHECK(y.shape() == x);
      CHECK(bitwise_equal(y, bias_chain(in)[0]));
      CHECK(diff_replay(g, in, o).empty());
    }
  }
}

namespace {
// The gradients of a small MLP with bias rows, sizes that are not multiples of a SIMD batch:
// the bias adds, their column-sum gradients, the relu gradient's greater and where, and the
// softmax cross-entropy's column broadcasts all run fused or through the vectorized kernels.
std::vector<Tensor> mlp_gradients(const std::vector<Tensor>& in) {
  GradientTape tape;
  std::vector<Tensor> v(in.begin() + 1, in.end());
  for (const Tensor& t : v) tape.watch(t);
  Tensor h = relu(matmul(in[0], v[0]) + v[1]);
  Tensor logits = matmul(h, v[2]) + v[3];
  Tensor loss = -mean(sum(log_softmax(logits) * 0.5f, Axes{1}));
  std::vector<Tensor> g = tape.gradient(loss, v);
  g.push_back(loss);
  return g;
}
}  // namespace

TEST_CASE("a traced MLP gradient with bias rows replays bitwise equal to eager under every plan option",
          "[plan][broadcast]") {
  std::vector<Tensor> in = {input({5, 7}, 0, true), input({7, 13}, 1), input({13}, 2), input({13, 3}, 3),
                            input({3}, 4)};
  Graph g = trace_graph(mlp_gradients, in);
  std::vector<Tensor> expected = mlp_gradients(in);
  for (const PlanOptions& o : testing::all_plan_options()) {
    INFO(testing::options_str(o));
    Plan plan(g, o);
    std::vector<Tensor> got = plan.run(in);
    REQUIRE(got.size() == expected.size());
    for (size_t k = 0; k < got.size(); ++k) CHECK(bitwise_equal(got[k], expected[k]));
    CHECK(diff_replay(g, in, o).empty());
  }
}

// ---- groups that end in a reduction (decision 182) ----

namespace {
// How many fused steps end in each reduction primitive, by name.
std::map<std::string, int> fused_reductions(const Graph& g, const Plan& plan) {
  std::map<std::string, int> r;
  for (const PlanStep& s : plan.steps()) {
    const GraphNode& last = g.nodes[s.nodes.back()];
    if (s.fused && std::string(last.op.name()).rfind("reduce_", 0) == 0) ++r[last.op.name()];
  }
  return r;
}
}  // namespace

TEST_CASE("a reduction over trailing axes ends its elementwise group, bitwise equal to eager under every plan option",
          "[plan][reduce]") {
  using Fn = std::vector<Tensor> (*)(const std::vector<Tensor>&);
  struct Case {
    const char* name;
    Fn fn;
    Shape x;
    std::map<std::string, int> fused;  // with fusion on
  };
  const Case cases[] = {
      {"sum over the last axis, a bias row", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{sum(tanh(in[0]) * in[0] + reshape(linspace(-1, 1, 70), {70}), Axes{1})};
       }, {37, 70}, {{"reduce_sum", 1}}},
      {"max over the last two axes, keepdims", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{max(in[0] * in[0] - 2.0f, Axes{1, 2}, true)};
       }, {3, 5, 40}, {{"reduce_max", 1}}},
      {"sum of everything (one run, blocks over threads)", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{sum(exp(in[0] * 0.1f))};
       }, {50000}, {{"reduce_sum", 1}}},
      {"mean, prod and min over the last axis", [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return std::vector<Tensor>{mean(x * 3.0f, Axes{-1}), prod(x * 0.5f + 1.0f, Axes{-1}), min(abs(x) - 1.0f, Axes{-1})};
       }, {9, 33}, {{"reduce_sum", 1}, {"reduce_prod", 1}, {"reduce_min", 1}}},
      {"logsumexp's shifted exponentials", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{logsumexp(in[0] * 2.0f, Axes{1})};
       }, {64, 10}, {{"reduce_sum", 1}}},
      {"rows longer than a parallel chunk", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{sum(in[0] * in[0], Axes{1})};
       }, {3, 40000}, {{"reduce_sum", 1}}},
      {"rows longer than a fused run: a plain reduction", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{sum(in[0] * in[0], Axes{1})};
       }, {2, 70000}, {}},
      {"a reduction over a size-1 last axis with a row input: a plain reduction", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{sum(in[0] + reshape(linspace(-1, 1, 5), {5, 1}), Axes{2})};
       }, {4, 5, 1}, {}},
      {"a leading axis: a plain reduction", [](const std::vector<Tensor>& in) {
         return std::vector<Tensor>{sum(in[0] * in[0] + 1.0f, Axes{0})};
       }, {40, 16}, {}},
      {"a value read again after the reduction: a plain reduction", [](const std::vector<Tensor>& in) {
         Tensor e = exp(in[0] * 0.5f);
         return std::vector<Tensor>{e / sum(e, Axes{1}, true)};
       }, {8, 12}, {}},
      {"a reduced value that is also an output: a plain reduction", [](const std::vector<Tensor>& in) {
         Tensor e = in[0] * 2.0f + 1.0f;
         return std::vector<Tensor>{sum(e, Axes{1}), e};
       }, {6, 7}, {}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    for (bool special : {false, true}) {
      std::vector<Tensor> in = {input(c.x, 5, special)};
      Graph g = trace_graph(c.fn, in);
      std::vector<Tensor> expected = c.fn(in);
      for (const PlanOptions& o : testing::all_plan_options()) {
        INFO(testing::options_str(o) << (special ? ", special values" : ""));
        Plan plan(g, o);
        CHECK(fused_reductions(g, plan) == (o.fuse ? c.fused : std::map<std::string, int>{}));
        for (int run = 0; run < 2; ++run) {  // the second reuses the arena
          std::vector<Tensor> got = plan.run(in);
          REQUIRE(got.size() == expected.size());
          for (size_t k = 0; k < got.size(); ++k) CHECK(bitwise_equal(got[k], expected[k]));
        }
        CHECK(diff_replay(g, in, o).empty());
      }
    }
  }
}

TEST_CASE("a group ending in a reduction stores no value of the group's shape", "[plan][reduce]") {
  Tensor x = input({256, 64});
  Graph g = trace_graph([](const std::vector<Tensor>& in) { return std::vector<Tensor>{sum(exp(in[0]) * in[0], Axes{1})}; },
                        {x});
  PlanOptions fused, plain;
  plain.fuse = false;
  Plan a(g, fused), b(g, plain);
  REQUIRE(a.steps().size() == 1);
  CHECK(a.steps()[0].nodes.size() == 3);
  // the fused plan holds the output (256 floats) only; the plain one the exp and the product too
  CHECK(a.peak_bytes() < 256 * 64 * 4);
  CHECK(b.peak_bytes() >= 256 * 64 * 4);
  bool described = false;
  for (const GraphProvenance& e : a.provenance())
    if (e.pass == "fuse") described = e.detail.find("3 nodes in one ") != std::string::npos;
  CHECK(described);
}
