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

namespace {

// The sizes of one convolution: input (N, H, W, C), filter (KH, KW, C, O), output (N, OH, OW, O).
// With dilations (dh, dw) the filter's taps are dh rows and dw columns apart: the window covers
// (KH - 1) * dh + 1 rows, and SAME/VALID are computed for that window (TensorFlow).
struct ConvGeom {
  int64_t N = 0, H = 0, W = 0, C = 0, KH = 0, KW = 0, O = 0;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  Window wh, ww;
  int64_t K() const { return KH * KW * C; }          // columns of one im2col row
  int64_t P() const { return wh.out * ww.out; }       // output positions of one image
  Shape out_shape() const { return {N, wh.out, ww.out, O}; }
  bool empty() const { return N == 0 || P() == 0 || O == 0 || K() == 0; }
};

ConvGeom conv_geom(const Shape& x, const Shape& f, const std::vector<int64_t>& strides, const std::string& padding,
                   const std::vector<int64_t>& dilations) {
  ConvGeom g;
  g.N = x[0]; g.H = x[1]; g.W = x[2]; g.C = x[3];
  g.KH = f[0]; g.KW = f[1]; g.O = f[3];
  g.sh = strides[0]; g.sw = strides[1];
  g.dh = dilations[0]; g.dw = dilations[1];
  g.wh = window_dim(g.H, (g.KH - 1) * g.dh + 1, g.sh, padding);
  g.ww = window_dim(g.W, (g.KW - 1) * g.dw + 1, g.sw, padding);
  return g;
}

// The patches of image `px` (H, W, C) as rows of `cols` (P, K); zeros where the window is outside.
template <class T>
void im2col(const ConvGeom& g, const T* px, T* cols) {
  int64_t OW = g.ww.out, K = g.K(), C = g.C;
  detail::parallel_for(g.wh.out, 4, [&](int64_t hb, int64_t he) {
    for (int64_t oh = hb; oh < he; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        T* c = cols + (oh * OW + ow) * K;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          int64_t ih = oh * g.sh + kh * g.dh - g.wh.pad_before;
          for (int64_t kw = 0; kw < g.KW; ++kw, c += C) {
            int64_t iw = ow * g.sw + kw * g.dw - g.ww.pad_before;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) std::fill(c, c + C, T(0));
            else std::copy(px + (ih * g.W + iw) * C, px + (ih * g.W + iw) * C + C, c);
          }
        }
      }
  });
}

// The adjoint of im2col: adds every row of `cols` (P, K) back into image `px` (H, W, C). One fixed
// order, so sums do not depend on the thread count.
template <class T>
void col2im(const ConvGeom& g, const T* cols, T* px) {
  int64_t OW = g.ww.out, K = g.K(), C = g.C;
  for (int64_t oh = 0; oh < g.wh.out; ++oh)
    for (int64_t ow = 0; ow < OW; ++ow) {
      const T* c = cols + (oh * OW + ow) * K;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        int64_t ih = oh * g.sh + kh * g.dh - g.wh.pad_before;
        for (int64_t kw = 0; kw < g.KW; ++kw, c += C) {
          int64_t iw = ow * g.sw + kw * g.dw - g.ww.pad_before;
          if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
          T* p = px + (ih * g.W + iw) * C;
          for (int64_t k = 0; k < C; ++k) p[k] += c[k];
        }
      }
    }
}

// Row-major C (m, n) = op(A) op(B) + beta C, op transposing when asked.
template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
          T beta, T* c, int64_t ldc) {
  auto TA = ta ? CblasTrans : CblasNoTrans;
  auto TB = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, TA, TB, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  else
    cblas_dgemm(CblasRowMajor, TA, TB, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

// Calls f(Tag<T>) for float32 and float64 tensors (the only dtypes the conv kernels accept).
template <class F>
void visit_float(DType d, F&& f) {
  detail::visit_dtype(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) f(tag);
  });
}

void check_shape_attr(const std::vector<int64_t>& s, const char* what, const Specs& in, const char* const* names) {
  bool ok = s.size() == 4;
  for (int64_t d : s) ok = ok && d >= 0;
  if (!ok)
    infer_fail(ErrorCode::invalid_argument, std::string(what) + " must be 4 sizes >= 0, got " + shape_str(s) + ": " +
                                                specs_str(in, names));
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
  check_pair(a.dilations, "dilations", in, names);
  check_padding(a.padding, in, names);
  if (f[0] < 1 || f[1] < 1) infer_fail(ErrorCode::shape, "empty filter window: " + specs_str(in, names));
  return {TensorSpec{in[0].dtype, conv_geom(x, f, a.strides, a.padding, a.dilations).out_shape()}};
}

void Conv2D::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous(), f = in[1].contiguous();
  ConvGeom g = conv_geom(x.shape(), f.shape(), a.strides, a.padding, a.dilations);
  if (g.N == 0 || g.P() == 0 || g.O == 0) return;
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    int64_t P = g.P(), K = g.K(), O = g.O;
    std::vector<T> cols(static_cast<size_t>(P * K));
    const T* px = x.data<T>();
    const T* pf = f.data<T>();
    T* py = out[0].data<T>();
    for (int64_t n = 0; n < g.N; ++n) {
      im2col(g, px + n * g.H * g.W * g.C, cols.data());
      gemm<T>(false, false, P, O, K, cols.data(), K, pf, O, T(0), py + n * P * O, O);
    }
  });
}

// conv2d_backprop_input(filter, out_grad): for every image, the patch gradients out_grad (P, O)
// times filter^T (O, K), added back into the image by col2im.
Specs Conv2DBackpropInput::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"filter", "out_grad"};
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects filter and out_grad");
  const Shape& f = in[0].shape;
  const Shape& dy = in[1].shape;
  check_shape_attr(a.shape, "input shape", in, names);
  if (f.size() != 4 || dy.size() != 4)
    infer_fail(ErrorCode::shape, "filter must be (kh, kw, in, out) and out_grad NHWC: " + specs_str(in, names));
  if (!is_floating(in[0].dtype) || in[0].dtype != in[1].dtype)
    infer_fail(ErrorCode::dtype, "filter and out_grad must have one float dtype: " + specs_str(in, names));
  check_pair(a.strides, "strides", in, names);
  check_pair(a.dilations, "dilations", in, names);
  check_padding(a.padding, in, names);
  if (f[0] < 1 || f[1] < 1) infer_fail(ErrorCode::shape, "empty filter window: " + specs_str(in, names));
  if (a.shape[3] != f[2])
    infer_fail(ErrorCode::shape, "input shape " + shape_str(a.shape) + " has other channels than the filter: " +
                                     specs_str(in, names));
  if (conv_geom(a.shape, f, a.strides, a.padding, a.dilations).out_shape() != dy)
    infer_fail(ErrorCode::shape, "out_grad is not the shape conv2d gives for input shape " + shape_str(a.shape) + ": " +
                                     specs_str(in, names));
  return {TensorSpec{in[0].dtype, a.shape}};
}

void Conv2DBackpropInput::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor f = in[0].contiguous(), dy = in[1].contiguous();
  ConvGeom g = conv_geom(a.shape, f.shape(), a.strides, a.padding, a.dilations);
  visit_float(f.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* px = out[0].data<T>();
    std::fill(px, px + out[0].size(), T(0));
    if (g.empty()) return;
    int64_t P = g.P(), K = g.K(), O = g.O;
    std::vector<T> cols(static_cast<size_t>(P * K));
    for (int64_t n = 0; n < g.N; ++n) {
      gemm<T>(false, true, P, K, O, dy.data<T>() + n * P * O, O, f.data<T>(), O, T(0), cols.data(), K);
      col2im(g, cols.data(), px + n * g.H * g.W * g.C);
    }
  });
}

// conv2d_backprop_filter(input, out_grad): the sum over images of patches^T (K, P) times out_grad (P, O).
Specs Conv2DBackpropFilter::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"input", "out_grad"};
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects input and out_grad");
  const Shape& x = in[0].shape;
  const Shape& dy = in[1].shape;
  check_shape_attr(a.shape, "filter shape", in, names);
  if (x.size() != 4 || dy.size() != 4) infer_fail(ErrorCode::shape, "input and out_grad must be NHWC: " + specs_str(in, names));
  if (!is_floating(in[0].dtype) || in[0].dtype != in[1].dtype)
    infer_fail(ErrorCode::dtype, "input and out_grad must have one float dtype: " + specs_str(in, names));
  check_pair(a.strides, "strides", in, names);
  check_pair(a.dilations, "dilations", in, names);
  check_padding(a.padding, in, names);
  if (a.shape[0] < 1 || a.shape[1] < 1)
    infer_fail(ErrorCode::shape, "empty filter window " + shape_str(a.shape) + ": " + specs_str(in, names));
  if (a.shape[2] != x[3])
    infer_fail(ErrorCode::shape, "filter shape " + shape_str(a.shape) + " has other channels than the input: " +
                                     specs_str(in, names));
  if (conv_geom(x, a.shape, a.strides, a.padding, a.dilations).out_shape() != dy)
    infer_fail(ErrorCode::shape, "out_grad is not the shape conv2d gives for filter shape " + shape_str(a.shape) + ": " +
                                     specs_str(in, names));
  return {TensorSpec{in[0].dtype, a.shape}};
}

void Conv2DBackpropFilter::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous(), dy = in[1].contiguous();
  ConvGeom g = conv_geom(x.shape(), a.shape, a.strides, a.padding, a.dilations);
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* pf = out[0].data<T>();
    std::fill(pf, pf + out[0].size(), T(0));
    if (g.empty()) return;
    int64_t P = g.P(), K = g.K(), O = g.O;
    std::vector<T> cols(static_cast<size_t>(P * K));
    for (int64_t n = 0; n < g.N; ++n) {
      im2col(g, x.data<T>() + n * g.H * g.W * g.C, cols.data());
      gemm<T>(true, false, K, O, P, cols.data(), K, dy.data<T>() + n * P * O, O, T(1), pf, O);
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

// The flat index (into the whole input, batch included) of the element max_pool2d picks: the first
// maximum of the window in row-major order, or its first NaN, as the max kernel's comparisons.
void pool_argmax_eval(const PoolAttrs& a, const Tensor& x0, Tensor& out) {
  Tensor x = x0.contiguous();
  const Shape& xs = x.shape();
  int64_t N = xs[0], H = xs[1], W = xs[2], C = xs[3];
  Window wh = window_dim(H, a.window[0], a.strides[0], a.padding);
  Window ww = window_dim(W, a.window[1], a.strides[1], a.padding);
  int64_t* py = out.data<int64_t>();
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    std::vector<T> acc(static_cast<size_t>(C));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < wh.out; ++oh)
        for (int64_t ow = 0; ow < ww.out; ++ow) {
          int64_t h0 = oh * a.strides[0] - wh.pad_before, w0 = ow * a.strides[1] - ww.pad_before;
          int64_t hb = std::max<int64_t>(h0, 0), he = std::min<int64_t>(h0 + a.window[0], H);
          int64_t wb = std::max<int64_t>(w0, 0), we = std::min<int64_t>(w0 + a.window[1], W);
          int64_t* o = py + ((n * wh.out + oh) * ww.out + ow) * C;
          for (int64_t ih = hb; ih < he; ++ih)
            for (int64_t iw = wb; iw < we; ++iw) {
              int64_t base = ((n * H + ih) * W + iw) * C;
              const T* p = px + base;
              bool first = ih == hb && iw == wb;
              for (int64_t c = 0; c < C; ++c) {
                T v = p[c];
                if (first || !(acc[c] >= v || acc[c] != acc[c])) {
                  acc[c] = v;
                  o[c] = base + c;
                }
              }
            }
        }
  });
}

// The adjoint of avg_pool2d: each output gradient spread evenly over its window's input elements.
void avg_pool_backprop_eval(const PoolGradAttrs& a, const Tensor& dy0, Tensor& out) {
  Tensor dy = dy0.contiguous();
  const Shape& xs = a.shape;
  int64_t N = xs[0], H = xs[1], W = xs[2], C = xs[3];
  Window wh = window_dim(H, a.window[0], a.strides[0], a.padding);
  Window ww = window_dim(W, a.window[1], a.strides[1], a.padding);
  visit_float(dy.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pg = dy.data<T>();
    T* px = out.data<T>();
    std::fill(px, px + out.size(), T(0));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < wh.out; ++oh)
        for (int64_t ow = 0; ow < ww.out; ++ow) {
          int64_t h0 = oh * a.strides[0] - wh.pad_before, w0 = ow * a.strides[1] - ww.pad_before;
          int64_t hb = std::max<int64_t>(h0, 0), he = std::min<int64_t>(h0 + a.window[0], H);
          int64_t wb = std::max<int64_t>(w0, 0), we = std::min<int64_t>(w0 + a.window[1], W);
          T count = static_cast<T>((he - hb) * (we - wb));
          const T* g = pg + ((n * wh.out + oh) * ww.out + ow) * C;
          for (int64_t ih = hb; ih < he; ++ih)
            for (int64_t iw = wb; iw < we; ++iw) {
              T* p = px + ((n * H + ih) * W + iw) * C;
              for (int64_t c = 0; c < C; ++c) p[c] += g[c] / count;
            }
        }
  });
}

}  // namespace

Specs MaxPool2D::infer(const Attrs& a, const Specs& in) { return pool_infer(a, in); }
void MaxPool2D::eval(const Attrs& a, const Tensors& in, Tensors& out) { pool_eval<true>(a, in, out); }
Specs AvgPool2D::infer(const Attrs& a, const Specs& in) { return pool_infer(a, in); }
void AvgPool2D::eval(const Attrs& a, const Tensors& in, Tensors& out) { pool_eval<false>(a, in, out); }

Specs MaxPool2DArgmax::infer(const Attrs& a, const Specs& in) {
  Specs out = pool_infer(a, in);
  out[0].dtype = DType::int64;
  return out;
}
void MaxPool2DArgmax::eval(const Attrs& a, const Tensors& in, Tensors& out) { pool_argmax_eval(a, in[0], out[0]); }

Specs AvgPool2DBackprop::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"out_grad"};
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects out_grad");
  check_shape_attr(a.shape, "input shape", in, names);
  if (!is_floating(in[0].dtype)) infer_fail(ErrorCode::dtype, "out_grad must be float: " + specs_str(in, names));
  check_pair(a.window, "window", in, names);
  check_pair(a.strides, "strides", in, names);
  check_padding(a.padding, in, names);
  Window h = window_dim(a.shape[1], a.window[0], a.strides[0], a.padding);
  Window w = window_dim(a.shape[2], a.window[1], a.strides[1], a.padding);
  if (in[0].shape != Shape{a.shape[0], h.out, w.out, a.shape[3]})
    infer_fail(ErrorCode::shape, "out_grad is not the shape avg_pool2d gives for input shape " + shape_str(a.shape) +
                                     ": " + specs_str(in, names));
  return {TensorSpec{in[0].dtype, a.shape}};
}
void AvgPool2DBackprop::eval(const Attrs& a, const Tensors& in, Tensors& out) { avg_pool_backprop_eval(a, in[0], out[0]); }

}  // namespace xf
