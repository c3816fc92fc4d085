// Kernels of the shape primitives. permute, reshape (of contiguous data), broadcast_to and slice
// are views: their outputs share the input's buffer.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/dispatch.hpp"
#include "core/tensor_impl.hpp"
#include "ops/elementwise_fns.hpp"
#include "ops/prims.hpp"
#include "xflow/numerics.hpp"

namespace xf {

// ---- permute ----
Specs Permute::infer(const Attrs& a, const Specs& in) {
  const Shape& s = in.at(0).shape;
  if (a.perm.size() != s.size())
    infer_fail(ErrorCode::invalid_argument, "perm has " + std::to_string(a.perm.size()) + " axes: " + specs_str(in));
  std::vector<bool> seen(s.size(), false);
  Shape out;
  for (int64_t p : a.perm) {
    if (p < 0 || p >= static_cast<int64_t>(s.size()) || seen[p])
      infer_fail(ErrorCode::invalid_argument, "perm is not a permutation of the axes: " + specs_str(in));
    seen[p] = true;
    out.push_back(s[p]);
  }
  return {TensorSpec{in[0].dtype, out}};
}
void Permute::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  const Tensor& x = in[0];
  Shape s;
  Strides st;
  for (int64_t p : a.perm) {
    s.push_back(x.shape()[p]);
    st.push_back(x.strides()[p]);
  }
  out[0] = Tensor::view(x.buffer(), x.dtype(), s, st, x.offset());
}

// ---- reshape ----
Specs Reshape::infer(const Attrs& a, const Specs& in) {
  for (int64_t d : a.shape)
    if (d < 0) infer_fail(ErrorCode::shape, "negative dimension in target " + shape_str(a.shape) + ": " + specs_str(in));
  if (numel(a.shape) != numel(in.at(0).shape))
    infer_fail(ErrorCode::shape, "cannot reshape " + spec_str(in[0]) + " into " + shape_str(a.shape));
  return {TensorSpec{in[0].dtype, a.shape}};
}
void Reshape::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  out[0] = Tensor::view(x.buffer(), x.dtype(), a.shape, contiguous_strides(a.shape), x.offset());
}

// ---- broadcast_to ----
Specs BroadcastTo::infer(const Attrs& a, const Specs& in) {
  const Shape& s = in.at(0).shape;
  for (int64_t d : a.shape)
    if (d < 0) infer_fail(ErrorCode::shape, "negative dimension in target " + shape_str(a.shape) + ": " + specs_str(in));
  bool ok = s.size() <= a.shape.size();
  for (size_t i = 0; ok && i < s.size(); ++i) {
    int64_t t = a.shape[a.shape.size() - s.size() + i];
    if (s[i] != t && s[i] != 1) ok = false;
  }
  if (!ok) infer_fail(ErrorCode::shape, "cannot broadcast " + spec_str(in[0]) + " to " + shape_str(a.shape));
  return {TensorSpec{in[0].dtype, a.shape}};
}
void BroadcastTo::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  const Tensor& x = in[0];
  size_t lead = a.shape.size() - x.shape().size();
  Strides st(a.shape.size(), 0);
  for (size_t i = 0; i < x.shape().size(); ++i)
    st[lead + i] = (x.shape()[i] == 1 && a.shape[lead + i] != 1) ? 0 : x.strides()[i];
  out[0] = Tensor::view(x.buffer(), x.dtype(), a.shape, st, x.offset());
}

// ---- strided slice ----
Specs StridedSlice::infer(const Attrs& a, const Specs& in) {
  const Shape& s = in.at(0).shape;
  if (a.begin.size() != s.size() || a.size.size() != s.size() || a.step.size() != s.size())
    infer_fail(ErrorCode::invalid_argument, "slice needs begin, size and step for every axis: " + specs_str(in));
  for (size_t i = 0; i < s.size(); ++i) {
    int64_t last = a.begin[i] + (a.size[i] - 1) * a.step[i];
    if (a.step[i] == 0 || a.size[i] < 0 ||
        (a.size[i] > 0 && (a.begin[i] < 0 || a.begin[i] >= s[i] || last < 0 || last >= s[i])))
      infer_fail(ErrorCode::out_of_range, "slice of axis " + std::to_string(i) + " is out of range: " + specs_str(in));
  }
  return {TensorSpec{in[0].dtype, a.size}};
}
void StridedSlice::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  const Tensor& x = in[0];
  int64_t off = x.offset();
  Strides st(x.rank());
  for (size_t i = 0; i < a.begin.size(); ++i) {
    if (a.size[i] > 0) off += a.begin[i] * x.strides()[i];
    st[i] = x.strides()[i] * a.step[i];
  }
  out[0] = Tensor::view(x.buffer(), x.dtype(), a.size, st, off);
}

// ---- concat ----
Specs Concat::infer(const Attrs& a, const Specs& in) {
  if (in.empty()) infer_fail(ErrorCode::invalid_argument, "needs at least one input");
  const Shape& s0 = in[0].shape;
  if (a.axis < 0 || a.axis >= static_cast<int64_t>(s0.size()))
    infer_fail(ErrorCode::axis, "axis " + std::to_string(a.axis) + " out of range: " + specs_str(in));
  Shape out = s0;
  out[a.axis] = 0;
  for (const auto& t : in) {
    if (t.dtype != in[0].dtype) infer_fail(ErrorCode::dtype, "inputs must have one dtype: " + specs_str(in));
    bool ok = t.shape.size() == s0.size();
    for (size_t i = 0; ok && i < s0.size(); ++i)
      if (static_cast<int64_t>(i) != a.axis && t.shape[i] != s0[i]) ok = false;
    if (!ok) infer_fail(ErrorCode::shape, "shapes differ outside the concat axis: " + specs_str(in));
    out[a.axis] += t.shape[a.axis];
  }
  return {TensorSpec{in[0].dtype, out}};
}
void Concat::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor& y = out[0];
  const Shape& ys = y.shape();
  int64_t outer = 1;
  for (int64_t i = 0; i < a.axis; ++i) outer *= ys[i];
  int64_t inner = 1;
  for (size_t i = a.axis + 1; i < ys.size(); ++i) inner *= ys[i];
  size_t es = dtype_size(y.dtype());
  char* py = static_cast<char*>(y.raw_data());
  int64_t row = ys[a.axis] * inner;  // output elements per outer index
  int64_t col = 0;
  for (const Tensor& t0 : in) {
    Tensor t = t0.contiguous();
    int64_t w = t.shape()[a.axis] * inner;
    const char* pt = static_cast<const char*>(t.raw_data());
    for (int64_t o = 0; o < outer && w > 0; ++o)
      std::memcpy(py + (o * row + col) * es, pt + o * w * es, static_cast<size_t>(w) * es);
    col += w;
  }
}

// ---- gather ----
Specs Gather::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"x", "indices"};
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects x and indices");
  const Shape& s = in[0].shape;
  if (a.axis < 0 || a.axis >= static_cast<int64_t>(s.size()))
    infer_fail(ErrorCode::axis, "axis " + std::to_string(a.axis) + " out of range: " + specs_str(in, names));
  if (in[1].dtype != DType::int32 && in[1].dtype != DType::int64)
    infer_fail(ErrorCode::dtype, "indices must be int32 or int64: " + specs_str(in, names));
  Shape out(s.begin(), s.begin() + a.axis);
  out.insert(out.end(), in[1].shape.begin(), in[1].shape.end());
  out.insert(out.end(), s.begin() + a.axis + 1, s.end());
  return {TensorSpec{in[0].dtype, out}};
}
namespace {
// The indices of `idx` (contiguous, any integer dtype) along an axis of size n, negative ones
// counted from the end; OutOfRange names the first bad one: "index v is out of range <axis_desc>n:
// <data>, <indices>" with the data operand called `data_name`.
std::vector<int64_t> checked_indices(const Tensor& idx, int64_t n, const std::string& axis_desc, const Tensor& data,
                                     const char* data_name) {
  const int64_t count = idx.size();
  std::vector<int64_t> ids(static_cast<size_t>(count));
  detail::visit_dtype(idx.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = idx.data<T>();
    for (int64_t i = 0; i < count; ++i) {
      int64_t v = static_cast<int64_t>(p[i]);
      if (v < -n || v >= n) {
        const char* const names[] = {data_name, "indices"};
        throw OutOfRange("index " + std::to_string(v) + " is out of range " + axis_desc + std::to_string(n) + ": " +
                         specs_str({{data.dtype(), data.shape()}, {idx.dtype(), idx.shape()}}, names));
      }
      ids[i] = v < 0 ? v + n : v;
    }
  });
  return ids;
}
}  // namespace

void Gather::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  Tensor idx = in[1].contiguous();
  const Shape& s = x.shape();
  int64_t n = s[a.axis];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < a.axis; ++i) outer *= s[i];
  for (size_t i = a.axis + 1; i < s.size(); ++i) inner *= s[i];
  int64_t count = idx.size();
  std::vector<int64_t> ids = checked_indices(idx, n, "for axis " + std::to_string(a.axis) + " of size ", x, "x");
  size_t es = dtype_size(x.dtype());
  const char* px = static_cast<const char*>(x.raw_data());
  char* py = static_cast<char*>(out[0].raw_data());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(py + ((o * count + i) * inner) * es, px + ((o * n + ids[i]) * inner) * es,
                  static_cast<size_t>(inner) * es);
}

// ---- pad ----
Specs Pad::infer(const Attrs& a, const Specs& in) {
  const Shape& s = in.at(0).shape;
  if (a.pads.size() != 2 * s.size())
    infer_fail(ErrorCode::invalid_argument, "needs (before, after) for every axis: " + specs_str(in));
  Shape out = s;
  for (size_t i = 0; i < s.size(); ++i) {
    if (a.pads[2 * i] < 0 || a.pads[2 * i + 1] < 0)
      infer_fail(ErrorCode::invalid_argument, "negative padding on axis " + std::to_string(i) + ": " + specs_str(in));
    out[i] += a.pads[2 * i] + a.pads[2 * i + 1];
  }
  return {TensorSpec{in[0].dtype, out}};
}
void Pad::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor& y = out[0];
  Tensor x = in[0];
  detail::visit_dtype(y.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // The value converts as cast converts a float64 (static_cast of NaN or of a value outside T is
    // undefined behaviour): nonzero -> true, NaN -> 0, saturated, truncated toward zero.
    T v;
    if (y.dtype() == DType::bool_) v = T(a.value != 0);
    else if constexpr (std::is_floating_point_v<T>) v = static_cast<T>(a.value);
    else if (std::isnan(a.value)) v = T(0);
    else if (a.value <= static_cast<double>(std::numeric_limits<T>::lowest())) v = std::numeric_limits<T>::lowest();
    else if (a.value >= static_cast<double>(std::numeric_limits<T>::max())) v = std::numeric_limits<T>::max();
    else v = static_cast<T>(a.value);
    T* py = y.data<T>();
    std::fill(py, py + y.size(), v);
  });
  // Copy x into the interior: a strided view of y.
  int64_t off = 0;
  Strides yst = y.strides();
  for (size_t i = 0; i < yst.size(); ++i) off += a.pads[2 * i] * yst[i];
  if (x.size() == 0) return;
  Tensor xc = x.contiguous();
  detail::visit_size(dtype_size(y.dtype()), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = xc.data<T>();
    T* py = y.data<T>() + off;
    detail::for_each_offset(x.shape(), yst, [&](int64_t i, int64_t o) { py[o] = px[i]; });
  });
}

// ---- stop_gradient ----
Specs StopGradient::infer(const Attrs&, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  return {in[0]};
}
void StopGradient::eval(const Attrs&, const Tensors& in, Tensors& out) {
  // A new handle (a new id) on the same memory: the tape must not see the input's id here.
  const Tensor& x = in[0];
  out[0] = Tensor::view(x.buffer(), x.dtype(), x.shape(), x.strides(), x.offset());
}

// ---- check_numerics ----
Specs CheckNumerics::infer(const Attrs&, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  if (!is_floating(in[0].dtype))
    infer_fail(ErrorCode::dtype, "checks float tensors (float32, float64), got " + spec_str(in[0]));
  return {in[0]};
}
void CheckNumerics::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  const Tensor& x = in[0];
  std::string bad = debug::bad_values_word(debug::summarize(x));
  // TensorFlow's wording (check_numerics_op.cc): "<message> : Tensor had NaN values".
  if (!bad.empty()) throw InvalidArgument(a.message + " : Tensor had " + bad + " values");
  out[0] = Tensor::view(x.buffer(), x.dtype(), x.shape(), x.strides(), x.offset());
}

// ---- scatter_add ----
Specs ScatterAdd::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"updates", "indices"};
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects updates and indices");
  const Shape& u = in[0].shape;
  const Shape& idx = in[1].shape;
  if (in[1].dtype != DType::int32 && in[1].dtype != DType::int64)
    infer_fail(ErrorCode::dtype, "indices must be int32 or int64: " + specs_str(in, names));
  if (in[0].dtype == DType::bool_) infer_fail(ErrorCode::dtype, "updates need a numeric dtype: " + specs_str(in, names));
  if (a.size < 0) infer_fail(ErrorCode::invalid_argument, "size must be >= 0, got " + std::to_string(a.size));
  bool ok = a.axis >= 0 && a.axis + idx.size() <= u.size();
  for (size_t i = 0; ok && i < idx.size(); ++i)
    if (u[a.axis + i] != idx[i]) ok = false;
  if (!ok)
    infer_fail(ErrorCode::shape, "updates must have the indices' shape at axis " + std::to_string(a.axis) + ": " +
                                     specs_str(in, names));
  Shape out(u.begin(), u.begin() + a.axis);
  out.push_back(a.size);
  out.insert(out.end(), u.begin() + a.axis + static_cast<int64_t>(idx.size()), u.end());
  return {TensorSpec{in[0].dtype, out}};
}
void ScatterAdd::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor u = in[0].contiguous();
  Tensor idx = in[1].contiguous();
  Tensor& y = out[0];
  const Shape& ys = y.shape();
  int64_t n = a.size;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < a.axis; ++i) outer *= ys[i];
  for (size_t i = a.axis + 1; i < ys.size(); ++i) inner *= ys[i];
  int64_t count = idx.size();
  std::vector<int64_t> ids = checked_indices(idx, n, "for an axis of size ", u, "updates");
  detail::visit_dtype(y.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* py = y.data<T>();
    std::fill(py, py + y.size(), T(0));
    const T* pu = u.data<T>();
    // One fixed order (updates in row-major order), so sums do not depend on threads.
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < count; ++i) {
        T* dst = py + (o * n + ids[i]) * inner;
        const T* src = pu + (o * count + i) * inner;
        for (int64_t k = 0; k < inner; ++k) {
          if constexpr (std::is_floating_point_v<T>) dst[k] += src[k];
          else dst[k] = ew::AddFn::scalar(dst[k], src[k]);
        }
      }
  });
}

}  // namespace xf
