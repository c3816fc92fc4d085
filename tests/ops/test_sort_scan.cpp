// The sort and scan family (lib/ops/sort_scan.cpp): cumsum, cumprod, sort, argsort, topk,
// searchsorted, take_along_axis, scatter_add_along_axis, the composites isclose, flip, roll,
// repeat, and the host ops unique and where(cond). Values at the edges (NaN, empty, negative axes,
// ties, integer dtypes), errors, traces (replay bitwise equal to eager, JSON round trip, guards).
// NumPy's values over many more cases: the "sort" family of tests/oracle/gen_expected.py;
// gradients: tests/autodiff/test_gradients.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "testing.hpp"
#include "xflow/session.hpp"
#include "xflow/trace.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

std::vector<int64_t> ints(const Tensor& t) { return t.to_vector<int64_t>(); }
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }

// Element-by-element equality where NaN equals NaN.
bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("cumsum and cumprod: axes, exclusive, reverse, flattening", "[sort_scan][scan]") {
  Tensor x({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
  CHECK(vals(cumsum(x, 1)) == std::vector<double>{1, 3, 6, 4, 9, 15});
  CHECK(vals(cumsum(x, -2)) == std::vector<double>{1, 2, 3, 5, 7, 9});
  CHECK(vals(cumsum(x)) == std::vector<double>{1, 3, 6, 10, 15, 21});
  CHECK(cumsum(x).shape() == Shape{6});
  CHECK(vals(cumsum(x, 1, true)) == std::vector<double>{0, 1, 3, 0, 4, 9});
  CHECK(vals(cumsum(x, 1, false, true)) == std::vector<double>{6, 5, 3, 15, 11, 6});
  CHECK(vals(cumsum(x, 1, true, true)) == std::vector<double>{5, 3, 0, 11, 6, 0});
  CHECK(vals(cumprod(x, 1)) == std::vector<double>{1, 2, 6, 4, 20, 120});
  CHECK(vals(cumprod(x, 0, true)) == std::vector<double>{1, 1, 1, 1, 2, 3});
  CHECK(vals(cumprod(x, 1, true, true)) == std::vector<double>{6, 3, 1, 30, 6, 1});
  // A scalar scans as one element (NumPy: shape (1,)); an empty axis gives an empty result.
  CHECK(cumsum(Tensor(5.0f)).shape() == Shape{1});
  CHECK(cumsum(zeros({2, 0}), 1).shape() == Shape{2, 0});
  CHECK(cumprod(zeros({0, 3}), 0).shape() == Shape{0, 3});
  // NaN and infinities propagate from where they enter.
  auto c = vals(cumsum(Tensor({1.0f, kNaN, 2.0f})));
  CHECK(c[0] == 1);
  CHECK(std::isnan(c[1]));
  CHECK(std::isnan(c[2]));
  CHECK(vals(cumsum(Tensor({1.0f, kInf, -1.0f}))) == std::vector<double>{1, kInf, kInf});
}

TEST_CASE("cumsum and cumprod of integers: int32 stays int32 and wraps, bool and uint8 widen", "[sort_scan][scan]") {
  Tensor i({2147483647, 1, 1});
  Tensor s = cumsum(i);
  CHECK(s.dtype() == DType::int32);
  CHECK(s.to_vector<int32_t>() == std::vector<int32_t>{2147483647, -2147483648, -2147483647});
  CHECK(cumprod(Tensor({65536, 65536, 3})).to_vector<int32_t>() == std::vector<int32_t>{65536, 0, 0});
  Tensor b = cumsum(Tensor({true, true, false, true}));
  CHECK(b.dtype() == DType::int32);
  CHECK(ints(b) == std::vector<int64_t>{1, 2, 2, 3});
  Tensor u = cumsum(cast(Tensor({200, 100}), DType::uint8));
  CHECK(u.dtype() == DType::int32);
  CHECK(ints(u) == std::vector<int64_t>{200, 300});
  CHECK(cumprod(cast(Tensor({3, 5}), DType::int64)).dtype() == DType::int64);
}

TEST_CASE("sort and argsort: stable, NaN last (first descending), negative axes, ints, empty", "[sort_scan][sort]") {
  Tensor x({3.0f, kNaN, -1.0f, 3.0f, -kInf, 0.0f, -0.0f, kNaN});
  CHECK(same_values(vals(sort(x)), {-kInf, -1, 0, -0.0, 3, 3, kNaN, kNaN}));
  CHECK(ints(argsort(x)) == std::vector<int64_t>{4, 2, 5, 6, 0, 3, 1, 7});
  CHECK(same_values(vals(sort(x, -1, true)), {kNaN, kNaN, 3, 3, 0, -0.0, -1, -kInf}));
  CHECK(ints(argsort(x, 0, true)) == std::vector<int64_t>{1, 7, 0, 3, 5, 6, 2, 4});
  // -0.0 and 0.0 are equal: they keep their order, so the sign bits show it.
  Tensor zs = sort(Tensor({0.0f, -0.0f, 0.0f}));
  CHECK_FALSE(std::signbit(zs.to_vector<float>()[0]));
  CHECK(std::signbit(zs.to_vector<float>()[1]));

  Tensor m({{3, 1, 2}, {1, 1, 0}});
  CHECK(ints(sort(m, 0)) == std::vector<int64_t>{1, 1, 0, 3, 1, 2});
  CHECK(ints(argsort(m, -2)) == std::vector<int64_t>{1, 0, 1, 0, 1, 0});
  CHECK(ints(argsort(m)) == std::vector<int64_t>{1, 2, 0, 2, 0, 1});
  CHECK(ints(argsort(m, 1, true)) == std::vector<int64_t>{0, 2, 1, 0, 1, 2});
  CHECK(sort(m).dtype() == DType::int32);
  CHECK(argsort(m).dtype() == DType::int64);
  Tensor big = Tensor::from_vector(std::vector<int64_t>{int64_t{1} << 62, -(int64_t{1} << 62), 0}, {3});
  CHECK(ints(sort(big)) == std::vector<int64_t>{-(int64_t{1} << 62), 0, int64_t{1} << 62});
  CHECK(ints(sort(Tensor({true, false, true}))) == std::vector<int64_t>{0, 1, 1});
  CHECK(sort(Tensor({true, false})).dtype() == DType::bool_);
  CHECK(sort(zeros({3, 0})).shape() == Shape{3, 0});
  CHECK(argsort(zeros({0, 4}), 0).shape() == Shape{0, 4});
  // A non-contiguous input (a transpose).
  Tensor t = transpose(Tensor({{5.0f, 1.0f}, {2.0f, 4.0f}, {3.0f, 0.0f}}));
  CHECK(vals(sort(t)) == std::vector<double>{2, 3, 5, 0, 1, 4});
}

TEST_CASE("topk: k largest along the last axis, ties to the lower index, sorted or in index order", "[sort_scan][topk]") {
  Tensor x({{1.0f, 5.0f, 3.0f, 5.0f, 2.0f}, {kNaN, 0.0f, 7.0f, -1.0f, 7.0f}});
  TopKResult r = topk(x, 3);
  CHECK(r.values.shape() == Shape{2, 3});
  CHECK(same_values(vals(r.values), {5, 5, 3, kNaN, 7, 7}));
  CHECK(ints(r.indices) == std::vector<int64_t>{1, 3, 2, 0, 2, 4});
  TopKResult u = topk(x, 3, false);
  CHECK(ints(u.indices) == std::vector<int64_t>{1, 2, 3, 0, 2, 4});
  CHECK(same_values(vals(u.values), {5, 3, 5, kNaN, 7, 7}));
  CHECK(topk(x, 0).values.shape() == Shape{2, 0});
  CHECK(ints(topk(x, 5).indices) == ints(argsort(x, -1, true)));
  TopKResult i = topk(Tensor({4, 9, 9, -3}), 2);
  CHECK(i.values.dtype() == DType::int32);
  CHECK(ints(i.values) == std::vector<int64_t>{9, 9});
  CHECK(ints(i.indices) == std::vector<int64_t>{1, 2});
  CHECK(topk(zeros({0, 3}), 2).values.shape() == Shape{0, 2});

  CHECK(error_of([&] { topk(x, 6); }).rfind("[topk] k = 6 is larger than the last axis (5): x is (2, 5) float32", 0) == 0);
  CHECK_THROWS_AS(topk(x, -1), InvalidArgument);
  CHECK_THROWS_AS(topk(Tensor(1.0f), 1), InvalidArgument);
}

TEST_CASE("searchsorted: left and right sides, NaN, batched rows, promotion", "[sort_scan][search]") {
  Tensor a({1.0f, 2.0f, 2.0f, 3.0f, kNaN});
  Tensor v({{2.0f, 0.0f}, {kNaN, 3.5f}});
  Tensor l = searchsorted(a, v);
  CHECK(l.shape() == Shape{2, 2});
  CHECK(l.dtype() == DType::int64);
  CHECK(ints(l) == std::vector<int64_t>{1, 0, 4, 4});
  CHECK(ints(searchsorted(a, v, "right")) == std::vector<int64_t>{3, 0, 5, 4});
  // int32 sequence and float values promote to float32.
  CHECK(ints(searchsorted(Tensor({1, 3, 5}), Tensor({2.5f, 5.0f}), "right")) == std::vector<int64_t>{1, 3});
  // TensorFlow's batched form: one row per row of values.
  Tensor rows({{1, 3, 5}, {10, 20, 30}});
  CHECK(ints(searchsorted(rows, Tensor({{3, 6}, {5, 30}}))) == std::vector<int64_t>{1, 3, 0, 2});
  CHECK(searchsorted(zeros({0}), Tensor({1.0f, 2.0f})).to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  CHECK(searchsorted(a, zeros({0})).shape() == Shape{0});

  CHECK(error_of([&] { searchsorted(a, v, "middle"); }).rfind("[searchsorted] side must be \"left\" or \"right\"", 0) == 0);
  CHECK_THROWS_AS(searchsorted(Tensor(1.0f), v), ShapeError);
  CHECK_THROWS_AS(searchsorted(rows, Tensor({{3, 6}, {5, 30}, {1, 1}})), ShapeError);
  {
    StrictDTypeScope strict;
    CHECK_THROWS_AS(searchsorted(Tensor({1, 3, 5}), Tensor({2.5f})), DTypeError);
  }
}

TEST_CASE("take_along_axis and scatter_add_along_axis are adjoint; bad indices raise", "[sort_scan][along]") {
  Tensor x({{10.0f, 20.0f, 30.0f}, {40.0f, 50.0f, 60.0f}});
  Tensor idx({{2, 0}, {-1, 1}});
  CHECK(vals(take_along_axis(x, idx, 1)) == std::vector<double>{30, 10, 60, 50});
  CHECK(vals(take_along_axis(x, Tensor({{1, 0, 1}}), 0)) == std::vector<double>{40, 20, 60});
  Tensor s = scatter_add_along_axis(Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}), Tensor({{2, 2}, {0, -3}}), 3, 1);
  CHECK(vals(s) == std::vector<double>{0, 0, 3, 7, 0, 0});
  // <take(x), u> == <x, scatter(u)>: adjoint.
  Tensor u({{0.5f, -1.0f}, {2.0f, 3.0f}});
  double lhs = sum(take_along_axis(x, idx, 1) * u).item<double>();
  double rhs = sum(x * scatter_add_along_axis(u, idx, 3, 1)).item<double>();
  CHECK(lhs == rhs);
  // argsort then take_along_axis is sort.
  Tensor r = testing::input({4, 7}, 3, true);
  CHECK(bitwise_equal(take_along_axis(r, argsort(r, 1), 1), sort(r, 1)));

  CHECK(error_of([&] { take_along_axis(x, Tensor({{3}, {0}}), 1); })
            .rfind("[take_along_axis] index 3 is out of range for an axis of size 3", 0) == 0);
  CHECK_THROWS_AS(take_along_axis(x, Tensor({{0}, {0}, {0}}), 1), ShapeError);
  CHECK_THROWS_AS(take_along_axis(x, Tensor({0, 1}), 1), ShapeError);
  CHECK_THROWS_AS(take_along_axis(x, Tensor({{0.5f}, {0.0f}}), 1), DTypeError);
  CHECK_THROWS_AS(take_along_axis(x, idx, 2), AxisError);
  CHECK_THROWS_AS(scatter_add_along_axis(u, Tensor({{0, 3}, {0, 0}}), 3, 1), OutOfRange);
  CHECK_THROWS_AS(scatter_add_along_axis(u, Tensor({0, 1}), 3, 1), ShapeError);
}

TEST_CASE("bad axes are AxisError for every op of the family", "[sort_scan][errors]") {
  Tensor x = ones({2, 3});
  CHECK_THROWS_AS(cumsum(x, 2), AxisError);
  CHECK_THROWS_AS(cumprod(x, -3), AxisError);
  CHECK_THROWS_AS(sort(x, 2), AxisError);
  CHECK_THROWS_AS(sort(Tensor(1.0f)), AxisError);
  CHECK_THROWS_AS(argsort(x, -3), AxisError);
  CHECK_THROWS_AS(flip(x, Axes{2}), AxisError);
  CHECK_THROWS_AS(roll(x, 1, 5), AxisError);
  CHECK_THROWS_AS(repeat(x, 2, -3), AxisError);
  CHECK_THROWS_AS(flip(x, Axes{1, -1}), InvalidArgument);
  CHECK_THROWS_AS(repeat(x, -1, 0), InvalidArgument);
  CHECK_THROWS_AS(repeat(x, std::vector<int64_t>{1, 2}, 1), InvalidArgument);
  std::string m = error_of([&] { sort(x, 2); });
  CHECK(m.rfind("[sort] axis 2", 0) == 0);
  CHECK(m.find("test_sort_scan.cpp") != std::string::npos);
  Tensor undefined;
  CHECK_THROWS_AS(sort(undefined), InvalidArgument);
  CHECK_THROWS_AS(unique(undefined), InvalidArgument);
}

TEST_CASE("isclose, flip, roll, repeat", "[sort_scan][composite]") {
  Tensor a({1.0f, kNaN, kInf, 1.0f, -kInf, 0.0f});
  Tensor b({1.0f + 1e-6f, kNaN, kInf, 1.1f, kInf, 1e-9f});
  CHECK(isclose(a, b).to_vector<bool>() == std::vector<bool>{true, false, true, false, false, true});
  CHECK(isclose(a, b, 1e-5, 1e-8, true).to_vector<bool>() == std::vector<bool>{true, true, true, false, false, true});
  CHECK(isclose(a, b, 0.2).to_vector<bool>()[3]);
  CHECK(isclose(a, b, 0, 0).to_vector<bool>() == std::vector<bool>{false, false, true, false, false, false});
  // Integers compare as float64: 2^40 + 1 is not within 1e-14 of 2^40 (float32 would say it is).
  Tensor i = Tensor::from_vector(std::vector<int64_t>{int64_t{1} << 40}, {1});
  CHECK_FALSE(isclose(i, i + 1, 1e-14, 0).to_vector<bool>()[0]);
  CHECK(isclose(Tensor({{1.0f}, {2.0f}}), Tensor({1.0f, 2.0f})).shape() == Shape{2, 2});

  Tensor x({{1, 2, 3}, {4, 5, 6}});
  CHECK(ints(flip(x)) == std::vector<int64_t>{6, 5, 4, 3, 2, 1});
  CHECK(ints(flip(x, Axes{-1})) == std::vector<int64_t>{3, 2, 1, 6, 5, 4});
  CHECK(ints(flip(x, Axes{0})) == std::vector<int64_t>{4, 5, 6, 1, 2, 3});
  CHECK(ints(roll(x, 1)) == std::vector<int64_t>{6, 1, 2, 3, 4, 5});
  CHECK(ints(roll(x, -1, 1)) == std::vector<int64_t>{2, 3, 1, 5, 6, 4});
  CHECK(ints(roll(x, 7, -1)) == std::vector<int64_t>{3, 1, 2, 6, 4, 5});
  CHECK(ints(roll(x, 1, 0)) == std::vector<int64_t>{4, 5, 6, 1, 2, 3});
  CHECK(roll(zeros({0, 2}), 3, 0).shape() == Shape{0, 2});
  CHECK(ints(repeat(x, 2)) == std::vector<int64_t>{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6});
  CHECK(ints(repeat(x, 2, 0)) == std::vector<int64_t>{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6});
  CHECK(repeat(x, 0, 1).shape() == Shape{2, 0});
  CHECK(ints(repeat(x, std::vector<int64_t>{0, 2, 1}, -1)) == std::vector<int64_t>{2, 2, 3, 5, 5, 6});
  CHECK(ints(repeat(x, std::vector<int64_t>{3}, 0)) == std::vector<int64_t>{1, 2, 3, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 4, 5, 6});
}

TEST_CASE("unique: sorted values, inverse of x's shape, counts; NaNs are one value", "[sort_scan][host]") {
  Tensor x({{3.0f, kNaN, 1.0f}, {3.0f, kNaN, -2.0f}});
  UniqueResult u = unique(x);
  CHECK(same_values(vals(u.values), {-2, 1, 3, kNaN}));
  CHECK(u.inverse.shape() == Shape{2, 3});
  CHECK(ints(u.inverse) == std::vector<int64_t>{2, 3, 1, 2, 3, 0});
  CHECK(ints(u.counts) == std::vector<int64_t>{1, 1, 2, 2});
  CHECK(same_values(vals(gather(u.values, u.inverse)), vals(x)));
  UniqueResult b = unique(Tensor({true, false, true}));
  CHECK(b.values.dtype() == DType::bool_);
  CHECK(ints(b.values) == std::vector<int64_t>{0, 1});
  UniqueResult e = unique(zeros({0, 3}, DType::int32));
  CHECK(e.values.shape() == Shape{0});
  CHECK(e.inverse.shape() == Shape{0, 3});
  CHECK(unique(Tensor(7)).values.to_vector<int32_t>() == std::vector<int32_t>{7});
}

TEST_CASE("where(cond): the coordinates of the true elements, row-major", "[sort_scan][host]") {
  Tensor c({{true, false, true}, {false, false, true}});
  Tensor w = where(c);
  CHECK(w.dtype() == DType::int64);
  CHECK(w.shape() == Shape{3, 2});
  CHECK(ints(w) == std::vector<int64_t>{0, 0, 0, 2, 1, 2});
  CHECK(ints(where(Tensor({0.0f, kNaN, -0.0f, 2.0f}))) == std::vector<int64_t>{1, 3});  // NaN is nonzero
  CHECK(where(zeros({2, 2})).shape() == Shape{0, 2});
  CHECK(where(Tensor(true)).shape() == Shape{1, 0});
  CHECK(where(Tensor(false)).shape() == Shape{0, 0});
}

TEST_CASE("a trace of the family replays bitwise equal to eager and survives a JSON round trip", "[sort_scan][trace]") {
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor& x = in[0];
    TopKResult t = topk(x, 2);
    Tensor seq = sort(flatten(x));
    return std::vector<Tensor>{cumsum(x, 1), cumprod(x, 0, true, true), sort(x, 0, true), argsort(x),
                               t.values, t.indices, searchsorted(seq, in[1]), take_along_axis(x, argsort(x, 0), 0),
                               scatter_add_along_axis(x, argsort(x, 1), 4, 1), isclose(x, in[1]), flip(x),
                               roll(x, 2, 1), repeat(x, std::vector<int64_t>{1, 0, 2, 1}, 1)};
  };
  std::vector<Tensor> first{testing::input({3, 4}, 1, true), testing::input({3, 4}, 2, true)};
  std::vector<Tensor> second{testing::input({3, 4}, 5, true), testing::input({3, 4}, 9)};
  Graph g = trace_graph(fn, first);
  Graph back = Graph::from_json(g.to_json());
  CHECK(back.to_json() == g.to_json());
  for (const PlanOptions& o : testing::all_plan_options()) {
    INFO(testing::options_str(o));
    Plan plan(back, o);
    std::vector<Tensor> eager = fn(second), replay = plan.run(second);
    REQUIRE(eager.size() == replay.size());
    for (size_t i = 0; i < eager.size(); ++i) {
      INFO("output " << i);
      CHECK(bitwise_equal(eager[i], replay[i]));
    }
  }
}

TEST_CASE("unique and where(cond) in a trace: a guard, so new values run eagerly and retrace", "[sort_scan][trace]") {
  auto fn = [](const std::vector<Tensor>& in) {
    UniqueResult u = unique(in[0]);
    return std::vector<Tensor>{where(in[0] > 0.0f), u.values, u.counts};
  };
  TracedFunction f = trace(fn);
  Tensor a({1.0f, -1.0f, 2.0f, 1.0f});
  Tensor b({-1.0f, -1.0f, 2.0f, 3.0f});
  auto ra = f({a});
  CHECK(ints(ra[0]) == std::vector<int64_t>{0, 2, 3});
  auto ra2 = f({a});  // the same values: a replay
  CHECK(f.stats().replays == 1);
  CHECK(bitwise_equal(ra2[1], ra[1]));
  auto rb = f({b});  // other values: the guard fails, the call runs eagerly
  CHECK(f.stats().guard_failures == 1);
  CHECK(ints(rb[0]) == std::vector<int64_t>{2, 3});
  CHECK(vals(rb[1]) == std::vector<double>{-1, 2, 3});
  CHECK(ints(rb[2]) == std::vector<int64_t>{2, 1, 1});
  // Of a constant: no guard, replays hold the constant result.
  Tensor k({2.0f, 2.0f, 5.0f});
  TracedFunction g = trace([k](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] + unique(k).values}; });
  g({zeros({2})});
  auto r = g({ones({2})});
  CHECK(g.stats().replays == 1);
  CHECK(vals(r[0]) == std::vector<double>{3, 6});
  // A graph builder refuses: a placeholder holds no values yet.
  GraphBuilder builder;
  Tensor p = builder.placeholder(DType::float32, {3}, "p");
  CHECK(error_of([&] { unique(p); }).find("placeholder 'p'") != std::string::npos);
  CHECK_THROWS_AS(where(p), FailedPrecondition);
}

TEST_CASE("the indices of sort and topk carry no gradient; searchsorted and argsort are not differentiable", "[sort_scan][grad]") {
  Tensor x({3.0f, 1.0f, 2.0f});
  GradientTape tape(true);
  tape.watch(x);
  Tensor y = sort(x) * Tensor({1.0f, 10.0f, 100.0f});
  CHECK(vals(tape.gradient(y, {x})[0]) == std::vector<double>{100, 1, 10});
  TopKResult t = topk(x, 2);
  CHECK(vals(tape.gradient(t.values * Tensor({1.0f, 10.0f}), {x})[0]) == std::vector<double>{1, 0, 10});
  // argsort and searchsorted give integers: the target must be float.
  CHECK_THROWS_AS(tape.gradient(argsort(x), {x}), DTypeError);
  CHECK_THROWS_AS(tape.gradient(searchsorted(x, x), {x}), DTypeError);
  CHECK(vals(tape.gradient(cast(argsort(x), DType::float32), {x})[0]) == std::vector<double>{0, 0, 0});
}

TEST_CASE("large inputs split across threads give the one-thread results bitwise", "[sort_scan][threads]") {
  Tensor x = testing::input({4096, 64}, 7, true);
  Tensor seq = sort(flatten(testing::input({64, 64}, 2)));
  Tensor v = testing::input({20000}, 4, true);
  auto run = [&] {
    TopKResult t = topk(x, 5);
    return std::vector<Tensor>{sort(x), argsort(x, 0, true), cumsum(x, 1), cumprod(x, 0, true), t.values, t.indices,
                               searchsorted(seq, v, "right")};
  };
  set_num_threads(1);
  std::vector<Tensor> one = run();
  set_num_threads(0);
  std::vector<Tensor> many = run();
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("output " << i);
    CHECK(bitwise_equal(one[i], many[i]));
  }
}
