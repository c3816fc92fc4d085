// einsum, norm, diag, trace, triu, tril and meshgrid (lib/ops/linalg_extra.cpp) against direct
// loops written here (NumPy's definitions), with their errors, gradients and replays.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

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
  CHECK_THROWS_AS(norm(m, 2), Unimplemented);
  CHECK_THROWS_WITH(norm(m, 2), Catch::Contains("[norm]") && Catch::Contains("singular values"));
  CHECK_THROWS_AS(norm(m, "nuc"), Unimplemented);
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
