// Op edge cases against NumPy's and TensorFlow's documented semantics (docs/ops.md lists what
// xflow does where they differ). Each test is named after the case it checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "xflow/grad.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {

template <class T>
Tensor t1(std::vector<T> v) {
  int64_t n = static_cast<int64_t>(v.size());
  return Tensor::from_vector(v, {n});
}

template <class T>
std::vector<T> v(const Tensor& t) { return t.to_vector<T>(); }

// fn traced and replayed (with and without generated kernels) equals eager bitwise.
void check_replay(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                  const std::vector<Tensor>& in) {
  std::vector<Tensor> eager = fn(in);
  for (bool codegen : {false, true}) {
    PlanOptions o;
    o.codegen = codegen;
    Plan plan(trace_graph(fn, in), o);
    std::vector<Tensor> r = plan.run(in);
    for (size_t i = 0; i < eager.size(); ++i) {
      INFO("codegen " << codegen << " output " << i);
      CHECK(bitwise_equal(r[i], eager[i]));
    }
  }
}

Tensor grad1(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  GradientTape tape;
  tape.watch(x);
  Tensor y = f(x);
  return tape.gradient(sum(y), {x})[0];
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

// ---- integer division ----

TEST_CASE("integer floor_div and mod with negative operands round toward -inf (floordiv, floormod)", "[edges]") {
  for (DType d : {DType::int32, DType::int64}) {
    INFO(dtype_name(d));
    Tensor a = cast(t1<int32_t>({7, -7, 7, -7, 6, -6, 0}), d);
    Tensor b = cast(t1<int32_t>({2, 2, -2, -2, 3, 3, -5}), d);
    CHECK(v<int64_t>(cast(floor_div(a, b), DType::int64)) == std::vector<int64_t>{3, -4, -4, 3, 2, -2, 0});
    // mod takes the divisor's sign, and a == floor_div(a, b) * b + mod(a, b).
    CHECK(v<int64_t>(cast(mod(a, b), DType::int64)) == std::vector<int64_t>{1, 1, -1, -1, 0, 0, 0});
    CHECK(bitwise_equal(add(mul(floor_div(a, b), b), mod(a, b)), a));
  }
  Tensor u = t1<uint8_t>({7, 200});
  CHECK(v<uint8_t>(floor_div(u, 2)) == std::vector<uint8_t>{3, 100});
  CHECK(v<uint8_t>(mod(u, 3)) == std::vector<uint8_t>{1, 2});
}

TEST_CASE("integer floor_div and mod by zero give 0, as NumPy (TensorFlow raises)", "[edges]") {
  Tensor a = t1<int32_t>({5, -5, 0, std::numeric_limits<int32_t>::min()});
  CHECK(v<int32_t>(floor_div(a, 0)) == std::vector<int32_t>{0, 0, 0, 0});
  CHECK(v<int32_t>(mod(a, 0)) == std::vector<int32_t>{0, 0, 0, 0});
  CHECK(v<uint8_t>(floor_div(t1<uint8_t>({9}), t1<uint8_t>({0}))) == std::vector<uint8_t>{0});
  check_replay([](const std::vector<Tensor>& in) { return std::vector<Tensor>{floor_div(in[0], in[1]), mod(in[0], in[1])}; },
               {a, t1<int32_t>({0, 0, 0, 0})});
}

TEST_CASE("integer floor_div of the most negative value by -1 wraps to itself, mod is 0", "[edges]") {
  // The C expression INT_MIN / -1 is undefined (a SIGFPE on x86); NumPy wraps.
  int32_t lo = std::numeric_limits<int32_t>::min();
  Tensor a = t1<int32_t>({lo, lo, 7});
  Tensor b = t1<int32_t>({-1, 1, -1});
  CHECK(v<int32_t>(floor_div(a, b)) == std::vector<int32_t>{lo, lo, -7});
  CHECK(v<int32_t>(mod(a, b)) == std::vector<int32_t>{0, 0, 0});
  int64_t lo64 = std::numeric_limits<int64_t>::min();
  Tensor a64 = t1<int64_t>({lo64});
  CHECK(v<int64_t>(floor_div(a64, int64_t{-1})) == std::vector<int64_t>{lo64});
  CHECK(v<int64_t>(mod(a64, int64_t{-1})) == std::vector<int64_t>{0});
}

TEST_CASE("float floor_div and mod by zero: +-inf and NaN, as NumPy", "[edges]") {
  Tensor a = t1<float>({5, -5, 0});
  std::vector<float> q = v<float>(floor_div(a, 0.0f));
  CHECK(q[0] == kInf);
  CHECK(q[1] == -kInf);
  CHECK(std::isnan(q[2]));
  for (float r : v<float>(mod(a, 0.0f))) CHECK(std::isnan(r));
  // Negative operands: the divisor's sign.
  CHECK(v<float>(mod(t1<float>({7, -7, 7, -7}), t1<float>({2, 2, -2, -2}))) == std::vector<float>{1, 1, -1, -1});
  CHECK(v<float>(floor_div(t1<float>({7, -7, 7, -7}), t1<float>({2, 2, -2, -2}))) == std::vector<float>{3, -4, -4, 3});
}

// ---- overflow and accumulators ----

TEST_CASE("int32 sum and prod wrap on overflow; uint8 and bool accumulate in int32", "[edges]") {
  int32_t big = std::numeric_limits<int32_t>::max();
  Tensor s = sum(t1<int32_t>({big, 1}));
  CHECK(s.dtype() == DType::int32);
  CHECK(s.item<int32_t>() == std::numeric_limits<int32_t>::min());
  Tensor p = prod(t1<int32_t>({65536, 65536, 3}));
  CHECK(p.dtype() == DType::int32);
  CHECK(p.item<int32_t>() == 0);  // 2^32 * 3 mod 2^32
  Tensor u = sum(t1<uint8_t>({200, 200}));
  CHECK(u.dtype() == DType::int32);
  CHECK(u.item<int32_t>() == 400);
  CHECK(prod(t1<uint8_t>({16, 16, 2})).item<int32_t>() == 512);
  Tensor b = sum(cast(t1<int32_t>({1, 0, 1, 1}), DType::bool_));
  CHECK(b.dtype() == DType::int32);
  CHECK(b.item<int32_t>() == 3);
  CHECK(sum(t1<int64_t>({std::numeric_limits<int64_t>::max(), 1})).item<int64_t>() == std::numeric_limits<int64_t>::min());
}

TEST_CASE("integer overflow in add and mul wraps", "[edges]") {
  int32_t big = std::numeric_limits<int32_t>::max();
  CHECK(v<int32_t>(add(t1<int32_t>({big}), 1)) == std::vector<int32_t>{std::numeric_limits<int32_t>::min()});
  CHECK(v<int32_t>(mul(t1<int32_t>({65536}), 65536)) == std::vector<int32_t>{0});
  CHECK(v<uint8_t>(add(t1<uint8_t>({250}), t1<uint8_t>({10}))) == std::vector<uint8_t>{4});
  CHECK(v<int32_t>(neg(t1<int32_t>({std::numeric_limits<int32_t>::min()}))) ==
        std::vector<int32_t>{std::numeric_limits<int32_t>::min()});
  CHECK(v<int32_t>(abs(t1<int32_t>({std::numeric_limits<int32_t>::min()}))) ==
        std::vector<int32_t>{std::numeric_limits<int32_t>::min()});
}

TEST_CASE("mean of integers is float32 and exact for small sums", "[edges]") {
  Tensor m = mean(t1<int32_t>({1, 2}));
  CHECK(m.dtype() == DType::float32);
  CHECK(m.item<float>() == 1.5f);
  // No int32 accumulator: the sum does not wrap first.
  int32_t big = std::numeric_limits<int32_t>::max();
  CHECK(mean(t1<int32_t>({big, big})).item<float>() == static_cast<float>(big));
  CHECK(mean(t1<uint8_t>({255, 255, 254})).item<float>() == Approx(254.6667f));
  CHECK(mean(cast(t1<int32_t>({1, 0, 1, 1}), DType::bool_)).item<float>() == 0.75f);
}

// ---- pow ----

TEST_CASE("integer pow with negative exponents: 0 unless the base is 1 or -1; 0 to a negative power is 0", "[edges]") {
  Tensor base = t1<int32_t>({2, 1, -1, -1, 3, -2, 0, 5});
  Tensor ex = t1<int32_t>({-1, -3, -3, -2, -2, -1, -1, 0});
  CHECK(v<int32_t>(pow(base, ex)) == std::vector<int32_t>{0, 1, -1, 1, 0, 0, 0, 1});
  CHECK(v<int32_t>(pow(t1<int32_t>({0, 0}), t1<int32_t>({0, 3}))) == std::vector<int32_t>{1, 0});
  // Float pow follows C: 0 to a negative power is inf.
  CHECK(v<float>(pow(t1<float>({0, 2}), -1.0f)) == std::vector<float>{kInf, 0.5f});
}

// ---- rounding ----

TEST_CASE("round rounds halves to even, keeps the sign of zero, and leaves large values alone", "[edges]") {
  Tensor x = t1<float>({0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 8388607.5f, 1e30f});
  std::vector<float> r = v<float>(round(x));
  CHECK(r == std::vector<float>{0, 2, 2, 4, -0.0f, -2, -2, 0, 8388608.0f, 1e30f});
  CHECK(std::signbit(r[4]));
  Tensor d = t1<double>({2.5, -3.5, 4503599627370495.5});
  CHECK(v<double>(round(d)) == std::vector<double>{2, -4, 4503599627370496.0});
  CHECK(std::isnan(v<float>(round(t1<float>({kNaN})))[0]));
  CHECK(v<float>(round(t1<float>({-kInf})))[0] == -kInf);
}

// ---- NaN ----

TEST_CASE("NaN propagates through maximum, minimum, max, min, sum, prod and mean", "[edges]") {
  Tensor a = t1<float>({1, kNaN, 3, -kInf});
  Tensor b = t1<float>({kNaN, 2, 1, kNaN});
  std::vector<float> mx = v<float>(maximum(a, b)), mn = v<float>(minimum(a, b));
  CHECK(std::isnan(mx[0]));
  CHECK(std::isnan(mx[1]));
  CHECK(mx[2] == 3);
  CHECK(std::isnan(mx[3]));
  CHECK(std::isnan(mn[0]));
  CHECK(std::isnan(mn[1]));
  CHECK(mn[2] == 1);
  CHECK(std::isnan(mn[3]));
  CHECK(std::isnan(max(a).item<float>()));
  CHECK(std::isnan(min(a).item<float>()));
  CHECK(std::isnan(sum(a).item<float>()));
  CHECK(std::isnan(prod(a).item<float>()));
  CHECK(std::isnan(mean(a).item<float>()));
  CHECK(std::isnan(logsumexp(a).item<float>()));
  CHECK(std::isnan(variance(a).item<float>()));
  // A NaN anywhere in a long row, past the SIMD width and the reduction blocks.
  std::vector<float> big(10000, 1.0f);
  big[9999] = kNaN;
  CHECK(std::isnan(max(t1<float>(big)).item<float>()));
  CHECK(std::isnan(min(t1<float>(big)).item<float>()));
  big[9999] = 1.0f;
  big[17] = kNaN;
  CHECK(std::isnan(max(t1<float>(big)).item<float>()));
}

TEST_CASE("argmax and argmin pick the first NaN, as NumPy", "[edges]") {
  Tensor a = t1<float>({1, kNaN, 3, kNaN});
  CHECK(argmax(a).item<int64_t>() == 1);
  CHECK(argmin(a).item<int64_t>() == 1);
  Tensor m = Tensor::from_vector(std::vector<float>{5, 1, kNaN, 2, 7, 7}, {2, 3});
  CHECK(v<int64_t>(argmax(m, 1)) == std::vector<int64_t>{2, 1});
  CHECK(v<int64_t>(argmin(m, -1)) == std::vector<int64_t>{2, 0});
  CHECK(v<int64_t>(argmax(t1<float>({2, 2, 1}))) == std::vector<int64_t>{0});  // ties: the first
}

// ---- empty ----

TEST_CASE("empty reductions: sum 0, prod 1, mean and variance NaN, all true, any false, logsumexp -inf", "[edges]") {
  Tensor e = zeros({0});
  CHECK(sum(e).item<float>() == 0);
  CHECK(prod(e).item<float>() == 1);
  CHECK(std::isnan(mean(e).item<float>()));
  CHECK(std::isnan(variance(e).item<float>()));
  CHECK(all(e).item<bool>() == true);
  CHECK(any(e).item<bool>() == false);
  CHECK(logsumexp(e).item<float>() == -kInf);
  CHECK(sum(zeros({0}, DType::int32)).item<int32_t>() == 0);
  CHECK(prod(zeros({0}, DType::int32)).item<int32_t>() == 1);
  // Over one empty axis of a non-empty shape.
  Tensor e2 = zeros({3, 0});
  CHECK(v<float>(sum(e2, Axes{1})) == std::vector<float>{0, 0, 0});
  CHECK(sum(e2, Axes{0}).shape() == Shape{0});
}

TEST_CASE("empty reductions without an identity raise: max, min, argmax, argmin", "[edges]") {
  Tensor e = zeros({2, 0});
  CHECK_THROWS_AS(max(e), InvalidArgument);
  CHECK_THROWS_AS(min(e, Axes{1}), InvalidArgument);
  CHECK_THROWS_AS(argmax(e), InvalidArgument);
  CHECK_THROWS_AS(argmin(e, 1), InvalidArgument);
  // Reducing the non-empty axis keeps the empty one: nothing to raise about.
  CHECK(max(e, Axes{0}).shape() == Shape{0});
  CHECK(argmax(e, 0).shape() == Shape{0});
}

// ---- clip ----

TEST_CASE("clip with inverted bounds gives hi everywhere, as NumPy's min(max(x, lo), hi)", "[edges]") {
  Tensor x = t1<float>({0, 5, 10});
  CHECK(v<float>(clip(x, 6.0f, 4.0f)) == std::vector<float>{4, 4, 4});
  CHECK(v<float>(clip(x, t1<float>({6, 6, 6}), 4.0f)) == std::vector<float>{4, 4, 4});
  CHECK(v<float>(clip(x, 6.0f, t1<float>({4, 4, 4}))) == std::vector<float>{4, 4, 4});
  std::vector<float> n = v<float>(clip(t1<float>({kNaN, 1}), 0.0f, 2.0f));
  CHECK(std::isnan(n[0]));
  CHECK(n[1] == 1);
}

TEST_CASE("clip with one tensor bound and one scalar bound broadcasts and differentiates", "[edges]") {
  Tensor x = t1<double>({-2, 0.5, 3});
  Tensor lo = t1<double>({-1, 1, -1});
  CHECK(v<double>(clip(x, lo, 2.0)) == std::vector<double>{-1, 1, 2});
  CHECK(v<double>(clip(x, -1.0, lo + 2.0)) == std::vector<double>{-1, 0.5, 1});
  Tensor g = grad1([&](const Tensor& t) { return clip(t, lo, 2.0); }, x);
  CHECK(v<double>(g) == std::vector<double>{0, 0, 0});
  Tensor x2 = t1<double>({0, 1.5, 3});
  CHECK(v<double>(grad1([&](const Tensor& t) { return clip(t, lo, 2.0); }, x2)) == std::vector<double>{1, 1, 0});
}

TEST_CASE("where with scalar branches: cond's shape and the scalars' dtype", "[edges]") {
  Tensor c = t1<int32_t>({1, 0, 1}) > 0;
  Tensor f = where(c, 1, 2.5);
  CHECK(f.dtype() == DType::float32);
  CHECK(v<float>(f) == std::vector<float>{1, 2.5f, 1});
  CHECK(v<int32_t>(where(c, 7, -1)) == std::vector<int32_t>{7, -1, 7});
  Tensor x = t1<double>({1, 2, 3});
  CHECK(v<double>(where(c, x, 0)) == std::vector<double>{1, 0, 3});
  CHECK(v<double>(grad1([&](const Tensor& t) { return where(c, t * 2.0, 0.5); }, x)) == std::vector<double>{2, 0, 2});
}

TEST_CASE("one_hot with axis, on_value and off_value places the new axis", "[edges]") {
  Tensor idx = t1<int32_t>({2, -1, 0});
  Tensor a0 = one_hot(idx, 3, 5, -1, 0, DType::int32);
  REQUIRE(a0.shape() == Shape{3, 3});
  CHECK(v<int32_t>(a0) == std::vector<int32_t>{-1, -1, 5, -1, -1, -1, 5, -1, -1});
  Tensor last = one_hot(idx, 3, 1.5, 0.0, -1, DType::float64);
  CHECK(v<double>(last) == std::vector<double>{0, 0, 1.5, 0, 0, 0, 1.5, 0, 0});
  CHECK_THROWS_AS(one_hot(idx, 3, 1, 0, 2), AxisError);
}

// ---- casts ----

TEST_CASE("casts of NaN, inf and out-of-range floats to integers saturate; NaN becomes 0", "[edges]") {
  Tensor x = t1<float>({kNaN, kInf, -kInf, 3e9f, -3e9f, 2.9f, -2.9f, 300.0f, -1.5f});
  CHECK(v<int32_t>(cast(x, DType::int32)) ==
        std::vector<int32_t>{0, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
                             std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 2, -2, 300, -1});
  CHECK(v<uint8_t>(cast(x, DType::uint8)) == std::vector<uint8_t>{0, 255, 0, 255, 0, 2, 0, 255, 0});
  std::vector<int64_t> i64 = v<int64_t>(cast(x, DType::int64));
  CHECK(i64[0] == 0);
  CHECK(i64[1] == std::numeric_limits<int64_t>::max());
  CHECK(i64[2] == std::numeric_limits<int64_t>::min());
  CHECK(i64[3] == 3000000000LL);
  // float64 just past int64's range, and NaN to bool is true (nonzero).
  Tensor d = t1<double>({9.3e18, -9.3e18});
  CHECK(v<int64_t>(cast(d, DType::int64)) ==
        std::vector<int64_t>{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()});
  CHECK(v<uint8_t>(cast(cast(t1<float>({kNaN, 0.0f, -0.0f}), DType::bool_), DType::uint8)) == std::vector<uint8_t>{1, 0, 0});
  check_replay([](const std::vector<Tensor>& in) { return std::vector<Tensor>{cast(in[0] * 1.0f, DType::int32)}; }, {x});
}

// ---- broadcasting ----

TEST_CASE("broadcasting zero-size dimensions gives zero-size results; 0 against 2 is a ShapeError", "[edges]") {
  CHECK(add(zeros({0, 3}), ones({1, 3})).shape() == Shape{0, 3});
  CHECK(mul(zeros({2, 0, 1}), ones({4})).shape() == Shape{2, 0, 4});
  CHECK(where(zeros({0, 1}, DType::bool_), ones({3}), 0.0f).shape() == Shape{0, 3});
  CHECK(add(zeros({0}), 1.0f).shape() == Shape{0});
  CHECK(broadcast_to(zeros({1, 3}), {0, 3}).shape() == Shape{0, 3});
  CHECK_THROWS_AS(add(zeros({0}), ones({2})), ShapeError);
  CHECK(matmul(zeros({0, 3}), ones({3, 2})).shape() == Shape{0, 2});
  check_replay([](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + in[1], exp(in[0])}; },
               {zeros({0, 3}), ones({1, 3})});
}

// ---- negative axes ----

TEST_CASE("negative axes count from the end in every op that takes an axis", "[edges]") {
  Tensor x = reshape(arange(24, DType::float32), {2, 3, 4});
  CHECK(bitwise_equal(sum(x, Axes{-1}), sum(x, Axes{2})));
  CHECK(bitwise_equal(mean(x, Axes{-2, -3}), mean(x, Axes{1, 0})));
  CHECK(bitwise_equal(prod(x, Axes{-3}, true), prod(x, Axes{0}, true)));
  CHECK(bitwise_equal(max(x, Axes{-1}), max(x, Axes{2})));
  CHECK(bitwise_equal(min(x, Axes{-2}), min(x, Axes{1})));
  CHECK(bitwise_equal(variance(x, Axes{-1}), variance(x, Axes{2})));
  CHECK(bitwise_equal(logsumexp(x, Axes{-1}), logsumexp(x, Axes{2})));
  CHECK(bitwise_equal(argmax(x, -1), argmax(x, 2)));
  CHECK(bitwise_equal(argmin(x, -3), argmin(x, 0)));
  CHECK(bitwise_equal(softmax(x, -2), softmax(x, 1)));
  CHECK(bitwise_equal(log_softmax(x, -3), log_softmax(x, 0)));
  CHECK(bitwise_equal(concat({x, x}, -1), concat({x, x}, 2)));
  CHECK(bitwise_equal(stack({x, x}, -1), stack({x, x}, 3)));
  CHECK(expand_dims(x, -1).shape() == Shape{2, 3, 4, 1});
  CHECK(expand_dims(x, -4).shape() == Shape{1, 2, 3, 4});
  CHECK(squeeze(expand_dims(x, -1), Axes{-1}).shape() == Shape{2, 3, 4});
  CHECK(bitwise_equal(gather(x, t1<int32_t>({3, 0}), -1), gather(x, t1<int32_t>({3, 0}), 2)));
  CHECK(split(x, 2, -1)[1].shape() == Shape{2, 3, 2});
  CHECK(bitwise_equal(transpose(x, Axes{-1, 0, -2}).contiguous(), transpose(x, Axes{2, 0, 1}).contiguous()));
  CHECK(bitwise_equal(tensordot(x, x, Axes{-1, -2}, Axes{2, 1}), tensordot(x, x, Axes{2, 1}, Axes{2, 1})));
  CHECK(bitwise_equal(norm(x, std::nullopt, Axes{-1}), norm(x, std::nullopt, Axes{2})));
  // And one past the end is an AxisError everywhere.
  CHECK_THROWS_AS(sum(x, Axes{-4}), AxisError);
  CHECK_THROWS_AS(argmax(x, -4), AxisError);
  CHECK_THROWS_AS(softmax(x, -4), AxisError);
  CHECK_THROWS_AS(concat({x, x}, -4), AxisError);
  CHECK_THROWS_AS(stack({x, x}, -5), AxisError);
  CHECK_THROWS_AS(expand_dims(x, -5), AxisError);
  CHECK_THROWS_AS(gather(x, t1<int32_t>({0}), -4), AxisError);
  CHECK_THROWS_AS(norm(x, std::nullopt, Axes{-4}), AxisError);
}

// ---- variance ----

TEST_CASE("variance and stddev with ddof >= n divide by max(n - ddof, 0): inf, or NaN for a constant row", "[edges]") {
  Tensor x = t1<double>({1, 2});
  CHECK(variance(x, std::nullopt, false, 1).item<double>() == 0.5);
  CHECK(variance(x, std::nullopt, false, 2).item<double>() == INFINITY);
  CHECK(variance(x, std::nullopt, false, 3).item<double>() == INFINITY);  // not a negative variance
  CHECK(stddev(x, std::nullopt, false, 5).item<double>() == INFINITY);    // not NaN from sqrt(-0.5)
  CHECK(std::isnan(variance(t1<double>({4, 4}), std::nullopt, false, 3).item<double>()));  // 0 / 0
  Tensor m = Tensor::from_vector(std::vector<double>{1, 3, 5, 5}, {2, 2});
  CHECK(v<double>(variance(m, Axes{1}, false, 1)) == std::vector<double>{2, 0});
  std::vector<double> big = v<double>(variance(m, Axes{-1}, false, 4));
  CHECK(big[0] == INFINITY);
  CHECK(std::isnan(big[1]));
}

// ---- gradients at the edges ----

TEST_CASE("abs's gradient at 0 is 0 (sign(0)), as TensorFlow", "[edges][gradients]") {
  Tensor x = t1<double>({-2, 0, -0.0, 3});
  CHECK(v<double>(grad1([](const Tensor& t) { return abs(t); }, x)) == std::vector<double>{-1, 0, 0, 1});
}

TEST_CASE("relu's gradient at 0 is 0, as TensorFlow", "[edges][gradients]") {
  Tensor x = t1<double>({-1, 0, 2});
  CHECK(v<double>(grad1([](const Tensor& t) { return relu(t); }, x)) == std::vector<double>{0, 0, 1});
}

TEST_CASE("sqrt's gradient at 0 is inf, as TensorFlow and NumPy's formula 0.5 / sqrt(x)", "[edges][gradients]") {
  Tensor x = t1<double>({0, 4});
  std::vector<double> g = v<double>(grad1([](const Tensor& t) { return sqrt(t); }, x));
  CHECK(g[0] == INFINITY);
  CHECK(g[1] == 0.25);
  // norm's 2-norm is the zero-safe form (docs/ops.md): 0 at the zero vector.
  CHECK(v<double>(grad1([](const Tensor& t) { return norm(t); }, t1<double>({0, 0}))) == std::vector<double>{0, 0});
}

TEST_CASE("max_pool2d's gradient at ties goes to the window's first maximum only, as TensorFlow", "[edges][gradients]") {
  Tensor x = reshape(t1<double>({1, 1, 1, 1}), {1, 2, 2, 1});
  CHECK(v<double>(grad1([](const Tensor& t) { return max_pool2d(t, {2, 2}, {2, 2}); }, x)) ==
        std::vector<double>{1, 0, 0, 0});
  // Overlapping windows add up at a shared maximum.
  Tensor y = reshape(t1<double>({0, 5, 0, 0, 5, 0}), {1, 2, 3, 1});
  CHECK(v<double>(grad1([](const Tensor& t) { return max_pool2d(t, {2, 2}, {1, 1}); }, y)) ==
        std::vector<double>{0, 2, 0, 0, 0, 0});
}

TEST_CASE("max and min reductions split the gradient evenly among ties; maximum gives half to each side", "[edges][gradients]") {
  Tensor x = t1<double>({3, 1, 3, 3});
  std::vector<double> g = v<double>(grad1([](const Tensor& t) { return max(t); }, x));
  CHECK(g[0] == Approx(1.0 / 3));
  CHECK(g[1] == 0);
  CHECK(g[2] == Approx(1.0 / 3));
  CHECK(g[3] == Approx(1.0 / 3));
  Tensor a = t1<double>({2, 1, 3});
  Tensor b = t1<double>({2, 4, 0});
  CHECK(v<double>(grad1([&](const Tensor& t) { return maximum(t, b); }, a)) == std::vector<double>{0.5, 0, 1});
  CHECK(v<double>(grad1([&](const Tensor& t) { return minimum(t, b); }, a)) == std::vector<double>{0.5, 1, 0});
}
