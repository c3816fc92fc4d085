// conv2d (im2col + BLAS gemm) and 2-D pooling, NHWC as TensorFlow, SAME/VALID padding.
#include <cblas.h>

#include <algorithm>
#include <limits>

#include "core/dispatch.hpp"
#include "core/parallel.hpp"
#include "ops/prims.hpp"

namespace xf {
namespace {

struct Window {
  int64_t out = 0, pad_before = 0;
};

// TensorFlow's rule: SAME gives ceil(in / stride) outputs, VALID ceil((in - k + 1) / stride).
Window window_dim(int64_t in, int64_t k, int64_t stride, const std::string& padding) {
  Window w;
  if (padding == "SAME") {
    w.out = (in + stride - 1) / stride;
    int64_t total = std::max<int64_t>((w.out - 1) * stride + k - in, 0);
    w.pad_before = total / 2;
  } else {
    w.out = in >= k ? (in - k) / stride + 1 : 0;
  }
  return w;
}

void check_padding(const std::string& p, const Specs& in, const char* const* names = nullptr) {
  if (p != "SAME" && p != "VALID")
    infer_fail(ErrorCode::invalid_argument, "padding must be SAME or VALID, got '" + p + "': " + specs_str(in, names));
}

void check_pair(const std::vector<int64_t>& v, const char* what, const Specs& in, const char* const* names = nullptr) {
  if (v.size() != 2 || v[0] < 1 || v[1] < 1)
    infer_fail(ErrorCode::invalid_argument, std::string(what) + " must be two positive numbers: " + specs_str(in, names));
}

}  // namespace

Specs Conv2D::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"input", "filter"};
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects input and filter");
  const Shape& x = in[0].shape;
  const Shape& f = in[1].shape;
  if (x.size() != 4 || f.size() != 4)
    infer_fail(ErrorCode::shape, "input must be NHWC and filter (kh, kw, in, out): " + specs_str(in, names));
  if (!is_floating(in[0].dtype) || in[0].dtype != in[1].dtype)
    infer_fail(ErrorCode::dtype, "input and filter must have one float dtype: " + specs_str(in, names));
  if (x[3] != f[2]) infer_fail(ErrorCode::shape, "input channels differ from the filter's: " + specs_str(in, names));
  check_pair(a.strides, "strides", in, names);
  check_padding(a.padding, in, names);
  if (f[0] < 1 || f[1] < 1) infer_fail(ErrorCode::shape, "empty filter window: " + specs_str(in, names));
  Window h = window_dim(x[1], f[0], a.strides[0], a.padding);
  Window w = window_dim(x[2], f[1], a.strides[1], a.padding);
  return {TensorSpec{in[0].dtype, {x[0], h.out, w.out, f[3]}}};
}

void Conv2D::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous(), f = in[1].contiguous();
  const Shape& xs = x.shape();
  const Shape& fs = f.shape();
  int64_t N = xs[0], H = xs[1], W = xs[2], C = xs[3];
  int64_t KH = fs[0], KW = fs[1], O = fs[3];
  Window wh = window_dim(H, KH, a.strides[0], a.padding);
  Window ww = window_dim(W, KW, a.strides[1], a.padding);
  int64_t OH = wh.out, OW = ww.out;
  int64_t K = KH * KW * C;
  if (N == 0 || OH == 0 || OW == 0 || O == 0) return;
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      std::vector<T> cols(static_cast<size_t>(OH * OW * K));
      const T* px = x.data<T>();
      const T* pf = f.data<T>();
      T* py = out[0].data<T>();
      for (int64_t n = 0; n < N; ++n) {
        detail::parallel_for(OH, 4, [&](int64_t hb, int64_t he) {
          for (int64_t oh = hb; oh < he; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
              T* c = cols.data() + (oh * OW + ow) * K;
              for (int64_t kh = 0; kh < KH; ++kh) {
                int64_t ih = oh * a.strides[0] + kh - wh.pad_before;
                for (int64_t kw = 0; kw < KW; ++kw, c += C) {
                  int64_t iw = ow * a.strides[1] + kw - ww.pad_before;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) std::fill(c, c + C, T(0));
                  else std::copy(px + ((n * H + ih) * W + iw) * C, px + ((n * H + ih) * W + iw) * C + C, c);
                }
              }
            }
        });
        T* yn = py + n * OH * OW * O;
        if constexpr (std::is_same_v<T, float>)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(OH * OW), static_cast<int>(O),
                      static_cast<int>(K), 1.0f, cols.data(), static_cast<int>(K), pf, static_cast<int>(O), 0.0f, yn,
                      static_cast<int>(O));
        else
          cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(OH * OW), static_cast<int>(O),
                      static_cast<int>(K), 1.0, cols.data(), static_cast<int>(K), pf, static_cast<int>(O), 0.0, yn,
                      static_cast<int>(O));
      }
    }
  });
}

namespace {

Specs pool_infer(const PoolAttrs& a, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  const Shape& x = in[0].shape;
  if (x.size() != 4) infer_fail(ErrorCode::shape, "input must be NHWC: " + specs_str(in));
  if (in[0].dtype == DType::bool_) infer_fail(ErrorCode::dtype, "needs a numeric dtype: " + specs_str(in));
  check_pair(a.window, "window", in);
  check_pair(a.strides, "strides", in);
  check_padding(a.padding, in);
  Window h = window_dim(x[1], a.window[0], a.strides[0], a.padding);
  Window w = window_dim(x[2], a.window[1], a.strides[1], a.padding);
  return {TensorSpec{in[0].dtype, {x[0], h.out, w.out, x[3]}}};
}

template <bool Max>
void pool_eval(const PoolAttrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  const Shape& xs = x.shape();
  int64_t N = xs[0], H = xs[1], W = xs[2], C = xs[3];
  Window wh = window_dim(H, a.window[0], a.strides[0], a.padding);
  Window ww = window_dim(W, a.window[1], a.strides[1], a.padding);
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // The max is exact in T; an integer average sums in double (int64 beyond 2^53 would round in a
    // double max).
    using Acc = std::conditional_t<std::is_floating_point_v<T> || Max, T, double>;
    const T* px = x.data<T>();
    T* py = out[0].data<T>();
    std::vector<Acc> acc(static_cast<size_t>(C));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < wh.out; ++oh)
        for (int64_t ow = 0; ow < ww.out; ++ow) {
          int64_t h0 = oh * a.strides[0] - wh.pad_before, w0 = ow * a.strides[1] - ww.pad_before;
          int64_t hb = std::max<int64_t>(h0, 0), he = std::min<int64_t>(h0 + a.window[0], H);
          int64_t wb = std::max<int64_t>(w0, 0), we = std::min<int64_t>(w0 + a.window[1], W);
          std::fill(acc.begin(), acc.end(), Max ? std::numeric_limits<Acc>::lowest() : Acc(0));
          if constexpr (Max && std::is_floating_point_v<T>)
            std::fill(acc.begin(), acc.end(), -std::numeric_limits<T>::infinity());
          for (int64_t ih = hb; ih < he; ++ih)
            for (int64_t iw = wb; iw < we; ++iw) {
              const T* p = px + ((n * H + ih) * W + iw) * C;
              for (int64_t c = 0; c < C; ++c) {
                Acc v = static_cast<Acc>(p[c]);
                if constexpr (Max) acc[c] = (acc[c] >= v || acc[c] != acc[c]) ? acc[c] : v;
                else acc[c] += v;
              }
            }
          T* o = py + ((n * wh.out + oh) * ww.out + ow) * C;
          Acc count = static_cast<Acc>((he - hb) * (we - wb));
          for (int64_t c = 0; c < C; ++c) o[c] = static_cast<T>(Max ? acc[c] : acc[c] / count);
        }
  });
}

}  // namespace

Specs MaxPool2D::infer(const Attrs& a, const Specs& in) { return pool_infer(a, in); }
void MaxPool2D::eval(const Attrs& a, const Tensors& in, Tensors& out) { pool_eval<true>(a, in, out); }
Specs AvgPool2D::infer(const Attrs& a, const Specs& in) { return pool_infer(a, in); }
void AvgPool2D::eval(const Attrs& a, const Tensors& in, Tensors& out) { pool_eval<false>(a, in, out); }

}  // namespace xf
