// conv2d (im2col + BLAS gemm) and 2-D pooling, NHWC as TensorFlow, SAME/VALID padding.
#include <cblas.h>

#include <algorithm>
#include <limits>

#include "core/dispatch.hpp"
#include "core/observer.hpp"
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
  // A 1x1 window with stride 1: every patch is one input pixel, so the patch matrix is the input
  // itself, (N * H * W, C), and the kernels read it in place.
  bool pointwise() const { return KH == 1 && KW == 1 && sh == 1 && sw == 1; }
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

// The patches of `images` consecutive images at `px` (each H, W, C) as rows of `cols`
// (images * P, K), image after image; zeros where the window is outside. A run of taps inside one
// image row (dilation 1) is one copy of KW * C elements. With few channels (a first layer's
// images) copies that short cost more than the data, so the taps are written one output row at a
// time instead: for each tap, the OW positions' elements, K apart.
template <class T>
void im2col(const ConvGeom& g, const T* px, int64_t images, T* cols) {
  const int64_t OH = g.wh.out, OW = g.ww.out, K = g.K(), C = g.C, HWC = g.H * g.W * g.C;
  constexpr int64_t kFewChannels = 4;
  // Per tap column kw: the output positions [lo, hi) that read inside the image row
  // (iw = ow * sw + off in [0, W)). The same for every row, so computed once (divisions are slow).
  std::vector<int64_t> lo_of(static_cast<size_t>(g.KW)), hi_of(static_cast<size_t>(g.KW));
  for (int64_t kw = 0; kw < g.KW; ++kw) {
    const int64_t off = kw * g.dw - g.ww.pad_before;
    const int64_t lo = std::min<int64_t>(OW, off >= 0 ? 0 : (-off + g.sw - 1) / g.sw);
    lo_of[kw] = lo;
    hi_of[kw] = std::max<int64_t>(lo, std::min<int64_t>(OW, g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw));
  }
  detail::parallel_for(images * OH, 16, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re && C <= kFewChannels; ++r) {
      const int64_t n = r / OH, oh = r % OH;
      const T* img = px + n * HWC;
      T* row = cols + r * OW * K;
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = oh * g.sh + kh * g.dh - g.wh.pad_before;
        const bool inside = ih >= 0 && ih < g.H;
        const T* src = img + (inside ? ih : 0) * g.W * C;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          T* d = row + (kh * g.KW + kw) * C;
          const int64_t off = kw * g.dw - g.ww.pad_before;
          const int64_t lo = inside ? lo_of[kw] : 0, hi = inside ? hi_of[kw] : 0;
          for (int64_t ow = 0; ow < lo; ++ow)
            for (int64_t c = 0; c < C; ++c) d[ow * K + c] = T(0);
          if (C == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) d[ow * K] = src[ow * g.sw + off];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow)
              for (int64_t c = 0; c < C; ++c) d[ow * K + c] = src[(ow * g.sw + off) * C + c];
          }
          for (int64_t ow = hi; ow < OW; ++ow)
            for (int64_t c = 0; c < C; ++c) d[ow * K + c] = T(0);
        }
      }
    }
    for (int64_t r = rb; r < re && C > kFewChannels; ++r) {
      const int64_t n = r / OH, oh = r % OH;
      const T* img = px + n * HWC;
      for (int64_t ow = 0; ow < OW; ++ow) {
        T* c = cols + (r * OW + ow) * K;
        const int64_t iw0 = ow * g.sw - g.ww.pad_before;
        const bool row_inside = g.dw == 1 && iw0 >= 0 && iw0 + g.KW <= g.W;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * g.sh + kh * g.dh - g.wh.pad_before;
          if (ih < 0 || ih >= g.H) {
            std::fill(c, c + g.KW * C, T(0));
            c += g.KW * C;
            continue;
          }
          const T* src = img + ih * g.W * C;
          if (row_inside) {
            std::copy(src + iw0 * C, src + (iw0 + g.KW) * C, c);
            c += g.KW * C;
            continue;
          }
          for (int64_t kw = 0; kw < g.KW; ++kw, c += C) {
            const int64_t iw = iw0 + kw * g.dw;
            if (iw < 0 || iw >= g.W) std::fill(c, c + C, T(0));
            else std::copy(src + iw * C, src + iw * C + C, c);
          }
        }
      }
    }
  });
}

// The adjoint of im2col: adds every row of `cols` (images * P, K) back into its image at `px`
// (each H, W, C). Images are independent and each is summed in one fixed order, so sums do not
// depend on the thread count.
template <class T>
void col2im(const ConvGeom& g, const T* cols, int64_t images, T* px) {
  const int64_t OW = g.ww.out, K = g.K(), C = g.C, HWC = g.H * g.W * g.C, P = g.P();
  detail::parallel_for(images, 4, [&](int64_t nb, int64_t ne) {
    for (int64_t n = nb; n < ne; ++n) {
      T* img = px + n * HWC;
      for (int64_t oh = 0; oh < g.wh.out; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const T* c = cols + (n * P + oh * OW + ow) * K;
          const int64_t iw0 = ow * g.sw - g.ww.pad_before;
          const bool row_inside = g.dw == 1 && iw0 >= 0 && iw0 + g.KW <= g.W;
          for (int64_t kh = 0; kh < g.KH; ++kh) {
            const int64_t ih = oh * g.sh + kh * g.dh - g.wh.pad_before;
            if (ih < 0 || ih >= g.H) {
              c += g.KW * C;
              continue;
            }
            if (row_inside) {  // the taps of this row are KW * C consecutive input elements
              T* p = img + (ih * g.W + iw0) * C;
              for (int64_t k = 0; k < g.KW * C; ++k) p[k] += c[k];
              c += g.KW * C;
              continue;
            }
            for (int64_t kw = 0; kw < g.KW; ++kw, c += C) {
              const int64_t iw = iw0 + kw * g.dw;
              if (iw < 0 || iw >= g.W) continue;
              T* p = img + (ih * g.W + iw) * C;
              for (int64_t k = 0; k < C; ++k) p[k] += c[k];
            }
          }
        }
    }
  });
}

// Images per block of the batched kernels: the whole batch when its patch matrix (images * P, K)
// fits in 4M elements (16 MiB of float32), else as many images as fit (at least one). One im2col
// and one GEMM per block.
int64_t images_per_block(const ConvGeom& g) {
  constexpr int64_t kBudget = int64_t{1} << 22;
  return std::clamp<int64_t>(kBudget / std::max<int64_t>(g.P() * g.K(), 1), 1, std::max<int64_t>(g.N, 1));
}

// Uninitialized scratch from xflow's caching allocator (no page faults once warm, no zero fill).
template <class T>
Tensor scratch(int64_t n) {
  return Tensor::empty({n}, std::is_same_v<T, float> ? DType::float32 : DType::float64);
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
    if (g.K() == 0) {  // no input channels: every output is an empty sum
      std::fill(out[0].data<T>(), out[0].data<T>() + out[0].size(), T(0));
      return;
    }
    const int64_t P = g.P(), K = g.K(), O = g.O, HWC = g.H * g.W * g.C, B = images_per_block(g);
    const T* px = x.data<T>();
    const T* pf = f.data<T>();
    T* py = out[0].data<T>();
    if (g.pointwise()) {
      gemm<T>(false, false, g.N * P, O, K, px, K, pf, O, T(0), py, O);
      return;
    }
    Tensor cols = scratch<T>(B * P * K);
    T* pc = cols.data<T>();
    for (int64_t n0 = 0; n0 < g.N; n0 += B) {
      const int64_t nb = std::min(B, g.N - n0);
      im2col(g, px + n0 * HWC, nb, pc);
      gemm<T>(false, false, nb * P, O, K, pc, K, pf, O, T(0), py + n0 * P * O, O);
    }
  });
}

// conv2d_backprop_input(filter, out_grad): the patch gradients of a block of images, out_grad
// (images * P, O) times filter^T (O, K) in one GEMM (the filter read transposed, not copied),
// added back into the images by col2im.
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
    if (!g.empty() && g.pointwise()) {  // the patch gradients are the input's gradient
      gemm<T>(false, true, g.N * g.P(), g.K(), g.O, dy.data<T>(), g.O, f.data<T>(), g.O, T(0), px, g.K());
      return;
    }
    std::fill(px, px + out[0].size(), T(0));
    if (g.empty()) return;
    const int64_t P = g.P(), K = g.K(), O = g.O, HWC = g.H * g.W * g.C, B = images_per_block(g);
    Tensor cols = scratch<T>(B * P * K);
    T* pc = cols.data<T>();
    for (int64_t n0 = 0; n0 < g.N; n0 += B) {
      const int64_t nb = std::min(B, g.N - n0);
      gemm<T>(false, true, nb * P, K, O, dy.data<T>() + n0 * P * O, O, f.data<T>(), O, T(0), pc, K);
      col2im(g, pc, nb, px + n0 * HWC);
    }
  });
}

// conv2d_backprop_filter(input, out_grad): patches^T (K, images * P) times out_grad (images * P, O),
// one GEMM per block of images (the patches read transposed, not copied), blocks summed in order.
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
    if (g.empty()) {
      std::fill(pf, pf + out[0].size(), T(0));
      return;
    }
    const int64_t P = g.P(), K = g.K(), O = g.O, HWC = g.H * g.W * g.C, B = images_per_block(g);
    if (g.pointwise()) {
      gemm<T>(true, false, K, O, g.N * P, x.data<T>(), K, dy.data<T>(), O, T(0), pf, O);
      return;
    }
    Tensor cols = scratch<T>(B * P * K);
    T* pc = cols.data<T>();
    for (int64_t n0 = 0; n0 < g.N; n0 += B) {
      const int64_t nb = std::min(B, g.N - n0);
      im2col(g, x.data<T>() + n0 * HWC, nb, pc);
      gemm<T>(true, false, K, O, nb * P, pc, K, dy.data<T>() + n0 * P * O, O, n0 == 0 ? T(0) : T(1), pf, O);
    }
  });
}

// ---- image_patches and its adjoint ----

namespace {

// The geometry of image_patches: conv2d's for a (window, C, 1) filter.
ConvGeom patch_geom(const Shape& x, const std::vector<int64_t>& window, const std::vector<int64_t>& strides,
                    const std::string& padding, const std::vector<int64_t>& dilations) {
  return conv_geom(x, Shape{window[0], window[1], x[3], 1}, strides, padding, dilations);
}

}  // namespace

bool conv2d_keeps_patches(const Tensor& x, const Tensor& f, const ConvAttrs& a) {
  if (!x.defined() || !f.defined() || x.rank() != 4 || f.rank() != 4) return false;
  if (!is_floating(x.dtype()) || x.dtype() != f.dtype() || x.shape()[3] != f.shape()[2]) return false;
  if (a.padding != "SAME" && a.padding != "VALID") return false;
  for (const auto* v : {&a.strides, &a.dilations})
    if (v->size() != 2 || (*v)[0] < 1 || (*v)[1] < 1) return false;
  if (f.shape()[0] < 1 || f.shape()[1] < 1) return false;
  const ConvGeom g = conv_geom(x.shape(), f.shape(), a.strides, a.padding, a.dilations);
  if (g.pointwise() || g.empty()) return false;
  // One block: image_patches then the 1x1 conv2d run the GEMMs conv2d and its backprops run.
  if (images_per_block(g) < g.N) return false;
  if (graph_building()) return false;
  // Only the filter's gradient reads the patches.
  return gradient_tracked(f);
}

Specs ImagePatches::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"input"};
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  const Shape& x = in[0].shape;
  if (x.size() != 4) infer_fail(ErrorCode::shape, "input must be NHWC: " + specs_str(in, names));
  if (!is_floating(in[0].dtype)) infer_fail(ErrorCode::dtype, "input must be float: " + specs_str(in, names));
  check_pair(a.window, "window", in, names);
  check_pair(a.strides, "strides", in, names);
  check_pair(a.dilations, "dilations", in, names);
  check_padding(a.padding, in, names);
  ConvGeom g = patch_geom(x, a.window, a.strides, a.padding, a.dilations);
  return {TensorSpec{in[0].dtype, {g.N, g.wh.out, g.ww.out, g.K()}}};
}

void ImagePatches::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  ConvGeom g = patch_geom(x.shape(), a.window, a.strides, a.padding, a.dilations);
  if (out[0].size() == 0) return;
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    im2col(g, x.data<T>(), g.N, out[0].data<T>());
  });
}

// image_patches_backprop(patch_grad): every patch's entries added back at their pixels (col2im).
Specs ImagePatchesBackprop::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"patch_grad"};
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects patch_grad");
  check_shape_attr(a.shape, "input shape", in, names);
  if (!is_floating(in[0].dtype)) infer_fail(ErrorCode::dtype, "patch_grad must be float: " + specs_str(in, names));
  check_pair(a.window, "window", in, names);
  check_pair(a.strides, "strides", in, names);
  check_pair(a.dilations, "dilations", in, names);
  check_padding(a.padding, in, names);
  ConvGeom g = patch_geom(a.shape, a.window, a.strides, a.padding, a.dilations);
  if (in[0].shape != Shape{g.N, g.wh.out, g.ww.out, g.K()})
    infer_fail(ErrorCode::shape, "patch_grad is not the shape image_patches gives for input shape " +
                                     shape_str(a.shape) + ": " + specs_str(in, names));
  return {TensorSpec{in[0].dtype, a.shape}};
}

void ImagePatchesBackprop::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor dp = in[0].contiguous();
  ConvGeom g = patch_geom(a.shape, a.window, a.strides, a.padding, a.dilations);
  visit_float(dp.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* px = out[0].data<T>();
    std::fill(px, px + out[0].size(), T(0));
    if (g.N == 0 || g.P() == 0 || g.K() == 0) return;
    col2im(g, dp.data<T>(), g.N, px);
  });
}

namespace {

// The windows of a 2-D pool over an input (N, H, W, C): output (N, wh.out, ww.out, C). Window
// (oh, ow) covers input rows [hb, he) and columns [wb, we), clipped to the input (SAME padding
// clips the border windows; an all-padding window is empty).
struct PoolGeom {
  int64_t N = 0, H = 0, W = 0, C = 0, kh = 1, kw = 1, sh = 1, sw = 1;
  Window wh, ww;
  struct Box {
    int64_t hb, he, wb, we;
    bool empty() const { return hb >= he || wb >= we; }
  };
  Box box(int64_t oh, int64_t ow) const {
    const int64_t h0 = oh * sh - wh.pad_before, w0 = ow * sw - ww.pad_before;
    return {std::max<int64_t>(h0, 0), std::min<int64_t>(h0 + kh, H), std::max<int64_t>(w0, 0),
            std::min<int64_t>(w0 + kw, W)};
  }
  // Windows do not overlap: every input element is in at most one window.
  bool disjoint() const { return sh >= kh && sw >= kw; }
  int64_t out_index(int64_t n, int64_t oh, int64_t ow) const { return ((n * wh.out + oh) * ww.out + ow) * C; }
  int64_t in_index(int64_t n, int64_t ih, int64_t iw) const { return ((n * H + ih) * W + iw) * C; }
};

PoolGeom pool_geom(const Shape& xs, const std::vector<int64_t>& window, const std::vector<int64_t>& strides,
                   const std::string& padding) {
  PoolGeom g;
  g.N = xs[0]; g.H = xs[1]; g.W = xs[2]; g.C = xs[3];
  g.kh = window[0]; g.kw = window[1];
  g.sh = strides[0]; g.sw = strides[1];
  g.wh = window_dim(g.H, g.kh, g.sh, padding);
  g.ww = window_dim(g.W, g.kw, g.sw, padding);
  return g;
}

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

// The max of a whole 2x2 window (rows a, b; the two columns C apart) for every channel, in the
// order and with the comparison of pool_eval's general loop (the first element, then the others
// in row-major order; a NaN wins). One channel loop, restrict-qualified so it vectorizes.
template <class T>
void max_2x2(const T* __restrict a, const T* __restrict b, int64_t C, T* __restrict o) {
  for (int64_t c = 0; c < C; ++c) {
    T m = a[c];
    for (T v : {a[C + c], b[c], b[C + c]}) m = (m >= v || m != m) ? m : v;
    o[c] = m;
  }
}

template <bool Max>
void pool_eval(const PoolAttrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  const PoolGeom g = pool_geom(x.shape(), a.window, a.strides, a.padding);
  const int64_t C = g.C;
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // The max is exact in T; an integer average sums in double (int64 beyond 2^53 would round in a
    // double max).
    using Acc = std::conditional_t<std::is_floating_point_v<T> || Max, T, double>;
    const T* px = x.data<T>();
    T* py = out[0].data<T>();
    std::vector<Acc> acc(static_cast<size_t>(C));
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.wh.out; ++oh)
        for (int64_t ow = 0; ow < g.ww.out; ++ow) {
          const PoolGeom::Box b = g.box(oh, ow);
          T* o = py + g.out_index(n, oh, ow);
          if constexpr (Max) {
            // The output row is the accumulator, started at the window's first element: the same
            // result as starting at the lowest value (or -inf) and taking that element first.
            if (b.empty()) {
              T lowest = std::numeric_limits<T>::lowest();
              if constexpr (std::is_floating_point_v<T>) lowest = -std::numeric_limits<T>::infinity();
              std::fill(o, o + C, lowest);
              continue;
            }
            const T* first = px + g.in_index(n, b.hb, b.wb);
            if (b.he - b.hb == 2 && b.we - b.wb == 2) {
              max_2x2(first, px + g.in_index(n, b.hb + 1, b.wb), C, o);
              continue;
            }
            std::copy(first, first + C, o);
            for (int64_t ih = b.hb; ih < b.he; ++ih)
              for (int64_t iw = ih == b.hb ? b.wb + 1 : b.wb; iw < b.we; ++iw) {
                const T* p = px + g.in_index(n, ih, iw);
                for (int64_t c = 0; c < C; ++c) o[c] = (o[c] >= p[c] || o[c] != o[c]) ? o[c] : p[c];
              }
          } else {
            std::fill(acc.begin(), acc.end(), Acc(0));
            for (int64_t ih = b.hb; ih < b.he; ++ih)
              for (int64_t iw = b.wb; iw < b.we; ++iw) {
                const T* p = px + g.in_index(n, ih, iw);
                for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<Acc>(p[c]);
              }
            Acc count = static_cast<Acc>((b.he - b.hb) * (b.we - b.wb));
            for (int64_t c = 0; c < C; ++c) o[c] = static_cast<T>(acc[c] / count);
          }
        }
  });
}

// The flat index (into the whole input, batch included) of the element max_pool2d picks: the first
// maximum of the window in row-major order, or its first NaN, as the max kernel's comparisons.
void pool_argmax_eval(const PoolAttrs& a, const Tensor& x0, Tensor& out) {
  Tensor x = x0.contiguous();
  const PoolGeom g = pool_geom(x.shape(), a.window, a.strides, a.padding);
  const int64_t C = g.C;
  int64_t* py = out.data<int64_t>();
  detail::visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    std::vector<T> acc(static_cast<size_t>(C));
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.wh.out; ++oh)
        for (int64_t ow = 0; ow < g.ww.out; ++ow) {
          const PoolGeom::Box b = g.box(oh, ow);
          int64_t* o = py + g.out_index(n, oh, ow);
          for (int64_t ih = b.hb; ih < b.he; ++ih)
            for (int64_t iw = b.wb; iw < b.we; ++iw) {
              const int64_t base = g.in_index(n, ih, iw);
              const T* p = px + base;
              bool first = ih == b.hb && iw == b.wb;
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

// One element of a max-pool window for every channel: the running maximum `acc` and its window
// position `pos` take p's value and position k where p wins (the max kernel's rule, a NaN wins).
// Selections rather than branches: which element wins is data, so a branch on it mispredicts
// about as often as not. Restrict-qualified so the channel loop vectorizes.
template <class T>
void window_take(const T* __restrict p, int32_t k, int64_t C, T* __restrict acc, int32_t* __restrict pos) {
  for (int64_t c = 0; c < C; ++c) {
    const T v = p[c], a = acc[c];
    const bool take = !(a >= v || a != a);
    acc[c] = take ? v : a;
    pos[c] = take ? k : pos[c];
  }
}

// Window position k's input gradient for every channel: the output gradient where k holds the
// maximum, else 0.
template <class T>
void window_put(const T* __restrict gr, const int32_t* __restrict pos, int32_t k, int64_t C, T* __restrict d) {
  for (int64_t c = 0; c < C; ++c) {
    const T gv = T(0) + gr[c];
    d[c] = pos[c] == k ? gv : T(0);
  }
}

// A whole 2x2 window (rows a, b; the two columns C apart) in one channel loop: the maximum's
// position by the same rule and order as window_take, then every element's gradient.
template <class T>
void window_2x2(const T* __restrict a, const T* __restrict b, const T* __restrict gr, int64_t C, T* __restrict da,
                T* __restrict db) {
  // The position is kept as a T (0 to 3, exact) so that every lane of the loop has T's width.
  for (int64_t c = 0; c < C; ++c) {
    T m = a[c], k = T(0);
    const T v1 = a[C + c], v2 = b[c], v3 = b[C + c];
    bool take = !(m >= v1 || m != m);
    m = take ? v1 : m;
    k = take ? T(1) : k;
    take = !(m >= v2 || m != m);
    m = take ? v2 : m;
    k = take ? T(2) : k;
    take = !(m >= v3 || m != m);
    k = take ? T(3) : k;
    const T gv = T(0) + gr[c];
    da[c] = k == T(0) ? gv : T(0);
    da[C + c] = k == T(1) ? gv : T(0);
    db[c] = k == T(2) ? gv : T(0);
    db[C + c] = k == T(3) ? gv : T(0);
  }
}

// max_pool2d's gradient in one pass: each window's first maximum (row-major order, a NaN wins, as
// max_pool2d_argmax picks it) receives the window's output gradient, added where windows overlap.
// Windows are visited in the output's order, so the sums are scatter_add's at argmax's indices
// (0 + g, as scatter_add adds into zeros: a -0 gradient arrives as +0).
//
// Disjoint windows (stride >= window, the usual 2x2/2 pool) write every input element once: the
// elements of no window get 0, those of a window 0 or its gradient, chosen per channel by the
// position of the window's maximum. Overlapping windows zero the output and add.
void max_pool_backprop_eval(const PoolAttrs& a, const Tensor& x0, const Tensor& dy0, Tensor& out) {
  Tensor x = x0.contiguous(), dy = dy0.contiguous();
  const PoolGeom g = pool_geom(x.shape(), a.window, a.strides, a.padding);
  const int64_t C = g.C;
  visit_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    const T* pg = dy.data<T>();
    T* pd = out.data<T>();
    std::vector<T> acc(static_cast<size_t>(C));
    if (g.disjoint()) {
      // Which input rows and columns some window covers (the same for every image).
      std::vector<char> row_in(static_cast<size_t>(g.H), 0), col_in(static_cast<size_t>(g.W), 0);
      for (int64_t oh = 0; oh < g.wh.out; ++oh) {
        const PoolGeom::Box b = g.box(oh, 0);
        for (int64_t ih = b.hb; ih < b.he; ++ih) row_in[ih] = 1;
      }
      for (int64_t ow = 0; ow < g.ww.out; ++ow) {
        const PoolGeom::Box b = g.box(0, ow);
        for (int64_t iw = b.wb; iw < b.we; ++iw) col_in[iw] = 1;
      }
      // The window position (row-major, 0-based) of each channel's maximum.
      std::vector<int32_t> pos(static_cast<size_t>(C));
      for (int64_t n = 0; n < g.N; ++n) {
        for (int64_t ih = 0; ih < g.H; ++ih)
          for (int64_t iw = 0; iw < g.W; ++iw)
            if (!row_in[ih] || !col_in[iw]) std::fill_n(pd + g.in_index(n, ih, iw), C, T(0));
        for (int64_t oh = 0; oh < g.wh.out; ++oh)
          for (int64_t ow = 0; ow < g.ww.out; ++ow) {
            const PoolGeom::Box b = g.box(oh, ow);
            if (b.empty()) continue;
            if (b.he - b.hb == 2 && b.we - b.wb == 2) {
              const int64_t i0 = g.in_index(n, b.hb, b.wb), i1 = g.in_index(n, b.hb + 1, b.wb);
              window_2x2(px + i0, px + i1, pg + g.out_index(n, oh, ow), C, pd + i0, pd + i1);
              continue;
            }
            int32_t k = 0;
            for (int64_t ih = b.hb; ih < b.he; ++ih)
              for (int64_t iw = b.wb; iw < b.we; ++iw, ++k) {
                const T* p = px + g.in_index(n, ih, iw);
                if (k == 0) {
                  std::copy(p, p + C, acc.data());
                  std::fill(pos.begin(), pos.end(), 0);
                } else {
                  window_take(p, k, C, acc.data(), pos.data());
                }
              }
            const T* gr = pg + g.out_index(n, oh, ow);
            k = 0;
            for (int64_t ih = b.hb; ih < b.he; ++ih)
              for (int64_t iw = b.wb; iw < b.we; ++iw, ++k) window_put(gr, pos.data(), k, C, pd + g.in_index(n, ih, iw));
          }
      }
      return;
    }
    std::fill(pd, pd + out.size(), T(0));
    std::vector<int64_t> arg(static_cast<size_t>(C));
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.wh.out; ++oh)
        for (int64_t ow = 0; ow < g.ww.out; ++ow) {
          const PoolGeom::Box b = g.box(oh, ow);
          if (b.empty()) continue;
          for (int64_t ih = b.hb; ih < b.he; ++ih)
            for (int64_t iw = b.wb; iw < b.we; ++iw) {
              const int64_t base = g.in_index(n, ih, iw);
              const T* p = px + base;
              if (ih == b.hb && iw == b.wb) {
                for (int64_t c = 0; c < C; ++c) {
                  acc[c] = p[c];
                  arg[c] = base + c;
                }
                continue;
              }
              for (int64_t c = 0; c < C; ++c) {
                const T v = p[c];
                const bool take = !(acc[c] >= v || acc[c] != acc[c]);
                acc[c] = take ? v : acc[c];
                arg[c] = take ? base + c : arg[c];
              }
            }
          const T* gr = pg + g.out_index(n, oh, ow);
          for (int64_t c = 0; c < C; ++c) pd[arg[c]] += gr[c];
        }
  });
}

// The adjoint of avg_pool2d: each output gradient spread evenly over its window's input elements.
void avg_pool_backprop_eval(const PoolGradAttrs& a, const Tensor& dy0, Tensor& out) {
  Tensor dy = dy0.contiguous();
  const PoolGeom g = pool_geom(a.shape, a.window, a.strides, a.padding);
  const int64_t C = g.C;
  visit_float(dy.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pg = dy.data<T>();
    T* px = out.data<T>();
    std::fill(px, px + out.size(), T(0));
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.wh.out; ++oh)
        for (int64_t ow = 0; ow < g.ww.out; ++ow) {
          const PoolGeom::Box b = g.box(oh, ow);
          T count = static_cast<T>((b.he - b.hb) * (b.we - b.wb));
          const T* gr = pg + g.out_index(n, oh, ow);
          for (int64_t ih = b.hb; ih < b.he; ++ih)
            for (int64_t iw = b.wb; iw < b.we; ++iw) {
              T* p = px + g.in_index(n, ih, iw);
              for (int64_t c = 0; c < C; ++c) p[c] += gr[c] / count;
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

// max_pool2d_backprop(input, out_grad): input-shaped, out_grad of max_pool2d(input)'s shape.
Specs MaxPool2DBackprop::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"input", "out_grad"};
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects input and out_grad");
  const Shape& x = in[0].shape;
  if (x.size() != 4) infer_fail(ErrorCode::shape, "input must be NHWC: " + specs_str(in, names));
  if (!is_floating(in[0].dtype) || in[0].dtype != in[1].dtype)
    infer_fail(ErrorCode::dtype, "input and out_grad must have one float dtype: " + specs_str(in, names));
  check_pair(a.window, "window", in, names);
  check_pair(a.strides, "strides", in, names);
  check_padding(a.padding, in, names);
  Window h = window_dim(x[1], a.window[0], a.strides[0], a.padding);
  Window w = window_dim(x[2], a.window[1], a.strides[1], a.padding);
  if (in[1].shape != Shape{x[0], h.out, w.out, x[3]})
    infer_fail(ErrorCode::shape, "out_grad is not the shape max_pool2d gives for the input: " + specs_str(in, names));
  return {TensorSpec{in[0].dtype, x}};
}
void MaxPool2DBackprop::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  max_pool_backprop_eval(a, in[0], in[1], out[0]);
}

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
