// Variables: eager reads and assignments, collections, initializers, and traces that capture
// variables by reference and replay assignments in order.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>

#include "testing.hpp"
#include "xflow/passes.hpp"
#include "xflow/plan.hpp"
#include "xflow/trace.hpp"
#include "xflow/variable.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

TEST_CASE("a variable holds a private copy with fixed dtype and shape", "[variable]") {
  reset_variables();
  Tensor init({1.0f, 2.0f});
  Variable v(init, "w");
  CHECK(v.name() == "w");
  CHECK(v.dtype() == DType::float32);
  CHECK(v.shape() == Shape{2});
  CHECK(v.value().buffer() != init.buffer());
  Tensor old = v.value();
  v.assign(Tensor({3.0f, 4.0f}));
  CHECK(v.value().to_vector<float>() == std::vector<float>{3, 4});
  CHECK(old.to_vector<float>() == std::vector<float>{1, 2});  // earlier reads keep their values
  v.assign_add(Tensor({1.0f, 1.0f}));
  v.assign_sub(Tensor({0.5f, 0.5f}));
  CHECK(v.value().to_vector<float>() == std::vector<float>{3.5f, 4.5f});
  v.assign(Tensor({7, 8}));  // int32 promotes to the variable's float32
  CHECK(v.value().dtype() == DType::float32);
  CHECK_THROWS_AS(v.assign(Tensor({1.0f, 2.0f, 3.0f})), ShapeError);
  CHECK_THROWS_AS(v.assign(Tensor({1.0, 2.0})), DTypeError);  // float64 into float32 would lose precision
  Variable w(init, "w");
  CHECK(w.name() == "w_1");
  CHECK_THROWS_AS(Variable().value(), FailedPrecondition);
}

TEST_CASE("assign_add and assign_sub keep their fresh result without a copy, and earlier reads", "[variable]") {
  reset_variables();
  std::vector<float> big(1000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = 0.25f * static_cast<float>(i);
  for (int64_t n : {int64_t{2}, int64_t{1000}}) {  // a small tensor holds its bytes inline, a large one does not
    INFO("n = " << n);
    std::vector<float> init(big.begin(), big.begin() + n);
    Variable v(Tensor::from_vector(init, {n}), "w");
    Tensor old = v.value();
    Tensor d = full({n}, 0.5f);
    int64_t before = allocator_stats().allocations;
    Tensor r = v.assign_sub(d);
    // The difference became the value: one new buffer (none for a small tensor), not two.
    if (n == 1000) CHECK(allocator_stats().allocations - before == 1);
    CHECK(bitwise_equal(v.value(), sub(old, d)));
    CHECK(v.value().buffer() == r.buffer());
    CHECK(old.to_vector<float>() == init);     // the earlier read is untouched
    Tensor kept = v.value();
    v.assign_add(d);
    CHECK(bitwise_equal(v.value(), add(kept, d)));
    CHECK(bitwise_equal(kept, r));
    CHECK_THROWS_AS(v.assign_sub(full({n + 1}, 1.0f)), ShapeError);  // broadcasting to another shape
    CHECK_THROWS_AS(v.assign_add(cast(full({n}, 1.0f), DType::float64)), DTypeError);  // float64 would not fit
    CHECK(bitwise_equal(v.value(), add(kept, d)));
  }
  // Under a tape the assignment is still an assign op (the tape ignores it: not differentiable).
  Variable w(Tensor({1.0f, 2.0f}), "w");
  GradientTape tape;
  Tensor x = Tensor({3.0f, 4.0f});
  tape.watch(x);
  w.assign_sub(x);
  CHECK(w.value().to_vector<float>() == std::vector<float>{-2, -2});
}

TEST_CASE("collections list live variables in creation order", "[variable]") {
  reset_variables();
  Variable a(zeros({2}), "a");
  Variable b(zeros({2}), "b", false);
  Variable c(zeros({2}), "c", true, {"weights"});
  {
    Variable gone(zeros({1}), "gone");
    CHECK(global_variables().size() == 4);
  }
  auto names = [](const std::vector<Variable>& vs) {
    std::vector<std::string> n;
    for (const Variable& v : vs) n.push_back(v.name());
    return n;
  };
  CHECK(names(global_variables()) == std::vector<std::string>{"a", "b", "c"});
  CHECK(names(trainable_variables()) == std::vector<std::string>{"a", "c"});
  CHECK(names(get_collection("weights")) == std::vector<std::string>{"c"});
  add_to_collection("weights", a);
  CHECK(names(get_collection("weights")) == std::vector<std::string>{"c", "a"});
  CHECK(get_collection("nothing").empty());
}

TEST_CASE("initializers have the documented scale", "[variable]") {
  manual_seed(1);
  Tensor g = glorot_uniform({200, 300});
  double limit = std::sqrt(6.0 / 500.0);
  CHECK(max(abs(g)).item<float>() <= limit);
  CHECK(std::fabs(stddev(g).item<float>() - limit / std::sqrt(3.0)) < 0.01 * limit);
  Tensor h = he_normal({400, 100});
  CHECK(std::fabs(stddev(h).item<float>() - std::sqrt(2.0 / 400)) < 0.05 * std::sqrt(2.0 / 400));
  Tensor gn = glorot_normal({300, 300});
  CHECK(std::fabs(stddev(gn).item<float>() - std::sqrt(2.0 / 600)) < 0.05 * std::sqrt(2.0 / 600));
  Tensor hu = he_uniform({100, 10});
  CHECK(max(abs(hu)).item<float>() <= std::sqrt(6.0 / 100));
}

TEST_CASE("a trace captures variables by reference and replays assignments in order", "[variable][trace]") {
  reset_variables();
  Variable w(Tensor({1.0f, -2.0f, 3.0f}), "w");
  Variable steps(Tensor(0), "steps", false);
  // One "training step": read, compute, assign, read again.
  auto step = [&](const std::vector<Tensor>& in) {
    Tensor grad = w.value() * 2.0f - in[0];
    w.assign_sub(grad * 0.1f);
    steps.assign_add(Tensor(1));
    return std::vector<Tensor>{sum(square(w.value()))};
  };
  Tensor x({0.5f, 0.5f, 0.5f});
  // Eager reference on a twin variable set.
  Variable we(Tensor({1.0f, -2.0f, 3.0f}), "we");
  std::vector<Tensor> eager_losses;
  for (int i = 0; i < 5; ++i) {
    Tensor grad = we.value() * 2.0f - x;
    we.assign_sub(grad * 0.1f);
    eager_losses.push_back(sum(square(we.value())));
  }
  auto traced = trace(step);
  for (int i = 0; i < 5; ++i) {
    Tensor loss = traced({x})[0];
    CHECK(bitwise_equal(loss, eager_losses[i]));
  }
  CHECK(traced.stats().replays == 4);
  CHECK(bitwise_equal(w.value(), we.value()));
  CHECK(steps.value().item<int>() == 5);
  // The optimized graph still has both assignments.
  const Graph& g = traced.plan_for({x})->graph();
  int assigns = 0;
  for (const GraphNode& n : g.nodes) assigns += n.op == "assign";
  CHECK(assigns == 2);
}

namespace {
int adopting_assigns(const Plan& plan) {
  int n = 0;
  for (const PlanStep& s : plan.steps()) n += s.adopt;
  return n;
}
}  // namespace

TEST_CASE("a replayed update adopts its buffer only when nothing else reads it, and values stay immutable",
          "[variable][trace][plan]") {
  reset_variables();
  Variable w(Tensor({1.0f, -2.0f, 3.0f, 0.25f}), "w"), we(Tensor({1.0f, -2.0f, 3.0f, 0.25f}), "we");
  auto update = [](Variable& v, const Tensor& x) {
    Tensor grad = v.value() * 2.0f - x;
    v.assign_sub(grad * 0.1f);  // read, mul, sub: a fused result read by the assign alone
    return sum(square(v.value()));
  };
  auto traced = trace([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{update(w, in[0])}; });
  Tensor x({0.5f, 0.5f, 0.5f, 0.5f});
  std::vector<Tensor> held;  // every value the variable had: none may change afterwards
  std::vector<std::vector<float>> seen;
  for (int i = 0; i < 5; ++i) {
    held.push_back(w.value());
    seen.push_back(w.value().to_vector<float>());
    Tensor loss = traced({x})[0];
    CHECK(bitwise_equal(loss, update(we, x)));
    CHECK(bitwise_equal(w.value(), we.value()));
  }
  for (size_t i = 0; i < held.size(); ++i) CHECK(held[i].to_vector<float>() == seen[i]);
  const Plan& plan = *traced.plan_for({x});
  CHECK(adopting_assigns(plan) == 1);
  int adopt_notes = 0;
  for (const GraphProvenance& pv : plan.provenance()) adopt_notes += pv.pass == "plan_memory" && pv.action == "adopt";
  CHECK(adopt_notes == 1);
  // Every plan option: fused or plain (elementwise) producers, arena or fresh buffers.
  const Graph& traced_graph = *traced.graph_for({x});
  for (const PlanOptions& o : testing::all_plan_options()) {
    INFO(testing::options_str(o));
    Plan p(traced_graph, o);
    CHECK(adopting_assigns(p) == 1);
    for (int i = 0; i < 3; ++i) {
      Tensor before = w.value();
      std::vector<float> before_values = before.to_vector<float>();
      CHECK(bitwise_equal(p.run({x})[0], update(we, x)));
      CHECK(bitwise_equal(w.value(), we.value()));
      CHECK(before.to_vector<float>() == before_values);
    }
  }

  // The update is also returned, read by another op, or is the caller's input: the assign copies.
  Variable a(Tensor({1.0f, 2.0f}), "a"), b(Tensor({1.0f, 2.0f}), "b"), c(Tensor({1.0f, 2.0f}), "c");
  auto fn = [&](const std::vector<Tensor>& in) {
    Tensor ua = a.value() * in[0];
    a.assign(ua);
    Tensor ub = b.value() + in[0];
    b.assign(ub);
    c.assign(in[0]);
    return std::vector<Tensor>{ua, ub * 3.0f};
  };
  Tensor y({2.0f, 0.5f});
  Graph g = trace_graph(fn, {y});
  for (const PlanOptions& o : {PlanOptions{}, PlanOptions{false, false, false, false, false}}) {
    a.assign(Tensor({1.0f, 2.0f}));
    b.assign(Tensor({1.0f, 2.0f}));
    Plan p(g, o);
    CHECK(adopting_assigns(p) == 0);
    std::vector<Tensor> out = p.run({y});
    CHECK(out[0].to_vector<float>() == std::vector<float>{2.0f, 1.0f});
    CHECK(out[1].to_vector<float>() == std::vector<float>{9.0f, 7.5f});
    Tensor av = a.value();
    p.run({y});  // a second run must not write into the first run's values
    CHECK(av.to_vector<float>() == std::vector<float>{2.0f, 1.0f});
    CHECK(out[0].to_vector<float>() == std::vector<float>{2.0f, 1.0f});
    CHECK(a.value().to_vector<float>() == std::vector<float>{4.0f, 0.5f});
    CHECK(b.value().to_vector<float>() == std::vector<float>{5.0f, 3.0f});
    CHECK(c.value().to_vector<float>() == std::vector<float>{2.0f, 0.5f});
  }
}

TEST_CASE("passes never merge, fold or drop variable reads and assignments wrongly", "[variable][passes]") {
  reset_variables();
  Variable v(Tensor({1.0f}), "v");
  auto fn = [&](const std::vector<Tensor>& in) {
    Tensor before = v.value();
    v.assign(in[0]);
    Tensor after = v.value();  // same op and attrs as `before`, but a different value
    v.assign(in[0] * 2.0f);    // nobody reads this result: still kept
    return std::vector<Tensor>{before + after};
  };
  Graph g = trace_graph(fn, {Tensor({5.0f})});
  Graph o = optimize(g);
  int reads = 0, assigns = 0;
  for (const GraphNode& n : o.nodes) {
    reads += n.op == "read_variable";
    assigns += n.op == "assign";
  }
  CHECK(reads == 2);
  CHECK(assigns == 2);
  v.assign(Tensor({1.0f}));
  Plan plan(o);
  CHECK(plan.run({Tensor({5.0f})})[0].item<float>() == 6.0f);
  CHECK(v.value().item<float>() == 10.0f);
  CHECK(plan.run({Tensor({3.0f})})[0].item<float>() == 13.0f);  // 10 + 3
  CHECK(v.value().item<float>() == 6.0f);
}

TEST_CASE("graphs with variables survive JSON", "[variable][graph]") {
  reset_variables();
  Variable v(Tensor({2.0f}), "v");
  Graph g = trace_graph([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{v.value() * in[0]}; },
                        {Tensor({3.0f})});
  Graph back = Graph::from_json(g.to_json());
  v.assign(Tensor({4.0f}));
  CHECK(back.run({Tensor({3.0f})})[0].item<float>() == 12.0f);
}

TEST_CASE("a read is recorded under the variable's name, nested in the active scope", "[variable][scope]") {
  // The rule (docs/decisions.md): the variable's name inside the active scope, the longest tail
  // of the scope that is also the head of the name said once.
  CHECK(variable_read_scope("", "w") == "w");
  CHECK(variable_read_scope("", "fc1/kernel") == "fc1/kernel");
  CHECK(variable_read_scope("fc1", "fc1/kernel") == "fc1/kernel");
  CHECK(variable_read_scope("model/fc1", "fc1/kernel") == "model/fc1/kernel");
  CHECK(variable_read_scope("Adam/fc1/kernel", "fc1/kernel") == "Adam/fc1/kernel");
  CHECK(variable_read_scope("Adam/fc1/kernel", "fc1/kernel/Adam/m") == "Adam/fc1/kernel/Adam/m");
  CHECK(variable_read_scope("Adam", "Adam/iterations") == "Adam/iterations");
  CHECK(variable_read_scope("other", "fc1/kernel") == "other/fc1/kernel");
  CHECK(variable_read_scope("fc1/kernel/x", "fc1/kernel") == "fc1/kernel/x/fc1/kernel");

  reset_variables();
  Variable w(Tensor({1.0f, 2.0f}), "layer/w");
  Graph g = trace_graph([&](const std::vector<Tensor>& in) {
    Tensor a = w.value();
    Tensor b;
    {
      NameScope s("layer");
      b = w.value();
    }
    NameScope s("elsewhere");
    Tensor c = w.value();
    CHECK(current_name_scope() == "elsewhere");
    return std::vector<Tensor>{a + b + c + in[0]};
  }, {Tensor({0.0f, 0.0f})});
  std::multiset<std::string> reads;
  for (const GraphNode& n : g.nodes)
    if (n.op == "read_variable") reads.insert(n.scope);
  CHECK(reads == std::multiset<std::string>{"layer/w/read_variable", "layer/w/read_variable",
                                            "elsewhere/layer/w/read_variable"});
}
