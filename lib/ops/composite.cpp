// Public shape ops and composite ops (built from primitives, so they get gradients and fusion).
#include <algorithm>
#include <numeric>

#include "ops/prims.hpp"
#include "xflow/ops.hpp"

namespace xf {
namespace {

std::string spec_of(const Tensor& x) { return spec_str({x.dtype(), x.shape()}); }

void check_defined(const char* op, const Tensor& x, Loc loc) {
  if (!x.defined()) raise(ErrorCode::invalid_argument, op, "an input is an empty Tensor handle", loc);
}

Tensor view_op(Prim p, AttrsPtr attrs, const Tensor& x, Loc loc) { return apply1(p, std::move(attrs), {x}, loc); }

}  // namespace

Tensor transpose(const Tensor& x, Loc loc) {
  check_defined("transpose", x, loc);
  Axes perm(static_cast<size_t>(x.rank()));
  for (int64_t i = 0; i < x.rank(); ++i) perm[i] = x.rank() - 1 - i;
  return view_op(Prim::permute, make_attrs(PermuteAttrs{perm}), x, loc);
}

Tensor transpose(const Tensor& x, const Axes& perm, Loc loc) {
  check_defined("transpose", x, loc);
  Axes p;
  for (int64_t a : perm) {
    if (a < -x.rank() || a >= x.rank())
      raise(ErrorCode::invalid_argument, "transpose", "perm " + shape_str(perm) + " does not fit x: x is " + spec_of(x), loc);
    p.push_back(a < 0 ? a + x.rank() : a);
  }
  return view_op(Prim::permute, make_attrs(PermuteAttrs{p}), x, loc);
}

Tensor reshape(const Tensor& x, const Shape& shape, Loc loc) {
  check_defined("reshape", x, loc);
  Shape s = shape;
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer_at >= 0)
        raise(ErrorCode::shape, "reshape", "only one dimension can be -1 in " + shape_str(shape) + ": x is " + spec_of(x), loc);
      infer_at = static_cast<int64_t>(i);
    } else if (s[i] < 0) {
      raise(ErrorCode::shape, "reshape", "negative dimension in " + shape_str(shape) + ": x is " + spec_of(x), loc);
    } else {
      known *= s[i];
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || x.size() % known != 0)
      raise(ErrorCode::shape, "reshape", "cannot reshape x " + spec_of(x) + " into " + shape_str(shape), loc);
    s[infer_at] = x.size() / known;
  }
  if (s == x.shape()) return x;
  return view_op(Prim::reshape, make_attrs(ShapeAttrs{s}), x, loc);
}

Tensor flatten(const Tensor& x, Loc loc) {
  check_defined("flatten", x, loc);
  return reshape(x, {x.size()}, loc);
}

Tensor expand_dims(const Tensor& x, int64_t axis, Loc loc) {
  check_defined("expand_dims", x, loc);
  int64_t a = normalize_axis(axis, x.rank() + 1, "expand_dims", loc);
  Shape s = x.shape();
  s.insert(s.begin() + a, 1);
  return reshape(x, s, loc);
}

Tensor squeeze(const Tensor& x, OptAxes axes, Loc loc) {
  check_defined("squeeze", x, loc);
  std::vector<bool> drop(static_cast<size_t>(x.rank()), false);
  if (!axes) {
    for (int64_t i = 0; i < x.rank(); ++i) drop[i] = x.shape()[i] == 1;
  } else {
    for (int64_t a : *axes) {
      int64_t n = normalize_axis(a, x.rank(), "squeeze", loc);
      if (x.shape()[n] != 1)
        raise(ErrorCode::shape, "squeeze", "axis " + std::to_string(a) + " has size " + std::to_string(x.shape()[n]) +
                                               ", not 1: x is " + spec_of(x), loc);
      drop[n] = true;
    }
  }
  Shape s;
  for (int64_t i = 0; i < x.rank(); ++i)
    if (!drop[i]) s.push_back(x.shape()[i]);
  return reshape(x, s, loc);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape, Loc loc) {
  check_defined("broadcast_to", x, loc);
  if (shape == x.shape()) return x;
  return view_op(Prim::broadcast_to, make_attrs(ShapeAttrs{shape}), x, loc);
}

Tensor concat(const std::vector<Tensor>& xs, int64_t axis, Loc loc) {
  if (xs.empty()) raise(ErrorCode::invalid_argument, "concat", "needs at least one tensor", loc);
  for (const Tensor& t : xs) check_defined("concat", t, loc);
  DType d = xs[0].dtype();
  for (const Tensor& t : xs) d = promote_types(d, t.dtype());
  std::vector<Tensor> in;
  for (const Tensor& t : xs) {
    if (t.dtype() != d && strict_dtypes())
      raise(ErrorCode::dtype, "concat", std::string("implicit dtype promotion in strict mode: ") + dtype_name(t.dtype()) +
                                            " input joins " + dtype_name(d), loc);
    in.push_back(cast(t, d, loc));
  }
  if (xs[0].rank() == 0) raise(ErrorCode::shape, "concat", "cannot concatenate scalars (use stack)", loc);
  int64_t a = normalize_axis(axis, xs[0].rank(), "concat", loc);
  if (in.size() == 1) return in[0];
  return apply1(Prim::concat, make_attrs(AxisAttrs{a}), in, loc);
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis, Loc loc) {
  if (xs.empty()) raise(ErrorCode::invalid_argument, "stack", "needs at least one tensor", loc);
  for (const Tensor& t : xs) {
    check_defined("stack", t, loc);
    if (t.shape() != xs[0].shape())
      raise(ErrorCode::shape, "stack", "all tensors need one shape: " + spec_of(xs[0]) + " and " + spec_of(t), loc);
  }
  int64_t a = normalize_axis(axis, xs[0].rank() + 1, "stack", loc);
  std::vector<Tensor> ex;
  for (const Tensor& t : xs) ex.push_back(expand_dims(t, a, loc));
  return concat(ex, a, loc);
}

namespace {
// NumPy's rule: piece i is x[idx[i-1]:idx[i]] along the axis with Python's slice semantics, so
// indices need not increase (a piece whose end comes before its start is empty).
std::vector<Tensor> split_at(const Tensor& x, const std::vector<int64_t>& idx, int64_t a, Loc loc) {
  std::vector<Tensor> out;
  int64_t n = x.shape()[a];
  int64_t begin = 0;
  for (size_t i = 0; i <= idx.size(); ++i) {
    int64_t end = i < idx.size() ? std::clamp<int64_t>(idx[i] < 0 ? idx[i] + n : idx[i], 0, n) : n;
    std::vector<Slice> sl(static_cast<size_t>(a), Slice{});
    sl.push_back(Slice{begin, std::max(begin, end)});
    out.push_back(slice(x, sl, loc));
    begin = end;
  }
  return out;
}
}  // namespace

std::vector<Tensor> split(const Tensor& x, int64_t sections, int64_t axis, Loc loc) {
  check_defined("split", x, loc);
  int64_t a = normalize_axis(axis, x.rank(), "split", loc);
  if (sections <= 0 || x.shape()[a] % sections != 0)
    raise(ErrorCode::invalid_argument, "split", "axis " + std::to_string(a) + " of x " + spec_of(x) +
                                                   " does not split into " + std::to_string(sections) + " equal parts", loc);
  std::vector<int64_t> idx;
  int64_t step = x.shape()[a] / sections;
  for (int64_t i = 1; i < sections; ++i) idx.push_back(i * step);
  return split_at(x, idx, a, loc);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& indices, int64_t axis, Loc loc) {
  check_defined("split", x, loc);
  return split_at(x, indices, normalize_axis(axis, x.rank(), "split", loc), loc);
}

namespace {
// Python's slice.indices(n): first index and element count.
std::pair<int64_t, int64_t> slice_range(const Slice& s, int64_t n) {
  int64_t step = s.step;
  if (step > 0) {
    int64_t b = s.start ? *s.start : 0;
    int64_t e = s.stop ? *s.stop : n;
    if (b < 0) b += n;
    if (e < 0) e += n;
    b = std::clamp<int64_t>(b, 0, n);
    e = std::clamp<int64_t>(e, 0, n);
    return {b, e > b ? (e - b + step - 1) / step : 0};
  }
  int64_t b = s.start ? *s.start : n - 1;
  int64_t e = s.stop ? *s.stop : -1;
  if (s.start && b < 0) b += n;
  if (s.stop && e < 0) e += n;
  b = std::clamp<int64_t>(b, -1, n - 1);
  e = std::clamp<int64_t>(e, -1, n - 1);
  return {b, b > e ? (b - e + (-step) - 1) / (-step) : 0};
}

Tensor slice_norm(const char* op, const Tensor& x, const std::vector<Slice>& sl, Loc loc) {
  SliceAttrs at;
  for (int64_t i = 0; i < x.rank(); ++i) {
    Slice s = i < static_cast<int64_t>(sl.size()) ? sl[i] : Slice{};
    if (s.step == 0)
      raise(ErrorCode::invalid_argument, op, "step of axis " + std::to_string(i) + " is 0: x is " + spec_of(x), loc);
    auto [b, n] = slice_range(s, x.shape()[i]);
    at.begin.push_back(n > 0 ? b : 0);
    at.size.push_back(n);
    at.step.push_back(s.step);
  }
  return view_op(Prim::slice, make_attrs(at), x, loc);
}
}  // namespace

Tensor slice(const Tensor& x, const std::vector<Slice>& slices, Loc loc) {
  check_defined("slice", x, loc);
  if (static_cast<int64_t>(slices.size()) > x.rank())
    raise(ErrorCode::invalid_argument, "slice", std::to_string(slices.size()) + " slices for x " + spec_of(x), loc);
  return slice_norm("slice", x, slices, loc);
}

Tensor strided_slice(const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                     const std::vector<int64_t>& strides, Loc loc) {
  check_defined("strided_slice", x, loc);
  size_t r = static_cast<size_t>(x.rank());
  if (begin.size() != r || end.size() != r || strides.size() != r)
    raise(ErrorCode::invalid_argument, "strided_slice", "begin, end and strides need one entry per axis: x is " + spec_of(x), loc);
  std::vector<Slice> sl;
  for (size_t i = 0; i < r; ++i) sl.push_back(Slice{begin[i], end[i], strides[i]});
  return slice_norm("strided_slice", x, sl, loc);
}

Tensor gather(const Tensor& x, const Tensor& indices, int64_t axis, Loc loc) {
  check_defined("gather", x, loc);
  check_defined("gather", indices, loc);
  int64_t a = normalize_axis(axis, x.rank(), "gather", loc);
  Tensor idx = indices;
  if (idx.dtype() == DType::uint8 || idx.dtype() == DType::bool_) idx = cast(idx, DType::int32, loc);
  return apply1(Prim::gather, make_attrs(AxisAttrs{a}), {x, idx}, loc);
}

Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads, Scalar value, Loc loc) {
  check_defined("pad", x, loc);
  if (static_cast<int64_t>(pads.size()) != x.rank())
    raise(ErrorCode::invalid_argument, "pad", std::to_string(pads.size()) + " (before, after) pairs for x " + spec_of(x), loc);
  PadAttrs at;
  for (auto [b, e] : pads) {
    at.pads.push_back(b);
    at.pads.push_back(e);
  }
  at.value = value.as_double();
  return apply1(Prim::pad, make_attrs(at), {x}, loc);
}

Tensor tile(const Tensor& x, const std::vector<int64_t>& reps, Loc loc) {
  check_defined("tile", x, loc);
  for (int64_t r : reps)
    if (r < 0)
      raise(ErrorCode::invalid_argument, "tile", "negative repetition in " + shape_str(reps) + ": x is " + spec_of(x), loc);
  size_t n = std::max(reps.size(), static_cast<size_t>(x.rank()));
  Shape s(n - x.shape().size(), 1);
  s.insert(s.end(), x.shape().begin(), x.shape().end());
  std::vector<int64_t> r(n - reps.size(), 1);
  r.insert(r.end(), reps.begin(), reps.end());
  Shape inter, bshape, out;
  for (size_t i = 0; i < n; ++i) {
    inter.push_back(1);
    inter.push_back(s[i]);
    bshape.push_back(r[i]);
    bshape.push_back(s[i]);
    out.push_back(r[i] * s[i]);
  }
  return reshape(broadcast_to(reshape(x, inter, loc), bshape, loc), out, loc);
}

Tensor one_hot(const Tensor& indices, int64_t depth, DType d, Loc loc) {
  check_defined("one_hot", indices, loc);
  if (!is_integral(indices.dtype()))
    raise(ErrorCode::dtype, "one_hot", "indices must be integers: indices is " + spec_of(indices), loc);
  if (depth < 0)
    raise(ErrorCode::invalid_argument, "one_hot",
          "depth must be >= 0, got " + std::to_string(depth) + ": indices is " + spec_of(indices), loc);
  // Compared as int32 at least: the positions 0..depth-1 would saturate at 255 in uint8.
  DType pos = promote_types(indices.dtype(), DType::int32);
  Tensor eq = equal(expand_dims(cast(indices, pos, loc), -1, loc), arange(0, static_cast<double>(depth), 1, pos, loc), loc);
  return cast(eq, d, loc);
}

Tensor one_hot(const Tensor& indices, int64_t depth, Scalar on_value, Scalar off_value, int64_t axis, DType d,
               Loc loc) {
  check_defined("one_hot", indices, loc);
  if (axis < -1 || axis > indices.rank())
    raise(ErrorCode::axis, "one_hot",
          "axis " + std::to_string(axis) + " is out of range [-1, " + std::to_string(indices.rank()) +
              "]: indices is " + spec_of(indices), loc);
  Tensor hot = one_hot(indices, depth, DType::bool_, loc);
  Tensor out = where(hot, full({}, on_value, d, loc), full({}, off_value, d, loc), loc);
  if (axis == -1 || axis == indices.rank()) return out;
  // Move the new last axis to `axis`.
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < indices.rank(); ++i) {
    if (i == axis) perm.push_back(indices.rank());
    perm.push_back(i);
  }
  return transpose(out, perm, loc);
}

Tensor tensordot(const Tensor& a, const Tensor& b, const Axes& axes_a, const Axes& axes_b, Loc loc) {
  check_defined("tensordot", a, loc);
  check_defined("tensordot", b, loc);
  if (axes_a.size() != axes_b.size())
    raise(ErrorCode::invalid_argument, "tensordot", "axes lists differ in length: a is " + spec_of(a) + ", b is " + spec_of(b), loc);
  Axes aa, bb;
  for (size_t i = 0; i < axes_a.size(); ++i) {
    aa.push_back(normalize_axis(axes_a[i], a.rank(), "tensordot", loc));
    bb.push_back(normalize_axis(axes_b[i], b.rank(), "tensordot", loc));
    if (a.shape()[aa.back()] != b.shape()[bb.back()])
      raise(ErrorCode::shape, "tensordot", "contracted dimensions differ: a is " + spec_of(a) + ", b is " + spec_of(b), loc);
  }
  Axes free_a, free_b;
  Shape out;
  int64_t fa = 1, fb = 1, k = 1;
  for (int64_t i = 0; i < a.rank(); ++i)
    if (std::find(aa.begin(), aa.end(), i) == aa.end()) { free_a.push_back(i); out.push_back(a.shape()[i]); fa *= a.shape()[i]; }
  for (int64_t i = 0; i < b.rank(); ++i)
    if (std::find(bb.begin(), bb.end(), i) == bb.end()) { free_b.push_back(i); out.push_back(b.shape()[i]); fb *= b.shape()[i]; }
  for (int64_t i : aa) k *= a.shape()[i];
  Axes pa = free_a, pb = bb;
  pa.insert(pa.end(), aa.begin(), aa.end());
  pb.insert(pb.end(), free_b.begin(), free_b.end());
  Tensor am = reshape(transpose(a, pa, loc), {fa, k}, loc);
  Tensor bm = reshape(transpose(b, pb, loc), {k, fb}, loc);
  return reshape(matmul(am, bm, loc), out, loc);
}

Tensor tensordot(const Tensor& a, const Tensor& b, int64_t axes, Loc loc) {
  check_defined("tensordot", a, loc);
  check_defined("tensordot", b, loc);
  if (axes < 0 || axes > a.rank() || axes > b.rank())
    raise(ErrorCode::invalid_argument, "tensordot", "cannot contract " + std::to_string(axes) + " axes: a is " +
                                                       spec_of(a) + ", b is " + spec_of(b), loc);
  Axes aa, bb;
  for (int64_t i = 0; i < axes; ++i) {
    aa.push_back(a.rank() - axes + i);
    bb.push_back(i);
  }
  return tensordot(a, b, aa, bb, loc);
}

// ---- neural network ----

namespace {
// Integer inputs become float32, which strict mode refuses as every other implicit promotion.
Tensor to_float32(const char* op, const Tensor& x, Loc loc) {
  if (is_floating(x.dtype())) return x;
  if (strict_dtypes())
    raise(ErrorCode::dtype, op, "implicit dtype promotion in strict mode: x is " + spec_of(x) + " and would become float32", loc);
  return cast(x, DType::float32, loc);
}

// The shift that keeps softmax and log_softmax's exp from overflowing: the max along the axis,
// behind stop_gradient. Both functions are invariant to the shift, so its exact gradient is 0;
// without stop_gradient the tape would still differentiate the max (an argmax mask: equal,
// isnan, logical ops, a tie count and a where) only to multiply it by a cotangent that sums to
// zero up to rounding. With it, log_softmax's gradient is TensorFlow's g - sum(g) * softmax and
// softmax's is (g - sum(g * y)) * y (docs/decisions.md, 163).
Tensor shift_of(const Tensor& xf, const Axes& ax, Loc loc) {
  return apply1(Prim::stop_gradient, {max(xf, ax, true, loc)}, loc);
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t axis, Loc loc) {
  check_defined("softmax", x, loc);
  Tensor xf = to_float32("softmax", x, loc);
  Axes ax{normalize_axis(axis, x.rank(), "softmax", loc)};
  if (x.shape()[ax[0]] == 0) return xf;  // nothing to normalize (and max has no identity there)
  Tensor e = exp(sub(xf, shift_of(xf, ax, loc), loc), loc);
  return div(e, sum(e, ax, true, loc), loc);
}

Tensor log_softmax(const Tensor& x, int64_t axis, Loc loc) {
  check_defined("log_softmax", x, loc);
  Tensor xf = to_float32("log_softmax", x, loc);
  Axes ax{normalize_axis(axis, x.rank(), "log_softmax", loc)};
  if (x.shape()[ax[0]] == 0) return xf;  // nothing to normalize (and max has no identity there)
  Tensor s = sub(xf, shift_of(xf, ax, loc), loc);
  return sub(s, log(sum(exp(s, loc), ax, true, loc), loc), loc);
}

namespace {
const char* padding_name(Padding p) { return p == Padding::same ? "SAME" : "VALID"; }
}

Tensor conv2d(const Tensor& input, const Tensor& filter, std::pair<int64_t, int64_t> strides, Padding padding,
              std::pair<int64_t, int64_t> dilations, Loc loc) {
  check_defined("conv2d", input, loc);
  check_defined("conv2d", filter, loc);
  ConvAttrs at{{strides.first, strides.second}, padding_name(padding), {dilations.first, dilations.second}};
  if (conv2d_keeps_patches(input, filter, at)) {
    // Under a gradient tape: the patch matrix is an op's result, which the tape keeps for the
    // filter's gradient (the 1x1 conv2d's backprop_filter reads it) instead of rebuilding it.
    const Shape& f = filter.shape();
    Tensor cols = image_patches(input, {f[0], f[1]}, strides, padding, dilations, loc);
    return apply1(Prim::conv2d, make_attrs(ConvAttrs{}),
                  {cols, reshape(filter, {1, 1, f[0] * f[1] * f[2], f[3]}, loc)}, loc);
  }
  return apply1(Prim::conv2d, make_attrs(at), {input, filter}, loc);
}

Tensor max_pool2d(const Tensor& input, std::pair<int64_t, int64_t> window, std::pair<int64_t, int64_t> strides,
                  Padding padding, Loc loc) {
  check_defined("max_pool2d", input, loc);
  PoolAttrs at{{window.first, window.second}, {strides.first, strides.second}, padding_name(padding)};
  return apply1(Prim::max_pool2d, make_attrs(at), {input}, loc);
}

Tensor avg_pool2d(const Tensor& input, std::pair<int64_t, int64_t> window, std::pair<int64_t, int64_t> strides,
                  Padding padding, Loc loc) {
  check_defined("avg_pool2d", input, loc);
  PoolAttrs at{{window.first, window.second}, {strides.first, strides.second}, padding_name(padding)};
  // An average of integers is not an integer: integer inputs become float32, as mean's do
  // (docs/dtypes.md), instead of window means truncated to the input dtype. bool is refused.
  bool integral = is_integral(input.dtype());
  return apply1(Prim::avg_pool2d, make_attrs(at), {integral ? to_float32("avg_pool2d", input, loc) : input}, loc);
}

// ---- gradient building blocks ----

Tensor scatter_add(const Tensor& updates, const Tensor& indices, int64_t size, int64_t axis, Loc loc) {
  check_defined("scatter_add", updates, loc);
  check_defined("scatter_add", indices, loc);
  int64_t r = updates.rank() - indices.rank() + 1;  // the result's rank
  if (r < 1)
    raise(ErrorCode::shape, "scatter_add", "updates " + spec_of(updates) + " have fewer axes than indices " +
                                               spec_of(indices), loc);
  int64_t a = normalize_axis(axis, r, "scatter_add", loc);
  Tensor idx = indices;
  if (idx.dtype() == DType::uint8 || idx.dtype() == DType::bool_) idx = cast(idx, DType::int32, loc);
  return apply1(Prim::scatter_add, make_attrs(ScatterAttrs{a, size}), {updates, idx}, loc);
}

Tensor conv2d_backprop_input(const Shape& input_shape, const Tensor& filter, const Tensor& out_grad,
                             std::pair<int64_t, int64_t> strides, Padding padding,
                             std::pair<int64_t, int64_t> dilations, Loc loc) {
  check_defined("conv2d_backprop_input", filter, loc);
  check_defined("conv2d_backprop_input", out_grad, loc);
  ConvGradAttrs at{input_shape, {strides.first, strides.second}, padding_name(padding),
                   {dilations.first, dilations.second}};
  return apply1(Prim::conv2d_backprop_input, make_attrs(at), {filter, out_grad}, loc);
}

Tensor conv2d_backprop_filter(const Tensor& input, const Shape& filter_shape, const Tensor& out_grad,
                              std::pair<int64_t, int64_t> strides, Padding padding,
                              std::pair<int64_t, int64_t> dilations, Loc loc) {
  check_defined("conv2d_backprop_filter", input, loc);
  check_defined("conv2d_backprop_filter", out_grad, loc);
  ConvGradAttrs at{filter_shape, {strides.first, strides.second}, padding_name(padding),
                   {dilations.first, dilations.second}};
  return apply1(Prim::conv2d_backprop_filter, make_attrs(at), {input, out_grad}, loc);
}

Tensor image_patches(const Tensor& input, std::pair<int64_t, int64_t> window, std::pair<int64_t, int64_t> strides,
                     Padding padding, std::pair<int64_t, int64_t> dilations, Loc loc) {
  check_defined("image_patches", input, loc);
  PatchAttrs at{{window.first, window.second}, {strides.first, strides.second}, padding_name(padding),
                {dilations.first, dilations.second}};
  return apply1(Prim::image_patches, make_attrs(at), {input}, loc);
}

Tensor image_patches_backprop(const Shape& input_shape, const Tensor& patch_grad, std::pair<int64_t, int64_t> window,
                              std::pair<int64_t, int64_t> strides, Padding padding,
                              std::pair<int64_t, int64_t> dilations, Loc loc) {
  check_defined("image_patches_backprop", patch_grad, loc);
  PatchGradAttrs at{input_shape, {window.first, window.second}, {strides.first, strides.second}, padding_name(padding),
                    {dilations.first, dilations.second}};
  return apply1(Prim::image_patches_backprop, make_attrs(at), {patch_grad}, loc);
}

Tensor max_pool2d_argmax(const Tensor& input, std::pair<int64_t, int64_t> window, std::pair<int64_t, int64_t> strides,
                         Padding padding, Loc loc) {
  check_defined("max_pool2d_argmax", input, loc);
  PoolAttrs at{{window.first, window.second}, {strides.first, strides.second}, padding_name(padding)};
  return apply1(Prim::max_pool2d_argmax, make_attrs(at), {input}, loc);
}

Tensor max_pool2d_backprop(const Tensor& input, const Tensor& out_grad, std::pair<int64_t, int64_t> window,
                           std::pair<int64_t, int64_t> strides, Padding padding, Loc loc) {
  check_defined("max_pool2d_backprop", input, loc);
  check_defined("max_pool2d_backprop", out_grad, loc);
  PoolAttrs at{{window.first, window.second}, {strides.first, strides.second}, padding_name(padding)};
  return apply1(Prim::max_pool2d_backprop, make_attrs(at), {input, out_grad}, loc);
}

Tensor avg_pool2d_backprop(const Shape& input_shape, const Tensor& out_grad, std::pair<int64_t, int64_t> window,
                           std::pair<int64_t, int64_t> strides, Padding padding, Loc loc) {
  check_defined("avg_pool2d_backprop", out_grad, loc);
  PoolGradAttrs at{input_shape, {window.first, window.second}, {strides.first, strides.second}, padding_name(padding)};
  return apply1(Prim::avg_pool2d_backprop, make_attrs(at), {out_grad}, loc);
}

}  // namespace xf
