// GradientTape semantics: watching, persistence, unconnected sources, stop_gradient, what is
// recorded and when, second and third order, grad/value_and_grad, gradients inside a trace.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/observer.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
std::string here(int line) { return "(test_tape.cpp:" + std::to_string(line) + ")"; }

void check_close(const Tensor& a, const std::vector<double>& expect, double tol = 1e-9) {
  auto v = values(a);
  REQUIRE(v.size() == expect.size());
  for (size_t i = 0; i < v.size(); ++i) {
    INFO("element " << i);
    CHECK(v[i] == Approx(expect[i]).margin(tol));
  }
}

}  // namespace

TEST_CASE("the tape differentiates what it recorded from watched tensors", "[tape]") {
  Tensor x({1.0, 2.0, -3.0});
  GradientTape tape;
  tape.watch(x);
  Tensor y = x * x + 3.0 * x;
  auto g = tape.gradient(y, {x});
  REQUIRE(g.size() == 1);
  check_close(g[0], {5, 7, -3});
}

TEST_CASE("a non-scalar target is summed: the seed is ones", "[tape]") {
  Tensor x({{1.0, 2.0}, {3.0, 4.0}});
  GradientTape tape;
  tape.watch(x);
  Tensor y = matmul(x, x);
  // d sum(X X) / dX = 1 X^T + X^T 1 (1 the all-ones matrix).
  Tensor one = ones({2, 2}, DType::float64);
  Tensor expect = matmul(one, transpose(x)) + matmul(transpose(x), one);
  CHECK(allclose(tape.gradient(y, {x})[0], expect));
}

TEST_CASE("unconnected sources: zeros by default, InvalidArgument when asked", "[tape]") {
  Tensor x({1.0, 2.0});
  Tensor z({5.0, 6.0});
  GradientTape tape(true);
  tape.watch(x);
  Tensor y = x * z;  // z is not watched: a constant
  auto g = tape.gradient(y, {x, z});
  check_close(g[0], {5, 6});
  check_close(g[1], {0, 0});
  CHECK(g[1].shape() == z.shape());
  CHECK(g[1].dtype() == z.dtype());
  int line = __LINE__ + 2;
  try {
    tape.gradient(y, {x, z}, UnconnectedGradients::none);
    FAIL("no exception");
  } catch (const InvalidArgument& e) {
    std::string m = e.what();
    CHECK(m.find("[gradient] source 1 ((2,) float64) is not connected to the target") == 0);
    CHECK(ends_with(m, here(line)));
  }
  // A watched tensor the target does not depend on is unconnected as well.
  Tensor w({1.0});
  tape.watch(w);
  CHECK_THROWS_AS(tape.gradient(y, {w}, UnconnectedGradients::none), InvalidArgument);
  check_close(tape.gradient(y, {w})[0], {0});
}

TEST_CASE("a non-persistent tape computes one gradient; a persistent one many", "[tape]") {
  Tensor x({2.0});
  {
    GradientTape tape;
    CHECK_FALSE(tape.persistent());
    tape.watch(x);
    Tensor y = x * x * x;
    check_close(tape.gradient(y, {x})[0], {12});
    int line = __LINE__ + 2;
    try {
      tape.gradient(y, {x});
      FAIL("no exception");
    } catch (const FailedPrecondition& e) {
      std::string m = e.what();
      CHECK(m.find("[gradient] a non-persistent GradientTape computes one gradient") == 0);
      CHECK(ends_with(m, here(line)));
    }
    CHECK_THROWS_AS(tape.watch(x), FailedPrecondition);
  }
  GradientTape tape(true);
  CHECK(tape.persistent());
  tape.watch(x);
  Tensor y = x * x * x;
  Tensor z = exp(x);
  check_close(tape.gradient(y, {x})[0], {12});
  check_close(tape.gradient(z, {x})[0], {std::exp(2.0)});
  check_close(tape.gradient(y, {x})[0], {12});
}

TEST_CASE("only ops after watch, on this thread, while the tape lives are recorded", "[tape]") {
  Tensor x({3.0});
  Tensor before = x * x;  // computed before the watch: a constant to the tape
  GradientTape tape(true);
  tape.watch(x);
  Tensor y = before * x;
  check_close(tape.gradient(y, {x})[0], {9});
  Tensor other;
  std::thread t([&] { other = x * x; });  // another thread's ops are not recorded
  t.join();
  check_close(tape.gradient(other, {x})[0], {0});
  size_t n = observers().size();
  {
    GradientTape inner;
    CHECK(observers().size() == n + 1);
  }
  CHECK(observers().size() == n);
}

TEST_CASE("gradients with respect to intermediates, the target itself, repeated sources", "[tape]") {
  Tensor x({1.0, 2.0});
  GradientTape tape(true);
  tape.watch(x);
  Tensor h = x * 2.0;
  Tensor y = sin(h) + h;
  auto g = tape.gradient(y, {h, x, x, y});
  check_close(g[0], {std::cos(2.0) + 1, std::cos(4.0) + 1});
  check_close(g[1], {2 * (std::cos(2.0) + 1), 2 * (std::cos(4.0) + 1)});
  check_close(g[2], values(g[1]));
  check_close(g[3], {1, 1});
  // A tensor used twice by one op gets both contributions.
  check_close(tape.gradient(x * x, {x})[0], {2, 4});
}

TEST_CASE("stop_gradient: same values, no gradient through it", "[tape][stop_gradient]") {
  Tensor x({1.0, 2.0, 3.0});
  GradientTape tape;
  tape.watch(x);
  Tensor s = stop_gradient(x);
  CHECK(s.buffer() == x.buffer());
  CHECK(s.id() != x.id());
  CHECK(values(s) == values(x));
  Tensor y = x * s;  // d/dx = s, not 2x
  check_close(tape.gradient(y, {x})[0], {1, 2, 3});
  CHECK_THROWS_AS(stop_gradient(Tensor()), InvalidArgument);
}

TEST_CASE("non-differentiable ops carry no gradient: comparisons, argmax, random, integer casts", "[tape]") {
  Tensor x({0.5, -1.0, 2.0});
  GradientTape tape(true);
  tape.watch(x);
  Tensor mask = cast(greater(x, 0.0), DType::float64);
  Tensor idx = cast(argmax(x), DType::float64);
  Tensor noise = random_uniform({3}, 0, 1, DType::float64) + 0.0 * x;
  check_close(tape.gradient(mask, {x})[0], {0, 0, 0});
  check_close(tape.gradient(idx * x, {x})[0], {2, 2, 2});
  check_close(tape.gradient(noise, {x})[0], {0, 0, 0});
  CHECK_THROWS_AS(tape.gradient(mask, {x}, UnconnectedGradients::none), InvalidArgument);
}

TEST_CASE("integer tensors: watch, targets and sources are DTypeErrors", "[tape][dtype]") {
  Tensor i({1, 2});
  Tensor x({1.0f, 2.0f});
  GradientTape tape(true);
  int line = __LINE__ + 2;
  try {
    tape.watch(i);
    FAIL("no exception");
  } catch (const DTypeError& e) {
    CHECK(std::string(e.what()) == "[watch] only float tensors have gradients: the tensor is (2,) int32 " + here(line));
  }
  tape.watch(x);
  CHECK_THROWS_AS(tape.gradient(x * 2.0f, {i}), DTypeError);
  CHECK_THROWS_AS(tape.gradient(cast(x, DType::int32), {x}), DTypeError);
  CHECK_THROWS_AS(tape.gradient(Tensor(), {x}), InvalidArgument);
  CHECK_THROWS_AS(tape.gradient(x, {Tensor()}), InvalidArgument);
  CHECK_THROWS_AS(grad([](const std::vector<Tensor>& in) { return sum(cast(in[0], DType::float32)); })({i}), DTypeError);
}

// ---- higher order ----

TEST_CASE("second and third derivatives of x^3 with nested tapes", "[tape][second-order]") {
  Tensor x({2.0, -1.0});
  GradientTape t3;
  t3.watch(x);
  GradientTape t2;
  t2.watch(x);
  Tensor d1;
  {
    GradientTape t1;
    t1.watch(x);
    Tensor y = x * x * x;
    d1 = t1.gradient(y, {x})[0];
  }
  check_close(d1, {12, 3});
  Tensor d2 = t2.gradient(d1, {x})[0];
  check_close(d2, {12, -6});
  Tensor d3 = t3.gradient(d2, {x})[0];
  check_close(d3, {6, 6});
}

TEST_CASE("second derivative of tanh", "[tape][second-order]") {
  Tensor x({-1.0, 0.0, 0.5, 2.0});
  GradientTape outer;
  outer.watch(x);
  Tensor d1;
  {
    GradientTape inner;
    inner.watch(x);
    d1 = inner.gradient(tanh(x), {x})[0];
  }
  Tensor d2 = outer.gradient(d1, {x})[0];
  std::vector<double> expect;
  for (double v : values(x)) {
    double t = std::tanh(v);
    expect.push_back(-2 * t * (1 - t * t));
  }
  check_close(d2, expect);
}

TEST_CASE("second order of matmul-based expressions: Hessian-vector products", "[tape][second-order]") {
  manual_seed(3);
  Tensor X = random_normal({5, 3}, 0, 1, DType::float64);
  Tensor w = random_normal({3, 2}, 0, 1, DType::float64);
  Tensor v = random_normal({3, 2}, 0, 1, DType::float64);
  // f(w) = sum((X w)^2): the gradient is 2 X^T X w, the Hessian times v is 2 X^T X v.
  GradientTape outer;
  outer.watch(w);
  Tensor g;
  {
    GradientTape inner;
    inner.watch(w);
    g = inner.gradient(sum(square(matmul(X, w))), {w})[0];
  }
  Tensor XtX = matmul(transpose(X), X);
  CHECK(allclose(g, 2.0 * matmul(XtX, w), 1e-10, 1e-10));
  Tensor hv = outer.gradient(sum(g * v), {w})[0];
  CHECK(allclose(hv, 2.0 * matmul(XtX, v), 1e-10, 1e-10));

  // A tanh layer: the Hessian-vector product against finite differences of the gradient.
  auto gradient_at = [&](const Tensor& wt) {
    GradientTape t;
    t.watch(wt);
    return t.gradient(sum(tanh(matmul(X, wt))), {wt})[0];
  };
  GradientTape o2;
  o2.watch(w);
  Tensor hv2 = o2.gradient(sum(gradient_at(w) * v), {w})[0];
  double eps = 1e-5;
  Tensor fd = (gradient_at(w + eps * v) - gradient_at(w - eps * v)) / (2 * eps);
  CHECK(allclose(hv2, fd, 1e-6, 1e-7));
}

TEST_CASE("a persistent tape differentiates its own gradient computation", "[tape][second-order]") {
  Tensor x({3.0});
  GradientTape tape(true);
  tape.watch(x);
  Tensor y = x * x * x;
  Tensor d1 = tape.gradient(y, {x})[0];
  Tensor d2 = tape.gradient(d1, {x})[0];
  check_close(d1, {27});
  check_close(d2, {18});
}

// ---- functional forms ----

TEST_CASE("grad and value_and_grad", "[tape][grad]") {
  auto f = [](const std::vector<Tensor>& in) { return sum(in[0] * in[0] * in[1]); };
  Tensor a({1.0, 2.0});
  Tensor b({3.0, 4.0});
  auto g = grad(f)({a, b});
  REQUIRE(g.size() == 2);
  check_close(g[0], {6, 16});
  check_close(g[1], {1, 4});
  auto [value, g2] = value_and_grad(f)({a, b});
  CHECK(value.item<double>() == 19.0);
  check_close(g2[0], {6, 16});
  // Nested for the second derivative: d/da of d/da sum(a^2 b) = 2 b.
  auto df = [f](const std::vector<Tensor>& in) { return sum(grad(f)(in)[0]); };
  check_close(grad(df)({a, b})[0], {6, 8});
  // Unconnected inputs.
  auto only_a = [](const std::vector<Tensor>& in) { return sum(in[0]); };
  check_close(grad(only_a)({a, b})[1], {0, 0});
  CHECK_THROWS_AS(grad(only_a, UnconnectedGradients::none)({a, b}), InvalidArgument);
}

TEST_CASE("grad needs a one-element float result", "[tape][grad]") {
  Tensor a({1.0, 2.0});
  int line = __LINE__ + 1;
  auto g = grad([](const std::vector<Tensor>& in) { return in[0] * 2.0; });
  try {
    g({a});
    FAIL("no exception");
  } catch (const InvalidArgument& e) {
    CHECK(std::string(e.what()) == "[grad] f must return a one-element tensor, got (2,) float64 " + here(line));
  }
  CHECK(values(grad([](const std::vector<Tensor>& in) { return reshape(sum(in[0]), {1, 1}); })({a})[0]) ==
        std::vector<double>{1, 1});
}

// ---- gradients inside a trace ----

TEST_CASE("a traced training step includes backward and replays like eager", "[tape][trace]") {
  auto step = [](const std::vector<Tensor>& in) -> std::vector<Tensor> {
    const Tensor& x = in[0];
    const Tensor& w = in[1];
    GradientTape tape;
    tape.watch(w);
    Tensor loss = mean(square(tanh(matmul(x, w)) - 0.5));
    Tensor dw = tape.gradient(loss, {w})[0];
    return {loss, w - 0.1 * dw};
  };
  auto traced = trace(step);
  manual_seed(4);
  Tensor x = random_normal({4, 3}, 0, 1, DType::float64);
  Tensor w = random_normal({3, 2}, 0, 1, DType::float64);
  auto first = traced({x, w});
  CHECK(traced.stats().traces == 1);
  Tensor w2 = first[1];
  auto replayed = traced({x, w2});
  CHECK(traced.stats().replays == 1);
  auto eager = step({x, w2});
  CHECK(allclose(replayed[0], eager[0], 1e-12, 1e-12));
  CHECK(allclose(replayed[1], eager[1], 1e-12, 1e-12));
}

TEST_CASE("matmul's gradient skips the product of an operand nobody differentiates", "[tape][trace]") {
  // x is data: only w is watched, so the backward pass runs one product (x^T g), not two.
  manual_seed(5);
  Tensor x = random_normal({4, 3}, 0, 1, DType::float64);
  Tensor w = random_normal({3, 2}, 0, 1, DType::float64);
  auto count_matmuls = [](const Graph& g) {
    int n = 0;
    for (const GraphNode& node : g.nodes) n += node.op == OpId::from_name("matmul");
    return n;
  };
  auto step = [](bool watch_x) {
    return [watch_x](const std::vector<Tensor>& in) {
      GradientTape tape;
      tape.watch(in[1]);
      if (watch_x) tape.watch(in[0]);
      Tensor loss = sum(square(matmul(in[0], in[1])));
      std::vector<Tensor> src{in[1]};
      if (watch_x) src.push_back(in[0]);
      std::vector<Tensor> g = tape.gradient(loss, src);
      g.insert(g.begin(), loss);
      return g;
    };
  };
  CHECK(count_matmuls(trace_graph(step(false), {x, w})) == 2);
  CHECK(count_matmuls(trace_graph(step(true), {x, w})) == 3);
  // The gradient of w is the same either way: 2 x^T (x w).
  Tensor dw = step(false)({x, w})[1];
  CHECK(bitwise_equal(dw, step(true)({x, w})[1]));
  CHECK(allclose(dw, 2.0 * matmul(transpose(x), matmul(x, w)), 1e-12, 1e-12));
}

TEST_CASE("a tape follows long chains and many watched tensors", "[tape]") {
  // Hundreds of tracked ids: the tape's id table grows several times while recording, and a
  // persistent tape keeps recording (growing it again) while it computes a gradient.
  std::vector<Tensor> xs;
  for (int i = 0; i < 50; ++i) xs.push_back(Tensor({1.0 + i, 2.0}));
  GradientTape tape(true);
  for (const Tensor& x : xs) tape.watch(x);
  Tensor y = xs[0];
  for (int i = 0; i < 300; ++i) y = y * 1.001 + xs[static_cast<size_t>(i % 50)] * 0.0;
  Tensor total = sum(y);
  for (int round = 0; round < 2; ++round) {
    std::vector<Tensor> g = tape.gradient(total, xs);
    REQUIRE(g.size() == 50);
    double chain = std::pow(1.001, 300);
    CHECK(g[0].to_vector<double>()[0] == Approx(chain));
    CHECK(g[0].to_vector<double>()[1] == Approx(chain));
    for (size_t i = 1; i < 50; ++i) CHECK(g[i].to_vector<double>() == std::vector<double>{0, 0});
  }
  // A source that is the target itself, watched or not, gets the seed.
  Tensor c = Tensor({5.0});
  GradientTape t2;
  CHECK(t2.gradient(c, {c})[0].to_vector<double>() == std::vector<double>{1});
}

TEST_CASE("elementwise gradients skip an operand nobody differentiates", "[tape][trace]") {
  Tensor x = Tensor({1.0, 2.0, 3.0});
  Tensor c = Tensor({4.0, 5.0, 6.0});
  auto count = [](const Graph& g, const char* op) {
    int n = 0;
    for (const GraphNode& node : g.nodes) n += node.op == OpId::from_name(op);
    return n;
  };
  auto step = [](const std::vector<Tensor>& in) {
    GradientTape tape;
    tape.watch(in[0]);  // c is a constant: d(c * x)/dc is not computed, nor c - x's neg
    Tensor loss = sum(in[1] * in[0] + (in[0] - in[1]));
    return std::vector<Tensor>{loss, tape.gradient(loss, {in[0]})[0]};
  };
  Graph g = trace_graph(step, {x, c});
  CHECK(count(g, "mul") == 2);  // c * x, and g * c
  CHECK(count(g, "neg") == 0);
  CHECK(step({x, c})[1].to_vector<double>() == std::vector<double>{5, 6, 7});
}

TEST_CASE("gradient ops are named gradients/<the forward op's scope>, whatever scope runs backward",
          "[autodiff][scope]") {
  Tensor x = Tensor({1.0, 2.0, 3.0});
  Graph g = trace_graph([](const std::vector<Tensor>& in) {
    GradientTape tape;
    tape.watch(in[0]);
    Tensor y;
    {
      NameScope f("f");
      Tensor h = mul(in[0], in[0]);
      NameScope inner("inner");
      y = sum(exp(h));
    }
    NameScope caller("train");  // the backward pass runs here: its ops are not named after it
    Tensor dx = tape.gradient(y, {in[0]})[0];
    CHECK(current_name_scope() == "train");
    return std::vector<Tensor>{y, dx};
  }, {x});
  CHECK(current_name_scope().empty());
  std::set<std::string> forward, backward;
  for (const GraphNode& n : g.nodes) {
    INFO("node " << n.op << " in scope '" << n.scope << "'");
    CHECK(n.scope.rfind("train", 0) != 0);
    if (n.scope.rfind("gradients", 0) == 0) backward.insert(n.scope.substr(0, n.scope.rfind('/')));
    else forward.insert(n.scope.substr(0, n.scope.rfind('/')));
  }
  CHECK(forward == std::set<std::string>{"f", "f/inner"});
  // The seed of the backward pass (ones) sits in "gradients"; exp's and sum's vjps in
  // "gradients/f/inner"; mul's vjp and the sum of x's two gradients in "gradients/f".
  CHECK(backward.count("gradients/f/inner"));
  CHECK(backward.count("gradients/f"));
  CHECK(backward.size() <= 3);
  for (const std::string& s : backward) CHECK((s == "gradients" || s == "gradients/f" || s == "gradients/f/inner"));
  // The named gradient is still right: d/dx sum(exp(x^2)) = 2x exp(x^2).
  std::vector<Tensor> out = g.run({x});
  check_close(out[1], {2 * std::exp(1.0), 4 * std::exp(4.0), 6 * std::exp(9.0)}, 1e-6);
}
