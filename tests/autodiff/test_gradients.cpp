// The gradient of every differentiable primitive, checked against central finite differences in
// float64 on seeded random inputs: broadcasting, reduction axes, batched matmul, strided slices,
// conv2d and pools with SAME/VALID and strides; composite ops; second derivatives (the gradients
// are themselves differentiable); the conventions of docs/autodiff.md (ties, zeros, dtypes).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "testing.hpp"
#include "core/observer.hpp"
#include "ops/prims.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// The primitives check_grad has differentiated (the coverage case at the end clears it, runs its own
// checks and compares it with the registry, so a new differentiable primitive without a checked
// gradient fails the suite).
std::set<std::string>& checked_prims() {
  static std::set<std::string> s;
  return s;
}

struct PrimRecorder : DispatchObserver {
  PrimRecorder() { add_observer(this); }
  ~PrimRecorder() override { remove_observer(this); }
  void on_apply(const ApplyEvent& e) override { checked_prims().insert(op_def(static_cast<Prim>(e.op)).name); }
};

using testing::uniform;

struct Tol {
  double eps = 1e-6;
  double rtol = 1e-5;
  double atol = 1e-6;
};

// The tape's gradient of sum(f(xs) * w), for fixed random weights w, against central differences.
void check_grad(const Fn& f, const std::vector<Tensor>& xs, Tol tol = {}) {
  std::vector<Tensor> analytic;
  Tensor w;
  {
    GradientTape tape;
    for (const Tensor& x : xs) tape.watch(x);
    Tensor y;
    {
      PrimRecorder rec;
      y = f(xs);
    }
    w = uniform(y.shape(), 0.5, 1.5);
    analytic = tape.gradient(sum(mul(y, w)), xs);
  }
  auto loss = [&](const std::vector<Tensor>& in) { return sum(mul(f(in), w)).item<double>(); };
  REQUIRE(analytic.size() == xs.size());
  for (size_t k = 0; k < xs.size(); ++k) {
    REQUIRE(analytic[k].shape() == xs[k].shape());
    REQUIRE(analytic[k].dtype() == xs[k].dtype());
    std::vector<double> v = xs[k].to_vector<double>();
    std::vector<double> a = analytic[k].to_vector<double>();
    int bad = 0;
    std::ostringstream msg;
    for (size_t j = 0; j < v.size(); ++j) {
      double orig = v[j];
      std::vector<Tensor> in = xs;
      v[j] = orig + tol.eps;
      in[k] = Tensor::from_vector(v, xs[k].shape());
      double lp = loss(in);
      v[j] = orig - tol.eps;
      in[k] = Tensor::from_vector(v, xs[k].shape());
      double lm = loss(in);
      v[j] = orig;
      double num = (lp - lm) / (2 * tol.eps);
      if (!(std::abs(a[j] - num) <= tol.atol + tol.rtol * std::abs(num))) {
        if (bad++ < 5) msg << "  input " << k << " element " << j << ": tape " << a[j] << ", finite differences " << num << "\n";
      }
    }
    INFO("mismatches (" << bad << "):\n" << msg.str());
    CHECK(bad == 0);
  }
}

// d sum(f(xs)^2) / d xs[k], computed with a tape: checking it with check_grad checks second
// derivatives, i.e. that the vjps are differentiable themselves.
Fn grad_of(Fn f, size_t k) {
  return [f, k](const std::vector<Tensor>& xs) {
    GradientTape tape;
    for (const Tensor& x : xs) tape.watch(x);
    Tensor y = f(xs);
    return tape.gradient(sum(mul(y, y)), xs)[k];
  };
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

// ---- elementwise unary ----

namespace {
struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
  double lo, hi;
};
std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, -2, 2},
      {"abs", [](const Tensor& x) { return abs(x); }, -2, 2},
      {"sign", [](const Tensor& x) { return sign(x); }, -2, 2},
      {"exp", [](const Tensor& x) { return exp(x); }, -2, 2},
      {"expm1", [](const Tensor& x) { return expm1(x); }, -2, 2},
      {"log", [](const Tensor& x) { return log(x); }, 0.5, 3},
      {"log1p", [](const Tensor& x) { return log1p(x); }, -0.5, 2},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5, 3},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, 0.5, 3},
      {"square", [](const Tensor& x) { return square(x); }, -2, 2},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, 0.5, 3},
      {"sin", [](const Tensor& x) { return sin(x); }, -3, 3},
      {"cos", [](const Tensor& x) { return cos(x); }, -3, 3},
      {"tan", [](const Tensor& x) { return tan(x); }, -1.2, 1.2},
      {"tanh", [](const Tensor& x) { return tanh(x); }, -2, 2},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, -3, 3},
      {"relu", [](const Tensor& x) { return relu(x); }, -2, 2},
      {"erf", [](const Tensor& x) { return erf(x); }, -2, 2},
      {"floor", [](const Tensor& x) { return floor(x); }, -3, 3},
      {"ceil", [](const Tensor& x) { return ceil(x); }, -3, 3},
      {"round", [](const Tensor& x) { return round(x); }, -3, 3},
  };
}
}  // namespace

TEST_CASE("unary elementwise gradients match finite differences", "[gradients][unary]") {
  manual_seed(1);
  for (const auto& c : unary_cases()) {
    INFO(c.name);
    auto fn = c.fn;
    check_grad([fn](const std::vector<Tensor>& in) { return fn(in[0]); }, {uniform({3, 4}, c.lo, c.hi)});
  }
}

TEST_CASE("unary elementwise second derivatives match finite differences", "[gradients][unary][second-order]") {
  manual_seed(2);
  for (const auto& c : unary_cases()) {
    INFO(c.name);
    auto fn = c.fn;
    check_grad(grad_of([fn](const std::vector<Tensor>& in) { return fn(in[0]); }, 0), {uniform({2, 3}, c.lo, c.hi)},
               Tol{1e-5, 1e-4, 1e-5});
  }
}

TEST_CASE("piecewise-constant ops have zero gradients; abs and relu have 0 at 0", "[gradients][unary]") {
  Tensor x({-1.5, 0.0, 0.5, 2.0});
  for (auto fn : {+[](const Tensor& t) { return floor(t); }, +[](const Tensor& t) { return ceil(t); },
                  +[](const Tensor& t) { return round(t); }, +[](const Tensor& t) { return sign(t); }}) {
    GradientTape tape;
    tape.watch(x);
    CHECK(values(tape.gradient(fn(x), {x})[0]) == std::vector<double>{0, 0, 0, 0});
  }
  GradientTape tape(true);
  tape.watch(x);
  Tensor a = abs(x), r = relu(x);
  CHECK(values(tape.gradient(a, {x})[0]) == std::vector<double>{-1, 0, 1, 1});
  CHECK(values(tape.gradient(r, {x})[0]) == std::vector<double>{0, 0, 1, 1});
}

TEST_CASE("relu_grad at 0, -0, NaN and inf is where(x > 0, g, 0) bit for bit", "[gradients][unary][relu_grad]") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xs = {-2.0f, -0.0f, 0.0f, 1e-38f, 3.0f, nan, -inf, inf, 1.0f, 0.0f};
  std::vector<float> gs = {1.0f, 2.0f, 3.0f, 4.0f, -0.0f, 5.0f, 6.0f, nan, inf, nan};
  for (DType d : {DType::float32, DType::float64}) {
    INFO(dtype_name(d));
    Tensor x = cast(Tensor::from_vector(xs, {10}), d), g = cast(Tensor::from_vector(gs, {10}), d);
    Tensor r = relu_grad(g, x);
    CHECK(bitwise_equal(r, where(greater(x, 0.0), g, 0.0)));
    // 0 at x = +-0 and at a NaN feature, even where g is NaN; g itself (-0, NaN, inf) where x > 0
    std::vector<double> v = values(r);
    CHECK(v[1] == 0.0);
    CHECK(!std::signbit(v[2]));
    CHECK(std::signbit(v[4]));
    CHECK(v[5] == 0.0);
    CHECK(std::isnan(v[7]));
    CHECK(v[8] == std::numeric_limits<double>::infinity());
    CHECK(v[9] == 0.0);
    // relu's tape gradient is relu_grad
    GradientTape tape;
    tape.watch(x);
    CHECK(bitwise_equal(tape.gradient(sum(relu(x) * g), {x})[0], r));  // d/d relu(x) is 1 * g = g
  }
  // integers, broadcasting, a scalar features operand
  CHECK(values(relu_grad(Tensor::from_vector(std::vector<int32_t>{5, 6, 7}, {3}), Tensor::from_vector(std::vector<int32_t>{-1, 0, 2}, {3}))) ==
        std::vector<double>{0, 0, 7});
  CHECK(values(relu_grad(Tensor({1.0f, 2.0f}), 1.0f)) == std::vector<double>{1, 2});
  CHECK(relu_grad(uniform({2, 1, 3}), uniform({4, 1})).shape() == Shape{2, 4, 3});
  // errors: bool operands, shapes that do not broadcast
  Tensor b = Tensor::from_vector(std::vector<bool>{true, false}, {2});
  CHECK_THROWS_AS(relu_grad(b, b), DTypeError);
  CHECK_THROWS_WITH(relu_grad(uniform({2, 3}), uniform({4})), Catch::Contains("relu_grad") && Catch::Contains("(2, 3)"));
}

// ---- elementwise binary ----

namespace {
struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> fn;
  double alo, ahi, blo, bhi;
};
std::vector<BinaryCase> binary_cases() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, -2, 2, -2, 2},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, -2, 2, -2, 2},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, -2, 2, -2, 2},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, -2, 2, 0.5, 2},
      {"floor_div", [](const Tensor& a, const Tensor& b) { return floor_div(a, b); }, -3, 3, 0.7, 2},
      {"mod", [](const Tensor& a, const Tensor& b) { return mod(a, b); }, -3, 3, 0.7, 2},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2, -2, 2},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -2, 2, -2, 2},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -2, 2, -2, 2},
      {"atan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); }, -2, 2, 0.3, 2},
      {"hypot", [](const Tensor& a, const Tensor& b) { return hypot(a, b); }, -2, 2, 0.3, 2},
      {"logaddexp", [](const Tensor& a, const Tensor& b) { return logaddexp(a, b); }, -3, 3, -3, 3},
      {"relu_grad", [](const Tensor& a, const Tensor& b) { return relu_grad(a, b); }, -2, 2, -2, 2},
  };
}
const std::vector<std::pair<Shape, Shape>> kBroadcastShapes = {
    {{3, 4}, {3, 4}}, {{3, 1}, {1, 4}}, {{2, 3}, {3}}, {{}, {2, 3}}, {{2, 1, 3}, {4, 1}}};
}  // namespace

TEST_CASE("binary elementwise gradients match finite differences, with broadcasting", "[gradients][binary]") {
  manual_seed(3);
  for (const auto& c : binary_cases())
    for (const auto& [sa, sb] : kBroadcastShapes) {
      INFO(c.name << " " << shape_str(sa) << " with " << shape_str(sb));
      auto fn = c.fn;
      check_grad([fn](const std::vector<Tensor>& in) { return fn(in[0], in[1]); },
                 {uniform(sa, c.alo, c.ahi), uniform(sb, c.blo, c.bhi)});
    }
}

TEST_CASE("binary elementwise second derivatives match finite differences", "[gradients][binary][second-order]") {
  manual_seed(4);
  for (const auto& c : binary_cases())
    for (size_t k = 0; k < 2; ++k) {
      INFO(c.name << " input " << k);
      auto fn = c.fn;
      check_grad(grad_of([fn](const std::vector<Tensor>& in) { return fn(in[0], in[1]); }, k),
                 {uniform({3, 1}, c.alo, c.ahi), uniform({1, 2}, c.blo, c.bhi)}, Tol{1e-5, 1e-4, 1e-5});
    }
}

TEST_CASE("scalar operands: gradients of tensor-with-scalar ops", "[gradients][binary]") {
  manual_seed(5);
  check_grad([](const std::vector<Tensor>& in) { return 2.0 * in[0] - 1.0 / (in[0] + 3.0); }, {uniform({4})});
  check_grad([](const std::vector<Tensor>& in) { return pow(in[0], 3.0) + pow(2.0, in[0]); }, {uniform({4})});
}

TEST_CASE("pow: integer powers of negative bases, zero exponents, zero bases", "[gradients][binary]") {
  Tensor a({-2.0, 0.0, 3.0});
  Tensor b({3.0, 0.0, 2.0});
  GradientTape tape;
  tape.watch(a);
  tape.watch(b);
  auto g = tape.gradient(pow(a, b), {a, b});
  // d/da = b a^(b-1): 12, 0 (0^0: b = 0 gives 0, not NaN), 6. d/db = a^b log a where a > 0, else 0.
  auto ga = values(g[0]);
  CHECK(ga[0] == Approx(12));
  CHECK(ga[1] == 0);
  CHECK(ga[2] == Approx(6));
  auto gb = values(g[1]);
  CHECK(gb[0] == 0);
  CHECK(gb[1] == 0);
  CHECK(gb[2] == Approx(9 * std::log(3.0)));
}

TEST_CASE("maximum and minimum split the gradient evenly on ties", "[gradients][binary]") {
  Tensor a({1.0, 2.0, 3.0});
  Tensor b({1.0, 5.0, 0.0});
  GradientTape tape(true);
  tape.watch(a);
  tape.watch(b);
  auto gmax = tape.gradient(maximum(a, b), {a, b});
  CHECK(values(gmax[0]) == std::vector<double>{0.5, 0, 1});
  CHECK(values(gmax[1]) == std::vector<double>{0.5, 1, 0});
  auto gmin = tape.gradient(minimum(a, b), {a, b});
  CHECK(values(gmin[0]) == std::vector<double>{0.5, 1, 0});
  CHECK(values(gmin[1]) == std::vector<double>{0.5, 0, 1});
  // maximum(x, x) is x: the two halves add up to 1.
  auto gself = tape.gradient(maximum(a, a), {a});
  CHECK(values(gself[0]) == std::vector<double>{1, 1, 1});
  // clip at its bounds: a tie with a bound gives half.
  auto gclip = tape.gradient(clip(a, 2.0, 2.5), {a});
  CHECK(values(gclip[0]) == std::vector<double>{0, 0.5, 0});
}

TEST_CASE("a NaN's gradient goes to the side it came from", "[gradients][binary]") {
  double nan = std::nan("");
  Tensor a({nan, 1.0, nan});
  Tensor b({1.0, nan, nan});
  GradientTape tape;
  tape.watch(a);
  tape.watch(b);
  auto g = tape.gradient(maximum(a, b), {a, b});
  CHECK(values(g[0]) == std::vector<double>{1, 0, 1});
  CHECK(values(g[1]) == std::vector<double>{0, 1, 0});
}

TEST_CASE("mod: d/da = 1, d/db = -floor_div(a, b); floor_div has zero gradients", "[gradients][binary]") {
  Tensor a({7.0, -7.0});
  Tensor b({2.0, 2.0});
  GradientTape tape(true);
  tape.watch(a);
  tape.watch(b);
  auto g = tape.gradient(mod(a, b), {a, b});
  CHECK(values(g[0]) == std::vector<double>{1, 1});
  CHECK(values(g[1]) == std::vector<double>{-3, 4});
  auto f = tape.gradient(floor_div(a, b), {a, b});
  CHECK(values(f[0]) == std::vector<double>{0, 0});
  CHECK(values(f[1]) == std::vector<double>{0, 0});
}

// ---- where, cast ----

TEST_CASE("where: gradients to the chosen side, broadcast and unbroadcast; none to cond", "[gradients][where]") {
  manual_seed(6);
  Tensor cond = greater(uniform({3, 4}), 0.0);
  check_grad([cond](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); },
             {uniform({3, 1}), uniform({1, 4})});
  check_grad([cond](const std::vector<Tensor>& in) { return where(cond, in[0] * in[0], 2.0); }, {uniform({4})});
  check_grad(grad_of([cond](const std::vector<Tensor>& in) { return where(cond, sin(in[0]), in[1]); }, 0),
             {uniform({3, 4}), uniform({4})});
  // cond from the input itself (relu by hand): the comparison carries no gradient.
  check_grad([](const std::vector<Tensor>& in) { return where(greater(in[0], 0.0), in[0], 0.0); }, {uniform({5})});
}

TEST_CASE("cast: the gradient is cast back to the input's dtype", "[gradients][cast]") {
  manual_seed(7);
  // Through float32: finite differences with a step float32 resolves.
  check_grad([](const std::vector<Tensor>& in) { return cast(mul(cast(in[0], DType::float32), 3.0f), DType::float64); },
             {uniform({4})}, Tol{1e-2, 1e-4, 1e-4});
  Tensor x = Tensor({1.0f, 2.0f});
  GradientTape tape;
  tape.watch(x);
  Tensor y = cast(x, DType::float64) * 2.0;
  Tensor g = tape.gradient(y, {x})[0];
  CHECK(g.dtype() == DType::float32);
  CHECK(g.to_vector<float>() == std::vector<float>{2, 2});
}

TEST_CASE("a cast to an integer stops the gradient (zero), as TensorFlow", "[gradients][cast]") {
  Tensor x({1.5, 2.5});
  GradientTape tape;
  tape.watch(x);
  Tensor y = cast(cast(x, DType::int32), DType::float64) * x;  // floor(x) * x: the floor is a constant
  CHECK(values(tape.gradient(y, {x})[0]) == std::vector<double>{1, 2});
  // The cast's own vjp, asked directly: zero for a float input cast to an integer.
  Tensor i = cast(x, DType::int32);
  Tensors in{x}, out{i}, ct{zeros_like(i)};
  CastAttrs at{DType::int32};
  Tensors g = op_def(Prim::cast).vjp(&at, VjpArgs{in, out, ct});
  CHECK(values(g[0]) == std::vector<double>{0, 0});
}

// ---- reductions ----

namespace {
const std::vector<OptAxes> kAxes = {std::nullopt, Axes{0}, Axes{1}, Axes{2}, Axes{0, 2}, Axes{-1, 0}, Axes{}};
}

TEST_CASE("sum, prod, max, min gradients over axes, with and without keepdims", "[gradients][reduce]") {
  manual_seed(8);
  for (const auto& ax : kAxes)
    for (bool keep : {false, true}) {
      INFO("axes " << (ax ? shape_str(*ax) : std::string("all")) << " keepdims " << keep);
      check_grad([ax, keep](const std::vector<Tensor>& in) { return sum(in[0], ax, keep); }, {uniform({2, 3, 4})});
      check_grad([ax, keep](const std::vector<Tensor>& in) { return prod(in[0], ax, keep); },
                 {uniform({2, 3, 4}, 0.5, 1.5)});
      check_grad([ax, keep](const std::vector<Tensor>& in) { return max(in[0], ax, keep); }, {uniform({2, 3, 4})});
      check_grad([ax, keep](const std::vector<Tensor>& in) { return min(in[0], ax, keep); }, {uniform({2, 3, 4})});
    }
}

TEST_CASE("reduction second derivatives", "[gradients][reduce][second-order]") {
  manual_seed(9);
  Tol t{1e-5, 1e-4, 1e-5};
  check_grad(grad_of([](const std::vector<Tensor>& in) { return sum(in[0], Axes{1}); }, 0), {uniform({2, 3})}, t);
  check_grad(grad_of([](const std::vector<Tensor>& in) { return prod(in[0], Axes{1}); }, 0), {uniform({2, 3})}, t);
  check_grad(grad_of([](const std::vector<Tensor>& in) { return max(in[0], Axes{0}); }, 0), {uniform({2, 3})}, t);
  check_grad(grad_of([](const std::vector<Tensor>& in) { return min(in[0]); }, 0), {uniform({2, 3})}, t);
}

TEST_CASE("prod with zeros: no division by zero, exact gradients", "[gradients][reduce]") {
  // Rows with no zero, one zero, two zeros.
  Tensor x({{2.0, 3.0, 4.0}, {2.0, 0.0, 4.0}, {0.0, 3.0, 0.0}});
  GradientTape tape;
  tape.watch(x);
  Tensor g = tape.gradient(prod(x, Axes{1}), {x})[0];
  CHECK(values(g) == std::vector<double>{12, 8, 6, 0, 8, 0, 0, 0, 0});
  check_grad([](const std::vector<Tensor>& in) { return prod(in[0], Axes{1}); }, {x});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return prod(in[0], Axes{1}); }, 0), {x}, Tol{1e-5, 1e-4, 1e-5});
}

TEST_CASE("max and min split the gradient evenly among tied elements", "[gradients][reduce]") {
  Tensor x({{1.0, 3.0, 3.0}, {2.0, 2.0, 2.0}});
  GradientTape tape(true);
  tape.watch(x);
  auto g = values(tape.gradient(max(x, Axes{1}), {x})[0]);
  std::vector<double> expect{0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3};
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(expect[i]));
  CHECK(values(tape.gradient(min(x), {x})[0]) == std::vector<double>{1, 0, 0, 0, 0, 0});
  double nan = std::nan("");
  Tensor z({1.0, nan, 5.0});
  GradientTape t2;
  t2.watch(z);
  CHECK(values(t2.gradient(max(z), {z})[0]) == std::vector<double>{0, 1, 0});
}

// ---- linear algebra and shapes ----

TEST_CASE("matmul gradients, batched with broadcast batch axes and vectors", "[gradients][matmul]") {
  manual_seed(10);
  auto mm = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  check_grad(mm, {uniform({2, 3}), uniform({3, 4})});
  check_grad(mm, {uniform({2, 3, 4}), uniform({2, 4, 5})});
  check_grad(mm, {uniform({2, 1, 3, 4}), uniform({5, 4, 2})});
  check_grad(mm, {uniform({3, 4}), uniform({2, 4, 2})});
  check_grad(mm, {uniform({4}), uniform({4, 3})});
  check_grad(mm, {uniform({2, 3, 4}), uniform({4})});
  check_grad(mm, {uniform({4}), uniform({4})});
  // A transposed (non-contiguous) operand.
  check_grad([](const std::vector<Tensor>& in) { return matmul(transpose(in[0]), in[1]); },
             {uniform({3, 2}), uniform({3, 4})});
  check_grad(grad_of(mm, 0), {uniform({2, 3}), uniform({3, 2})}, Tol{1e-5, 1e-4, 1e-5});
  check_grad(grad_of(mm, 1), {uniform({2, 1, 3, 2}), uniform({2, 2, 3})}, Tol{1e-5, 1e-4, 1e-5});
}

TEST_CASE("permute, reshape, broadcast_to gradients", "[gradients][shape]") {
  manual_seed(11);
  check_grad([](const std::vector<Tensor>& in) { return transpose(in[0], Axes{2, 0, 1}); }, {uniform({2, 3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return transpose(in[0]); }, {uniform({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return reshape(in[0], {3, 4}); }, {uniform({2, 6})});
  check_grad([](const std::vector<Tensor>& in) { return reshape(transpose(in[0]), {-1}); }, {uniform({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return broadcast_to(in[0], {2, 3, 4}); }, {uniform({3, 1})});
  check_grad([](const std::vector<Tensor>& in) { return broadcast_to(in[0], {2, 3}); }, {uniform({})});
  check_grad([](const std::vector<Tensor>& in) { return squeeze(expand_dims(in[0], 1), Axes{1}); }, {uniform({3})});
  check_grad([](const std::vector<Tensor>& in) { return tile(in[0], {2, 3}); }, {uniform({2, 2})});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return broadcast_to(in[0] * in[0], {2, 3}); }, 0),
             {uniform({3})}, Tol{1e-5, 1e-4, 1e-5});
}

TEST_CASE("slice gradients: offsets, strides, negative steps, empty slices", "[gradients][slice]") {
  manual_seed(12);
  std::vector<std::vector<Slice>> cases = {
      {Slice(1, 4), Slice(std::nullopt, std::nullopt, 2)},
      {Slice(std::nullopt, std::nullopt, -1), Slice(4, 0, -2)},
      {Slice(-1, std::nullopt, -3), Slice(1, 6, 4)},
      {Slice(0, 5, 3), Slice(5, std::nullopt, -1)},
      {Slice(2, 3), Slice(3, 3)},  // empty
      {Slice(4, 5, 2)},            // one element with a step; trailing axis whole
  };
  for (const auto& sl : cases) {
    check_grad([sl](const std::vector<Tensor>& in) { return slice(in[0], sl); }, {uniform({5, 6})});
  }
  check_grad([](const std::vector<Tensor>& in) { return strided_slice(in[0], {3, 0, 1}, {0, 4, 4}, {-2, 3, 1}); },
             {uniform({4, 5, 4})});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return square(slice(in[0], {Slice(4, 0, -3)})); }, 0),
             {uniform({5, 2})}, Tol{1e-5, 1e-4, 1e-5});
}

TEST_CASE("concat, stack, split gradients", "[gradients][concat]") {
  manual_seed(13);
  check_grad([](const std::vector<Tensor>& in) { return concat({in[0], in[1], in[2]}, 1); },
             {uniform({2, 1}), uniform({2, 3}), uniform({2, 2})});
  check_grad([](const std::vector<Tensor>& in) { return concat({in[0], in[1]}, 0); }, {uniform({1, 3}), uniform({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return stack({in[0], in[1]}, 1); }, {uniform({2, 3}), uniform({2, 3})});
  check_grad(
      [](const std::vector<Tensor>& in) {
        auto parts = split(in[0], std::vector<int64_t>{1, 3}, 1);
        return parts[0] * 2.0 + sum(parts[1], Axes{1}, true) - sum(parts[2] * parts[2], Axes{1}, true);
      },
      {uniform({2, 5})});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return concat({in[0] * in[0], in[1]}, 0); }, 0),
             {uniform({2}), uniform({3})}, Tol{1e-5, 1e-4, 1e-5});
}

TEST_CASE("gather gradients: repeated and negative indices add up; scatter_add", "[gradients][gather]") {
  manual_seed(14);
  Tensor idx = Tensor({0, 2, 2, -1, 0});
  check_grad([idx](const std::vector<Tensor>& in) { return gather(in[0], idx, 0); }, {uniform({4, 3})});
  Tensor idx2 = Tensor({{1, 0}, {1, 1}, {-2, 0}});
  check_grad([idx2](const std::vector<Tensor>& in) { return gather(in[0], idx2, 1); }, {uniform({2, 3, 2})});
  check_grad([idx](const std::vector<Tensor>& in) { return scatter_add(in[0], idx, 4, 1); }, {uniform({2, 5, 3})});
  check_grad(grad_of([idx](const std::vector<Tensor>& in) { return square(gather(in[0], idx, 0)); }, 0),
             {uniform({3, 2})}, Tol{1e-5, 1e-4, 1e-5});
  check_grad(grad_of([idx](const std::vector<Tensor>& in) { return square(scatter_add(in[0], idx, 3, 0)); }, 0),
             {uniform({5, 2})}, Tol{1e-5, 1e-4, 1e-5});
  Tensor x = Tensor({1.0, 2.0, 3.0});
  GradientTape tape;
  tape.watch(x);
  CHECK(values(tape.gradient(gather(x, Tensor({2, 2, 0, -1})), {x})[0]) == std::vector<double>{1, 0, 3});
}

TEST_CASE("pad gradients: the interior", "[gradients][pad]") {
  manual_seed(15);
  check_grad([](const std::vector<Tensor>& in) { return pad(in[0], {{1, 2}, {0, 3}}, 1.5); }, {uniform({2, 3})});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return square(pad(in[0], {{2, 0}})); }, 0), {uniform({3})},
             Tol{1e-5, 1e-4, 1e-5});
}

// ---- neural network ----

namespace {
struct ConvCase {
  Shape input, filter;
  std::pair<int64_t, int64_t> strides;
  Padding padding;
};
const std::vector<ConvCase> kConvCases = {
    {{2, 5, 6, 3}, {3, 3, 3, 4}, {1, 1}, Padding::valid},
    {{2, 5, 6, 3}, {3, 3, 3, 4}, {1, 1}, Padding::same},
    {{1, 6, 7, 2}, {3, 2, 2, 3}, {2, 2}, Padding::same},
    {{2, 7, 5, 2}, {2, 3, 2, 2}, {2, 1}, Padding::valid},
    {{1, 4, 4, 1}, {4, 4, 1, 2}, {3, 3}, Padding::same},
};
struct PoolCase {
  std::pair<int64_t, int64_t> window, strides;
  Padding padding;
};
const std::vector<PoolCase> kPoolCases = {
    {{2, 2}, {2, 2}, Padding::valid}, {{3, 3}, {1, 1}, Padding::same}, {{3, 2}, {2, 1}, Padding::same},
    {{2, 3}, {1, 2}, Padding::valid}, {{3, 3}, {2, 2}, Padding::same},
};
}  // namespace

TEST_CASE("conv2d gradients for input and filter, SAME and VALID, strides", "[gradients][conv]") {
  manual_seed(16);
  for (const auto& c : kConvCases) {
    INFO("input " << shape_str(c.input) << " filter " << shape_str(c.filter) << " strides " << c.strides.first << ","
                  << c.strides.second << (c.padding == Padding::same ? " SAME" : " VALID"));
    auto s = c.strides;
    auto p = c.padding;
    check_grad([s, p](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], s, p); },
               {uniform(c.input), uniform(c.filter)});
  }
}

TEST_CASE("conv2d backprop primitives: gradients and second derivatives", "[gradients][conv][second-order]") {
  manual_seed(17);
  for (const auto& c : kConvCases) {
    auto s = c.strides;
    auto p = c.padding;
    Shape xs = c.input, fs = c.filter;
    Shape ys = conv2d(zeros(xs, DType::float64), zeros(fs, DType::float64), s, p).shape();
    check_grad([xs, s, p](const std::vector<Tensor>& in) { return conv2d_backprop_input(xs, in[0], in[1], s, p); },
               {uniform(fs), uniform(ys)});
    check_grad([fs, s, p](const std::vector<Tensor>& in) { return conv2d_backprop_filter(in[0], fs, in[1], s, p); },
               {uniform(xs), uniform(ys)});
  }
  const auto& c = kConvCases[2];
  auto s = c.strides;
  auto p = c.padding;
  auto conv = [s, p](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], s, p); };
  check_grad(grad_of(conv, 0), {uniform(c.input), uniform(c.filter)}, Tol{1e-5, 1e-4, 1e-5});
  check_grad(grad_of(conv, 1), {uniform(c.input), uniform(c.filter)}, Tol{1e-5, 1e-4, 1e-5});
}

TEST_CASE("conv2d with dilations: gradients of conv2d and of both backprops, SAME and VALID", "[gradients][conv]") {
  manual_seed(19);
  struct Case {
    Shape input, filter;
    std::pair<int64_t, int64_t> strides, dilations;
    Padding padding;
  };
  const Case cases[] = {
      {{1, 6, 5, 2}, {2, 2, 2, 3}, {1, 1}, {2, 2}, Padding::valid},
      {{2, 7, 6, 1}, {3, 2, 1, 2}, {1, 1}, {2, 3}, Padding::same},
      {{1, 7, 7, 2}, {2, 3, 2, 2}, {2, 1}, {3, 2}, Padding::same},
      {{1, 8, 6, 1}, {3, 3, 1, 1}, {2, 2}, {2, 1}, Padding::valid},
  };
  for (const Case& c : cases) {
    INFO("input " << shape_str(c.input) << " filter " << shape_str(c.filter) << " strides " << c.strides.first << ","
                  << c.strides.second << " dilations " << c.dilations.first << "," << c.dilations.second
                  << (c.padding == Padding::same ? " SAME" : " VALID"));
    auto s = c.strides, d = c.dilations;
    auto p = c.padding;
    Shape xs = c.input, fs = c.filter;
    check_grad([s, p, d](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], s, p, d); },
               {uniform(xs), uniform(fs)});
    Shape ys = conv2d(zeros(xs, DType::float64), zeros(fs, DType::float64), s, p, d).shape();
    check_grad([xs, s, p, d](const std::vector<Tensor>& in) { return conv2d_backprop_input(xs, in[0], in[1], s, p, d); },
               {uniform(fs), uniform(ys)});
    check_grad([fs, s, p, d](const std::vector<Tensor>& in) { return conv2d_backprop_filter(in[0], fs, in[1], s, p, d); },
               {uniform(xs), uniform(ys)});
  }
}

TEST_CASE("image_patches and image_patches_backprop: gradients and second derivatives", "[gradients][conv]") {
  manual_seed(24);
  for (const auto& c : kConvCases) {
    INFO("input " << shape_str(c.input) << " window " << c.filter[0] << "x" << c.filter[1]);
    auto s = c.strides;
    auto p = c.padding;
    Shape xs = c.input;
    std::pair<int64_t, int64_t> w{c.filter[0], c.filter[1]};
    check_grad([w, s, p](const std::vector<Tensor>& in) { return image_patches(in[0], w, s, p, {1, 2}); },
               {uniform(xs)});
    Shape ps = image_patches(zeros(xs, DType::float64), w, s, p, {1, 2}).shape();
    check_grad([xs, w, s, p](const std::vector<Tensor>& in) { return image_patches_backprop(xs, in[0], w, s, p, {1, 2}); },
               {uniform(ps)});
  }
}

TEST_CASE("conv2d gradients through kept patches (a tape on the filter), second derivatives", "[gradients][conv]") {
  // conv2d under a tape watching the filter runs as image_patches and a 1x1 conv2d.
  manual_seed(25);
  auto conv = [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], {2, 1}, Padding::same, {1, 2}); };
  check_grad(conv, {uniform({2, 5, 6, 2}), uniform({3, 2, 2, 3})});
  check_grad(grad_of(conv, 1), {uniform({1, 4, 5, 2}), uniform({2, 3, 2, 2})}, Tol{1e-5, 1e-4, 1e-5});
  check_grad(grad_of(conv, 0), {uniform({1, 4, 5, 2}), uniform({2, 3, 2, 2})}, Tol{1e-5, 1e-4, 1e-5});
}

TEST_CASE("max_pool2d and avg_pool2d gradients, SAME and VALID, strides", "[gradients][pool]") {
  manual_seed(18);
  for (const auto& c : kPoolCases) {
    INFO("window " << c.window.first << "x" << c.window.second << " strides " << c.strides.first << ","
                   << c.strides.second << (c.padding == Padding::same ? " SAME" : " VALID"));
    auto w = c.window, s = c.strides;
    auto p = c.padding;
    check_grad([w, s, p](const std::vector<Tensor>& in) { return max_pool2d(in[0], w, s, p); }, {uniform({2, 5, 6, 2})});
    check_grad([w, s, p](const std::vector<Tensor>& in) { return avg_pool2d(in[0], w, s, p); }, {uniform({2, 5, 6, 2})});
    Shape ys = avg_pool2d(zeros({2, 5, 6, 2}, DType::float64), w, s, p).shape();
    check_grad([w, s, p](const std::vector<Tensor>& in) { return avg_pool2d_backprop({2, 5, 6, 2}, in[0], w, s, p); },
               {uniform(ys)});
    // Linear in out_grad (the input only picks the elements): checked against finite differences
    // in out_grad with the input held fixed.
    Tensor x = uniform({2, 5, 6, 2});
    check_grad([x, w, s, p](const std::vector<Tensor>& in) { return max_pool2d_backprop(x, in[0], w, s, p); },
               {uniform(ys)});
    check_grad(grad_of([w, s, p](const std::vector<Tensor>& in) { return max_pool2d(in[0], w, s, p); }, 0),
               {uniform({1, 5, 6, 1})}, Tol{1e-5, 1e-4, 1e-5});
    check_grad(grad_of([w, s, p](const std::vector<Tensor>& in) { return avg_pool2d(in[0], w, s, p); }, 0),
               {uniform({1, 5, 6, 1})}, Tol{1e-5, 1e-4, 1e-5});
  }
}

TEST_CASE("max_pool2d sends each window's gradient to its first maximum", "[gradients][pool]") {
  // One window of four equal values: all of it goes to the first.
  Tensor x = ones({1, 2, 2, 1}, DType::float64);
  GradientTape tape;
  tape.watch(x);
  Tensor g = tape.gradient(max_pool2d(x, {2, 2}, {2, 2}), {x})[0];
  CHECK(values(g) == std::vector<double>{1, 0, 0, 0});
  // Overlapping windows that pick the same element add up.
  Tensor y = reshape(Tensor({0.0, 1.0, 0.0, 0.0, 9.0, 0.0, 0.0, 1.0, 0.0}), {1, 3, 3, 1});
  GradientTape t2;
  t2.watch(y);
  CHECK(values(t2.gradient(max_pool2d(y, {2, 2}, {1, 1}), {y})[0]) == std::vector<double>{0, 0, 0, 0, 4, 0, 0, 0, 0});
  CHECK(max_pool2d_argmax(y, {2, 2}, {1, 1}).to_vector<int64_t>() == std::vector<int64_t>{4, 4, 4, 4});
}

TEST_CASE("max_pool2d_backprop equals scatter_add at max_pool2d_argmax's indices, bit for bit", "[gradients][pool]") {
  manual_seed(23);
  // kPoolCases' windows overlap except the first; disjoint windows (stride >= window) take the
  // kernel's write-once path, here with rows and columns that no window covers and clipped
  // SAME windows.
  std::vector<PoolCase> cases = kPoolCases;
  cases.push_back({{2, 2}, {3, 3}, Padding::same});
  cases.push_back({{2, 3}, {2, 3}, Padding::same});
  cases.push_back({{1, 2}, {2, 4}, Padding::valid});
  for (const auto& c : cases) {
    INFO("window " << c.window.first << "x" << c.window.second << " strides " << c.strides.first << ","
                   << c.strides.second << (c.padding == Padding::same ? " SAME" : " VALID"));
    for (DType dt : {DType::float32, DType::float64}) {
      // Few distinct values, so windows hold ties; a NaN wins its windows.
      Tensor x = cast(floor(uniform({2, 5, 6, 3}, 0, 3)), dt);
      std::vector<double> xv = values(x);
      xv[7] = std::nan("");
      x = cast(reshape(Tensor::from_vector(xv, {static_cast<int64_t>(xv.size())}), {2, 5, 6, 3}), dt);
      Tensor g = cast(uniform(max_pool2d(x, c.window, c.strides, c.padding).shape()), dt);
      std::vector<double> gv = values(g);
      gv[1] = -0.0;  // arrives as 0 + -0 = +0, as scatter_add adds it into zeros
      g = cast(reshape(Tensor::from_vector(gv, {static_cast<int64_t>(gv.size())}), g.shape()), dt);
      Tensor idx = max_pool2d_argmax(x, c.window, c.strides, c.padding);
      Tensor expect = reshape(scatter_add(reshape(g, {-1}), reshape(idx, {-1}), x.size()), x.shape());
      // The forward kernel (a 2x2 window has its own loop) picks the element argmax names.
      CHECK(bitwise_equal(max_pool2d(x, c.window, c.strides, c.padding),
                          reshape(gather(reshape(x, {-1}), reshape(idx, {-1}), 0), idx.shape())));
      CHECK(bitwise_equal(max_pool2d_backprop(x, g, c.window, c.strides, c.padding), expect));
    }
  }
}

// ---- the gradient building blocks as ops ----

TEST_CASE("scatter_add, conv2d backprops, max_pool2d_argmax, avg_pool2d_backprop: values", "[gradients][blocks]") {
  Tensor u = Tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  CHECK(values(scatter_add(u, Tensor({0, 2, 0}), 4, 1)) == std::vector<double>{4, 0, 2, 0, 10, 0, 5, 0});
  CHECK(values(scatter_add(u, Tensor({-1, 0}), 3)) == std::vector<double>{4, 5, 6, 0, 0, 0, 1, 2, 3});
  CHECK(scatter_add(Tensor({1, 2}), Tensor(1), 3).to_vector<int32_t>() == std::vector<int32_t>{0, 0, 1, 2, 0, 0});
  // conv2d is linear in each argument: <conv2d(x, f), g> = <x, backprop_input(g)> = <f, backprop_filter(g)>.
  manual_seed(21);
  Tensor x = uniform({2, 5, 4, 3}), f = uniform({3, 2, 3, 2});
  Tensor y = conv2d(x, f, {2, 1}, Padding::same);
  Tensor g = uniform(y.shape());
  double lhs = sum(y * g).item<double>();
  CHECK(sum(x * conv2d_backprop_input(x.shape(), f, g, {2, 1}, Padding::same)).item<double>() == Approx(lhs));
  CHECK(sum(f * conv2d_backprop_filter(x, f.shape(), g, {2, 1}, Padding::same)).item<double>() == Approx(lhs));
  Tensor p = reshape(Tensor({1.0, 5.0, 2.0, 5.0, 3.0, 0.0}), {1, 2, 3, 1});
  CHECK(max_pool2d_argmax(p, {2, 2}, {1, 1}).to_vector<int64_t>() == std::vector<int64_t>{1, 1});
  CHECK(max_pool2d_argmax(p, {2, 2}, {2, 2}, Padding::same).to_vector<int64_t>() == std::vector<int64_t>{1, 2});
  CHECK(max_pool2d_argmax(p, {2, 2}, {2, 2}).dtype() == DType::int64);
  Tensor ones4 = ones({1, 1, 2, 1}, DType::float64);
  CHECK(values(avg_pool2d_backprop({1, 2, 3, 1}, ones4, {2, 2}, {2, 2}, Padding::same)) ==
        std::vector<double>{0.25, 0.25, 0.5, 0.25, 0.25, 0.5});
}

TEST_CASE("the gradient building blocks report bad arguments like every op", "[gradients][blocks]") {
  Tensor u = ones({2, 3}, DType::float64);
  try {
    scatter_add(u, Tensor({0, 5, 1}), 4, 1);
    FAIL("no exception");
  } catch (const OutOfRange& e) {
    CHECK(std::string(e.what()).find("[scatter_add] index 5 is out of range for an axis of size 4") == 0);
  }
  try {
    scatter_add(u, Tensor({0, 1}), 4, 1);
    FAIL("no exception");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("[scatter_add] updates must have the indices' shape at axis 1: updates is (2, 3) "
                                     "float64, indices is (2,) int32") == 0);
  }
  CHECK_THROWS_AS(scatter_add(u, Tensor({0.0, 1.0}), 4, 1), DTypeError);
  Tensor f = ones({3, 3, 2, 4}, DType::float64);
  try {
    conv2d_backprop_input({1, 5, 5, 2}, f, ones({1, 5, 5, 4}, DType::float64));
    FAIL("no exception");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("[conv2d_backprop_input] out_grad is not the shape conv2d gives for input shape "
                                     "(1, 5, 5, 2): filter is (3, 3, 2, 4) float64, out_grad is (1, 5, 5, 4) float64") == 0);
  }
  CHECK_THROWS_AS(conv2d_backprop_input({1, 5, 5, 3}, f, ones({1, 3, 3, 4}, DType::float64)), ShapeError);
  CHECK_THROWS_AS(conv2d_backprop_filter(ones({1, 5, 5, 2}, DType::float64), {3, 3, 2, 4}, ones({1, 3, 3, 5}, DType::float64)),
                  ShapeError);
  CHECK_THROWS_AS(conv2d_backprop_filter(ones({1, 5, 5, 2}), {3, 3, 2, 4}, ones({1, 3, 3, 4}, DType::float64)), DTypeError);
  CHECK_THROWS_AS(avg_pool2d_backprop({1, 4, 4, 1}, ones({1, 3, 3, 1}), {2, 2}, {2, 2}), ShapeError);
  CHECK_THROWS_AS(avg_pool2d_backprop({1, 4, 4, 1}, ones({1, 2, 2, 1}, DType::int32), {2, 2}, {2, 2}), DTypeError);
  CHECK_THROWS_AS(max_pool2d_argmax(ones({4, 4}), {2, 2}, {2, 2}), ShapeError);
  try {
    max_pool2d_backprop(ones({1, 4, 4, 1}), ones({1, 3, 3, 1}), {2, 2}, {2, 2});
    FAIL("no exception");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("[max_pool2d_backprop] out_grad is not the shape max_pool2d gives for the input: "
                                     "input is (1, 4, 4, 1) float32, out_grad is (1, 3, 3, 1) float32") == 0);
  }
  CHECK_THROWS_AS(max_pool2d_backprop(ones({4, 4}), ones({2, 2}), {2, 2}, {2, 2}), ShapeError);
  CHECK_THROWS_AS(max_pool2d_backprop(ones({1, 4, 4, 1}), ones({1, 2, 2, 1}, DType::float64), {2, 2}, {2, 2}),
                  DTypeError);
  CHECK_THROWS_AS(max_pool2d_backprop(ones({1, 4, 4, 1}, DType::int32), ones({1, 2, 2, 1}, DType::int32), {2, 2}, {2, 2}),
                  DTypeError);
  CHECK_THROWS_AS(max_pool2d_backprop(ones({1, 4, 4, 1}), ones({1, 2, 2, 1}), {0, 2}, {2, 2}), InvalidArgument);
  CHECK_THROWS_AS(max_pool2d_backprop(Tensor(), ones({1, 2, 2, 1}), {2, 2}, {2, 2}), InvalidArgument);
}

// ---- composite ops: their gradients come from their primitives ----

TEST_CASE("composite ops: softmax, log_softmax, logsumexp, mean, variance, stddev, tensordot", "[gradients][composite]") {
  manual_seed(19);
  check_grad([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {uniform({3, 4}, -3, 3)});
  check_grad([](const std::vector<Tensor>& in) { return softmax(in[0], 0); }, {uniform({3, 4}, -3, 3)});
  check_grad([](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {uniform({3, 4}, -3, 3)});
  check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0]); }, {uniform({3, 4}, -3, 3)});
  check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0], Axes{1}, true); }, {uniform({3, 4}, -3, 3)});
  check_grad([](const std::vector<Tensor>& in) { return mean(in[0], Axes{0}); }, {uniform({3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return variance(in[0], Axes{1}); }, {uniform({3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return stddev(in[0], std::nullopt, false, 1); }, {uniform({3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return tensordot(in[0], in[1], 2); },
             {uniform({2, 3, 4}), uniform({3, 4, 2})});
  check_grad([](const std::vector<Tensor>& in) { return clip(in[0], -0.5, 0.5); }, {uniform({6})});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return softmax(in[0]); }, 0), {uniform({2, 3}, -2, 2)},
             Tol{1e-5, 1e-4, 1e-5});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return logsumexp(in[0], Axes{1}); }, 0),
             {uniform({2, 3}, -2, 2)}, Tol{1e-5, 1e-4, 1e-5});
  check_grad(grad_of([](const std::vector<Tensor>& in) { return variance(in[0]); }, 0), {uniform({5})},
             Tol{1e-5, 1e-4, 1e-5});
}

namespace {
// The primitives a piece of code applies, by name.
struct OpNames : DispatchObserver {
  std::multiset<std::string> names;
  OpNames() { add_observer(this); }
  ~OpNames() override { remove_observer(this); }
  void on_apply(const ApplyEvent& e) override { names.insert(op_def(static_cast<Prim>(e.op)).name); }
};
}  // namespace

TEST_CASE("log_softmax and softmax differentiate without the max: g - sum(g) * softmax", "[gradients][composite]") {
  manual_seed(23);
  // Rows with tied maxima (where the max's own gradient would split between the ties), a constant
  // row and large values: the functions are smooth everywhere, so central differences hold.
  Tensor ties = Tensor::from_vector(std::vector<double>{1, 1, 0, -1, 2, 2, 2, 2, -3, 0.5, 0.5, 0.1, 40, -40, 39.5, 40},
                                    {4, 4});
  for (const Tensor& x : {uniform({3, 5}, -3, 3), ties}) {
    check_grad([](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {x});
    check_grad([](const std::vector<Tensor>& in) { return log_softmax(in[0], 0); }, {x});
    check_grad([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {x});
    check_grad([](const std::vector<Tensor>& in) { return softmax(in[0], 0); }, {x});
  }
  // TensorFlow's formulas, against the tape: log_softmax g - sum(g) * softmax(x); softmax
  // (g - sum(g * y)) * y.
  Tensor x = ties, w = uniform({4, 4}, -1, 1);
  std::multiset<std::string> backward;  // the primitives the gradient computations applied
  auto gradient_of = [&](Tensor (*f)(const Tensor&, int64_t, Loc)) {
    GradientTape tape;
    tape.watch(x);
    Tensor target = sum(mul(f(x, -1, Loc::current()), w));
    OpNames rec;
    Tensor g = tape.gradient(target, {x})[0];
    backward.insert(rec.names.begin(), rec.names.end());
    return g;
  };
  Tensor gl = gradient_of(&log_softmax);
  Tensor gs = gradient_of(&softmax);
  Tensor y = softmax(x);
  CHECK(allclose(gl, w - sum(w, Axes{1}, true) * y, 1e-12, 1e-12));
  CHECK(allclose(gs, (w - sum(w * y, Axes{1}, true)) * y, 1e-12, 1e-12));
  // The shift is a constant to the tape: no argmax mask (equal, isnan, logical ops, where) is built.
  for (const char* op : {"equal", "isnan", "logical_and", "logical_or", "where", "reduce_max"}) {
    INFO(op);
    CHECK(backward.count(op) == 0);
  }
  CHECK(backward.count("mul") > 0);  // the observer saw the backward pass
}

TEST_CASE("logsumexp differentiates without the max: g * softmax", "[gradients][composite]") {
  manual_seed(29);
  // Tied maxima, a constant row and large values (exp would overflow without the shift).
  Tensor ties = Tensor::from_vector(std::vector<double>{1, 1, 0, -1, 2, 2, 2, 2, -3, 0.5, 0.5, 0.1, 800, -40, 799.5, 800},
                                    {4, 4});
  for (const Tensor& x : {uniform({3, 5}, -3, 3), ties}) {
    check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0], Axes{1}); }, {x});
    check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0], Axes{0}, true); }, {x});
    check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0]); }, {x});
  }
  check_grad(grad_of([](const std::vector<Tensor>& in) { return logsumexp(in[0], Axes{1}); }, 0), {ties},
             Tol{1e-5, 1e-4, 1e-5});

  // The forward pass is the shifted formula, bit for bit.
  {
    Tensor m = max(ties, Axes{1}, true);
    Tensor want = squeeze(add(log(sum(exp(sub(ties, m)), Axes{1}, true)), m), Axes{1});
    CHECK(bitwise_equal(logsumexp(ties, Axes{1}), want));
  }

  // The tape's gradient is g * softmax(x), with no argmax mask in the backward pass.
  Tensor x = ties, w = uniform({4}, -1, 1);
  GradientTape tape;
  tape.watch(x);
  Tensor target = sum(mul(logsumexp(x, Axes{1}), w));
  std::multiset<std::string> backward;  // the primitives the gradient computation applied
  Tensor g;
  {
    OpNames rec;
    g = tape.gradient(target, {x})[0];
    backward = rec.names;
  }
  CHECK(allclose(g, expand_dims(w, 1) * softmax(x), 1e-12, 1e-12));
  for (const char* op : {"equal", "isnan", "isfinite", "logical_and", "logical_or", "where", "reduce_max"}) {
    INFO(op);
    CHECK(backward.count(op) == 0);
  }
  CHECK(backward.count("mul") > 0);  // the observer saw the backward pass

  // -inf entries get a zero gradient; a row of -inf alone stays -inf forward, as before.
  const double inf = std::numeric_limits<double>::infinity();
  Tensor xi = Tensor::from_vector(std::vector<double>{0, -inf, 1, -inf, -inf, -inf}, {2, 3});
  std::vector<double> li = logsumexp(xi, Axes{1}).to_vector<double>();
  CHECK(li[0] == Approx(std::log(1 + std::exp(1.0))));
  CHECK(li[1] == -inf);
  GradientTape t2;
  t2.watch(xi);
  std::vector<double> gi = t2.gradient(sum(logsumexp(xi, Axes{1})), {xi})[0].to_vector<double>();
  CHECK(gi[0] == Approx(1 / (1 + std::exp(1.0))));
  CHECK(gi[1] == 0);
  CHECK(gi[2] == Approx(std::exp(1.0) / (1 + std::exp(1.0))));
}

TEST_CASE("a small network: dense, conv, pool, softmax cross-entropy", "[gradients][composite]") {
  manual_seed(20);
  Tensor labels = one_hot(Tensor({1, 0}), 3, DType::float64);
  auto net = [labels](const std::vector<Tensor>& in) {
    Tensor h = relu(conv2d(in[0], in[1], {1, 1}, Padding::same));
    h = max_pool2d(h, {2, 2}, {2, 2}, Padding::same);
    h = reshape(h, {2, -1});
    Tensor logits = matmul(h, in[2]) + in[3];
    return -mean(sum(labels * log_softmax(logits), Axes{1}));
  };
  check_grad(net, {uniform({2, 4, 4, 2}), uniform({3, 3, 2, 3}), uniform({12, 3}), uniform({3})});
}

// ---- dtype rules ----

TEST_CASE("integer inputs are not differentiable: DTypeError", "[gradients][dtype]") {
  Tensor i = Tensor({1, 2, 3});
  Tensor y = add(i, i);
  Tensors in{i, i}, out{y}, ct{y};
  auto at = op_def(Prim::add).new_attrs();
  try {
    op_def(Prim::add).vjp(at.get(), VjpArgs{in, out, ct});
    FAIL("no exception");
  } catch (const DTypeError& e) {
    CHECK(std::string(e.what()).find("[add] gradients are defined for float inputs only: a is (3,) int32") == 0);
  }
  Tensor m = matmul(reshape(i, {1, 3}), reshape(i, {3, 1}));
  Tensors min{reshape(i, {1, 3}), reshape(i, {3, 1})}, mout{m}, mct{m};
  CHECK_THROWS_AS(op_def(Prim::matmul).vjp(op_def(Prim::matmul).new_attrs().get(), VjpArgs{min, mout, mct}), DTypeError);
  GradientTape tape;
  CHECK_THROWS_AS(tape.watch(i), DTypeError);
  Tensor x = Tensor({1.0f});
  tape.watch(x);
  CHECK_THROWS_AS(tape.gradient(cast(x, DType::int32), {x}), DTypeError);
}

TEST_CASE("float32 gradients stay float32, and need no promotion (strict mode)", "[gradients][dtype]") {
  StrictDTypeScope strict;
  Tensor x = Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}});
  Tensor b = Tensor({0.5f, -0.5f});
  Tensor img = reshape(linspace(-1, 1, 32), {1, 4, 4, 2});
  Tensor f = reshape(linspace(-1, 1, 36), {3, 3, 2, 2});
  GradientTape tape;
  for (const Tensor& t : {x, b, img, f}) tape.watch(t);
  Tensor y = sum(softmax(matmul(x, x) + b) * x) + prod(maximum(x, 2.5f)) + sum(pow(abs(x), b) / (x + 10.0f));
  y = y + sum(max_pool2d(sigmoid(conv2d(img, f, {1, 1}, Padding::same)), {2, 2}, {1, 1})) +
      sum(avg_pool2d(erf(img), {2, 2}, {2, 2})) + logsumexp(gather(x, Tensor({1, 1}))) + variance(rsqrt(x + 1.0f));
  auto g = tape.gradient(y, {x, b, img, f});
  for (const Tensor& t : g) CHECK(t.dtype() == DType::float32);
  CHECK(g[1].shape() == Shape{2});
}

// ---- sorting and scans ----

TEST_CASE("cumsum and cumprod gradients: every axis and option, second derivatives", "[gradients][scan]") {
  manual_seed(31);
  for (int opt = 0; opt < 4; ++opt) {
    bool exclusive = (opt & 1) != 0, reverse = (opt & 2) != 0;
    INFO("exclusive " << exclusive << " reverse " << reverse);
    for (int64_t axis : {0, 1, -1}) {
      INFO("axis " << axis);
      check_grad([=](const std::vector<Tensor>& in) { return cumsum(in[0], axis, exclusive, reverse); }, {uniform({3, 4})});
      check_grad([=](const std::vector<Tensor>& in) { return cumprod(in[0], axis, exclusive, reverse); },
                 {uniform({3, 4}, 0.5, 1.5)});
    }
    check_grad(grad_of([=](const std::vector<Tensor>& in) { return cumprod(in[0], 1, exclusive, reverse); }, 0),
               {uniform({2, 4}, 0.5, 1.5)});
    check_grad(grad_of([=](const std::vector<Tensor>& in) { return cumsum(square(in[0]), 0, exclusive, reverse); }, 0),
               {uniform({3, 2})});
  }
}

TEST_CASE("cumprod with zeros: exact gradients, no NaN, for one, two and leading zeros", "[gradients][scan]") {
  // cumprod([a, 0, c, d]) = [a, 0, 0, 0]: d/da = g0; d/d(x1) = g1 a + g2 a c + g3 a c d; after the
  // zero, 0. Checked against the formula and against finite differences (the function is
  // polynomial, so they agree at zeros too).
  Tensor x = Tensor::from_vector(std::vector<double>{2, 0, 3, 5}, {4});
  Tensor g = Tensor::from_vector(std::vector<double>{1, 10, 100, 1000}, {4});
  GradientTape tape;
  tape.watch(x);
  Tensor dx = tape.gradient(cumprod(x) * g, {x})[0];
  CHECK(values(dx) == std::vector<double>{1, 10 * 2 + 100 * 6 + 1000 * 30, 0, 0});
  const std::vector<std::vector<double>> inputs = {
      {0, 2, 3, 0.5}, {2, 0, 0, 3}, {1.5, 0.5, 0, 2}, {0, 0, 0, 0}, {3, 2, 1, 0}};
  for (const auto& v : inputs)
    for (int opt = 0; opt < 4; ++opt) {
      bool exclusive = (opt & 1) != 0, reverse = (opt & 2) != 0;
      INFO("x " << Tensor::from_vector(v, {4}).str() << " exclusive " << exclusive << " reverse " << reverse);
      Tensor in = Tensor::from_vector(v, {4});
      check_grad([=](const std::vector<Tensor>& t) { return cumprod(t[0], 0, exclusive, reverse); }, {in});
      GradientTape t2;
      t2.watch(in);
      Tensor d = t2.gradient(cumprod(in, 0, exclusive, reverse), {in})[0];
      CHECK(all(isfinite(d)).item<bool>());
    }
  // Rows of a matrix with zeros in different places, along axis 0.
  Tensor m = Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 0, 4, 5, 6, 0}, {3, 3});
  check_grad([](const std::vector<Tensor>& t) { return cumprod(t[0], 0); }, {m});
  check_grad(grad_of([](const std::vector<Tensor>& t) { return cumprod(t[0], 1); }, 0), {m});
}

TEST_CASE("sort and topk send each gradient back to its element; take and scatter along an axis", "[gradients][sort]") {
  manual_seed(32);
  for (int64_t axis : {0, 1}) {
    for (bool desc : {false, true}) {
      INFO("axis " << axis << " descending " << desc);
      check_grad([=](const std::vector<Tensor>& in) { return sort(in[0], axis, desc); }, {uniform({3, 4})});
      check_grad(grad_of([=](const std::vector<Tensor>& in) { return sort(in[0], axis, desc); }, 0), {uniform({3, 4})});
    }
  }
  for (bool sorted : {true, false}) {
    check_grad([=](const std::vector<Tensor>& in) { return topk(in[0], 2, sorted).values; }, {uniform({3, 5})});
    check_grad(grad_of([=](const std::vector<Tensor>& in) { return topk(in[0], 3, sorted).values; }, 0),
               {uniform({2, 4})});
  }
  Tensor idx = Tensor({{2, 2, 0}, {1, -1, 1}});
  check_grad([idx](const std::vector<Tensor>& in) { return take_along_axis(in[0], idx, 1); }, {uniform({2, 3})});
  check_grad([idx](const std::vector<Tensor>& in) { return scatter_add_along_axis(in[0], idx, 4, 1); }, {uniform({2, 3})});
  check_grad(grad_of([idx](const std::vector<Tensor>& in) { return square(take_along_axis(in[0], idx, 1)); }, 0),
             {uniform({2, 3})});
  // Ties: each tied element gets the gradient of the position it was sorted to.
  Tensor x = Tensor::from_vector(std::vector<double>{1, 1, 0}, {3});
  GradientTape tape;
  tape.watch(x);
  Tensor w = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  CHECK(values(tape.gradient(sort(x) * w, {x})[0]) == std::vector<double>{2, 3, 1});
}

// ---- coverage ----

TEST_CASE("every differentiable primitive has its gradient checked", "[gradients][coverage]") {
  // Self-contained, so it passes alone and in any order: one small finite-difference check per
  // primitive, recording which primitives it differentiated (the cases above check each gradient
  // in depth). The unary and binary lists are the ones above, so a new elementwise primitive
  // joins by its case there; any other new differentiable primitive needs a check here.
  checked_prims().clear();
  manual_seed(22);
  for (const auto& c : unary_cases()) {
    INFO(c.name);
    auto fn = c.fn;
    check_grad([fn](const std::vector<Tensor>& in) { return fn(in[0]); }, {uniform({3}, c.lo, c.hi)});
  }
  for (const auto& c : binary_cases()) {
    INFO(c.name);
    auto fn = c.fn;
    check_grad([fn](const std::vector<Tensor>& in) { return fn(in[0], in[1]); },
               {uniform({2, 1}, c.alo, c.ahi), uniform({3}, c.blo, c.bhi)});
  }
  Tensor cond = greater(uniform({3}), 0.0);
  check_grad([cond](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); }, {uniform({3}), uniform({3})});
  check_grad([](const std::vector<Tensor>& in) { return cast(mul(cast(in[0], DType::float32), 3.0f), DType::float64); },
             {uniform({3})}, Tol{1e-2, 1e-4, 1e-4});
  check_grad([](const std::vector<Tensor>& in) { return sum(in[0], Axes{1}, true) + max(in[0], Axes{0}, true) - min(in[0]); },
             {uniform({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return prod(in[0], Axes{1}); }, {uniform({2, 3}, 0.5, 1.5)});
  check_grad([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {uniform({2, 3}), uniform({3, 2})});
  check_grad([](const std::vector<Tensor>& in) { return reshape(transpose(in[0]), {-1}); }, {uniform({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return broadcast_to(in[0], {2, 3}); }, {uniform({2, 1})});
  check_grad([](const std::vector<Tensor>& in) { return slice(in[0], {Slice(2, 0, -1)}); }, {uniform({4})});
  check_grad([](const std::vector<Tensor>& in) { return concat({in[0], in[1]}, 0); }, {uniform({2}), uniform({3})});
  Tensor idx = Tensor({0, 2, 2, -1});
  check_grad([idx](const std::vector<Tensor>& in) { return gather(in[0], idx, 0); }, {uniform({3})});
  check_grad([idx](const std::vector<Tensor>& in) { return scatter_add(in[0], idx, 3, 0); }, {uniform({4})});
  check_grad([](const std::vector<Tensor>& in) { return pad(in[0], {{1, 2}}, 1.5); }, {uniform({3})});
  check_grad([](const std::vector<Tensor>& in) { return check_numerics(in[0] * 2.0, "checked"); }, {uniform({3})});
  const Shape xs{1, 4, 3, 1}, fs{2, 2, 1, 2};
  Shape ys = conv2d(zeros(xs, DType::float64), zeros(fs, DType::float64), {2, 1}, Padding::same).shape();
  check_grad([](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], {2, 1}, Padding::same); },
             {uniform(xs), uniform(fs)});
  check_grad([xs](const std::vector<Tensor>& in) { return conv2d_backprop_input(xs, in[0], in[1], {2, 1}, Padding::same); },
             {uniform(fs), uniform(ys)});
  check_grad([fs](const std::vector<Tensor>& in) { return conv2d_backprop_filter(in[0], fs, in[1], {2, 1}, Padding::same); },
             {uniform(xs), uniform(ys)});
  check_grad([](const std::vector<Tensor>& in) { return image_patches(in[0], {2, 2}, {2, 1}, Padding::same); },
             {uniform(xs)});
  Shape pts = image_patches(zeros(xs, DType::float64), {2, 2}, {2, 1}, Padding::same).shape();
  check_grad([xs](const std::vector<Tensor>& in) { return image_patches_backprop(xs, in[0], {2, 2}, {2, 1}, Padding::same); },
             {uniform(pts)});
  const Shape ps{1, 3, 4, 1};
  check_grad([](const std::vector<Tensor>& in) { return max_pool2d(in[0], {2, 2}, {1, 2}, Padding::same); }, {uniform(ps)});
  check_grad([](const std::vector<Tensor>& in) { return avg_pool2d(in[0], {2, 2}, {1, 2}, Padding::same); }, {uniform(ps)});
  Shape pys = avg_pool2d(zeros(ps, DType::float64), {2, 2}, {1, 2}, Padding::same).shape();
  check_grad([ps](const std::vector<Tensor>& in) { return avg_pool2d_backprop(ps, in[0], {2, 2}, {1, 2}, Padding::same); },
             {uniform(pys)});
  Tensor pooled_input = uniform(ps);
  check_grad([pooled_input](const std::vector<Tensor>& in) {
    return max_pool2d_backprop(pooled_input, in[0], {2, 2}, {1, 2}, Padding::same);
  }, {uniform(pys)});

  check_grad([](const std::vector<Tensor>& in) { return cumsum(in[0], 1, true) + cumprod(in[0], 0, false, true); },
             {uniform({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return concat({sort(in[0], 0), topk(in[0], 2).values}, 1); }, {uniform({3, 3})});
  Tensor along = Tensor({{2, 0}, {1, 1}});
  check_grad([along](const std::vector<Tensor>& in) { return take_along_axis(in[0], along, 1); }, {uniform({2, 3})});
  check_grad([along](const std::vector<Tensor>& in) { return scatter_add_along_axis(in[0], along, 3, 1); },
             {uniform({2, 2})});

  check_grad([](const std::vector<Tensor>& in) {
    SvdResult r = svd(in[0]);
    return concat({r.s, reshape(abs(r.u), {-1}), reshape(abs(r.vh), {-1})}, 0);
  }, {uniform({3, 2})});

  // Primitives without tensor inputs have no gradient to check: a tape starts from their results.
  const std::set<std::string> no_inputs = {"read_variable"};
  std::vector<std::string> missing;
  for (int i = 0; i < kNumPrims; ++i) {
    const OpDef& d = op_def(static_cast<Prim>(i));
    if (d.traits.differentiable && !checked_prims().count(d.name) && !no_inputs.count(d.name))
      missing.push_back(d.name);
  }
  std::string list;
  for (const auto& m : missing) list += m + " ";
  INFO("not checked: " << list);
  CHECK(missing.empty());
}
