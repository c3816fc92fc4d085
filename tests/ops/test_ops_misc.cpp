// What the NumPy oracle cannot express: which ops are views of their input's buffer, the random
// ops (seeds, counters, distributions), results that must not depend on the thread count or on a
// buffer's alignment, and the operators with the caller locations they report.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "xflow/xflow.hpp"

namespace {

using xf::DType;
using xf::Slice;
using xf::Tensor;

const void* buf(const Tensor& t) { return t.buffer().get(); }

Tensor iota(const xf::Shape& s, DType d = DType::float32) { return xf::reshape(xf::arange(xf::numel(s), d), s); }

// Restores the default thread count when a test ends, whatever happens.
struct ThreadsGuard {
  ~ThreadsGuard() { xf::set_num_threads(0); }
};

bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::string here(int line) { return "(test_ops_misc.cpp:" + std::to_string(line) + ")"; }

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }
double std_of(const std::vector<double>& v) {
  double m = mean_of(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / v.size());
}

}  // namespace

// ---- views ----

TEST_CASE("views: transpose, reshape, slice, broadcast_to share the buffer", "[views]") {
  Tensor x = iota({4, 6});
  Tensor t = xf::transpose(x);
  CHECK(buf(t) == buf(x));
  CHECK(t.shape() == xf::Shape{6, 4});
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.to_vector<float>()[1] == 6.0f);

  Tensor p = xf::transpose(iota({2, 3, 4}), xf::Axes{2, 0, 1});
  CHECK(p.shape() == xf::Shape{4, 2, 3});
  CHECK(p.strides() == xf::Strides{1, 12, 4});

  Tensor r = xf::reshape(x, {3, 8});
  CHECK(buf(r) == buf(x));
  CHECK(r.to_vector<float>() == x.to_vector<float>());
  CHECK(buf(xf::reshape(x, {-1})) == buf(x));
  CHECK(buf(xf::flatten(x)) == buf(x));
  CHECK(buf(xf::expand_dims(x, 1)) == buf(x));
  CHECK(buf(xf::squeeze(xf::expand_dims(x, 0))) == buf(x));
  CHECK(xf::reshape(x, {4, 6}).id() == x.id());  // same shape: the tensor itself

  Tensor s = xf::slice(x, {Slice(1, 3), Slice(std::nullopt, std::nullopt, -2)});
  CHECK(buf(s) == buf(x));
  CHECK(s.shape() == xf::Shape{2, 3});
  CHECK(s.to_vector<float>() == std::vector<float>{11, 9, 7, 17, 15, 13});
  Tensor ss = xf::strided_slice(x, {3, 0}, {0, 6}, {-1, 3});
  CHECK(buf(ss) == buf(x));
  CHECK(ss.to_vector<float>() == std::vector<float>{18, 21, 12, 15, 6, 9});

  Tensor b = xf::broadcast_to(xf::reshape(x, {4, 1, 6}), {4, 5, 6});
  CHECK(buf(b) == buf(x));
  CHECK(b.strides()[1] == 0);

  for (const Tensor& part : xf::split(x, 3, 1)) CHECK(buf(part) == buf(x));
}

TEST_CASE("views: reshape of a non-contiguous view copies; of a contiguous slice it does not", "[views]") {
  Tensor x = iota({4, 6});
  Tensor t = xf::transpose(x);
  Tensor r = xf::reshape(t, {24});
  CHECK(buf(r) != buf(x));
  CHECK(r.is_contiguous());
  std::vector<float> want;
  for (int j = 0; j < 6; ++j)
    for (int i = 0; i < 4; ++i) want.push_back(static_cast<float>(i * 6 + j));
  CHECK(r.to_vector<float>() == want);
  CHECK(buf(xf::flatten(xf::slice(x, {xf::all_, Slice(0, 6, 2)}))) != buf(x));

  Tensor rows = xf::slice(x, {Slice(1, 3)});  // rows 1 and 2: contiguous, at an offset
  CHECK(rows.is_contiguous());
  Tensor rr = xf::reshape(rows, {3, 4});
  CHECK(buf(rr) == buf(x));
  CHECK(rr.to_vector<float>() == std::vector<float>{6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
}

// ---- results independent of the thread count and of alignment ----

TEST_CASE("parallel kernels: 1 and 2 threads give bitwise-equal results", "[parallel]") {
  ThreadsGuard guard;
  xf::manual_seed(42);
  Tensor x = xf::random_normal({1 << 20});
  Tensor m = xf::random_uniform({1000, 1000}, -2, 2);
  Tensor v = xf::random_uniform({1 << 20}, 0.5, 1.5, DType::float64);
  auto run = [&] {
    return std::vector<Tensor>{xf::sum(x), xf::exp(x), xf::mean(m, xf::Axes{0}), xf::sum(m, xf::Axes{1}),
                               xf::max(x), xf::prod(v), xf::add(m, xf::slice(m, {Slice(0, 1)})),
                               xf::logsumexp(m, xf::Axes{1}), xf::cast(x, DType::int32), xf::sqrt(xf::abs(x)),
                               xf::argmax(x), xf::variance(m), xf::less(x, 0.5)};
  };
  xf::set_num_threads(1);
  std::vector<Tensor> one = run();
  xf::set_num_threads(2);
  CHECK(xf::num_threads() == 2);
  std::vector<Tensor> two = run();
  REQUIRE(one.size() == two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("result " << i << ": " << one[i].str() << " vs " << two[i].str());
    CHECK(xf::bitwise_equal(one[i], two[i]));
  }
  // and the sum is right: within float32 rounding of a double-precision sum
  std::vector<double> xs = x.to_vector<double>();
  double ref = std::accumulate(xs.begin(), xs.end(), 0.0);
  double abs_sum = 0;
  for (double e : xs) abs_sum += std::fabs(e);
  CHECK(std::fabs(one[0].item<double>() - ref) <= 1e-6 * abs_sum);
}

TEST_CASE("parallel kernels: large broadcasts and reductions compute the right values", "[parallel]") {
  ThreadsGuard guard;
  xf::set_num_threads(2);
  xf::manual_seed(5);
  Tensor m = xf::random_uniform({700, 900}, -1, 1);
  Tensor row = xf::random_uniform({900}, -1, 1);
  Tensor col = xf::random_uniform({700, 1}, -1, 1);
  std::vector<float> mv = m.to_vector<float>(), rv = row.to_vector<float>(), cv = col.to_vector<float>();
  std::vector<float> s1 = xf::add(m, row).to_vector<float>();
  std::vector<float> s2 = xf::mul(col, m).to_vector<float>();
  std::vector<float> s3 = xf::sub(xf::reshape(m, {-1}), 0.25f).to_vector<float>();  // one long row
  bool ok = true;
  for (size_t i = 0; i < 700; ++i)
    for (size_t j = 0; j < 900; ++j) {
      size_t k = i * 900 + j;
      ok = ok && s1[k] == mv[k] + rv[j] && s2[k] == cv[i] * mv[k] && s3[k] == mv[k] - 0.25f;
    }
  CHECK(ok);
  std::vector<double> c0(900, 0.0), r1(700, 0.0);
  for (size_t i = 0; i < 700; ++i)
    for (size_t j = 0; j < 900; ++j) {
      c0[j] += mv[i * 900 + j];
      r1[i] += mv[i * 900 + j];
    }
  std::vector<float> g0 = xf::sum(m, xf::Axes{0}).to_vector<float>(), g1 = xf::sum(m, xf::Axes{1}).to_vector<float>();
  for (size_t j = 0; j < 900; ++j) ok = ok && std::fabs(g0[j] - c0[j]) < 1e-3;
  for (size_t i = 0; i < 700; ++i) ok = ok && std::fabs(g1[i] - r1[i]) < 1e-3;
  CHECK(ok);
  std::vector<int64_t> am = xf::argmax(m, 0).to_vector<int64_t>();
  for (size_t j = 0; j < 900; ++j) {
    size_t best = 0;
    for (size_t i = 1; i < 700; ++i)
      if (mv[i * 900 + j] > mv[best * 900 + j]) best = i;
    ok = ok && am[j] == static_cast<int64_t>(best);
  }
  CHECK(ok);
}

TEST_CASE("elementwise kernels: results do not depend on the buffer's alignment or the tail", "[parallel]") {
  xf::manual_seed(3);
  Tensor x = xf::random_uniform({1003}, -5, 5);
  for (int64_t off : {1, 3, 5, 7}) {
    INFO("offset " << off);
    Tensor view = xf::slice(x, {Slice(off, std::nullopt)});  // unaligned start, odd tail
    CHECK(xf::bitwise_equal(xf::exp(view), xf::slice(xf::exp(x), {Slice(off, std::nullopt)})));
    CHECK(xf::bitwise_equal(xf::tanh(view), xf::slice(xf::tanh(x), {Slice(off, std::nullopt)})));
    CHECK(xf::bitwise_equal(xf::pow(view, 1.5f), xf::slice(xf::pow(x, 1.5f), {Slice(off, std::nullopt)})));
  }
}

// Predicates and `where` run loops specialized for each operand's inner stride (0: broadcast along
// the row, 1: contiguous); every pattern must give what an element-by-element loop gives.
TEST_CASE("predicates and where: every broadcast pattern matches an element-by-element loop", "[broadcast]") {
  const float nan = std::nanf("");
  std::vector<float> av, bv;
  for (int i = 0; i < 5 * 37; ++i) av.push_back(i % 7 == 0 ? nan : (i % 5 == 0 ? -0.0f : float(i % 11) - 5.0f));
  for (int i = 0; i < 37; ++i) bv.push_back(i % 9 == 0 ? nan : float(i % 5) - 2.0f);
  Tensor a = Tensor::from_vector(av, {5, 37});   // an odd row length: vector tails in every row
  Tensor row = Tensor::from_vector(bv, {37});    // broadcast along rows (inner stride 1)
  Tensor col = xf::reshape(Tensor::from_vector(std::vector<float>(bv.begin(), bv.begin() + 5), {5}), {5, 1});
  Tensor one = Tensor::from_vector(std::vector<float>{0.0f}, {1});
  auto at = [](const Tensor& t, int i, int j) {
    std::vector<float> v = t.to_vector<float>();
    int64_t r = t.rank() == 2 ? t.shape()[0] : 1, c = t.shape().back();
    return v[static_cast<size_t>((r == 1 ? 0 : i) * c + (c == 1 ? 0 : j))];
  };
  auto bits = [](float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
  };
  for (const Tensor* x : {&a, &row, &col, &one})
    for (const Tensor* y : {&a, &row, &col, &one}) {
      if (x != &a && y != &a) continue;
      Tensor gt = xf::greater(*x, *y), eq = xf::equal(*x, *y);
      REQUIRE(gt.shape() == xf::Shape{5, 37});
      std::vector<int32_t> g32 = xf::cast(gt, DType::int32).to_vector<int32_t>();
      std::vector<int32_t> e32 = xf::cast(eq, DType::int32).to_vector<int32_t>();
      Tensor w = xf::where(gt, *x, *y);
      Tensor w2 = xf::where(xf::greater(a, 0.0f), *x, *y);
      Tensor w3 = xf::where(xf::greater(col, 0.0f), *x, *y);  // the condition broadcast too
      std::vector<float> wv = w.to_vector<float>(), w2v = w2.to_vector<float>(), w3v = w3.to_vector<float>();
      bool ok = true;
      for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 37; ++j) {
          float p = at(*x, i, j), q = at(*y, i, j);
          size_t k = static_cast<size_t>(i * 37 + j);
          ok = ok && g32[k] == (p > q ? 1 : 0) && e32[k] == (p == q ? 1 : 0);
          ok = ok && bits(wv[k]) == bits(p > q ? p : q);
          ok = ok && bits(w2v[k]) == bits(at(a, i, j) > 0.0f ? p : q);
          ok = ok && bits(w3v[k]) == bits(at(col, i, j) > 0.0f ? p : q);
        }
      CHECK(ok);
    }
}

// ---- random ----

TEST_CASE("random: a seed gives the same numbers; the counter advances; manual_seed resets", "[random]") {
  xf::manual_seed(1234);
  Tensor a = xf::random_uniform({1000});
  Tensor b = xf::random_uniform({1000});
  CHECK_FALSE(xf::bitwise_equal(a, b));
  xf::manual_seed(1234);
  CHECK(xf::bitwise_equal(xf::random_uniform({1000}), a));
  CHECK(xf::bitwise_equal(xf::random_uniform({1000}), b));
  xf::manual_seed(1235);
  CHECK_FALSE(xf::bitwise_equal(xf::random_uniform({1000}), a));
  // drawing in two calls equals drawing at once: element i reads counter + i
  xf::manual_seed(9);
  Tensor whole = xf::random_normal({100});
  xf::manual_seed(9);
  Tensor first = xf::random_normal({40});
  Tensor rest = xf::random_normal({60});
  CHECK(xf::bitwise_equal(xf::concat({first, rest}), whole));
}

TEST_CASE("random: results do not depend on the thread count", "[random][parallel]") {
  ThreadsGuard guard;
  for (DType d : {DType::float32, DType::float64}) {
    std::vector<Tensor> runs[2];
    for (int threads : {1, 2}) {
      xf::set_num_threads(threads);
      xf::manual_seed(77);
      runs[threads - 1] = {xf::random_uniform({200000}, -1, 3, d), xf::random_normal({200000}, 1, 2, d),
                           xf::truncated_normal({200000}, 0, 1, d)};
    }
    for (int i = 0; i < 3; ++i) CHECK(xf::bitwise_equal(runs[0][i], runs[1][i]));
  }
}

TEST_CASE("random: distributions", "[random]") {
  xf::manual_seed(2024);
  for (DType d : {DType::float32, DType::float64}) {
    INFO("dtype " << xf::dtype_name(d));
    Tensor u = xf::random_uniform({100000}, -2.0, 3.0, d);
    CHECK(u.dtype() == d);
    CHECK(u.shape() == xf::Shape{100000});
    std::vector<double> uv = u.to_vector<double>();
    CHECK(*std::min_element(uv.begin(), uv.end()) >= -2.0);
    CHECK(*std::max_element(uv.begin(), uv.end()) < 3.0);
    CHECK(mean_of(uv) == Approx(0.5).margin(0.03));
    CHECK(std_of(uv) == Approx(5.0 / std::sqrt(12.0)).margin(0.02));

    std::vector<double> nv = xf::random_normal({100000}, 1.5, 2.0, d).to_vector<double>();
    CHECK(mean_of(nv) == Approx(1.5).margin(0.03));
    CHECK(std_of(nv) == Approx(2.0).margin(0.03));

    std::vector<double> tv = xf::truncated_normal({100000}, -1.0, 0.5, d).to_vector<double>();
    CHECK(*std::min_element(tv.begin(), tv.end()) >= -1.0 - 2 * 0.5);
    CHECK(*std::max_element(tv.begin(), tv.end()) <= -1.0 + 2 * 0.5);
    CHECK(mean_of(tv) == Approx(-1.0).margin(0.01));
    CHECK(std_of(tv) == Approx(0.5 * 0.8796).margin(0.01));  // a normal cut at 2 sigma
  }
  CHECK(xf::random_uniform({0, 3}).shape() == xf::Shape{0, 3});
  CHECK(xf::random_normal({}).shape() == xf::Shape{});
  CHECK(xf::random_normal({4}, 3.0, 0.0).to_vector<float>() == std::vector<float>(4, 3.0f));
}

// ---- operators ----

TEST_CASE("operators compute the named ops", "[operators]") {
  Tensor a = Tensor({1, 2, 3, 4});
  Tensor b = Tensor({4, 3, 2, 1});
  Tensor p = Tensor({true, false, true, false});
  Tensor q = Tensor({true, true, false, false});
  CHECK((a + b).to_vector<int>() == std::vector<int>{5, 5, 5, 5});
  CHECK((a - b).to_vector<int>() == std::vector<int>{-3, -1, 1, 3});
  CHECK((a * 2).dtype() == DType::int32);
  CHECK((a * 2).to_vector<int>() == std::vector<int>{2, 4, 6, 8});
  CHECK((2 - a).to_vector<int>() == std::vector<int>{1, 0, -1, -2});
  CHECK((a * 0.5).dtype() == DType::float32);  // a float scalar lifts an integer tensor to float32
  CHECK((a / b).dtype() == DType::float32);
  CHECK((a / b).to_vector<float>() == std::vector<float>{0.25f, 2.0f / 3.0f, 1.5f, 4.0f});
  CHECK((a % 3).to_vector<int>() == std::vector<int>{1, 2, 0, 1});
  CHECK((-a).to_vector<int>() == std::vector<int>{-1, -2, -3, -4});
  // There is no elementwise operator!: `!t` is the truth value of a one-element tensor negated.
  CHECK(logical_not(p).to_vector<bool>() == std::vector<bool>{false, true, false, true});
  CHECK(!Tensor(0));
  CHECK_THROWS_AS(!p, xf::InvalidArgument);
  CHECK((a == b).dtype() == DType::bool_);
  CHECK((a == Tensor({1, 0, 3, 0})).to_vector<bool>() == std::vector<bool>{true, false, true, false});
  CHECK((a != b).to_vector<bool>() == std::vector<bool>{true, true, true, true});
  CHECK((a < b).to_vector<bool>() == std::vector<bool>{true, true, false, false});
  CHECK((a <= 2).to_vector<bool>() == std::vector<bool>{true, true, false, false});
  CHECK((3 > a).to_vector<bool>() == std::vector<bool>{true, true, false, false});
  CHECK((a >= b).to_vector<bool>() == std::vector<bool>{false, false, true, true});
  CHECK((p && q).to_vector<bool>() == std::vector<bool>{true, false, false, false});
  CHECK((p || q).to_vector<bool>() == std::vector<bool>{true, true, true, false});
  CHECK((p ^ q).to_vector<bool>() == std::vector<bool>{false, true, true, false});
  Tensor m = Tensor({{1.0f}, {2.0f}});
  CHECK((m + Tensor({10.0f, 20.0f})).shape() == xf::Shape{2, 2});  // broadcasting
}

TEST_CASE("operators report the caller's location", "[operators]") {
  Tensor a = xf::zeros({2, 3});
  Tensor c = xf::zeros({4});
  Tensor flags = xf::zeros({2, 3}, DType::bool_);
  auto where_raised = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const xf::Error& e) {
      return e.what();
    }
    return "nothing raised";
  };
  int line = __LINE__; std::string msg = where_raised([&] { return a + c; });
  CHECK(msg.rfind("[add] ", 0) == 0);
  CHECK(msg.find("a is (2, 3) float32, b is (4,) float32") != std::string::npos);
  CHECK(ends_with(msg, here(line)));
  line = __LINE__; msg = where_raised([&] { return c * a; });
  CHECK(msg.rfind("[mul] ", 0) == 0);
  CHECK(ends_with(msg, here(line)));
  line = __LINE__; msg = where_raised([&] { return true - flags; });
  CHECK(msg.rfind("[sub] ", 0) == 0);
  CHECK(ends_with(msg, here(line)));
  line = __LINE__; msg = where_raised([&] { return flags + true; });
  CHECK(msg.rfind("[add] ", 0) == 0);
  CHECK(msg.find("bool") != std::string::npos);
  CHECK(ends_with(msg, here(line)));
  line = __LINE__; msg = where_raised([&] { return -flags; });
  CHECK(msg.rfind("[neg] ", 0) == 0);
  CHECK(msg.find("x is (2, 3) bool") != std::string::npos);
  CHECK(ends_with(msg, here(line)));
  line = __LINE__; msg = where_raised([&] { return a == c; });
  CHECK(msg.rfind("[equal] ", 0) == 0);
  CHECK(ends_with(msg, here(line)));
  line = __LINE__; msg = where_raised([&] { return (a > 0) && c; });
  CHECK(msg.rfind("[logical_and] ", 0) == 0);
  CHECK(ends_with(msg, here(line)));
}

// ---- strict dtypes ----

TEST_CASE("strict dtypes: composite ops add no implicit promotion of their own", "[strict]") {
  xf::StrictDTypeScope strict;
  Tensor f = xf::reshape(xf::arange(0, 6, 1, DType::float32), {2, 3});
  Tensor i = xf::reshape(xf::arange(6), {2, 3});
  CHECK(xf::softmax(f).dtype() == DType::float32);
  CHECK(xf::log_softmax(f, 0).dtype() == DType::float32);
  CHECK(xf::logsumexp(f, xf::Axes{1}).dtype() == DType::float32);
  CHECK(xf::mean(f).dtype() == DType::float32);
  CHECK(xf::variance(f, xf::Axes{0}).dtype() == DType::float32);
  CHECK(xf::stddev(f).dtype() == DType::float32);
  CHECK(xf::sum(i).dtype() == DType::int32);
  CHECK(xf::clip(f, 1.0f, 2.0f).dtype() == DType::float32);
  CHECK(xf::clip(i, 1, 2).dtype() == DType::int32);
  CHECK(xf::tensordot(f, xf::transpose(f), 1).shape() == xf::Shape{2, 2});
  CHECK(xf::stack({f, f}, 1).shape() == xf::Shape{2, 2, 3});
  CHECK(xf::tile(i, {2, 1}).shape() == xf::Shape{4, 3});
  CHECK(xf::split(i, 3, 1).size() == 3);
  for (DType d : {DType::uint8, DType::int32, DType::int64}) {
    Tensor oh = xf::one_hot(xf::cast(Tensor({2, 0}), d), 3);
    CHECK(oh.to_vector<float>() == std::vector<float>{0, 0, 1, 1, 0, 0});
  }
  CHECK(xf::argmax(f).item<int64_t>() == 5);
  CHECK(xf::where(f > 2.0f, f, 0.0f).dtype() == DType::float32);
}

// ---- broadcast rows and column reductions: the bits of the plain loops ----

namespace {
// float values with -0, NaN and +-inf mixed in (every 7th element), as `dtype`.
Tensor specials(const xf::Shape& s, int salt, DType dtype) {
  std::vector<float> v(static_cast<size_t>(xf::numel(s)));
  const float sp[] = {-0.0f, 0.0f, std::nanf(""), INFINITY, -INFINITY};
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = i % 7 == 0 ? sp[(i / 7 + static_cast<size_t>(salt)) % 5]
                      : static_cast<float>(((i * 37 + static_cast<size_t>(salt)) % 1000) * 0.006 - 3.0);
  return xf::cast(Tensor::from_vector(v, s), dtype);
}

// Equal bits, except that any NaN equals any NaN: x86 gives an operation on two NaNs the first
// operand's, and the compiler may swap the operands of a commutative instruction, so the sign of
// a NaN is not part of what kernels promise (-0 against +0 still differs).
bool same_bits_but_nan(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) && std::isnan(y[i])) continue;
    if (std::memcmp(&x[i], &y[i], sizeof(double)) != 0) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("a row broadcast down the rows gives the bits of the materialized broadcast", "[ops][broadcast]") {
  ThreadsGuard guard;
  using Fn = Tensor (*)(const Tensor&, const Tensor&);
  const std::pair<const char*, Fn> ops[] = {
      {"add", [](const Tensor& a, const Tensor& b) { return xf::add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return xf::sub(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return xf::div(a, b); }},
      {"pow", [](const Tensor& a, const Tensor& b) { return xf::pow(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return xf::maximum(a, b); }},
      {"atan2", [](const Tensor& a, const Tensor& b) { return xf::atan2(a, b); }},
      {"relu_grad", [](const Tensor& a, const Tensor& b) { return xf::relu_grad(a, b); }},
  };
  for (int threads : {1, 2}) {
    xf::set_num_threads(threads);
    for (DType d : {DType::float32, DType::float64})
      for (int64_t len : {1, 3, 4, 7, 8, 10, 16, 17, 31, 32, 33, 63, 64, 65, 130})
        for (int64_t rows : {1, 2, 5, 37, 3000}) {
          Tensor x = specials({rows, len}, static_cast<int>(len), d), row = specials({len}, 3, d);
          Tensor wide = xf::broadcast_to(row, {rows, len}).contiguous();
          for (const auto& [name, fn] : ops) {
            INFO(name << " " << xf::dtype_name(d) << " rows " << rows << " len " << len << " threads " << threads);
            CHECK(same_bits_but_nan(fn(x, row), fn(x, wide)));  // the row second
            CHECK(same_bits_but_nan(fn(row, x), fn(wide, x)));  // the row first
          }
          // a row with leading size-1 axes and a [rows, 1, len] operand plan the same way
          CHECK(same_bits_but_nan(xf::sub(xf::reshape(x, {rows, 1, len}), xf::reshape(row, {1, 1, len})),
                                  xf::reshape(xf::sub(x, wide), {rows, 1, len})));
        }
  }
}

TEST_CASE("sum, max and min over the leading axis give the bits of combining the identity and the rows in order",
          "[ops][reduce]") {
  ThreadsGuard guard;
  for (int threads : {1, 2})
    for (DType d : {DType::float32, DType::float64})
      for (int64_t cols : {1, 3, 8, 10, 16, 31, 32, 33, 40, 64, 100, 129, 256, 257, 300})
        for (int64_t rows : {1, 2, 7, 100}) {
          xf::set_num_threads(threads);
          INFO(xf::dtype_name(d) << " rows " << rows << " cols " << cols << " threads " << threads);
          Tensor x = specials({rows, cols}, static_cast<int>(cols + rows), d);
          // from the identity, as NumPy: a sum of -0s is +0
          Tensor s = xf::zeros({1, cols}, d), mx = xf::full({1, cols}, -INFINITY, d), mn = xf::full({1, cols}, INFINITY, d);
          for (int64_t r = 0; r < rows; ++r) {
            Tensor xr = xf::slice(x, {Slice{r, r + 1}});
            s = s + xr;
            mx = xf::maximum(mx, xr);
            mn = xf::minimum(mn, xr);
          }
          CHECK(same_bits_but_nan(xf::sum(x, xf::Axes{0}), xf::reshape(s, {cols})));
          CHECK(same_bits_but_nan(xf::max(x, xf::Axes{0}), xf::reshape(mx, {cols})));
          CHECK(same_bits_but_nan(xf::min(x, xf::Axes{0}), xf::reshape(mn, {cols})));
          // over two leading axes (a bias gradient of NHWC activations)
          CHECK(same_bits_but_nan(xf::sum(xf::reshape(x, {1, rows, cols}), xf::Axes{0, 1}), xf::reshape(s, {cols})));
        }
}
