// einsum, norm, diag, trace, triu, tril, meshgrid and svd (lib/ops/linalg_extra.cpp) against direct
// loops written here (NumPy's definitions) or values NumPy computed, with their errors, gradients
// and replays.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing.hpp"
#include "xflow/grad.hpp"
#include "xflow/xflow.hpp"

using namespace xf;

namespace {

using Fn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Deterministic distinct values (no random state): i * 0.37 - 2, reshaped.
Tensor vals(const Shape& s, DType d = DType::float64, double scale = 0.37) {
  std::vector<double> v(static_cast<size_t>(numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * 7) % 23) * scale - 2.0;
  return cast(Tensor::from_vector(v, s), d);
}

std::vector<double> vec(const Tensor& t) { return t.to_vector<double>(); }

// fn traced and replayed (with and without generated kernels) equals eager bitwise.
void check_replay(const Fn& fn, const std::vector<Tensor>& in) {
  std::vector<Tensor> eager = fn(in);
  for (bool codegen : {false, true}) {
    PlanOptions o;
    o.codegen = codegen;
    Plan plan(trace_graph(fn, in), o);
    std::vector<Tensor> replay = plan.run(in);
    REQUIRE(replay.size() == eager.size());
    for (size_t i = 0; i < eager.size(); ++i) {
      INFO("codegen " << codegen << " output " << i);
      CHECK(bitwise_equal(replay[i].contiguous(), eager[i].contiguous()));
    }
  }
}

// The tape's gradient of sum(f(x) * w) against central differences (float64).
void check_grad(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& xs,
                double tol = 1e-6) {
  std::vector<Tensor> analytic;
  Tensor w;
  {
    GradientTape tape;
    for (const Tensor& x : xs) tape.watch(x);
    Tensor y = f(xs);
    w = vals(y.shape(), DType::float64, 0.11) + 3.0;
    analytic = tape.gradient(sum(y * w), xs);
  }
  for (size_t k = 0; k < xs.size(); ++k) {
    std::vector<double> v = vec(xs[k]), a = vec(analytic[k]);
    for (size_t j = 0; j < v.size(); ++j) {
      auto at = [&](double d) {
        std::vector<double> u = v;
        u[j] += d;
        std::vector<Tensor> in = xs;
        in[k] = Tensor::from_vector(u, xs[k].shape());
        return sum(f(in) * w).item<double>();
      };
      double num = (at(1e-6) - at(-1e-6)) / 2e-6;
      INFO("input " << k << " element " << j);
      CHECK(a[j] == Approx(num).margin(tol).epsilon(1e-5));
    }
  }
}

double elem(const Tensor& t, const std::vector<int64_t>& idx) {
  Tensor c = t.contiguous();
  int64_t off = 0;
  for (size_t i = 0; i < idx.size(); ++i) off = off * t.shape()[i] + idx[i];
  return c.to_vector<double>()[static_cast<size_t>(off)];
}

}  // namespace

// ---- einsum ----

TEST_CASE("einsum matmul, batched matmul and transpose equal matmul and transpose", "[linalg][einsum]") {
  Tensor a = vals({3, 4}), b = vals({4, 5}, DType::float64, 0.21);
  CHECK(allclose(einsum("ij,jk->ik", {a, b}), matmul(a, b), 1e-12, 1e-12));
  CHECK(allclose(einsum("ij,jk", {a, b}), matmul(a, b), 1e-12, 1e-12));  // implicit: i, k
  CHECK(allclose(einsum("ij,jk->ki", {a, b}), transpose(matmul(a, b)), 1e-12, 1e-12));
  Tensor ba = vals({2, 3, 4}), bb = vals({2, 4, 5}, DType::float64, 0.13);
  CHECK(allclose(einsum("bij,bjk->bik", {ba, bb}), matmul(ba, bb), 1e-12, 1e-12));
  CHECK(bitwise_equal(einsum("ij->ji", {a}).contiguous(), transpose(a).contiguous()));
  CHECK(einsum("ij->ij", {a}).id() == a.id());
  CHECK(bitwise_equal(einsum("ji", {a}).contiguous(), transpose(a).contiguous()));  // implicit: i, j sorted
}

TEST_CASE("einsum trace, diagonal, outer, dot and sums equal their loops", "[linalg][einsum]") {
  Tensor m = vals({4, 4});
  double tr = 0;
  for (int64_t i = 0; i < 4; ++i) tr += elem(m, {i, i});
  CHECK(einsum("ii->", {m}).item<double>() == Approx(tr));
  CHECK(einsum("ii", {m}).item<double>() == Approx(tr));
  Tensor d = einsum("ii->i", {m});
  REQUIRE(d.shape() == Shape{4});
  for (int64_t i = 0; i < 4; ++i) CHECK(vec(d)[i] == elem(m, {i, i}));  // exact: a slice
  Tensor u = vals({3}), v = vals({5}, DType::float64, 0.5);
  Tensor o = einsum("i,j->ij", {u, v});
  REQUIRE(o.shape() == Shape{3, 5});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j) CHECK(elem(o, {i, j}) == vec(u)[i] * vec(v)[j]);
  Tensor w = vals({3}, DType::float64, 0.9);
  double dot = 0;
  for (int64_t i = 0; i < 3; ++i) dot += vec(u)[i] * vec(w)[i];
  CHECK(einsum("i,i->", {u, w}).item<double>() == Approx(dot));
  CHECK(einsum("i,i", {u, w}).item<double>() == Approx(dot));
  Tensor x = vals({2, 3, 4});
  CHECK(allclose(einsum("ijk->", {x}), sum(x)));
  CHECK(allclose(einsum("ijk->k", {x}), sum(x, Axes{0, 1})));
  CHECK(allclose(einsum("ijk->ki", {x}), transpose(sum(x, Axes{1}))));
  // Elementwise product and a batched dot.
  Tensor y = vals({2, 3, 4}, DType::float64, 0.2);
  CHECK(bitwise_equal(einsum("ijk,ijk->ijk", {x, y}), x * y));
  CHECK(allclose(einsum("bij,bij->b", {x, y}), sum(x * y, Axes{1, 2})));
  // Three operands: a chain of products, and a letter shared by all three.
  Tensor p = vals({2, 3}), q = vals({3, 4}, DType::float64, 0.3), r = vals({4, 2}, DType::float64, 0.1);
  CHECK(allclose(einsum("ij,jk,kl->il", {p, q, r}), matmul(matmul(p, q), r), 1e-12, 1e-12));
  Tensor s1 = vals({3}), s2 = vals({3}, DType::float64, 0.4), s3 = vals({3}, DType::float64, 0.6);
  CHECK(einsum("i,i,i->", {s1, s2, s3}).item<double>() == Approx(sum(s1 * s2 * s3).item<double>()));
  // A batch axis with a repeated letter in one operand.
  Tensor bm = vals({2, 3, 3});
  Tensor bd = einsum("bii->bi", {bm});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 3; ++i) CHECK(elem(bd, {b, i}) == elem(bm, {b, i, i}));
}

TEST_CASE("einsum promotes operands and contracts integers exactly", "[linalg][einsum]") {
  Tensor a = Tensor::from_vector(std::vector<int32_t>{1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector(std::vector<int32_t>{5, 6, 7, 8}, {2, 2});
  Tensor c = einsum("ij,jk->ik", {a, b});
  CHECK(c.dtype() == DType::int32);
  CHECK(c.to_vector<int32_t>() == std::vector<int32_t>{19, 22, 43, 50});
  Tensor f = einsum("ij,jk->ik", {a, cast(b, DType::float32)});
  CHECK(f.dtype() == DType::float32);
  CHECK(f.to_vector<float>() == std::vector<float>{19, 22, 43, 50});
}

TEST_CASE("einsum with an empty axis sums to zeros", "[linalg][einsum]") {
  Tensor a = zeros({3, 0}), b = zeros({0, 2});
  Tensor c = einsum("ij,jk->ik", {a, b});
  CHECK(c.shape() == Shape{3, 2});
  CHECK(c.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(einsum("ii->i", {zeros({0, 0})}).shape() == Shape{0});
}

TEST_CASE("einsum rejects malformed and unsupported subscripts with clear errors", "[linalg][einsum][errors]") {
  Tensor a = vals({2, 3}), b = vals({3, 4});
  CHECK_THROWS_WITH(einsum("ij,jk->ik", {a}), Catch::Contains("[einsum]") && Catch::Contains("2 input terms for 1 operands"));
  CHECK_THROWS_AS(einsum("ijk,jk->ik", {a, b}), ShapeError);
  CHECK_THROWS_WITH(einsum("ijk,jk->ik", {a, b}), Catch::Contains("term \"ijk\" names 3 axes of operand 0"));
  CHECK_THROWS_AS(einsum("ij,ik->jk", {a, b}), ShapeError);
  CHECK_THROWS_WITH(einsum("ij,ik->jk", {a, b}), Catch::Contains("'i' has sizes 2 and 3"));
  CHECK_THROWS_WITH(einsum("i..j,jk", {a, b}), Catch::Contains("'.' outside an ellipsis"));
  CHECK_THROWS_WITH(einsum("......,jk", {a, b}), Catch::Contains("more than one ellipsis in a term"));
  CHECK_THROWS_WITH(einsum("ij,jk->...", {a, b}), Catch::Contains("an ellipsis in the output but in no input term"));
  CHECK_THROWS_AS(einsum("...ijk,jk", {a, b}), ShapeError);
  CHECK_THROWS_WITH(einsum("...i,...i", {vals({2, 3}), vals({4, 3})}), Catch::Contains("do not broadcast"));
  CHECK_THROWS_WITH(einsum("i1,jk", {a, b}), Catch::Contains("'1' is not a subscript letter"));
  CHECK_THROWS_WITH(einsum("ij,jk->iz", {a, b}), Catch::Contains("output letter 'z' names no input axis"));
  CHECK_THROWS_WITH(einsum("ij,jk->ii", {a, b}), Catch::Contains("output letter 'i' repeats"));
  CHECK_THROWS_WITH(einsum("ij,jk->i->k", {a, b}), Catch::Contains("more than one '->'"));
  CHECK_THROWS_AS(einsum("ij", {Tensor()}), InvalidArgument);
  CHECK_THROWS_AS(einsum("ij", {}), InvalidArgument);
  CHECK_THROWS_AS(einsum("ij->i", {cast(a, DType::bool_)}), DTypeError);
  CHECK_THROWS_AS(einsum("ii->i", {a}), ShapeError);  // a diagonal of a non-square pair
}

TEST_CASE("einsum ellipsis broadcasts the leading axes as NumPy", "[linalg][einsum][ellipsis]") {
  Tensor a = vals({2, 3, 4}), b = vals({2, 4, 5}), w = vals({4, 5});
  // Batched and broadcast matrix products.
  CHECK(bitwise_equal(einsum("...ij,...jk->...ik", {a, b}), matmul(a, b)));
  Tensor aw = einsum("...ij,jk->...ik", {a, w});
  CHECK(aw.shape() == Shape{2, 3, 5});
  CHECK(vec(aw) == vec(matmul(a, broadcast_to(w, {2, 4, 5}))));
  // Implicit output: the ellipsis axes first, then the letters seen once.
  CHECK(bitwise_equal(einsum("...ij", {a}), a));
  CHECK(bitwise_equal(einsum("...ji", {a}), transpose(a, {0, 2, 1})));
  CHECK(bitwise_equal(einsum("i...", {a}), transpose(a, {1, 2, 0})));
  // Reductions over what the output leaves out, and an empty ellipsis.
  CHECK(vec(einsum("...i->...", {a})) == vec(sum(a, Axes{-1})));
  CHECK(vec(einsum("i...->", {a})) == vec(sum(a)));
  CHECK(vec(einsum("...i,...i->...", {vals({5}), vals({5})})) == vec(sum(vals({5}) * vals({5}))));
  // Size-1 ellipsis axes broadcast against larger ones: (2,1,3) and (4,3) give (2,4).
  Tensor p = vals({2, 1, 3}), q = vals({4, 3});
  Tensor pq = einsum("...i,...i->...", {p, q});
  REQUIRE(pq.shape() == Shape{2, 4});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      double want = 0;
      for (int64_t k = 0; k < 3; ++k) want += elem(p, {i, 0, k}) * elem(q, {j, k});
      CHECK(elem(pq, {i, j}) == Approx(want).epsilon(1e-12));
    }
  // A diagonal under an ellipsis.
  Tensor sq = vals({3, 4, 4});
  Tensor dg = einsum("...ii->...i", {sq});
  REQUIRE(dg.shape() == Shape{3, 4});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) CHECK(elem(dg, {i, j}) == elem(sq, {i, j, j}));
  check_grad([](const std::vector<Tensor>& x) { return einsum("...i,...i->...", {x[0], x[1]}); },
             {vals({2, 1, 3}), vals({4, 3}, DType::float64, 0.21)});
  check_grad([](const std::vector<Tensor>& x) { return einsum("...ij,jk->...ik", {x[0], x[1]}); },
             {vals({2, 3, 4}), vals({4, 2}, DType::float64, 0.21)});
  check_replay([](const std::vector<Tensor>& x) { return std::vector<Tensor>{einsum("...i,...i->...", {x[0], x[1]})}; },
               {vals({2, 1, 3}), vals({4, 3})});
}

TEST_CASE("einsum gradients and replays", "[linalg][einsum][gradients]") {
  check_grad([](const std::vector<Tensor>& in) { return einsum("ij,jk->ik", {in[0], in[1]}); },
             {vals({2, 3}), vals({3, 2}, DType::float64, 0.3)});
  check_grad([](const std::vector<Tensor>& in) { return einsum("bij,bkj->bik", {in[0], in[1]}); },
             {vals({2, 2, 3}), vals({2, 2, 3}, DType::float64, 0.3)});
  check_grad([](const std::vector<Tensor>& in) { return einsum("ii->i", {in[0]}); }, {vals({3, 3})});
  check_grad([](const std::vector<Tensor>& in) { return einsum("i,j->ij", {in[0], in[1]}); },
             {vals({3}), vals({2}, DType::float64, 0.5)});
  check_replay([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{einsum("ij,jk->ik", {in[0], in[1]}), einsum("ii", {in[2]}), einsum("i,j->ij", {in[3], in[3]}),
                               einsum("ij,ij->i", {in[0], in[0]})};
  }, {vals({2, 3}, DType::float32), vals({3, 4}, DType::float32), vals({3, 3}, DType::float32), vals({5}, DType::float32)});
}

// ---- norm ----

TEST_CASE("norm of a vector for ord 2, 1, inf, -inf, 0 and 3", "[linalg][norm]") {
  Tensor x = Tensor::from_vector(std::vector<double>{3, -4, 0, 1}, {4});
  CHECK(norm(x).item<double>() == Approx(std::sqrt(26.0)));
  CHECK(norm(x, 2).item<double>() == Approx(std::sqrt(26.0)));
  CHECK(norm(x, 1).item<double>() == 8);
  CHECK(norm(x, INFINITY).item<double>() == 4);
  CHECK(norm(x, -INFINITY).item<double>() == 0);
  CHECK(norm(x, 0).item<double>() == 3);
  CHECK(norm(x, 3).item<double>() == Approx(std::cbrt(27.0 + 64 + 1)));
  Tensor i = Tensor::from_vector(std::vector<int32_t>{3, 4}, {2});
  CHECK(norm(i).dtype() == DType::float32);
  CHECK(norm(i).item<float>() == 5.0f);
}

TEST_CASE("norm over axes, keepdims, and matrix norms (Frobenius, 1, inf)", "[linalg][norm]") {
  Tensor m = Tensor::from_vector(std::vector<double>{1, -2, 3, -4, 5, -6}, {2, 3});
  CHECK(norm(m).item<double>() == Approx(std::sqrt(91.0)));
  CHECK(norm(m, "fro").item<double>() == Approx(std::sqrt(91.0)));
  CHECK(norm(m, std::nullopt, Axes{0, 1}).item<double>() == Approx(std::sqrt(91.0)));
  CHECK(norm(m, 1).item<double>() == 9);              // max column sum: |3| + |-6|
  CHECK(norm(m, -1).item<double>() == 5);             // min column sum
  CHECK(norm(m, INFINITY).item<double>() == 15);      // max row sum
  CHECK(norm(m, -INFINITY).item<double>() == 6);      // min row sum
  Tensor r = norm(m, std::nullopt, Axes{1});
  REQUIRE(r.shape() == Shape{2});
  CHECK(vec(r)[0] == Approx(std::sqrt(14.0)));
  CHECK(vec(r)[1] == Approx(std::sqrt(77.0)));
  CHECK(norm(m, 1, Axes{-2}).to_vector<double>() == std::vector<double>{5, 7, 9});
  CHECK(norm(m, std::nullopt, Axes{1}, true).shape() == Shape{2, 1});
  CHECK(norm(m, 1, Axes{0, 1}, true).shape() == Shape{1, 1});
  Tensor b = vals({2, 3, 4});
  Tensor fb = norm(b, std::nullopt, Axes{0, 2});
  REQUIRE(fb.shape() == Shape{3});
  CHECK(vec(fb)[1] == Approx(std::sqrt(sum(square(slice(b, {all_, Slice(1, 2)}))).item<double>())));
  CHECK(norm(m, 1, Axes{1, 0}).item<double>() == 15);  // axes swapped: rows are columns
}

TEST_CASE("norm errors: unsupported ords, axes and ranks", "[linalg][norm][errors]") {
  Tensor m = vals({2, 3});
  CHECK_THROWS_AS(norm(m, 3), InvalidArgument);  // NumPy: "Invalid norm order for matrices."
  CHECK_THROWS_WITH(norm(m, 3), Catch::Contains("[norm] matrix norm ord 3 is not defined"));
  CHECK_THROWS_AS(norm(m, "nuc", Axes{0}), InvalidArgument);
  CHECK_THROWS_AS(norm(vals({2, 2, 2}), "nuc"), ShapeError);
  CHECK_THROWS_AS(norm(m, "max"), InvalidArgument);
  CHECK_THROWS_AS(norm(vals({2, 2, 2}), 1), ShapeError);
  CHECK_THROWS_AS(norm(vals({2, 2, 2}), "fro"), ShapeError);
  CHECK_THROWS_AS(norm(m, std::nullopt, Axes{0, 1, 1}), InvalidArgument);
  CHECK_THROWS_AS(norm(m, std::nullopt, Axes{1, -1}), AxisError);
  CHECK_THROWS_AS(norm(m, std::nullopt, Axes{2}), AxisError);
  CHECK_THROWS_AS(norm(m, std::nan("")), InvalidArgument);
  CHECK_THROWS_AS(norm(zeros({0}), INFINITY), InvalidArgument);  // max of an empty axis, as NumPy
}

TEST_CASE("norm's 2-norm gradient at the zero vector is 0, not NaN; NaN inputs still give NaN", "[linalg][norm][gradients]") {
  Tensor z = zeros({3}, DType::float64);
  GradientTape tape;
  tape.watch(z);
  Tensor n = norm(z);
  CHECK(n.item<double>() == 0);
  CHECK(tape.gradient(n, {z})[0].to_vector<double>() == std::vector<double>{0, 0, 0});
  GradientTape tape2;
  Tensor zm = zeros({2, 2}, DType::float64);
  tape2.watch(zm);
  CHECK(tape2.gradient(norm(zm, "fro"), {zm})[0].to_vector<double>() == std::vector<double>(4, 0.0));
  Tensor withnan = Tensor::from_vector(std::vector<double>{1, std::nan(""), 2}, {3});
  CHECK(std::isnan(norm(withnan).item<double>()));
  CHECK(std::isinf(norm(Tensor::from_vector(std::vector<double>{1, INFINITY}, {2})).item<double>()));
  // Away from 0 it is x / |x|.
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], std::nullopt, Axes{1}); }, {vals({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], 1, Axes{0}); }, {vals({2, 3}) + 0.05});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], INFINITY); }, {vals({4}) + 0.05});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], 3); }, {vals({4}) + 0.05});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], "fro"); }, {vals({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], INFINITY); }, {vals({2, 3}) + 0.05});
  check_replay([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{norm(in[0]), norm(in[0], 1, Axes{1}), norm(in[0], INFINITY), norm(in[0], "fro"),
                               norm(in[0], 3, Axes{0}, true)};
  }, {vals({3, 4}, DType::float32)});
}

// ---- diag, trace, triu, tril ----

TEST_CASE("diag builds a matrix from a vector and reads a matrix's diagonal k", "[linalg][diag]") {
  Tensor v = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  CHECK(diag(v).to_vector<double>() == std::vector<double>{1, 0, 0, 0, 2, 0, 0, 0, 3});
  Tensor up = diag(v, 1);
  REQUIRE(up.shape() == Shape{4, 4});
  CHECK(up.to_vector<double>() == std::vector<double>{0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0});
  Tensor down = diag(v, -2);
  REQUIRE(down.shape() == Shape{5, 5});
  CHECK(elem(down, {2, 0}) == 1);
  CHECK(elem(down, {3, 1}) == 2);
  CHECK(elem(down, {4, 2}) == 3);
  CHECK(sum(down).item<double>() == 6);
  Tensor m = vals({3, 4});
  for (int64_t k = -4; k <= 5; ++k) {
    INFO("k " << k);
    Tensor d = diag(m, k);
    std::vector<double> want;
    for (int64_t i = 0; i < 3; ++i)
      if (i + k >= 0 && i + k < 4) want.push_back(elem(m, {i, i + k}));
    CHECK(vec(d) == want);
  }
  CHECK(diag(transpose(m)).to_vector<double>() == diag(m).to_vector<double>());  // a non-contiguous input
  CHECK(diag(Tensor::from_vector(std::vector<int32_t>{7}, {1})).dtype() == DType::int32);
  CHECK_THROWS_AS(diag(vals({2, 2, 2})), ShapeError);
  CHECK_THROWS_AS(diag(full({}, 1.0)), ShapeError);
}

TEST_CASE("trace of a matrix, with an offset, and of a batch over axes 0 and 1", "[linalg][trace]") {
  Tensor m = vals({3, 4});
  CHECK(trace(m).item<double>() == Approx(elem(m, {0, 0}) + elem(m, {1, 1}) + elem(m, {2, 2})));
  CHECK(trace(m, 1).item<double>() == Approx(elem(m, {0, 1}) + elem(m, {1, 2}) + elem(m, {2, 3})));
  CHECK(trace(m, -2).item<double>() == Approx(elem(m, {2, 0})));
  CHECK(trace(m, 9).item<double>() == 0);
  Tensor b = vals({3, 3, 2});
  Tensor t = trace(b);
  REQUIRE(t.shape() == Shape{2});
  for (int64_t j = 0; j < 2; ++j)
    CHECK(vec(t)[j] == Approx(elem(b, {0, 0, j}) + elem(b, {1, 1, j}) + elem(b, {2, 2, j})));
  // Off-diagonal NaNs do not reach the trace.
  Tensor n = Tensor::from_vector(std::vector<double>{1, NAN, INFINITY, 2}, {2, 2});
  CHECK(trace(n).item<double>() == 3);
  CHECK(trace(reshape(n, {2, 2, 1})).item<double>() == 3);
  CHECK_THROWS_AS(trace(vals({3})), ShapeError);
  check_grad([](const std::vector<Tensor>& in) { return trace(in[0], 1); }, {vals({3, 3})});
  check_grad([](const std::vector<Tensor>& in) { return trace(in[0]); }, {vals({2, 2, 3})});
}

TEST_CASE("triu and tril keep one side of diagonal k of the last two axes", "[linalg][triu]") {
  Tensor m = vals({3, 4});
  for (int64_t k = -3; k <= 4; ++k) {
    INFO("k " << k);
    Tensor u = triu(m, k), l = tril(m, k);
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j) {
        CHECK(elem(u, {i, j}) == (j - i >= k ? elem(m, {i, j}) : 0.0));
        CHECK(elem(l, {i, j}) == (j - i <= k ? elem(m, {i, j}) : 0.0));
      }
  }
  Tensor b = vals({2, 3, 3});
  Tensor tb = triu(b);
  for (int64_t n = 0; n < 2; ++n)
    CHECK(bitwise_equal(squeeze(slice(tb, {Slice(n, n + 1)}), Axes{0}).contiguous(),
                        triu(squeeze(slice(b, {Slice(n, n + 1)}), Axes{0})).contiguous()));
  Tensor i = Tensor::from_vector(std::vector<int32_t>{1, 2, 3, 4}, {2, 2});
  CHECK(tril(i).dtype() == DType::int32);
  CHECK(tril(i).to_vector<int32_t>() == std::vector<int32_t>{1, 0, 3, 4});
  CHECK_THROWS_AS(triu(vals({3})), ShapeError);
  CHECK_THROWS_WITH(tril(vals({3})), Catch::Contains("[tril]") && Catch::Contains("at least 2 axes"));
  check_grad([](const std::vector<Tensor>& in) { return triu(in[0], -1); }, {vals({3, 3})});
  check_grad([](const std::vector<Tensor>& in) { return tril(in[0], 1); }, {vals({2, 3})});
  check_grad([](const std::vector<Tensor>& in) { return diag(in[0], -1); }, {vals({3})});
  check_grad([](const std::vector<Tensor>& in) { return diag(in[0], 1); }, {vals({3, 4})});
  check_replay([](const std::vector<Tensor>& in) {
    return std::vector<Tensor>{triu(in[0], 1), tril(in[0]), diag(in[0], -1), diag(diag(in[0])), trace(in[0])};
  }, {vals({4, 4}, DType::float32)});
}

// ---- meshgrid ----

TEST_CASE("meshgrid with xy and ij indexing", "[linalg][meshgrid]") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3}, {3});
  Tensor y = Tensor::from_vector(std::vector<double>{10, 20}, {2});
  auto xy = meshgrid({x, y});
  REQUIRE(xy.size() == 2);
  CHECK(xy[0].shape() == Shape{2, 3});
  CHECK(xy[0].to_vector<double>() == std::vector<double>{1, 2, 3, 1, 2, 3});
  CHECK(xy[1].to_vector<double>() == std::vector<double>{10, 10, 10, 20, 20, 20});
  auto ij = meshgrid({x, y}, "ij");
  CHECK(ij[0].shape() == Shape{3, 2});
  CHECK(ij[0].to_vector<double>() == std::vector<double>{1, 1, 2, 2, 3, 3});
  CHECK(ij[1].to_vector<double>() == std::vector<double>{10, 20, 10, 20, 10, 20});
  Tensor z = Tensor::from_vector(std::vector<int32_t>{5, 6, 7, 8}, {4});
  auto three = meshgrid({x, y, z});
  CHECK(three[2].shape() == Shape{2, 3, 4});
  CHECK(three[2].dtype() == DType::int32);
  CHECK(elem(three[0], {1, 2, 3}) == 3);
  CHECK(elem(three[1], {1, 2, 3}) == 20);
  CHECK(elem(three[2], {1, 2, 3}) == 8);
  CHECK(meshgrid({x})[0].shape() == Shape{3});
  CHECK(meshgrid({}).empty());
  CHECK(meshgrid({x, zeros({0})})[0].shape() == Shape{0, 3});
  CHECK(meshgrid({reshape(x, {3, 1}), y}, "ij")[0].shape() == Shape{3, 2});  // flattened, as NumPy
  CHECK_THROWS_WITH(meshgrid({x, y}, "yx"), Catch::Contains("[meshgrid]") && Catch::Contains("\"xy\" or \"ij\""));
  check_grad([](const std::vector<Tensor>& in) {
    auto g = meshgrid({in[0], in[1]});
    return g[0] * g[1];
  }, {vals({3}), vals({2}, DType::float64, 0.5)});
  check_replay([](const std::vector<Tensor>& in) {
    auto g = meshgrid({in[0], in[1]}, "ij");
    return std::vector<Tensor>{g[0] + g[1], g[0] * 2.0f};
  }, {vals({3}, DType::float32), vals({2}, DType::float32)});
}

// ---- svd and the norms made of it ----
//
// The singular values and norms below are NumPy 1.24's (numpy.linalg.svd / norm, float64) of the
// same inputs: vals(shape) is ((i * 7) % 23) * 0.37 - 2 in row-major order.

namespace {

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).margin(tol).epsilon(tol));
  }
}

Tensor swap_last(const Tensor& t) {
  Axes perm;
  for (int64_t i = 0; i < t.rank(); ++i) perm.push_back(i);
  std::swap(perm[perm.size() - 2], perm[perm.size() - 1]);
  return transpose(t, perm);
}

// u diag(s) vh == x, u^T u == I, vh vh^T == I, s descending and >= 0.
void check_factors(const Tensor& x, const SvdResult& r, double tol) {
  const int64_t m = x.shape()[x.rank() - 2], n = x.shape().back(), k = std::min(m, n);
  CHECK(r.u.shape().back() == k);
  CHECK(r.s.shape().back() == k);
  CHECK(r.vh.shape()[r.vh.rank() - 2] == k);
  CHECK(r.u.dtype() == x.dtype());
  check_close(vec(matmul(r.u * expand_dims(r.s, -2), r.vh)), vec(x), tol);
  Tensor id = broadcast_to(eye(k, k, x.dtype()), r.s.shape().size() == 1 ? Shape{k, k} : Shape{r.s.shape()[0], k, k});
  check_close(vec(matmul(swap_last(r.u), r.u)), vec(id), tol);
  check_close(vec(matmul(r.vh, swap_last(r.vh))), vec(id), tol);
  std::vector<double> s = vec(r.s);
  for (size_t i = 0; i < s.size(); ++i) {
    CHECK(s[i] >= 0);
    if (i % static_cast<size_t>(k) != 0) CHECK(s[i - 1] >= s[i]);
  }
}

Tensor rank_deficient() {  // column 2 = column 0 + column 1
  return Tensor::from_vector(std::vector<double>{1, 2, 3, 2, 4, 6, 1, 0, 1, 3, 4, 7}, {4, 3});
}

}  // namespace

TEST_CASE("svd: tall, wide, batched and rank-deficient matrices against NumPy", "[linalg][svd]") {
  Tensor tall = vals({4, 3}), wide = vals({3, 5}), batch = vals({2, 3, 3}), rd = rank_deficient();
  SvdResult t = svd(tall), w = svd(wide), b = svd(batch), r = svd(rd), rt = svd(transpose(rd));
  check_close(vec(t.s), {9.4485084977730356, 3.7627055289147044, 1.1237589911477508}, 1e-13);
  check_close(vec(w.s), {10.164579054171531, 7.1867841930715253, 0.27760694104186068}, 1e-13);
  check_close(vec(b.s), {8.280179816473705, 3.7244332566039806, 0.52888479271366029, 9.3742597652470518,
                         4.642267342020733, 0.48187942358858588}, 1e-13);
  // NumPy's third value is 9.0e-16 (rounding noise); any value at that level is right.
  check_close(vec(r.s), {12.034953270480417, 1.0769864332259522, 0}, 1e-13);
  check_close(vec(rt.s), {12.03495327048042, 1.0769864332259524, 0}, 1e-13);
  CHECK(t.u.shape() == Shape{4, 3});
  CHECK(t.vh.shape() == Shape{3, 3});
  CHECK(w.u.shape() == Shape{3, 3});
  CHECK(w.vh.shape() == Shape{3, 5});
  CHECK(b.u.shape() == Shape{2, 3, 3});
  CHECK(b.s.shape() == Shape{2, 3});
  for (const auto& [x, f] : std::vector<std::pair<Tensor, SvdResult>>{{tall, t}, {wide, w}, {batch, b}, {rd, r},
                                                                        {transpose(rd), rt}}) {
    INFO("x " << x.shape()[0] << " x " << x.shape()[1]);
    check_factors(x, f, 1e-13);
  }
  // A batch element equals the matrix alone, bitwise (each matrix is decomposed on its own).
  SvdResult b1 = svd(slice(batch, {Slice(1, 2)}));
  CHECK(bitwise_equal(b1.s, slice(b.s, {Slice(1, 2)}).contiguous()));
  CHECK(bitwise_equal(b1.u, slice(b.u, {Slice(1, 2)}).contiguous()));
  // float32: the same values to float32 precision, float32 results.
  SvdResult f = svd(vals({4, 3}, DType::float32));
  CHECK(f.s.dtype() == DType::float32);
  check_close(vec(f.s), {9.4485084977730356, 3.7627055289147044, 1.1237589911477508}, 1e-6);
  check_factors(vals({4, 3}, DType::float32), f, 1e-5);
  // Deterministic: a second call is bitwise the same.
  SvdResult t2 = svd(tall);
  CHECK(bitwise_equal(t2.u, t.u));
  CHECK(bitwise_equal(t2.s, t.s));
  CHECK(bitwise_equal(t2.vh, t.vh));
  // Ill-conditioned and badly scaled: values far from 1 keep their relative accuracy.
  Tensor tiny = vals({3, 3}) * 1e-200, huge = vals({3, 3}) * 1e200;
  std::vector<double> s1 = vec(svd(vals({3, 3})).s), st = vec(svd(tiny).s), sh = vec(svd(huge).s);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(st[i] == Approx(s1[i] * 1e-200).epsilon(1e-12));
    CHECK(sh[i] == Approx(s1[i] * 1e200).epsilon(1e-12));
  }
}

TEST_CASE("svd edge cases: empty, zero, repeated singular values, NaN and inf, integers, errors", "[linalg][svd][errors]") {
  // Empty matrices: k = 0, as NumPy's shapes.
  SvdResult e1 = svd(zeros({0, 3}, DType::float64)), e2 = svd(zeros({3, 0})), e3 = svd(zeros({2, 0, 0}));
  CHECK(e1.u.shape() == Shape{0, 0});
  CHECK(e1.s.shape() == Shape{0});
  CHECK(e1.vh.shape() == Shape{0, 3});
  CHECK(e2.u.shape() == Shape{3, 0});
  CHECK(e2.vh.shape() == Shape{0, 0});
  CHECK(e3.s.shape() == Shape{2, 0});
  CHECK(svd(zeros({0, 2, 3})).u.shape() == Shape{0, 2, 2});
  // The zero matrix: s = 0, and U and Vh still orthonormal (completed).
  Tensor z = zeros({4, 2}, DType::float64);
  SvdResult zs = svd(z);
  CHECK(vec(zs.s) == std::vector<double>{0, 0});
  check_factors(z, zs, 1e-15);
  check_factors(transpose(z), svd(transpose(z)), 1e-15);
  // Repeated singular values (the identity, a scaled orthogonal matrix).
  Tensor q = Tensor::from_vector(std::vector<double>{0, 2, 0, -2, 0, 0, 0, 0, 2}, {3, 3});
  SvdResult qs = svd(q);
  check_close(vec(qs.s), {2, 2, 2}, 1e-15);
  check_factors(q, qs, 1e-15);
  check_factors(eye(5, 5, DType::float64), svd(eye(5, 5, DType::float64)), 1e-15);
  // NaN or inf in a matrix: NaN in its three results; the other matrices of the batch are unharmed.
  for (double bad : {std::nan(""), static_cast<double>(INFINITY)}) {
    std::vector<double> v = vec(vals({2, 2, 3}));
    v[7] = bad;
    SvdResult nb = svd(Tensor::from_vector(v, {2, 2, 3}));
    std::vector<double> s = vec(nb.s), u = vec(nb.u), vh = vec(nb.vh);
    CHECK(vec(svd(vals({2, 2, 3})).s)[0] == s[0]);
    for (size_t i = 2; i < 4; ++i) CHECK(std::isnan(s[i]));
    for (size_t i = 4; i < 8; ++i) CHECK(std::isnan(u[i]));
    for (size_t i = 6; i < 12; ++i) CHECK(std::isnan(vh[i]));
    CHECK(std::isfinite(s[0]));
    CHECK(std::isfinite(u[0]));
  }
  // Integers become float32, as norm's inputs; strict mode refuses.
  SvdResult is = svd(Tensor({{1, 2}, {3, 4}}));
  CHECK(is.s.dtype() == DType::float32);
  check_close(vec(is.s), {5.4649857042190426, 0.36596619062625746}, 1e-6);
  {
    StrictDTypeScope strict;
    CHECK_THROWS_AS(svd(Tensor({{1, 2}, {3, 4}})), DTypeError);
  }
  CHECK_THROWS_AS(svd(vals({3})), ShapeError);
  CHECK_THROWS_WITH(svd(vals({3})), Catch::Contains("[svd] needs at least 2 axes") && Catch::Contains("(3,) float64"));
  CHECK_THROWS_AS(svd(Tensor()), InvalidArgument);
}

TEST_CASE("svd gradients: S, and U and Vh away from repeated singular values", "[linalg][svd][gradients]") {
  for (Shape s : {Shape{3, 3}, Shape{4, 2}, Shape{2, 4}, Shape{2, 3, 2}}) {
    INFO("shape " << s.size() << " axes, last " << s.back());
    Tensor x = vals(s) + 0.01;
    check_grad([](const std::vector<Tensor>& in) { return svd(in[0]).s; }, {x});
    // U and Vh up to the sign of each singular pair: abs() and the rank-one terms do not see it.
    check_grad([](const std::vector<Tensor>& in) { return abs(svd(in[0]).u); }, {x});
    check_grad([](const std::vector<Tensor>& in) { return abs(svd(in[0]).vh); }, {x});
    check_grad([](const std::vector<Tensor>& in) {
      SvdResult r = svd(in[0]);
      return matmul(r.u * expand_dims(square(r.s), -2), r.vh);
    }, {x});
  }
  // At repeated and zero singular values the U / Vh terms contribute 0: a function of S alone
  // keeps a finite, correct gradient (d sum(s) / dA = U Vh, the identity for the identity).
  for (Tensor x : {eye(3, 3, DType::float64), rank_deficient(), zeros({2, 3}, DType::float64)}) {
    GradientTape tape;
    tape.watch(x);
    SvdResult r = svd(x);
    Tensor g = tape.gradient(sum(r.s), {x})[0];
    for (double v : vec(g)) CHECK(std::isfinite(v));
    if (x.shape()[0] == 3 && x.shape()[1] == 3) check_close(vec(g), vec(eye(3, 3, DType::float64)), 1e-15);
  }
}

TEST_CASE("norm ord 2, -2 and nuc against NumPy, with axes, keepdims, dtypes and empty matrices", "[linalg][norm][svd]") {
  Tensor m = vals({3, 4});
  CHECK(norm(m, 2).item<double>() == Approx(7.3994979549193349).epsilon(1e-14));
  CHECK(norm(m, -2).item<double>() == Approx(4.8687564434599278).epsilon(1e-14));
  CHECK(norm(m, "nuc").item<double>() == Approx(17.390533257384504).epsilon(1e-14));
  Tensor m32 = vals({3, 4}, DType::float32);
  CHECK(norm(m32, 2).dtype() == DType::float32);
  CHECK(norm(m32, 2).item<double>() == Approx(7.39949799).epsilon(1e-6));
  CHECK(norm(m32, -2).item<double>() == Approx(4.86875629).epsilon(1e-6));
  CHECK(norm(m32, "nuc").item<double>() == Approx(17.3905334).epsilon(1e-6));
  Tensor ints = Tensor({{1, 2}, {3, 4}});
  CHECK(norm(ints, 2).dtype() == DType::float32);
  CHECK(norm(ints, 2).item<double>() == Approx(5.4649857042190426).epsilon(1e-6));
  CHECK(norm(ints, -2).item<double>() == Approx(0.36596619062625746).epsilon(1e-5));
  CHECK(norm(ints, "nuc").item<double>() == Approx(5.8309518948452999).epsilon(1e-6));
  Tensor x = vals({2, 3, 4});
  check_close(vec(norm(x, 2, Axes{0, 2})), {8.2112085635942602, 7.4938822231717479, 5.3538625166772613}, 1e-13);
  check_close(vec(norm(x, -2, Axes{0, 2})), {6.210962399270846, 5.5983684431475629, 4.351052304043038}, 1e-13);
  check_close(vec(norm(x, "nuc", Axes{0, 2})), {14.422170962865106, 13.092250666319311, 9.7049148207202993}, 1e-13);
  Tensor k = norm(x, 2, Axes{2, 0}, true);  // the transposed matrices have the same singular values
  CHECK(k.shape() == Shape{1, 3, 1});
  check_close(vec(k), {8.2112085635942602, 7.4938822231717497, 5.3538625166772613}, 1e-13);
  CHECK(norm(x, "nuc", Axes{-1, -3}, true).shape() == Shape{1, 3, 1});
  CHECK(norm(x, -2, Axes{1, 2}).shape() == Shape{2});
  // Empty matrices: the nuclear norm is 0 (an empty sum); ord 2 and -2 have no value, as in NumPy.
  CHECK(norm(zeros({0, 3}), "nuc").item<double>() == 0);
  CHECK_THROWS_AS(norm(zeros({0, 3}), 2), InvalidArgument);
  CHECK_THROWS_WITH(norm(zeros({3, 0}), -2), Catch::Contains("[norm] matrix norm ord -2 of an empty matrix"));
  CHECK(norm(zeros({2, 0, 3}), 2, Axes{0, 2}).shape() == Shape{0});  // no matrices: no norms
  // Rank-deficient: the smallest singular value is 0 to rounding.
  CHECK(norm(rank_deficient(), -2).item<double>() == Approx(0).margin(1e-14));
  CHECK(norm(rank_deficient(), 2).item<double>() == Approx(12.034953270480417).epsilon(1e-14));
  CHECK(std::isnan(norm(Tensor::from_vector(std::vector<double>{1, std::nan(""), 2, 3}, {2, 2}), 2).item<double>()));
}

TEST_CASE("norm ord 2, -2 and nuc differentiate through svd; svd and the norms replay bitwise", "[linalg][norm][svd][gradients]") {
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], 2); }, {vals({3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], -2); }, {vals({4, 3})});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], "nuc"); }, {vals({3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], 2, Axes{2, 0}, true); }, {vals({2, 3, 4})});
  check_grad([](const std::vector<Tensor>& in) { return norm(in[0], "nuc", Axes{0, 2}); }, {vals({2, 3, 4})});
  for (DType d : {DType::float32, DType::float64}) {
    check_replay([](const std::vector<Tensor>& in) {
      SvdResult r = svd(in[0]), b = svd(in[1]);
      return std::vector<Tensor>{r.u, r.s, r.vh, b.u, b.s, b.vh, norm(in[0], 2), norm(in[0], -2), norm(in[0], "nuc"),
                                 norm(in[1], "nuc", Axes{0, 2}, true)};
    }, {vals({3, 4}, d), vals({2, 3, 2}, d)});
  }
  // The gradient of a traced function replays bitwise too.
  check_replay([](const std::vector<Tensor>& in) {
    GradientTape tape;
    tape.watch(in[0]);
    SvdResult r = svd(in[0]);
    Tensor loss = sum(r.s) + sum(abs(r.u)) + sum(abs(r.vh));
    return tape.gradient(loss, {in[0]});
  }, {vals({3, 4})});
}

TEST_CASE("svd's JSON form round-trips and runs bitwise as traced; empty matrices differentiate to empty gradients", "[linalg][svd]") {
  auto fn = [](const std::vector<Tensor>& in) {
    SvdResult r = svd(in[0]);
    return std::vector<Tensor>{r.u, r.s, r.vh};
  };
  Tensor x = vals({2, 4, 3});
  Graph g = trace_graph(fn, {x});
  std::string text = g.to_json();
  CHECK(text.find("\"svd\"") != std::string::npos);
  Graph back = Graph::from_json(text);
  CHECK(back.to_json() == text);
  std::vector<Tensor> eager = fn({x}), loaded = back.run({x});
  REQUIRE(loaded.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(bitwise_equal(eager[i], loaded[i]));
  for (Shape s : {Shape{0, 3}, Shape{3, 0}, Shape{2, 0, 0}}) {
    Tensor e = zeros(s, DType::float64);
    GradientTape tape;
    tape.watch(e);
    SvdResult r = svd(e);
    Tensor g0 = tape.gradient(sum(r.s) + sum(r.u) + sum(r.vh), {e})[0];
    CHECK(g0.shape() == s);
  }
}

TEST_CASE("svd of vectors as matrices, 1 x 1, and a larger matrix converge to orthonormal factors", "[linalg][svd]") {
  Tensor neg = Tensor::from_vector(std::vector<double>{-3}, {1, 1});
  SvdResult n1 = svd(neg);
  CHECK(n1.s.item<double>() == 3);
  CHECK(elem(n1.u, {0, 0}) * elem(n1.vh, {0, 0}) == -1);
  for (Shape s : {Shape{1, 4}, Shape{4, 1}, Shape{1, 1}}) {
    Tensor x = vals(s);
    SvdResult r = svd(x);
    check_factors(x, r, 1e-14);
    CHECK(r.s.item<double>() == Approx(norm(x).item<double>()).epsilon(1e-15));
  }
  // 40 x 30 and its transpose, values with many distinct singular values.
  std::vector<double> v(1200);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<double>(i * i % 97) + 0.3 * static_cast<double>(i));
  Tensor big = Tensor::from_vector(v, {40, 30});
  check_factors(big, svd(big), 1e-12);
  check_factors(transpose(big), svd(transpose(big)), 1e-12);
  // The sum of squared singular values is the squared Frobenius norm.
  CHECK(sum(square(svd(big).s)).item<double>() == Approx(sum(square(big)).item<double>()).epsilon(1e-13));
}

// ---- svd(x, full_matrices = true) ----
//
// NumPy 1.24's full U and Vh of the same vals() inputs. Their columns / rows are unique up to sign
// where they belong to a distinct nonzero singular value, and so is the one extra column of a
// matrix whose sizes differ by 1; with more extra columns only the subspace they span is unique,
// so it is compared through its projector P = V2 V2^T.

namespace {

// Each column of got (m x c) equals the same column of want, or its negative.
void check_cols_up_to_sign(const Tensor& got, const std::vector<double>& want, double tol) {
  const int64_t m = got.shape()[0], c = got.shape()[1];
  std::vector<double> g = vec(got);
  REQUIRE(g.size() == want.size());
  for (int64_t j = 0; j < c; ++j) {
    size_t big = static_cast<size_t>(j);  // the sign from the column's largest entry
    for (int64_t i = 0; i < m; ++i)
      if (std::abs(want[static_cast<size_t>(i * c + j)]) > std::abs(want[big])) big = static_cast<size_t>(i * c + j);
    const double sign = (g[big] < 0) == (want[big] < 0) ? 1.0 : -1.0;
    for (int64_t i = 0; i < m; ++i) {
      INFO("column " << j << " row " << i);
      const size_t e = static_cast<size_t>(i * c + j);
      CHECK(sign * g[e] == Approx(want[e]).margin(tol));
    }
  }
}

// The full factors: U (..., m, m) and Vh (..., n, n) orthonormal, their first k columns / rows
// bitwise the thin ones, and U[..., :k] S Vh[..., :k, :] == x.
void check_full_factors(const Tensor& x, const SvdResult& f, double tol) {
  const int64_t r = x.rank(), m = x.shape()[r - 2], n = x.shape()[r - 1], k = std::min(m, n);
  Shape us(x.shape().begin(), x.shape().end() - 1), vs(x.shape().begin(), x.shape().end() - 2);
  us.push_back(m);
  vs.push_back(n);
  vs.push_back(n);
  CHECK(f.u.shape() == us);
  CHECK(f.vh.shape() == vs);
  CHECK(f.u.dtype() == x.dtype());
  std::vector<Slice> first_cols(static_cast<size_t>(r - 1), all_), first_rows(static_cast<size_t>(r - 2), all_);
  first_cols.push_back(Slice(0, k));
  first_rows.push_back(Slice(0, k));
  SvdResult thin = svd(x);
  CHECK(bitwise_equal(slice(f.u, first_cols).contiguous(), thin.u));
  CHECK(bitwise_equal(f.s, thin.s));
  CHECK(bitwise_equal(slice(f.vh, first_rows).contiguous(), thin.vh));
  Shape batch(x.shape().begin(), x.shape().end() - 2);
  auto id = [&](int64_t d) {
    Shape b = batch;
    b.push_back(d);
    b.push_back(d);
    return broadcast_to(eye(d, d, x.dtype()), b);
  };
  check_close(vec(matmul(swap_last(f.u), f.u)), vec(id(m)), tol);
  check_close(vec(matmul(f.u, swap_last(f.u))), vec(id(m)), tol);
  check_close(vec(matmul(f.vh, swap_last(f.vh))), vec(id(n)), tol);
  check_close(vec(matmul(swap_last(f.vh), f.vh)), vec(id(n)), tol);
}

}  // namespace

TEST_CASE("svd full_matrices: square U and Vh against NumPy, orthonormal, thin part bitwise", "[linalg][svd][full]") {
  Tensor tall = vals({4, 3}), wide = vals({3, 5}), batch = vals({2, 3, 4});
  SvdResult t = svd(tall, true), w = svd(wide, true), b = svd(batch, true);
  CHECK(t.u.shape() == Shape{4, 4});
  CHECK(t.vh.shape() == Shape{3, 3});
  CHECK(w.u.shape() == Shape{3, 3});
  CHECK(w.vh.shape() == Shape{5, 5});
  CHECK(b.u.shape() == Shape{2, 3, 3});
  CHECK(b.vh.shape() == Shape{2, 4, 4});
  check_full_factors(tall, t, 1e-13);
  check_full_factors(wide, w, 1e-13);
  check_full_factors(batch, b, 1e-13);
  // 4 x 3: all of U, the extra column included, is unique up to sign.
  check_cols_up_to_sign(t.u, {-0.11530309231053282, -0.965775722259484, -0.2323412386938708, 1.3569424505551457e-16,
                              0.653464944789432, -0.22178460155148116, 0.5976022839475503, 0.40824829046386296,
                              0.5693747686277864, -0.0480907858074584, -0.08266185640190589, -0.8164965809277259,
                              0.48528459246614064, 0.1256030299365642, -0.7629259967513622, 0.4082482904638632}, 1e-13);
  check_cols_up_to_sign(transpose(t.vh), vec(transpose(Tensor::from_vector(std::vector<double>{
      0.9469139924086789, -0.15492455728067334, 0.2816953541186713, 0.25215755846217647, -0.18563029181021184,
      -0.949714673190243, 0.19942531607358774, 0.9703297255643788, -0.13671052262026762}, {3, 3}))), 1e-13);
  // 3 x 5: U and the first 3 rows of Vh up to sign; rows 3 and 4 span NumPy's null space.
  check_cols_up_to_sign(w.u, {-0.668804337021443, 0.1716170997287706, -0.7233590601229749, -0.18969772248863756,
                              -0.9801774973653204, -0.05715634471588872, -0.7188292793591066, 0.09899315501257078,
                              0.6881023342474033}, 1e-13);
  check_cols_up_to_sign(transpose(slice(w.vh, {Slice(0, 3)})), vec(transpose(Tensor::from_vector(std::vector<double>{
      0.20133032028376022, -0.20058383138930863, -0.44367904823243104, -0.8455931999054999, -0.08575121662557474,
      -0.4029933358081831, -0.6587098160898408, 0.2462194498330946, -0.009497030448563364, -0.5856479645807958,
      0.6687506934054579, -0.1934390340329088, 0.6964905901081482, -0.1656991373302225, 0.05290088809233856},
      {3, 5}))), 1e-13);
  Tensor v2 = slice(w.vh, {Slice(3, 5)});
  check_close(vec(matmul(transpose(v2), v2)),
              {0.34983498349835135, -0.09570957095709655, -0.2772277227722773, 0.27722772277227775, -0.25412541254125415,
               -0.09570957095709655, 0.48844884488448875, 0.20792079207920744, -0.20792079207920794, -0.3927392739273927,
               -0.2772277227722773, 0.20792079207920744, 0.25742574257425604, -0.2574257425742566, 0.06930693069306919,
               0.27722772277227775, -0.20792079207920794, -0.2574257425742566, 0.2574257425742571, -0.06930693069306922,
               -0.25412541254125415, -0.3927392739273927, 0.06930693069306919, -0.06930693069306922, 0.6468646864686467},
              1e-13);
  Tensor b2 = slice(b.vh, {all_, Slice(2, 4)});
  check_close(vec(matmul(swap_last(b2), b2)),
              {0.8196703425708075, -0.23165452964091768, 0.10695596784848799, 0.28758906780178733,
               -0.23165452964091768, 0.2533228965694117, -0.32190018334714593, 0.17851290569875838,
               0.10695596784848799, -0.32190018334714593, 0.46682545301449363, -0.36584169026366214,
               0.28758906780178733, 0.17851290569875838, -0.36584169026366214, 0.4601813078452869,
               0.45613850119263377, -0.04858654292656802, -0.03601807235683872, -0.4943867061648338,
               -0.04858654292656802, 0.05695984205533849, -0.21748029854439732, 0.063695259163096,
               -0.03601807235683872, -0.21748029854439732, 0.9487082111650209, -0.008121541837893593,
               -0.4943867061648338, 0.063695259163096, -0.008121541837893593, 0.5381934455870072},
              1e-13);
  // float32, deterministic, a batch element alone, rank-deficient, and a larger matrix.
  Tensor t32 = vals({4, 3}, DType::float32);
  SvdResult f = svd(t32, true);
  CHECK(f.u.dtype() == DType::float32);
  check_full_factors(t32, f, 1e-6);
  SvdResult t2 = svd(tall, true);
  CHECK(bitwise_equal(t2.u, t.u));
  CHECK(bitwise_equal(t2.vh, t.vh));
  SvdResult b1 = svd(slice(batch, {Slice(1, 2)}), true);
  CHECK(bitwise_equal(b1.vh, slice(b.vh, {Slice(1, 2)}).contiguous()));
  check_full_factors(rank_deficient(), svd(rank_deficient(), true), 1e-13);
  check_full_factors(transpose(rank_deficient()), svd(transpose(rank_deficient()), true), 1e-13);
  std::vector<double> v(1200);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<double>(i * i % 97) + 0.3 * static_cast<double>(i));
  Tensor big = Tensor::from_vector(v, {40, 30});
  check_full_factors(big, svd(big, true), 1e-12);
  check_full_factors(transpose(big), svd(transpose(big), true), 1e-12);
}

TEST_CASE("svd full_matrices edge cases: empty and zero matrices, vectors, NaN", "[linalg][svd][full]") {
  // As NumPy: an empty dimension's factor is the identity.
  SvdResult e1 = svd(zeros({0, 3}, DType::float64), true), e2 = svd(zeros({3, 0}, DType::float64), true);
  CHECK(e1.u.shape() == Shape{0, 0});
  CHECK(e1.s.shape() == Shape{0});
  CHECK(bitwise_equal(e1.vh, eye(3, 3, DType::float64)));
  CHECK(bitwise_equal(e2.u, eye(3, 3, DType::float64)));
  CHECK(e2.vh.shape() == Shape{0, 0});
  SvdResult e3 = svd(zeros({2, 0, 0}), true);
  CHECK(e3.u.shape() == Shape{2, 0, 0});
  CHECK(e3.vh.shape() == Shape{2, 0, 0});
  CHECK(svd(zeros({0, 2, 3}), true).vh.shape() == Shape{0, 3, 3});
  // The zero matrix: U is a whole orthonormal basis (NumPy: the identity; so is this completion).
  SvdResult z = svd(zeros({4, 2}, DType::float64), true);
  check_full_factors(zeros({4, 2}, DType::float64), z, 1e-15);
  CHECK(bitwise_equal(z.u, eye(4, 4, DType::float64)));
  for (Shape s : {Shape{1, 4}, Shape{4, 1}, Shape{1, 1}, Shape{6, 2}})
    check_full_factors(vals(s), svd(vals(s), true), 1e-14);
  // NaN in one matrix: its whole U and Vh are NaN, the other matrix is computed.
  std::vector<double> nv = vec(vals({2, 2, 3}));
  nv[7] = std::nan("");
  SvdResult nb = svd(Tensor::from_vector(nv, {2, 2, 3}), true);
  std::vector<double> u = vec(nb.u), vh = vec(nb.vh);
  for (size_t i = 4; i < 8; ++i) CHECK(std::isnan(u[i]));
  for (size_t i = 9; i < 18; ++i) CHECK(std::isnan(vh[i]));
  for (size_t i = 0; i < 9; ++i) CHECK(std::isfinite(vh[i]));
  CHECK(bitwise_equal(slice(nb.vh, {Slice(0, 1)}).contiguous(), svd(vals({1, 2, 3}), true).vh));
}

TEST_CASE("svd full_matrices gradients: defined when |m - n| <= 1, Unimplemented otherwise", "[linalg][svd][full][gradients]") {
  for (Shape s : {Shape{3, 3}, Shape{4, 3}, Shape{3, 4}, Shape{2, 3, 2}}) {
    INFO("shape " << s.size() << " axes, last " << s.back());
    Tensor x = vals(s) + 0.01;
    {
      INFO("S");
      check_grad([](const std::vector<Tensor>& in) { return svd(in[0], true).s; }, {x});
    }
    // U and Vh through sum_j c_j u_j u_j^T with distinct c_j: free of each column's sign (abs()
    // is not: the 4 x 3 matrix's extra column of U has an entry at 0).
    {
      INFO("U");
      check_grad([](const std::vector<Tensor>& in) {
        Tensor u = svd(in[0], true).u;
        Tensor c = cast(arange(1, u.shape().back() + 1), DType::float64);
        return matmul(u * c, swap_last(u));
      }, {x});
    }
    {
      INFO("Vh");
      check_grad([](const std::vector<Tensor>& in) {
        Tensor v = swap_last(svd(in[0], true).vh);
        Tensor c = cast(arange(1, v.shape().back() + 1), DType::float64);
        return matmul(v * c, swap_last(v));
      }, {x});
    }
    INFO("the extra column's projector");
    // The extra column alone, as a projector (sign-free): its own cotangent term.
    check_grad([](const std::vector<Tensor>& in) {
      SvdResult r = svd(in[0], true);
      const int64_t m = in[0].shape()[in[0].rank() - 2], n = in[0].shape().back();
      std::vector<Slice> sl(static_cast<size_t>(in[0].rank() - 2), all_);
      sl.push_back(m > n ? Slice(m - 1, m) : Slice(n - 1, n));
      Tensor last = slice(m > n ? swap_last(r.u) : r.vh, sl);  // (..., 1, m or n)
      return matmul(swap_last(last), last);
    }, {x});
  }
  // Two or more extra columns span a subspace with no unique basis: no gradient, as TensorFlow.
  for (Shape s : {Shape{2, 4}, Shape{5, 3}, Shape{2, 1, 3}}) {
    Tensor x = vals(s);
    GradientTape tape;
    tape.watch(x);
    SvdResult r = svd(x, true);
    CHECK_THROWS_AS(tape.gradient(sum(r.s), {x}), Unimplemented);
  }
  {
    Tensor x = vals({2, 4});
    GradientTape tape;
    tape.watch(x);
    Tensor s = svd(x, true).s;
    CHECK_THROWS_WITH(tape.gradient(sum(s), {x}),
                      Catch::Contains("[svd] gradient of full_matrices = true") && Catch::Contains("(2, 4) float64") &&
                          Catch::Contains("full_matrices = false"));
  }
  // The thin svd of the same matrices still differentiates.
  check_grad([](const std::vector<Tensor>& in) { return svd(in[0]).s; }, {vals({2, 4}) + 0.01});
}

TEST_CASE("svd full_matrices replays bitwise and round-trips through JSON; older documents load as thin", "[linalg][svd][full]") {
  for (DType d : {DType::float32, DType::float64}) {
    check_replay([](const std::vector<Tensor>& in) {
      SvdResult r = svd(in[0], true), b = svd(in[1], true);
      return std::vector<Tensor>{r.u, r.s, r.vh, b.u, b.s, b.vh};
    }, {vals({3, 5}, d), vals({2, 4, 3}, d)});
  }
  check_replay([](const std::vector<Tensor>& in) {
    GradientTape tape;
    tape.watch(in[0]);
    SvdResult r = svd(in[0], true);
    return tape.gradient(sum(r.s) + sum(abs(r.u)) + sum(abs(r.vh)), {in[0]});
  }, {vals({4, 3})});
  auto fn = [](const std::vector<Tensor>& in) {
    SvdResult f = svd(in[0], true), t = svd(in[0]);
    return std::vector<Tensor>{f.u, f.s, f.vh, t.u};
  };
  Tensor x = vals({2, 5, 3});
  Graph g = trace_graph(fn, {x});
  std::string text = g.to_json();
  nlohmann::json j = nlohmann::json::parse(text);
  CHECK(j["schema_version"] == nlohmann::json::array({1, 3}));
  std::vector<bool> flags;
  for (const auto& n : j["nodes"])
    if (n["op"] == "svd") flags.push_back(n["attrs"]["full_matrices"].get<bool>());
  CHECK(flags == std::vector<bool>{true, false});
  Graph back = Graph::from_json(text);
  CHECK(back.to_json() == text);
  std::vector<Tensor> eager = fn({x}), loaded = back.run({x});
  REQUIRE(loaded.size() == 4);
  for (size_t i = 0; i < 4; ++i) CHECK(bitwise_equal(eager[i], loaded[i]));
  CHECK(loaded[0].shape() == Shape{2, 5, 5});
  // A 1.2 document has no full_matrices: its svd is the thin one (the only one it could describe).
  auto thin_fn = [](const std::vector<Tensor>& in) {
    SvdResult t = svd(in[0]);
    return std::vector<Tensor>{t.u, t.s, t.vh};
  };
  nlohmann::json old = nlohmann::json::parse(trace_graph(thin_fn, {x}).to_json());
  old["schema_version"] = {1, 2};
  for (auto& n : old["nodes"]) {
    CHECK(n["attrs"]["full_matrices"] == false);
    n["attrs"].erase("full_matrices");
  }
  std::vector<Tensor> thin = Graph::from_json(old.dump()).run({x});
  CHECK(thin[0].shape() == Shape{2, 5, 3});
  CHECK(bitwise_equal(thin[0], eager[3]));
  // A 1.3 document must have it.
  nlohmann::json missing = old;
  missing["schema_version"] = {1, 3};
  CHECK_THROWS_WITH(Graph::from_json(missing.dump()), Catch::Contains("full_matrices: missing"));
}
