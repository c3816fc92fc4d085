// Numeric edge cases found by checking the ops against NumPy, PyTorch and TensorFlow; each test is
// named after the case it checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "xflow/plan.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {

// Element i of a float tensor, as float.
template <class T> T at(const Tensor& t, int64_t i) { return t.to_vector<T>()[static_cast<size_t>(i)]; }

// fn traced and replayed (tile interpreter and generated kernel) equals eager bitwise.
void check_replay(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                  const std::vector<Tensor>& in) {
  for (bool codegen : {false, true}) {
    PlanOptions o;
    o.codegen = codegen;
    Plan plan(trace_graph(fn, in), o);
    INFO("codegen " << codegen);
    CHECK(bitwise_equal(plan.run(in)[0], fn(in)[0]));
  }
}

}  // namespace

TEST_CASE("float32 exp(88.5) is 2.72e38, not inf: exp reaches the type's range", "[numerics]") {
  // Lanes before and after the overflowing one, and lengths with SIMD tails.
  // Subnormal results (-87.4 ... -103.9) and true underflow (-104, -200) at the other end.
  std::vector<float> xs{1.0f, 88.0f, 88.38f, 88.5f, 88.7f, 88.72f, 88.73f, 89.0f, -1.0f, 100.0f,
                        -88.5f, -100.0f, -103.5f, -104.0f, -200.0f};
  Tensor x = Tensor::from_vector(xs, {static_cast<int64_t>(xs.size())});
  Tensor y = xf::exp(x);
  for (size_t i = 0; i < xs.size(); ++i) {
    INFO("exp(" << xs[i] << ")");
    float want = static_cast<float>(std::exp(static_cast<double>(xs[i])));
    float got = at<float>(y, static_cast<int64_t>(i));
    if (std::isinf(want) || want == 0.0f) {
      CHECK(got == want);
    } else {
      CHECK(std::isfinite(got));
      // Within 2 ulps of the correctly rounded value (subnormals: exactly it).
      CHECK(std::abs(got - want) <= 2 * std::abs(std::nextafter(want, 0.0f) - want));
    }
  }
  CHECK(at<float>(y, 3) == Approx(2.7230877e38).epsilon(1e-6));
  check_replay([](const std::vector<Tensor>& in) { return std::vector<Tensor>{xf::exp(in[0]) * 0.5f}; }, {x});
}

TEST_CASE("float64 exp(709.5) is 1.35e308, not inf", "[numerics]") {
  Tensor x = Tensor::from_vector(std::vector<double>{709.0, 709.5, 709.78, 709.79, 710.0, 0.0}, {6});
  Tensor y = xf::exp(x);
  CHECK(at<double>(y, 1) == Approx(1.3549863193146e308).epsilon(1e-12));
  CHECK(std::isfinite(at<double>(y, 2)));
  CHECK(std::isinf(at<double>(y, 3)));
  CHECK(std::isinf(at<double>(y, 4)));
  CHECK(at<double>(y, 5) == 1.0);
  check_replay([](const std::vector<Tensor>& in) { return std::vector<Tensor>{xf::exp(in[0]) + 0.0}; }, {x});
}

TEST_CASE("float32 expm1(88.5) is finite, as exp", "[numerics]") {
  Tensor x = Tensor::from_vector(std::vector<float>{88.5f, 88.7f, 89.0f, 1e-8f}, {4});
  Tensor y = xf::expm1(x);
  CHECK(at<float>(y, 0) == Approx(2.7230877e38).epsilon(1e-6));
  CHECK(std::isfinite(at<float>(y, 1)));
  CHECK(std::isinf(at<float>(y, 2)));
  CHECK(at<float>(y, 3) == Approx(1e-8f).epsilon(1e-6));
  Tensor d = xf::expm1(Tensor::from_vector(std::vector<double>{709.5}, {1}));
  CHECK(at<double>(d, 0) == Approx(1.3549863193146e308).epsilon(1e-12));
}

TEST_CASE("pow(10.f, 38.5f) and pow(2.f, 127.5f) are finite, as in NumPy", "[numerics]") {
  Tensor a = Tensor::from_vector(std::vector<float>{10.0f, 2.0f, -2.0f, 2.0f, 0.0f, 10.0f}, {6});
  Tensor b = Tensor::from_vector(std::vector<float>{38.5f, 127.5f, 127.0f, 128.0f, -1.0f, 39.0f}, {6});
  Tensor z = xf::pow(a, b);
  CHECK(at<float>(z, 0) == Approx(3.1622776e38).epsilon(1e-6));
  CHECK(at<float>(z, 1) == Approx(2.4061596e38).epsilon(1e-6));
  CHECK(at<float>(z, 2) < -1.7e38);  // odd integer power keeps the sign
  CHECK(std::isinf(at<float>(z, 3)));                               // 2^128: a true overflow
  CHECK(at<float>(z, 4) == std::numeric_limits<float>::infinity());  // 0^-1: C99's pole
  CHECK(std::isinf(at<float>(z, 5)));
  check_replay([](const std::vector<Tensor>& in) { return std::vector<Tensor>{xf::pow(in[0], in[1]) * 1.0f}; },
               {a, b});
}

TEST_CASE("where with two scalar branches takes cond's shape and the scalars' dtype", "[forms]") {
  Tensor c = Tensor::from_vector(std::vector<bool>{true, false, true}, {3});
  Tensor f = xf::where(c, 1, 2.5);
  CHECK(f.dtype() == DType::float32);
  CHECK(f.to_vector<float>() == std::vector<float>{1.0f, 2.5f, 1.0f});
  Tensor i = xf::where(c, 7, -1);
  CHECK(i.dtype() == DType::int32);
  CHECK(i.to_vector<int32_t>() == std::vector<int32_t>{7, -1, 7});
  CHECK(xf::where(c, true, false).dtype() == DType::bool_);
}

TEST_CASE("clip with one tensor bound and one scalar bound", "[forms]") {
  Tensor x = Tensor::from_vector(std::vector<float>{-5, 0, 5, 10}, {4});
  Tensor lo = Tensor::from_vector(std::vector<float>{-1, 1, -1, 1}, {4});
  CHECK(xf::clip(x, lo, 6.0f).to_vector<float>() == std::vector<float>{-1, 1, 5, 6});
  CHECK(xf::clip(x, 0.0f, lo + 3.0f).to_vector<float>() == std::vector<float>{0, 0, 2, 4});
}

TEST_CASE("one_hot with on_value, off_value and axis, as TensorFlow's", "[forms]") {
  Tensor idx = Tensor::from_vector(std::vector<int32_t>{0, 2, -1, 5}, {2, 2});
  Tensor last = xf::one_hot(idx, 3, 5.0, -1.0, -1, DType::float32);
  CHECK(last.shape() == Shape{2, 2, 3});
  CHECK(last.to_vector<float>() == std::vector<float>{5, -1, -1, -1, -1, 5, -1, -1, -1, -1, -1, -1});
  Tensor first = xf::one_hot(idx, 3, 1, 0, 0, DType::int64);
  CHECK(first.dtype() == DType::int64);
  CHECK(first.shape() == Shape{3, 2, 2});
  // first[k][i][j] == last[i][j][k]
  CHECK(xf::bitwise_equal(first, xf::cast(xf::transpose(xf::equal(last, 5.0f), xf::Axes{2, 0, 1}), DType::int64)));
  Tensor mid = xf::one_hot(idx, 3, 1, 0, 1, DType::int32);
  CHECK(mid.shape() == Shape{2, 3, 2});
  CHECK_THROWS_AS(xf::one_hot(idx, 3, 1, 0, 3), xf::AxisError);
  CHECK_THROWS_AS(xf::one_hot(idx, 3, 1, 0, -2), xf::InvalidArgument);
}
