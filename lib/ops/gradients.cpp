// The gradient (vjp) of every primitive, written with public ops: gradients run eagerly, a tracer
// records them (so a traced training step includes backward), and a tape can differentiate them
// again (second order). Conventions (ties, zeros, broadcasting, dtypes) are in docs/autodiff.md.
//
// A vjp gets the primitive's inputs, outputs and one cotangent per output, and returns one
// gradient per input, of the input's shape and dtype; an undefined Tensor() means "no gradient"
// (an integer input such as gather's indices or where's cond, or a primitive that is not
// differentiable), which the tape treats as zero.
#include <algorithm>
#include <cmath>

#include "ops/prims.hpp"
#include "xflow/ops.hpp"

namespace xf {
namespace {

// Sums `g` (the shape an input was broadcast to) back to the input's `shape`: over the leading
// axes the input lacks and over its size-1 axes that were stretched.
Tensor unbroadcast(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  int64_t lead = g.rank() - static_cast<int64_t>(shape.size());
  Axes axes;
  for (int64_t i = 0; i < lead; ++i) axes.push_back(i);
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 1 && g.shape()[lead + i] != 1) axes.push_back(lead + static_cast<int64_t>(i));
  Tensor s = axes.empty() ? g : sum(g, axes);
  return s.shape() == shape ? s : reshape(s, shape);
}

Specs specs_of(const Tensors& ts) {
  Specs s;
  for (const Tensor& t : ts) s.push_back(TensorSpec{t.dtype(), t.shape()});
  return s;
}

// Gradients exist for float tensors only: an integer or bool input in a differentiable position
// is a DTypeError naming the op. (The tape never asks: it does not track integer tensors.)
void require_float(const char* op, const VjpArgs& a, std::initializer_list<size_t> positions) {
  for (size_t i : positions)
    if (i < a.inputs.size() && !is_floating(a.inputs[i].dtype()))
      throw DTypeError("[" + std::string(op) + "] gradients are defined for float inputs only: " +
                       specs_str(specs_of(a.inputs)));
}
void require_float(const char* op, const VjpArgs& a) {
  for (const Tensor& t : a.inputs)
    if (!is_floating(t.dtype()))
      throw DTypeError("[" + std::string(op) + "] gradients are defined for float inputs only: " +
                       specs_str(specs_of(a.inputs)));
}

// The shape of a reduction's input with the reduced axes kept as size 1.
Shape kept_shape(const Shape& x, const std::vector<int64_t>& axes) {
  Shape s = x;
  for (int64_t a : axes) s[a] = 1;
  return s;
}

Axes swap_last_two(int64_t rank) {
  Axes p;
  for (int64_t i = 0; i < rank; ++i) p.push_back(i);
  std::swap(p[rank - 1], p[rank - 2]);
  return p;
}

Padding padding_of(const std::string& p) { return p == "SAME" ? Padding::same : Padding::valid; }
std::pair<int64_t, int64_t> pair_of(const std::vector<int64_t>& v) { return {v[0], v[1]}; }

Tensors no_gradients(const VjpArgs& a) { return Tensors(a.inputs.size()); }

// The gradient of x[begin : begin + size * step : step] (per axis): the slice's gradient put back
// at the positions it was read from, zeros elsewhere. Built from slice (to undo negative steps),
// reshape and pad (to interleave zeros between elements of strided axes) and pad (to place it).
Tensor slice_gradient(const Tensor& g, const Shape& xs, const SliceAttrs& a) {
  size_t r = xs.size();
  for (size_t i = 0; i < r; ++i)
    if (a.size[i] == 0) return zeros(xs, g.dtype());
  // Negative steps: reverse those axes, then the slice reads forwards from its last element.
  std::vector<int64_t> begin = a.begin, step = a.step;
  std::vector<Slice> rev(r, Slice{});
  bool any_rev = false;
  for (size_t i = 0; i < r; ++i)
    if (step[i] < 0) {
      begin[i] += (a.size[i] - 1) * step[i];
      step[i] = -step[i];
      rev[i] = Slice{std::nullopt, std::nullopt, -1};
      any_rev = true;
    }
  Tensor t = any_rev ? slice(g, rev) : g;
  // Steps > 1: (.., n, ..) -> (.., n, 1, ..) -> pad to (.., n, step, ..) -> (.., n * step, ..).
  Shape split_shape, merged;
  std::vector<std::pair<int64_t, int64_t>> interleave;
  bool any_step = false;
  for (size_t i = 0; i < r; ++i) {
    split_shape.push_back(a.size[i]);
    interleave.push_back({0, 0});
    if (step[i] > 1 && a.size[i] > 1) {
      split_shape.push_back(1);
      interleave.push_back({0, step[i] - 1});
      merged.push_back(a.size[i] * step[i]);
      any_step = true;
    } else {
      merged.push_back(a.size[i]);
    }
  }
  if (any_step) t = reshape(pad(reshape(t, split_shape), interleave), merged);
  // The interleaving may run past the end of the input: cut it, then pad into place.
  std::vector<Slice> cut(r, Slice{});
  std::vector<std::pair<int64_t, int64_t>> place;
  bool any_cut = false;
  for (size_t i = 0; i < r; ++i) {
    int64_t len = merged[i];
    if (begin[i] + len > xs[i]) {
      len = xs[i] - begin[i];
      cut[i] = Slice{0, len};
      any_cut = true;
    }
    place.push_back({begin[i], xs[i] - begin[i] - len});
  }
  if (any_cut) t = slice(t, cut);
  return pad(t, place);
}

// The weight of a in maximum(a, b) (minimum with `less`): 1 where a is taken, 1/2 on ties, else 0.
// A NaN is taken from whichever side has it (a's when both do), as the kernels do.
std::pair<Tensor, Tensor> extremum_gradients(bool is_max, const VjpArgs& args) {
  const Tensor& a = args.inputs[0];
  const Tensor& b = args.inputs[1];
  const Tensor& g = args.cotangents[0];
  Tensor a_wins = logical_or(is_max ? greater(a, b) : less(a, b), isnan(a));
  Tensor b_wins = logical_and(logical_or(is_max ? less(a, b) : greater(a, b), isnan(b)), logical_not(isnan(a)));
  Tensor half = mul(g, 0.5);
  Tensor tie = equal(a, b);
  Tensor ga = where(a_wins, g, where(tie, half, 0.0));
  Tensor gb = where(b_wins, g, where(tie, half, 0.0));
  return {unbroadcast(ga, a.shape()), unbroadcast(gb, b.shape())};
}

// reduce_max / reduce_min: the gradient goes to the elements equal to the result, split evenly
// among them (TensorFlow's rule); a NaN result sends it to the NaNs.
Tensor extremum_reduce_gradient(const ReduceAttrs& at, const VjpArgs& args) {
  const Tensor& x = args.inputs[0];
  Shape ks = kept_shape(x.shape(), at.axes);
  Tensor y = reshape(args.outputs[0], ks);
  Tensor g = reshape(args.cotangents[0], ks);
  Tensor chosen = logical_or(equal(x, y), logical_and(isnan(x), isnan(y)));
  Tensor count = sum(cast(chosen, x.dtype()), at.axes, true);
  return where(chosen, broadcast_to(div(g, count), x.shape()), 0.0);
}

// reduce_prod without dividing by zero: with no zero factor the gradient is y / x; with one zero,
// only the zero's element gets the product of the others; with two or more, every gradient is 0.
Tensor prod_gradient(const ReduceAttrs& at, const VjpArgs& args) {
  const Tensor& x = args.inputs[0];
  Shape ks = kept_shape(x.shape(), at.axes);
  Tensor y = reshape(args.outputs[0], ks);
  Tensor g = reshape(args.cotangents[0], ks);
  Tensor is_zero = equal(x, 0.0);
  Tensor zeros_n = sum(cast(is_zero, x.dtype()), at.axes, true);
  Tensor safe = where(is_zero, 1.0, x);
  Tensor no_zero = div(y, safe);
  Tensor one_zero = where(is_zero, prod(safe, at.axes, true), 0.0);
  Tensor d = where(equal(zeros_n, 0.0), no_zero, where(equal(zeros_n, 1.0), one_zero, 0.0));
  return mul(g, d);
}

// x reversed along `axis` (a view).
Tensor reversed(const Tensor& x, int64_t axis) { return flip(x, Axes{axis}); }

// The gradient of an inclusive, forward cumprod without dividing by zero. With y = cumprod(x),
// dx[i] = sum_{j >= i} g[j] * prod_{k <= j, k != i} x[k]. Before the first zero of a lane x[i] is
// not 0 and dx[i] = (reverse cumsum of g * y)[i] / x[i]. At the first zero, f: the products
// without x[f] are the cumprod of x with x[f] replaced by 1, so dx[f] = (reverse cumsum of
// g * that)[f]. After it every product keeps the zero at f: dx = 0.
Tensor cumprod_gradient(const Tensor& x, const Tensor& g, int64_t axis) {
  Tensor is_zero = equal(x, 0.0);
  Tensor zeros_before = cumsum(cast(is_zero, DType::int32), axis, true);
  Tensor none_before = equal(zeros_before, 0);
  Tensor first_zero = logical_and(is_zero, none_before);
  Tensor safe = where(is_zero, 1.0, x);
  Tensor y = cumprod(x, axis);
  Tensor before = div(cumsum(mul(g, y), axis, false, true), safe);
  Tensor without_f = cumprod(where(first_zero, 1.0, x), axis);
  Tensor at_f = cumsum(mul(g, without_f), axis, false, true);
  return where(logical_and(none_before, logical_not(is_zero)), before, where(first_zero, at_f, 0.0));
}

// cumprod's gradient for every option: a reverse scan is the forward one of the reversed lanes;
// an exclusive one is the inclusive one shifted by one element (y_excl[j] = y_incl[j - 1]), so
// its cotangent moves one element back.
Tensor scan_prod_gradient(const ScanAttrs& at, const Tensor& x, const Tensor& g) {
  if (x.shape()[at.axis] == 0) return zeros_like(x);
  if (at.reverse) {
    ScanAttrs fwd = at;
    fwd.reverse = false;
    return reversed(scan_prod_gradient(fwd, reversed(x, at.axis), reversed(g, at.axis)), at.axis);
  }
  if (!at.exclusive) return cumprod_gradient(x, g, at.axis);
  std::vector<Slice> tail(static_cast<size_t>(at.axis), Slice{});
  tail.push_back(Slice{1, std::nullopt});
  std::vector<std::pair<int64_t, int64_t>> pads(static_cast<size_t>(x.rank()), {0, 0});
  pads[at.axis] = {0, 1};
  return cumprod_gradient(x, pad(slice(g, tail), pads), at.axis);
}

}  // namespace

// ---- unary ----
// x: the input, y: the output, g: the cotangent.
#define XFLOW_UNARY_VJP(S, expr)                                      \
  Tensors S::vjp(const Attrs&, const VjpArgs& args) {                 \
    require_float(S::name, args);                                     \
    const Tensor& x = args.inputs[0];                                 \
    const Tensor& y = args.outputs[0];                                \
    const Tensor& g = args.cotangents[0];                             \
    (void)x;                                                          \
    (void)y;                                                          \
    (void)g;                                                          \
    return {expr};                                                    \
  }
XFLOW_UNARY_VJP(Neg, neg(g))
XFLOW_UNARY_VJP(Abs, mul(g, sign(x)))
XFLOW_UNARY_VJP(Sign, zeros_like(x))
XFLOW_UNARY_VJP(Exp, mul(g, y))
XFLOW_UNARY_VJP(Expm1, mul(g, add(y, 1.0)))
XFLOW_UNARY_VJP(Log, div(g, x))
XFLOW_UNARY_VJP(Log1p, div(g, add(x, 1.0)))
XFLOW_UNARY_VJP(Sqrt, div(mul(g, 0.5), y))
XFLOW_UNARY_VJP(Rsqrt, mul(mul(g, -0.5), mul(y, square(y))))
XFLOW_UNARY_VJP(Square, mul(g, mul(x, 2.0)))
XFLOW_UNARY_VJP(Reciprocal, neg(mul(g, square(y))))
XFLOW_UNARY_VJP(Sin, mul(g, cos(x)))
XFLOW_UNARY_VJP(Cos, neg(mul(g, sin(x))))
XFLOW_UNARY_VJP(Tan, mul(g, add(square(y), 1.0)))
XFLOW_UNARY_VJP(Tanh, mul(g, sub(1.0, square(y))))
XFLOW_UNARY_VJP(Sigmoid, mul(g, mul(y, sub(1.0, y))))
XFLOW_UNARY_VJP(Relu, relu_grad(g, x))
XFLOW_UNARY_VJP(Erf, mul(g, mul(exp(neg(square(x))), 1.1283791670955126)))  // 2 / sqrt(pi)
XFLOW_UNARY_VJP(Floor, zeros_like(x))
XFLOW_UNARY_VJP(Ceil, zeros_like(x))
XFLOW_UNARY_VJP(Round, zeros_like(x))
#undef XFLOW_UNARY_VJP

// ---- binary (broadcasting) ----
// a, b: the inputs, y: the output, g: the cotangent; each gradient is unbroadcast to its input.
// An input the tape does not want (a constant: labels, a mask) gets none (decision 159).
#define XFLOW_BINARY_VJP(S, ga, gb)                                   \
  Tensors S::vjp(const Attrs&, const VjpArgs& args) {                 \
    require_float(S::name, args);                                     \
    const Tensor& a = args.inputs[0];                                 \
    const Tensor& b = args.inputs[1];                                 \
    const Tensor& y = args.outputs[0];                                \
    const Tensor& g = args.cotangents[0];                             \
    (void)a;                                                          \
    (void)b;                                                          \
    (void)y;                                                          \
    (void)g;                                                          \
    return {args.wants(0) ? unbroadcast(ga, a.shape()) : Tensor(),     \
            args.wants(1) ? unbroadcast(gb, b.shape()) : Tensor()};    \
  }
XFLOW_BINARY_VJP(Add, g, g)
XFLOW_BINARY_VJP(Sub, g, neg(g))
XFLOW_BINARY_VJP(Mul, mul(g, b), mul(g, a))
XFLOW_BINARY_VJP(Div, div(g, b), mul(g, div(div(neg(a), b), b)))
XFLOW_BINARY_VJP(FloorDiv, zeros_like(a), zeros_like(b))
XFLOW_BINARY_VJP(Mod, g, mul(neg(g), floor_div(a, b)))
// d/da = b a^(b-1) (0 where b = 0, so 0^0 has gradient 0, not NaN); d/db = y log(a) for a > 0 and
// 0 elsewhere (log is taken of a safe value, so the second derivative has no NaN either).
XFLOW_BINARY_VJP(Pow, mul(g, where(equal(b, 0.0), 0.0, mul(b, pow(a, sub(b, 1.0))))),
                 mul(g, mul(y, where(greater(a, 0.0), log(where(greater(a, 0.0), a, 1.0)), 0.0))))
XFLOW_BINARY_VJP(Atan2, mul(g, div(b, add(square(a), square(b)))), mul(g, div(neg(a), add(square(a), square(b)))))
// d/da = a / y, d/db = b / y; at a = b = 0 (y = 0) the gradient is 0 (a subgradient), not NaN.
XFLOW_BINARY_VJP(Hypot, mul(g, where(equal(y, 0.0), 0.0, div(a, where(equal(y, 0.0), 1.0, y)))),
                 mul(g, where(equal(y, 0.0), 0.0, div(b, where(equal(y, 0.0), 1.0, y)))))
// d/da = exp(a - y), d/db = exp(b - y): the softmax weights of a and b.
XFLOW_BINARY_VJP(LogAddExp, mul(g, exp(sub(a, y))), mul(g, exp(sub(b, y))))
// relu_grad(g, x) is linear in g with the mask of x (TensorFlow's ReluGradGrad): the gradient for
// g is the same mask, for x zero (the mask is piecewise constant).
XFLOW_BINARY_VJP(ReluGrad, relu_grad(g, b), zeros_like(b))
#undef XFLOW_BINARY_VJP

Tensors Maximum::vjp(const Attrs&, const VjpArgs& args) {
  require_float(name, args);
  auto [ga, gb] = extremum_gradients(true, args);
  return {ga, gb};
}
Tensors Minimum::vjp(const Attrs&, const VjpArgs& args) {
  require_float(name, args);
  auto [ga, gb] = extremum_gradients(false, args);
  return {ga, gb};
}

// ---- not differentiable: no gradient for any input (the tape does not record these) ----
#define XFLOW_NO_VJP(S) \
  Tensors S::vjp(const Attrs&, const VjpArgs& args) { return no_gradients(args); }
XFLOW_NO_VJP(LogicalNot) XFLOW_NO_VJP(IsNan) XFLOW_NO_VJP(IsInf) XFLOW_NO_VJP(IsFinite)
XFLOW_NO_VJP(Equal) XFLOW_NO_VJP(NotEqual) XFLOW_NO_VJP(Less) XFLOW_NO_VJP(LessEqual)
XFLOW_NO_VJP(Greater) XFLOW_NO_VJP(GreaterEqual) XFLOW_NO_VJP(LogicalAnd) XFLOW_NO_VJP(LogicalOr)
XFLOW_NO_VJP(LogicalXor) XFLOW_NO_VJP(ReduceAll) XFLOW_NO_VJP(ReduceAny) XFLOW_NO_VJP(ArgMax)
XFLOW_NO_VJP(ArgMin) XFLOW_NO_VJP(RandomUniform) XFLOW_NO_VJP(RandomNormal) XFLOW_NO_VJP(TruncatedNormal)
XFLOW_NO_VJP(AdamUpdate)
XFLOW_NO_VJP(StopGradient) XFLOW_NO_VJP(MaxPool2DArgmax) XFLOW_NO_VJP(SearchSorted)
#undef XFLOW_NO_VJP

// ---- check_numerics: the incoming gradient, itself checked (TensorFlow's _CheckNumericsGrad) ----
Tensors CheckNumerics::vjp(const Attrs& a, const VjpArgs& args) {
  return {check_numerics(args.cotangents[0],
                         "Not a number (NaN) or infinity (Inf) values detected in gradient. " + a.message)};
}

// ---- where, cast ----
Tensors Where::vjp(const Attrs&, const VjpArgs& args) {
  require_float(name, args, {1, 2});
  const Tensor& c = args.inputs[0];
  const Tensor& g = args.cotangents[0];
  return {Tensor(), args.wants(1) ? unbroadcast(where(c, g, 0.0), args.inputs[1].shape()) : Tensor(),
          args.wants(2) ? unbroadcast(where(c, 0.0, g), args.inputs[2].shape()) : Tensor()};
}

// Back to the input's dtype; a cast from an integer has no gradient, a cast to one a zero gradient.
Tensors Cast::vjp(const Attrs&, const VjpArgs& args) {
  const Tensor& x = args.inputs[0];
  if (!is_floating(x.dtype())) return {Tensor()};
  if (!is_floating(args.outputs[0].dtype())) return {zeros_like(x)};
  return {cast(args.cotangents[0], x.dtype())};
}

// ---- reductions ----
Tensors ReduceSum::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& x = args.inputs[0];
  return {broadcast_to(reshape(args.cotangents[0], kept_shape(x.shape(), at.axes)), x.shape())};
}
Tensors ReduceProd::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {prod_gradient(at, args)};
}
Tensors ReduceMax::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {extremum_reduce_gradient(at, args)};
}
Tensors ReduceMin::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {extremum_reduce_gradient(at, args)};
}

// ---- linear algebra and shapes ----
// a (..., m, k) @ b (..., k, n): da = g b^T, db = a^T g, summed over broadcast batch axes.
Tensors MatMul::vjp(const Attrs&, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& a = args.inputs[0];
  const Tensor& b = args.inputs[1];
  const Tensor& g = args.cotangents[0];
  // An operand that is data (a batch of inputs, not a weight) gets no gradient: its product is
  // the size of a forward product and would be dropped (docs/decisions.md, 158).
  Tensor ga, gb;
  if (args.wants(0)) ga = unbroadcast(matmul(g, transpose(b, swap_last_two(b.rank()))), a.shape());
  if (args.wants(1)) gb = unbroadcast(matmul(transpose(a, swap_last_two(a.rank())), g), b.shape());
  return {ga, gb};
}

Tensors Permute::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  Axes inv(at.perm.size());
  for (size_t i = 0; i < at.perm.size(); ++i) inv[at.perm[i]] = static_cast<int64_t>(i);
  return {transpose(args.cotangents[0], inv)};
}

Tensors Reshape::vjp(const Attrs&, const VjpArgs& args) {
  require_float(name, args);
  return {reshape(args.cotangents[0], args.inputs[0].shape())};
}

Tensors BroadcastTo::vjp(const Attrs&, const VjpArgs& args) {
  require_float(name, args);
  return {unbroadcast(args.cotangents[0], args.inputs[0].shape())};
}

Tensors StridedSlice::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {slice_gradient(args.cotangents[0], args.inputs[0].shape(), at)};
}

Tensors Concat::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  std::vector<int64_t> cuts;
  int64_t pos = 0;
  for (size_t i = 0; i + 1 < args.inputs.size(); ++i) {
    pos += args.inputs[i].shape()[at.axis];
    cuts.push_back(pos);
  }
  return split(args.cotangents[0], cuts, at.axis);
}

Tensors Gather::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args, {0});
  const Tensor& x = args.inputs[0];
  return {scatter_add(args.cotangents[0], args.inputs[1], x.shape()[at.axis], at.axis), Tensor()};
}

Tensors ScatterAdd::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args, {0});
  return {gather(args.cotangents[0], args.inputs[1], at.axis), Tensor()};
}

// The pad value is an attribute: only the interior has a gradient.
Tensors Pad::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Shape& xs = args.inputs[0].shape();
  std::vector<Slice> sl;
  for (size_t i = 0; i < xs.size(); ++i) sl.push_back(Slice{at.pads[2 * i], at.pads[2 * i] + xs[i]});
  return {slice(args.cotangents[0], sl)};
}

// ---- neural network ----
Tensors Conv2D::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& x = args.inputs[0];
  const Tensor& f = args.inputs[1];
  const Tensor& g = args.cotangents[0];
  auto s = pair_of(at.strides);
  Padding p = padding_of(at.padding);
  auto d = pair_of(at.dilations);
  // The input's gradient is skipped when no one wants it (a first layer's input is data).
  return {args.wants(0) ? conv2d_backprop_input(x.shape(), f, g, s, p, d) : Tensor(),
          args.wants(1) ? conv2d_backprop_filter(x, f.shape(), g, s, p, d) : Tensor()};
}

// image_patches is linear (a copy of input elements into patches) and image_patches_backprop its
// adjoint (the sum of the patch entries back at their pixels): each is the other's gradient.
Tensors ImagePatches::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {image_patches_backprop(args.inputs[0].shape(), args.cotangents[0], pair_of(at.window), pair_of(at.strides),
                                 padding_of(at.padding), pair_of(at.dilations))};
}

Tensors ImagePatchesBackprop::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {image_patches(args.cotangents[0], pair_of(at.window), pair_of(at.strides), padding_of(at.padding),
                        pair_of(at.dilations))};
}

// Both backprops are bilinear in their inputs; each gradient is conv2d or the other backprop.
Tensors Conv2DBackpropInput::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& f = args.inputs[0];
  const Tensor& dy = args.inputs[1];
  const Tensor& g = args.cotangents[0];  // shaped as conv2d's input
  auto s = pair_of(at.strides);
  Padding p = padding_of(at.padding);
  auto d = pair_of(at.dilations);
  return {conv2d_backprop_filter(g, f.shape(), dy, s, p, d), conv2d(g, f, s, p, d)};
}

Tensors Conv2DBackpropFilter::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& x = args.inputs[0];
  const Tensor& dy = args.inputs[1];
  const Tensor& g = args.cotangents[0];  // shaped as the filter
  auto s = pair_of(at.strides);
  Padding p = padding_of(at.padding);
  auto d = pair_of(at.dilations);
  return {conv2d_backprop_input(x.shape(), g, dy, s, p, d), conv2d(x, g, s, p, d)};
}

// The gradient goes to the element each window picked (its first maximum), added where windows
// overlap: max_pool2d_backprop, one pass over the input and the output gradient.
Tensors MaxPool2D::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {max_pool2d_backprop(args.inputs[0], args.cotangents[0], pair_of(at.window), pair_of(at.strides),
                              padding_of(at.padding))};
}

// Linear in out_grad: its adjoint reads the cotangent at the elements the windows picked (a gather
// at max_pool2d_argmax's indices). The picks are piecewise constant in the input: no gradient there.
Tensors MaxPool2DBackprop::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& x = args.inputs[0];
  const Tensor& dy = args.inputs[1];
  Tensor idx = max_pool2d_argmax(x, pair_of(at.window), pair_of(at.strides), padding_of(at.padding));
  Tensor picked = gather(reshape(args.cotangents[0], {-1}), reshape(idx, {-1}), 0);
  return {Tensor(), reshape(picked, dy.shape())};
}

Tensors AvgPool2D::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {avg_pool2d_backprop(args.inputs[0].shape(), args.cotangents[0], pair_of(at.window), pair_of(at.strides),
                              padding_of(at.padding))};
}

// avg_pool2d_backprop is linear: its adjoint is avg_pool2d.
Tensors AvgPool2DBackprop::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {avg_pool2d(args.cotangents[0], pair_of(at.window), pair_of(at.strides), padding_of(at.padding))};
}

// ---- sorting and scans ----
// cumsum is linear: its adjoint sums the cotangent the other way round (same exclusive flag).
Tensors CumSum::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {cumsum(args.cotangents[0], at.axis, at.exclusive, !at.reverse)};
}

Tensors CumProd::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  return {scan_prod_gradient(at, args.inputs[0], args.cotangents[0])};
}

// sort and topk: each value's gradient goes back to the element it came from (the indices
// output has none).
Tensors Sort::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& x = args.inputs[0];
  return {scatter_add_along_axis(args.cotangents[0], args.outputs[1], x.shape()[at.axis], at.axis)};
}

Tensors TopK::vjp(const Attrs&, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& x = args.inputs[0];
  return {scatter_add_along_axis(args.cotangents[0], args.outputs[1], x.shape().back(), x.rank() - 1)};
}

Tensors TakeAlongAxis::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args, {0});
  const Tensor& x = args.inputs[0];
  return {scatter_add_along_axis(args.cotangents[0], args.inputs[1], x.shape()[at.axis], at.axis), Tensor()};
}

Tensors ScatterAddAlongAxis::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args, {0});
  return {take_along_axis(args.cotangents[0], args.inputs[1], at.axis), Tensor()};
}

// svd (docs/autodiff.md): the standard gradient of the thin SVD, A = U diag(S) Vh,
//   dA = U [ (skew(U^T dU) S + S skew(V^T dV)) / E + diag(dS) ] Vh
//        + (I - U U^T) dU S^-1 Vh + U S^-1 dVh (I - V Vh),
// skew(X) = X - X^T, E[j][l] = s_l^2 - s_j^2; the last two terms exist only for tall (m > k) and
// wide (n > k) matrices. Where E is 0 (equal singular values) or a singular value is 0, U and V
// are not unique and the formula divides by 0: those entries contribute 0 instead (exact when the
// loss does not depend on the basis chosen there, as for functions of S alone, and finite always).
// full_matrices (TensorFlow's _SvdGrad): U = [U1 U2], Vh = [Vh1; Vh2] with the thin U1, Vh1. When
// |m - n| = 1 the one extra column (row) is fixed up to sign by the others, and its cotangent adds
// -U2 (dU2^T U1) S^-1 Vh1 (tall) or -U S^-1 (Vh1 dVh2^T) Vh2 (wide); when |m - n| > 1 the extra
// columns are any basis of a subspace and have no derivative: Unimplemented, as TensorFlow.
Tensors Svd::vjp(const Attrs& at, const VjpArgs& args) {
  require_float(name, args);
  const Tensor& a = args.inputs[0];
  const int64_t r = a.rank(), m = a.shape()[r - 2], n = a.shape()[r - 1], k = std::min(m, n);
  if (at.full_matrices && std::abs(m - n) > 1)
    throw Unimplemented("[svd] gradient of full_matrices = true is defined only when the matrix's two sizes differ by "
                        "at most 1 (the extra columns of U or rows of Vh are then unique up to sign; as TensorFlow): "
                        "x is " + spec_str(TensorSpec{a.dtype(), a.shape()}) + "; use full_matrices = false");
  // The thin factors and their cotangents; u2 / vh2 and their cotangents are full_matrices' extras.
  auto cols = [&](const Tensor& t, int64_t b, int64_t e) {
    std::vector<Slice> sl(static_cast<size_t>(r - 1), all_);
    sl.push_back(Slice(b, e));
    return slice(t, sl);
  };
  auto rows = [&](const Tensor& t, int64_t b, int64_t e) {
    std::vector<Slice> sl(static_cast<size_t>(r - 2), all_);
    sl.push_back(Slice(b, e));
    return slice(t, sl);
  };
  const bool extra_u = at.full_matrices && m > k, extra_v = at.full_matrices && n > k;
  const Tensor u = extra_u ? cols(args.outputs[0], 0, k) : args.outputs[0];
  const Tensor gu = extra_u ? cols(args.cotangents[0], 0, k) : args.cotangents[0];
  const Tensor vh = extra_v ? rows(args.outputs[2], 0, k) : args.outputs[2];
  const Tensor gvh = extra_v ? rows(args.cotangents[2], 0, k) : args.cotangents[2];
  const Tensor &s = args.outputs[1], &gs = args.cotangents[1];
  Axes perm;
  for (int64_t i = 0; i < r; ++i) perm.push_back(i);
  std::swap(perm[r - 2], perm[r - 1]);
  auto mt = [&](const Tensor& t) { return transpose(t, perm); };
  const DType d = a.dtype();
  Tensor zero = full({}, 0, d), one = full({}, 1, d);
  // x / y with 0 where y is 0.
  auto safe_div = [&](const Tensor& x, const Tensor& y) {
    Tensor y0 = equal(y, zero);
    return where(y0, zero, div(x, where(y0, one, y)));
  };
  Tensor s_row = expand_dims(s, -2), s_col = expand_dims(s, -1);  // (..., 1, k), (..., k, 1)
  Tensor s2 = square(s);
  Tensor e = sub(expand_dims(s2, -2), expand_dims(s2, -1));
  Tensor uhgu = matmul(mt(u), gu);
  Tensor vhgv = matmul(vh, mt(gvh));
  Tensor core = add(add(mul(safe_div(sub(uhgu, mt(uhgu)), e), s_row), mul(s_col, safe_div(sub(vhgv, mt(vhgv)), e))),
                    mul(expand_dims(gs, -1), eye(k, k, d)));
  Tensor ga = matmul(u, matmul(core, vh));
  if (m > k) {
    Tensor gu_perp = sub(gu, matmul(u, uhgu));
    if (extra_u) {  // - U2 (dU2^T U1): the part of dU2 that moves U2 out of U1's complement
      Tensor u2 = cols(args.outputs[0], k, m), gu2 = cols(args.cotangents[0], k, m);
      gu_perp = sub(gu_perp, matmul(u2, matmul(mt(gu2), u)));
    }
    ga = add(ga, matmul(safe_div(gu_perp, s_row), vh));
  }
  if (n > k) {
    Tensor gvh_perp = sub(gvh, matmul(matmul(gvh, mt(vh)), vh));
    if (extra_v) {
      Tensor vh2 = rows(args.outputs[2], k, n), gvh2 = rows(args.cotangents[2], k, n);
      gvh_perp = sub(gvh_perp, matmul(matmul(vh, mt(gvh2)), vh2));
    }
    ga = add(ga, matmul(u, safe_div(gvh_perp, s_col)));
  }
  return {ga};
}

}  // namespace xf
