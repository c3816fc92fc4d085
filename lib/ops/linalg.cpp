// matmul: float32/float64 through BLAS gemm (one call per batch matrix), integers through a
// straightforward i-k-j loop that wraps like NumPy.
#include <cblas.h>

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
