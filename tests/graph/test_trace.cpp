// trace(fn): signatures, retraces, replays, and refusal of functions that read values.
#include <catch2/catch.hpp>

#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {
std::vector<Tensor> affine(const std::vector<Tensor>& in) { return {tanh(in[0] * 0.5f + 1.0f) * sigmoid(in[0])}; }
Tensor sample_data(const Shape& s, float scale = 1.0f) {
  return reshape(linspace(-3, 3, numel(s)) * scale, s);
}
}  // namespace

TEST_CASE("the first call traces, later calls replay and equal eager bitwise", "[trace]") {
  auto step = trace(affine);
  Tensor x = sample_data({64, 8});
  auto first = step({x});
  CHECK(step.stats().traces == 1);
  CHECK(step.stats().replays == 0);
  CHECK(bitwise_equal(first[0], affine({x})[0]));
  for (float s : {0.5f, 2.0f}) {
    Tensor xi = sample_data({64, 8}, s);
    auto r = step({xi});
    CHECK(bitwise_equal(r[0], affine({xi})[0]));
  }
  CHECK(step.stats().replays == 2);
  REQUIRE(step.graph_for({x}) != nullptr);
  CHECK(step.graph_for({x})->nodes.size() == 5);
  REQUIRE(step.plan_for({x}) != nullptr);
  CHECK(step.plan_for({x})->steps().size() == 1);  // one fused kernel
}

TEST_CASE("a new signature retraces and says which argument changed", "[trace]") {
  auto step = trace(affine);
  step({sample_data({64, 8})});
  step({sample_data({32, 8})});
  CHECK(step.stats().traces == 2);
  CHECK(step.stats().retraces == 1);
  CHECK(step.last_retrace_reason() == "arg 0: shape (64, 8) -> (32, 8)");
  step({cast(sample_data({32, 8}), DType::float64)});
  CHECK(step.last_retrace_reason() == "arg 0: dtype float32 -> float64");
  step({sample_data({64, 8})});  // cached: no retrace
  CHECK(step.stats().retraces == 2);
  CHECK(step.stats().replays == 1);
}

TEST_CASE("the retrace limit raises when strict", "[trace]") {
  TraceOptions opts;
  opts.retrace_limit = 1;
  opts.strict_retrace = true;
  auto step = trace(affine, opts);
  step({sample_data({1, 8})});
  step({sample_data({2, 8})});
  CHECK_THROWS_AS(step({sample_data({3, 8})}), FailedPrecondition);
}

TEST_CASE("host reads become guards: a failed guard runs eagerly, retraces and warns", "[trace]") {
  int line = 0;
  auto branchy = [&line](const std::vector<Tensor>& in) {
    line = __LINE__ + 1;
    if (sum(in[0]).item<float>() > 0) return std::vector<Tensor>{in[0] * 2.0f};
    return std::vector<Tensor>{in[0] * -1.0f};
  };
  auto step = trace(branchy);
  Tensor pos = sample_data({4}) + 1.0f, neg_ = sample_data({4}) - 1.0f, pos2 = sample_data({4}) + 1.0f;
  auto a = step({pos});
  REQUIRE(step.graph_for({pos}) != nullptr);
  REQUIRE(step.graph_for({pos})->guards.size() == 1);
  CHECK(step.graph_for({pos})->guards[0].line == line);
  CHECK(bitwise_equal(step({pos2})[0], pos2 * 2.0f));  // same value read: replays
  CHECK(step.stats().replays == 1);
  auto b = step({neg_});  // same signature, other branch: the guard fails, eager gives the right answer
  CHECK(bitwise_equal(b[0], neg_ * -1.0f));
  CHECK(bitwise_equal(a[0], pos * 2.0f));
  CHECK(step.stats().guard_failures == 1);
  CHECK(step.stats().retraces == 1);
  CHECK(step.last_guard_failure().find("test_trace.cpp:" + std::to_string(line)) != std::string::npos);
  CHECK(step.last_retrace_reason().find("guard failed at test_trace.cpp:") == 0);
  // The retrace recorded the new branch; the guard is on the value read (the sum), so equal
  // inputs replay and any other sum re-checks eagerly.
  Tensor neg2 = sample_data({4}) - 1.0f;
  CHECK(bitwise_equal(step({neg2})[0], neg2 * -1.0f));
  CHECK(step.stats().replays == 2);
}

TEST_CASE("guards survive the JSON round trip", "[trace]") {
  Graph g = trace_graph([](const std::vector<Tensor>& in) {
    float m = max(in[0]).item<float>();
    return std::vector<Tensor>{in[0] / m};
  }, {sample_data({8})});
  REQUIRE(g.guards.size() == 1);
  Graph back = Graph::from_json(g.to_json());
  REQUIRE(back.guards.size() == 1);
  CHECK(bitwise_equal(back.guards[0].expected, g.guards[0].expected));
  CHECK(back.guards[0].line == g.guards[0].line);
  Plan plan(back);
  CHECK_THROWS_AS(plan.run({sample_data({8}) * 2.0f}), GuardFailure);
  CHECK_NOTHROW(plan.run({sample_data({8})}));
}

TEST_CASE("a traced function called inside another trace is recorded, not replayed", "[trace]") {
  auto inner = trace(affine);
  inner({sample_data({4, 8})});  // traced
  Graph outer = trace_graph([&](const std::vector<Tensor>& in) { return inner({in[0] * 2.0f}); }, {sample_data({4, 8})});
  CHECK(outer.nodes.size() == 6);  // mul, then the five primitives of affine
  Tensor x = sample_data({4, 8}, 0.3f);
  CHECK(bitwise_equal(outer.run({x})[0], affine({x * 2.0f})[0]));
}

TEST_CASE("trace optimizes the graph before compiling it", "[trace]") {
  auto fn = [](const std::vector<Tensor>& in) {
    Tensor a = exp(in[0]) * 1.0f;
    Tensor b = exp(in[0]);  // the same subexpression
    return std::vector<Tensor>{neg(neg(a)) + b};
  };
  auto step = trace(fn);
  Tensor x = sample_data({16});
  step({x});
  const Plan* plan = step.plan_for({x});
  REQUIRE(plan != nullptr);
  CHECK(plan->graph().nodes.size() < step.graph_for({x})->nodes.size());
  CHECK_FALSE(plan->graph().provenance.empty());
  CHECK(bitwise_equal(step({x})[0], fn({x})[0]));
}
