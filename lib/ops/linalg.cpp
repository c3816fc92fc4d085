// matmul: float32/float64 through BLAS gemm (one call per batch matrix), integers through a
// straightforward i-k-j loop that wraps like NumPy. svd: one-sided Jacobi (see below).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/dispatch.hpp"
#include "core/parallel.hpp"
#include "ops/elementwise_fns.hpp"
#include "ops/prims.hpp"

namespace xf {

Specs MatMul::infer(const Attrs&, const Specs& in) {
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects 2 inputs");
  const Shape& a = in[0].shape;
  const Shape& b = in[1].shape;
  if (a.size() < 2 || b.size() < 2)
    infer_fail(ErrorCode::shape, "operands need rank >= 2 (the public op handles vectors): " + specs_str(in));
  if (in[0].dtype != in[1].dtype)
    infer_fail(ErrorCode::dtype, "operands must have one dtype: " + specs_str(in));
  if (in[0].dtype == DType::bool_) infer_fail(ErrorCode::dtype, "bool operands are not supported: " + specs_str(in));
  if (a[a.size() - 1] != b[b.size() - 2]) infer_fail(ErrorCode::shape, "inner dimensions differ: " + specs_str(in));
  Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  Shape batch;
  try {
    batch = infer_broadcast({TensorSpec{in[0].dtype, ba}, TensorSpec{in[1].dtype, bb}});
  } catch (const ShapeError&) {  // name the operands, not just their batch dimensions
    infer_fail(ErrorCode::shape, "batch dimensions cannot be broadcast: " + specs_str(in));
  }
  batch.push_back(a[a.size() - 2]);
  batch.push_back(b[b.size() - 1]);
  return {TensorSpec{in[0].dtype, batch}};
}

namespace {

// A matrix operand as gemm sees it: row-major contiguous, or the transpose of one.
struct MatView {
  Tensor t;
  bool trans = false;
  int64_t ld = 0;
};

MatView as_gemm_operand(const Tensor& x) {
  int64_t r = x.rank();
  const Shape& s = x.shape();
  const Strides& st = x.strides();
  int64_t rows = s[r - 2], cols = s[r - 1];
  // Batch axes must be dense for the pointer arithmetic below; the matrix may be transposed.
  bool batch_dense = true;
  int64_t expect = rows * cols;
  for (int64_t i = r - 3; i >= 0; --i) {
    if (s[i] != 1 && st[i] != expect) batch_dense = false;
    expect *= s[i];
  }
  if (batch_dense && (cols == 1 || st[r - 1] == 1) && (rows == 1 || st[r - 2] == cols))
    return MatView{x, false, std::max<int64_t>(cols, 1)};
  if (batch_dense && (rows == 1 || st[r - 2] == 1) && (cols == 1 || st[r - 1] == rows))
    return MatView{x, true, std::max<int64_t>(rows, 1)};
  Tensor c = x.contiguous();
  return MatView{c, false, std::max<int64_t>(cols, 1)};
}

// Offset (in matrices) of batch index `bi` of the output inside an operand with batch shape `s`.
int64_t batch_offset(int64_t bi, const Shape& out_batch, const Shape& s) {
  int64_t off = 0, mul = 1;
  size_t lead = out_batch.size() - s.size();
  for (size_t d = out_batch.size(); d-- > 0;) {
    int64_t i = bi % out_batch[d];
    bi /= out_batch[d];
    if (d >= lead) {
      int64_t n = s[d - lead];
      if (n != 1) off += i * mul;
      mul *= n;
    }
  }
  return off;
}

}  // namespace

void MatMul::eval(const Attrs&, const Tensors& in, Tensors& out) {
  MatView a = as_gemm_operand(in[0]);
  MatView b = as_gemm_operand(in[1]);
  Tensor& y = out[0];
  const Shape& ys = y.shape();
  int64_t m = ys[ys.size() - 2], n = ys[ys.size() - 1];
  int64_t k = in[0].shape().back();
  Shape out_batch(ys.begin(), ys.end() - 2);
  Shape a_batch(in[0].shape().begin(), in[0].shape().end() - 2);
  Shape b_batch(in[1].shape().begin(), in[1].shape().end() - 2);
  int64_t batches = numel(out_batch);
  if (m == 0 || n == 0 || batches == 0) return;
  detail::visit_dtype(y.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.t.data<T>();
    const T* pb = b.t.data<T>();
    T* py = y.data<T>();
    for (int64_t bi = 0; bi < batches; ++bi) {
      const T* am = pa + batch_offset(bi, out_batch, a_batch) * m * k;
      const T* bm = pb + batch_offset(bi, out_batch, b_batch) * k * n;
      T* ym = py + bi * m * n;
      if (k == 0) {
        std::fill(ym, ym + m * n, T(0));
        continue;
      }
      if constexpr (std::is_same_v<T, float>) {
        cblas_sgemm(CblasRowMajor, a.trans ? CblasTrans : CblasNoTrans, b.trans ? CblasTrans : CblasNoTrans,
                    static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, am,
                    static_cast<int>(a.ld), bm, static_cast<int>(b.ld), 0.0f, ym, static_cast<int>(n));
      } else if constexpr (std::is_same_v<T, double>) {
        cblas_dgemm(CblasRowMajor, a.trans ? CblasTrans : CblasNoTrans, b.trans ? CblasTrans : CblasNoTrans,
                    static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0, am,
                    static_cast<int>(a.ld), bm, static_cast<int>(b.ld), 0.0, ym, static_cast<int>(n));
      } else {
        auto at = [&](int64_t i, int64_t j) { return a.trans ? am[j * a.ld + i] : am[i * a.ld + j]; };
        auto bt = [&](int64_t i, int64_t j) { return b.trans ? bm[j * b.ld + i] : bm[i * b.ld + j]; };
        detail::parallel_for(m, std::max<int64_t>(1, 4096 / std::max<int64_t>(n * k, 1)), [&](int64_t rb, int64_t re) {
          for (int64_t i = rb; i < re; ++i) {
            T* row = ym + i * n;
            std::fill(row, row + n, T(0));
            for (int64_t p = 0; p < k; ++p) {
              T av = at(i, p);
              for (int64_t j = 0; j < n; ++j) row[j] = ew::wrap_add(row[j], ew::wrap_mul(av, bt(p, j)));
            }
          }
        });
      }
    }
  });
}

}  // namespace xf

// ---- svd ----
//
// One-sided Jacobi (Hestenes): the columns of the matrix are rotated pairwise until they are
// orthogonal; their norms are then the singular values, the normalized columns U, and the
// product of the rotations V. Computed in float64 for both dtypes, sequentially in a fixed order,
// so the result is deterministic. Accurate to a few ulps relative to the largest singular value.

namespace xf {

Specs Svd::infer(const Attrs& at, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  const Shape& s = in[0].shape;
  if (s.size() < 2) infer_fail(ErrorCode::shape, "needs at least 2 axes (a matrix or a batch of them): x is " + spec_str(in[0]));
  if (!is_floating(in[0].dtype))
    infer_fail(ErrorCode::dtype, "needs float32 or float64 (the public op converts integers): x is " + spec_str(in[0]));
  const int64_t m = s[s.size() - 2], n = s.back(), k = std::min(m, n);
  Shape u(s.begin(), s.end() - 1), sv(s.begin(), s.end() - 2), vh(s.begin(), s.end() - 2);
  u.push_back(at.full_matrices ? m : k);
  sv.push_back(k);
  vh.push_back(at.full_matrices ? n : k);
  vh.push_back(n);
  return {TensorSpec{in[0].dtype, u}, TensorSpec{in[0].dtype, sv}, TensorSpec{in[0].dtype, vh}};
}

namespace {

double dot_cols(const double* a, const double* b, int64_t m) {
  double r = 0;
  for (int64_t i = 0; i < m; ++i) r += a[i] * b[i];
  return r;
}

// The thin SVD of one m x n matrix with m >= n, given by its columns: wt[j * m + i] = a(i, j).
// On return wt holds the columns of U (unit, orthonormal, sorted by s descending), s the singular
// values (descending) and vt the columns of V (vt[j * n + i] = V(i, j)).
void jacobi_svd(std::vector<double>& wt, int64_t m, int64_t n, std::vector<double>& s, std::vector<double>& vt) {
  constexpr double eps = std::numeric_limits<double>::epsilon();
  vt.assign(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j) vt[static_cast<size_t>(j * n + j)] = 1.0;
  // Scaled to a largest |a| of 1: the squared column norms neither overflow nor underflow.
  double scale = 0;
  for (double v : wt) scale = std::max(scale, std::abs(v));
  if (scale > 0)
    for (double& v : wt) v /= scale;
  const double tol = eps * static_cast<double>(std::max<int64_t>(m, 1));
  for (int sweep = 0; sweep < 80 && scale > 0; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p + 1 < n; ++p)
      for (int64_t q = p + 1; q < n; ++q) {
        double* wp = &wt[static_cast<size_t>(p * m)];
        double* wq = &wt[static_cast<size_t>(q * m)];
        const double alpha = dot_cols(wp, wp, m), beta = dot_cols(wq, wq, m), gamma = dot_cols(wp, wq, m);
        if (gamma == 0 || std::abs(gamma) <= tol * std::sqrt(alpha * beta)) continue;
        rotated = true;
        // The rotation that makes columns p and q orthogonal, with the smaller angle.
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = std::abs(zeta) > 1e150 ? 0.5 / zeta
                                                : (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::sqrt(1 + zeta * zeta));
        const double c = 1 / std::sqrt(1 + t * t), sn = c * t;
        for (int64_t i = 0; i < m; ++i) {
          const double x = wp[i], y = wq[i];
          wp[i] = c * x - sn * y;
          wq[i] = sn * x + c * y;
        }
        double* vp = &vt[static_cast<size_t>(p * n)];
        double* vq = &vt[static_cast<size_t>(q * n)];
        for (int64_t i = 0; i < n; ++i) {
          const double x = vp[i], y = vq[i];
          vp[i] = c * x - sn * y;
          vq[i] = sn * x + c * y;
        }
      }
    if (!rotated) break;
  }
  std::vector<double> norms(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    const double* w = &wt[static_cast<size_t>(j * m)];
    norms[static_cast<size_t>(j)] = std::sqrt(dot_cols(w, w, m));
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) order[static_cast<size_t>(j)] = j;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return norms[static_cast<size_t>(a)] > norms[static_cast<size_t>(b)]; });
  std::vector<double> u(static_cast<size_t>(n * m)), v(static_cast<size_t>(n * n));
  s.assign(static_cast<size_t>(n), 0.0);
  // Columns whose norm is at the rounding level of the largest are numerically zero: their
  // direction is noise, so U gets an orthonormal completion there instead.
  const double smax = n > 0 ? norms[static_cast<size_t>(order[0])] : 0.0;
  std::vector<bool> filled(static_cast<size_t>(n), false);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t o = order[static_cast<size_t>(j)];
    const double nrm = norms[static_cast<size_t>(o)];
    s[static_cast<size_t>(j)] = nrm * scale;
    std::copy_n(&vt[static_cast<size_t>(o * n)], n, &v[static_cast<size_t>(j * n)]);
    if (nrm > 0 && nrm > smax * tol * static_cast<double>(n)) {
      for (int64_t i = 0; i < m; ++i) u[static_cast<size_t>(j * m + i)] = wt[static_cast<size_t>(o * m + i)] / nrm;
      filled[static_cast<size_t>(j)] = true;
    }
  }
  // The completion: for each missing column, the unit vector e_i farthest from the span of the
  // columns so far, orthogonalized twice (classical Gram-Schmidt with reorthogonalization).
  std::vector<double> cand(static_cast<size_t>(m)), best(static_cast<size_t>(m));
  auto project_out = [&](std::vector<double>& x) {
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t j = 0; j < n; ++j) {
        if (!filled[static_cast<size_t>(j)]) continue;
        const double* uj = &u[static_cast<size_t>(j * m)];
        const double d = dot_cols(uj, x.data(), m);
        for (int64_t i = 0; i < m; ++i) x[static_cast<size_t>(i)] -= d * uj[i];
      }
  };
  for (int64_t j = 0; j < n; ++j) {
    if (filled[static_cast<size_t>(j)]) continue;
    double best_norm = -1;
    for (int64_t e = 0; e < m; ++e) {
      std::fill(cand.begin(), cand.end(), 0.0);
      cand[static_cast<size_t>(e)] = 1.0;
      project_out(cand);
      const double nrm = std::sqrt(dot_cols(cand.data(), cand.data(), m));
      if (nrm > best_norm + 1e-12) {
        best_norm = nrm;
        best = cand;
      }
    }
    for (int64_t i = 0; i < m; ++i) u[static_cast<size_t>(j * m + i)] = best[static_cast<size_t>(i)] / best_norm;
    filled[static_cast<size_t>(j)] = true;
  }
  wt = std::move(u);
  vt = std::move(v);
}

// Completes the c orthonormal columns q[0 .. c) (each of length m, q[j * m + i]) to an
// orthonormal basis of m columns, deterministically: each new column is the unit vector e_i
// whose residual against the columns so far is largest (the first on ties), normalized and
// orthogonalized again. The residuals of all m unit vectors are kept and updated column by
// column, so the completion costs O(m^3). full_matrices' extra columns (docs/ops.md).
void complete_basis(std::vector<double>& q, int64_t m, int64_t c) {
  q.resize(static_cast<size_t>(m * m));
  // Residuals r_e = (I - Q Q^T) e_e, twice (classical Gram-Schmidt with reorthogonalization).
  std::vector<double> r(static_cast<size_t>(m * m), 0.0);
  for (int64_t e = 0; e < m; ++e) r[static_cast<size_t>(e * m + e)] = 1.0;
  auto project_out = [&](double* x, int64_t upto) {
    for (int64_t j = 0; j < upto; ++j) {
      const double* qj = &q[static_cast<size_t>(j * m)];
      const double d = dot_cols(qj, x, m);
      for (int64_t i = 0; i < m; ++i) x[i] -= d * qj[i];
    }
  };
  for (int pass = 0; pass < 2; ++pass)
    for (int64_t e = 0; e < m; ++e) project_out(&r[static_cast<size_t>(e * m)], c);
  for (int64_t j = c; j < m; ++j) {
    int64_t best = 0;
    double best_norm = -1;
    for (int64_t e = 0; e < m; ++e) {
      const double* re = &r[static_cast<size_t>(e * m)];
      const double nrm = std::sqrt(dot_cols(re, re, m));
      if (nrm > best_norm) {
        best_norm = nrm;
        best = e;
      }
    }
    double* qj = &q[static_cast<size_t>(j * m)];
    std::copy_n(&r[static_cast<size_t>(best * m)], m, qj);
    for (int pass = 0; pass < 2; ++pass) {
      double nrm = std::sqrt(dot_cols(qj, qj, m));
      for (int64_t i = 0; i < m; ++i) qj[i] /= nrm;
      if (pass == 0) project_out(qj, j);
    }
    for (int64_t e = 0; e < m; ++e) {
      double* re = &r[static_cast<size_t>(e * m)];
      const double d = dot_cols(qj, re, m);
      for (int64_t i = 0; i < m; ++i) re[i] -= d * qj[i];
    }
  }
}

}  // namespace

void Svd::eval(const Attrs& at, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  const Shape& sh = x.shape();
  const int64_t r = static_cast<int64_t>(sh.size()), m = sh[r - 2], n = sh[r - 1], k = std::min(m, n);
  const bool full = at.full_matrices;
  const int64_t uc = full ? m : k, vr = full ? n : k;  // U (m, uc), Vh (vr, n)
  int64_t batch = 1;
  for (int64_t i = 0; i + 2 < r; ++i) batch *= sh[i];
  if (batch == 0 || (k == 0 && !full)) return;
  const bool wide = m < n;  // decompose the transpose: A^T = W S V^T gives A = V S W^T
  const int64_t rows = wide ? n : m, cols = k;
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T* px = x.data<T>();
      T* pu = out[0].data<T>();
      T* ps = out[1].data<T>();
      T* pv = out[2].data<T>();
      std::vector<double> wt(static_cast<size_t>(rows * cols)), s, vt;
      for (int64_t b = 0; b < batch; ++b) {
        const T* a = px + b * m * n;
        T* ub = pu + b * m * uc;
        T* sb = ps + b * k;
        T* vb = pv + b * vr * n;
        bool finite = true;
        // The columns of the tall matrix: A's columns, or A's rows when A is wide.
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            const double v = static_cast<double>(a[i * n + j]);
            finite = finite && std::isfinite(v);
            wt[static_cast<size_t>(wide ? i * n + j : j * m + i)] = v;
          }
        if (!finite) {  // NaN or inf: no decomposition, NaN everywhere (docs/ops.md)
          const T nan = std::numeric_limits<T>::quiet_NaN();
          std::fill_n(ub, m * uc, nan);
          std::fill_n(sb, k, nan);
          std::fill_n(vb, vr * n, nan);
          continue;
        }
        std::vector<double> w = wt;
        if (k > 0) {
          jacobi_svd(w, rows, cols, s, vt);
        } else {
          w.clear();
          vt.clear();
        }
        // w: the tall factor's columns (rows values each); vt: the small factor's columns (k each).
        // full_matrices: the tall factor gets rows - k more columns; the small one is square.
        const int64_t wc = full ? rows : k;
        if (full) complete_basis(w, rows, k);
        for (int64_t j = 0; j < k; ++j) sb[j] = static_cast<T>(s[static_cast<size_t>(j)]);
        for (int64_t j = 0; j < wc; ++j) {
          const double* wcol = &w[static_cast<size_t>(j * rows)];
          if (!wide)
            for (int64_t i = 0; i < m; ++i) ub[i * uc + j] = static_cast<T>(wcol[i]);  // U = W
          else
            for (int64_t i = 0; i < n; ++i) vb[j * n + i] = static_cast<T>(wcol[i]);  // Vh = W^T
        }
        for (int64_t j = 0; j < k; ++j) {
          const double* vc = &vt[static_cast<size_t>(j * k)];
          if (!wide)
            for (int64_t i = 0; i < n; ++i) vb[j * n + i] = static_cast<T>(vc[i]);  // Vh = V^T
          else
            for (int64_t i = 0; i < m; ++i) ub[i * uc + j] = static_cast<T>(vc[i]);  // U = V
        }
      }
    } else {
      throw Internal("[svd] eval of a non-float dtype");
    }
  });
}

}  // namespace xf
