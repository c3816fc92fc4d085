// The eager op library, with NumPy/TensorFlow names and semantics.
//
// Every function validates its inputs, promotes dtypes (docs/dtypes.md), broadcasts (NumPy rules)
// and runs at once. Errors name the op, every input's shape and dtype, and the caller's location:
//   [matmul] inner dimensions differ: a is (2, 3) float32, b is (4, 5) float32 (train.cpp:42)
#pragma once
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "xflow/tensor.hpp"
#include "xflow/threads.hpp"

namespace xf {

using Axes = std::vector<int64_t>;

// ---- unary elementwise ----
// Float functions (exp ... erf) promote integer and bool inputs to float32.
#define XFLOW_UNARY_DECL(name) Tensor name(const Tensor& x, Loc loc = Loc::current());
XFLOW_UNARY_DECL(neg) XFLOW_UNARY_DECL(abs) XFLOW_UNARY_DECL(sign) XFLOW_UNARY_DECL(exp)
XFLOW_UNARY_DECL(expm1) XFLOW_UNARY_DECL(log) XFLOW_UNARY_DECL(log1p) XFLOW_UNARY_DECL(sqrt)
XFLOW_UNARY_DECL(rsqrt) XFLOW_UNARY_DECL(square) XFLOW_UNARY_DECL(reciprocal) XFLOW_UNARY_DECL(sin)
XFLOW_UNARY_DECL(cos) XFLOW_UNARY_DECL(tan) XFLOW_UNARY_DECL(tanh) XFLOW_UNARY_DECL(sigmoid)
XFLOW_UNARY_DECL(relu) XFLOW_UNARY_DECL(erf) XFLOW_UNARY_DECL(floor) XFLOW_UNARY_DECL(ceil)
XFLOW_UNARY_DECL(round) XFLOW_UNARY_DECL(logical_not) XFLOW_UNARY_DECL(isnan)
XFLOW_UNARY_DECL(isinf) XFLOW_UNARY_DECL(isfinite)
#undef XFLOW_UNARY_DECL

// ---- binary elementwise, broadcasting ----
// Each takes two tensors, a tensor and a scalar, or a scalar and a tensor.
#define XFLOW_BINARY_DECL(name)                                           \
  Tensor name(const Tensor& a, const Tensor& b, Loc loc = Loc::current()); \
  Tensor name(const Tensor& a, Scalar b, Loc loc = Loc::current());        \
  Tensor name(Scalar a, const Tensor& b, Loc loc = Loc::current());
XFLOW_BINARY_DECL(add) XFLOW_BINARY_DECL(sub) XFLOW_BINARY_DECL(mul) XFLOW_BINARY_DECL(div)
XFLOW_BINARY_DECL(floor_div) XFLOW_BINARY_DECL(mod) XFLOW_BINARY_DECL(pow)
XFLOW_BINARY_DECL(maximum) XFLOW_BINARY_DECL(minimum) XFLOW_BINARY_DECL(atan2)
// sqrt(a^2 + b^2) without overflow in between; log(exp(a) + exp(b)) without overflow. Float
// functions: integer and bool inputs become float32.
XFLOW_BINARY_DECL(hypot) XFLOW_BINARY_DECL(logaddexp)
// relu's gradient, TensorFlow's ReluGrad: `gradients` where `features` > 0, else 0 (also where a
// feature is NaN). Numeric: relu_grad(g, x) equals where(greater(x, 0), g, 0) bit for bit.
XFLOW_BINARY_DECL(relu_grad)
XFLOW_BINARY_DECL(equal) XFLOW_BINARY_DECL(not_equal) XFLOW_BINARY_DECL(less)
XFLOW_BINARY_DECL(less_equal) XFLOW_BINARY_DECL(greater) XFLOW_BINARY_DECL(greater_equal)
XFLOW_BINARY_DECL(logical_and) XFLOW_BINARY_DECL(logical_or) XFLOW_BINARY_DECL(logical_xor)
#undef XFLOW_BINARY_DECL

// cond ? a : b elementwise, all three broadcast; a and b promote.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, Loc loc = Loc::current());
Tensor where(const Tensor& cond, const Tensor& a, Scalar b, Loc loc = Loc::current());
Tensor where(const Tensor& cond, Scalar a, const Tensor& b, Loc loc = Loc::current());
// Both branches scalars: the result has cond's shape and the scalars' common dtype (bool, int32
// or float32: a float scalar makes it float32).
Tensor where(const Tensor& cond, Scalar a, Scalar b, Loc loc = Loc::current());
// Converts elements (float -> int truncates toward zero, saturates, NaN -> 0; nonzero -> true).
Tensor cast(const Tensor& x, DType d, Loc loc = Loc::current());
// TensorFlow's check_numerics: x unchanged (a view), or InvalidArgument "<message> : Tensor had
// NaN values" (or "Inf", or "Inf and NaN") when x holds a NaN or an Inf. Float tensors only
// (DTypeError otherwise). Its gradient is the incoming gradient, checked the same way with the
// message "Not a number (NaN) or infinity (Inf) values detected in gradient. <message>". In
// graphs it is a check: the passes never fold, merge or remove it (docs/debugging.md).
Tensor check_numerics(const Tensor& x, const std::string& message, Loc loc = Loc::current());
// min(max(x, lo), hi).
Tensor clip(const Tensor& x, Scalar lo, Scalar hi, Loc loc = Loc::current());
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi, Loc loc = Loc::current());
Tensor clip(const Tensor& x, const Tensor& lo, Scalar hi, Loc loc = Loc::current());
Tensor clip(const Tensor& x, Scalar lo, const Tensor& hi, Loc loc = Loc::current());

// ---- reductions ----
// `axes` empty (std::nullopt) reduces over every axis; negative axes count from the end.
using OptAxes = std::optional<Axes>;
#define XFLOW_REDUCE_DECL(name) \
  Tensor name(const Tensor& x, OptAxes axes = std::nullopt, bool keepdims = false, Loc loc = Loc::current());
XFLOW_REDUCE_DECL(sum) XFLOW_REDUCE_DECL(mean) XFLOW_REDUCE_DECL(prod) XFLOW_REDUCE_DECL(max)
XFLOW_REDUCE_DECL(min) XFLOW_REDUCE_DECL(all) XFLOW_REDUCE_DECL(any) XFLOW_REDUCE_DECL(logsumexp)
#undef XFLOW_REDUCE_DECL
// Population variance and standard deviation (ddof = 0 by default, as NumPy). The standard
// deviation is `stddev`, not `std`: a function named std breaks `std::` after `using namespace xf`.
Tensor variance(const Tensor& x, OptAxes axes = std::nullopt, bool keepdims = false, int64_t ddof = 0,
                Loc loc = Loc::current());
Tensor stddev(const Tensor& x, OptAxes axes = std::nullopt, bool keepdims = false, int64_t ddof = 0,
           Loc loc = Loc::current());
// Index (int64) of the first maximum / minimum along `axis`; without an axis, of the flattened tensor.
Tensor argmax(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false,
              Loc loc = Loc::current());
Tensor argmin(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool keepdims = false,
              Loc loc = Loc::current());

// ---- linear algebra ----
// NumPy matmul: batched, batch dimensions broadcast, 1-D operands promoted and squeezed.
Tensor matmul(const Tensor& a, const Tensor& b, Loc loc = Loc::current());
// Reverses the axes, or permutes them by `perm` (a view, no copy).
Tensor transpose(const Tensor& x, Loc loc = Loc::current());
Tensor transpose(const Tensor& x, const Axes& perm, Loc loc = Loc::current());
// Contracts the last `axes` axes of a with the first of b.
Tensor tensordot(const Tensor& a, const Tensor& b, int64_t axes = 2, Loc loc = Loc::current());
// Contracts a's `axes_a` with b's `axes_b`.
Tensor tensordot(const Tensor& a, const Tensor& b, const Axes& axes_a, const Axes& axes_b,
                 Loc loc = Loc::current());

// NumPy's einsum for the common subscripts: letters a-z and A-Z name axes; `"ij,jk->ik"` is matmul,
// `"bij,bjk->bik"` a batched matmul, `"ij->ji"` transpose, `"ii->i"` the diagonal, `"ii"` the trace,
// `"i,j->ij"` outer, `"i,i->"` dot, `"ij->j"` a sum. Without `->` the output is the letters that
// appear once, in alphabetical order. A letter names one size everywhere (no broadcasting of 1).
// Operands promote to one dtype; bool operands and ellipsis ('...') are refused. Built from
// transpose, reshape, slice, mul, sum and matmul, so it traces, fuses and differentiates.
// Errors: InvalidArgument (malformed subscripts), ShapeError (a term's length differs from its
// operand's rank, a letter with two sizes), DTypeError (bool), Unimplemented (ellipsis).
Tensor einsum(const std::string& subscripts, const std::vector<Tensor>& operands, Loc loc = Loc::current());
// norm's `ord`: a number (2, 1, INFINITY, -INFINITY, 0 or any p), "fro", "nuc", or none (the
// default, also std::nullopt). A literal 0 is the number 0, not a null string.
struct NormOrd {
  bool given = false;
  double p = 0;
  std::string name;  // "fro", "nuc" (checked by norm); empty for a number
  NormOrd() = default;
  NormOrd(std::nullopt_t) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  NormOrd(T v) : given(true), p(static_cast<double>(v)) {}
  NormOrd(const char* s) : given(true), name(s) {}
  NormOrd(std::string s) : given(true), name(std::move(s)) {}
};
// numpy.linalg.norm. `ord`: for a vector (one axis, or a 1-D x without axes) 2 (default), 1, inf
// (max |x|), -inf (min |x|), 0 (count of nonzeros) or any p (sum |x|^p)^(1/p); for a matrix (two
// axes, or a 2-D x with an ord) "fro" (default), 1 / -1 (max / min column sum of |x|), inf / -inf
// (max / min row sum). No ord and no axes: the 2-norm of the flattened x. Integer inputs become
// float32. The 2-norm's and Frobenius norm's gradient at 0 is 0, not NaN (docs/ops.md). Matrix
// ord 2 / -2 (largest / smallest singular value) and "nuc" (their sum) go through svd and
// differentiate through it; ord 2 / -2 of an empty matrix: InvalidArgument (NumPy raises too).
// More than 2 axes, or a NaN or unknown ord: InvalidArgument; an ord without axes on a rank other
// than 1 or 2: ShapeError.
Tensor norm(const Tensor& x, NormOrd ord = {}, OptAxes axes = std::nullopt, bool keepdims = false,
            Loc loc = Loc::current());
struct SvdResult {
  Tensor u, s, vh;  // (..., m, k), (..., k), (..., k, n) with k = min(m, n); full: (..., m, m), (..., n, n)
};
// numpy.linalg.svd(x, full_matrices): x = u @ diag(s) @ vh over the last two axes, the others
// batch axes; s descending and >= 0, u and vh with orthonormal columns / rows (completed to an
// orthonormal set where s is 0). full_matrices = true (NumPy's default, not xflow's) gives the
// square u (..., m, m) and vh (..., n, n): the thin factors completed to orthonormal bases (the
// first k columns / rows are the thin ones, bit for bit). Integer and bool inputs become float32
// (strict mode refuses). A matrix holding a NaN or inf gives NaN in all three (NumPy raises
// LinAlgError). Rank < 2: ShapeError. Differentiable in all three outputs (docs/ops.md: equal or
// zero singular values); with full_matrices only when |m - n| <= 1 (else Unimplemented, as
// TensorFlow).
SvdResult svd(const Tensor& x, bool full_matrices = false, Loc loc = Loc::current());
// A 1-D v becomes a square matrix with v on diagonal k (k > 0 above, k < 0 below the main one);
// a 2-D v gives its diagonal k as a 1-D tensor (empty when k is beyond the matrix). NumPy's diag.
Tensor diag(const Tensor& v, int64_t k = 0, Loc loc = Loc::current());
// The sum of diagonal `offset` of axes 0 and 1 (NumPy's trace): a scalar for a matrix, the
// other axes' shape otherwise. Integer sums as sum's.
Tensor trace(const Tensor& x, int64_t offset = 0, Loc loc = Loc::current());
// x (rank >= 2) with the elements below diagonal k (triu) or above it (tril) of its last two
// axes set to 0. NumPy's triu / tril.
Tensor triu(const Tensor& x, int64_t k = 0, Loc loc = Loc::current());
Tensor tril(const Tensor& x, int64_t k = 0, Loc loc = Loc::current());
// Coordinate grids of the 1-D tensors xs (other ranks are flattened, as NumPy): every result has
// shape (len(xs[1]), len(xs[0]), len(xs[2]), ...) with indexing "xy" (Cartesian, the default) or
// (len(xs[0]), len(xs[1]), ...) with "ij" (matrix). The grids are broadcast views of the inputs.
std::vector<Tensor> meshgrid(const std::vector<Tensor>& xs, const std::string& indexing = "xy",
                             Loc loc = Loc::current());

// ---- shape ----
// One dimension may be -1. A view when the data is contiguous.
Tensor reshape(const Tensor& x, const Shape& shape, Loc loc = Loc::current());
Tensor flatten(const Tensor& x, Loc loc = Loc::current());
Tensor expand_dims(const Tensor& x, int64_t axis, Loc loc = Loc::current());
// Removes the given size-1 axes (all size-1 axes when none are given).
Tensor squeeze(const Tensor& x, OptAxes axes = std::nullopt, Loc loc = Loc::current());
Tensor broadcast_to(const Tensor& x, const Shape& shape, Loc loc = Loc::current());
Tensor concat(const std::vector<Tensor>& xs, int64_t axis = 0, Loc loc = Loc::current());
Tensor stack(const std::vector<Tensor>& xs, int64_t axis = 0, Loc loc = Loc::current());
// Into `sections` equal parts, or at the given indices (NumPy's split).
std::vector<Tensor> split(const Tensor& x, int64_t sections, int64_t axis = 0, Loc loc = Loc::current());
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& indices, int64_t axis,
                          Loc loc = Loc::current());

// One axis of a slice: Python's start:stop:step. Missing ends default by the step's sign.
struct Slice {
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Slice() = default;
  Slice(std::optional<int64_t> b, std::optional<int64_t> e, int64_t s = 1) : start(b), stop(e), step(s) {}
};
inline const Slice all_{};
// Basic slicing of the leading axes (a view). `slice(x, {Slice(1, 3), Slice(std::nullopt, std::nullopt, -1)})`.
Tensor slice(const Tensor& x, const std::vector<Slice>& slices, Loc loc = Loc::current());
// TensorFlow-style strided_slice with explicit begin, end and strides for every axis.
Tensor strided_slice(const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                     const std::vector<int64_t>& strides, Loc loc = Loc::current());
// Elements of x at integer `indices` along `axis` (NumPy take); indices outside [-n, n) raise OutOfRange.
Tensor gather(const Tensor& x, const Tensor& indices, int64_t axis = 0, Loc loc = Loc::current());
// Constant padding: `pads[i] = {before, after}` for every axis.
Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pads, Scalar value = 0,
           Loc loc = Loc::current());
Tensor tile(const Tensor& x, const std::vector<int64_t>& reps, Loc loc = Loc::current());
// indices (integer) -> indices.shape + (depth,), on_value where equal, off_value elsewhere.
Tensor one_hot(const Tensor& indices, int64_t depth, DType d = DType::float32, Loc loc = Loc::current());
// TensorFlow's full form: on_value / off_value (converted to `d`), and the new axis's position
// (-1 = last; an axis outside [-1, indices.rank] is an AxisError). Indices outside [0, depth)
// give a row of off_value.
Tensor one_hot(const Tensor& indices, int64_t depth, Scalar on_value, Scalar off_value, int64_t axis = -1,
               DType d = DType::float32, Loc loc = Loc::current());

// ---- neural network ----
Tensor softmax(const Tensor& x, int64_t axis = -1, Loc loc = Loc::current());
Tensor log_softmax(const Tensor& x, int64_t axis = -1, Loc loc = Loc::current());
enum class Padding { same, valid };
// input NHWC, filter (kh, kw, in_channels, out_channels) as TensorFlow. `dilations` (height,
// width) spread the filter's taps apart (atrous convolution): a kh-tall filter then spans
// (kh - 1) * dh + 1 input rows, and SAME/VALID pad for that span, as TensorFlow's NHWC dilations.
Tensor conv2d(const Tensor& input, const Tensor& filter, std::pair<int64_t, int64_t> strides = {1, 1},
              Padding padding = Padding::valid, std::pair<int64_t, int64_t> dilations = {1, 1},
              Loc loc = Loc::current());
Tensor max_pool2d(const Tensor& input, std::pair<int64_t, int64_t> window,
                  std::pair<int64_t, int64_t> strides, Padding padding = Padding::valid,
                  Loc loc = Loc::current());
// Averages over the window's elements inside the input (padding is not counted, as TensorFlow).
Tensor avg_pool2d(const Tensor& input, std::pair<int64_t, int64_t> window,
                  std::pair<int64_t, int64_t> strides, Padding padding = Padding::valid,
                  Loc loc = Loc::current());

// ---- gradient building blocks (the adjoints the gradients of gather, conv2d and the pools use) ----
// The adjoint of gather: zeros with `size` elements along `axis`, plus every slice of `updates`
// added at its index. updates.shape = prefix + indices.shape + suffix, with `axis` = rank of the
// prefix; the result is prefix + (size,) + suffix. Indices as gather's: [-size, size), else OutOfRange.
Tensor scatter_add(const Tensor& updates, const Tensor& indices, int64_t size, int64_t axis = 0,
                   Loc loc = Loc::current());
// The gradient of conv2d with respect to its input (of shape `input_shape`), given the filter
// and the gradient of conv2d's output (TensorFlow's conv2d_backprop_input).
Tensor conv2d_backprop_input(const Shape& input_shape, const Tensor& filter, const Tensor& out_grad,
                             std::pair<int64_t, int64_t> strides = {1, 1}, Padding padding = Padding::valid,
                             std::pair<int64_t, int64_t> dilations = {1, 1}, Loc loc = Loc::current());
// The gradient of conv2d with respect to its filter (of shape `filter_shape`).
Tensor conv2d_backprop_filter(const Tensor& input, const Shape& filter_shape, const Tensor& out_grad,
                              std::pair<int64_t, int64_t> strides = {1, 1}, Padding padding = Padding::valid,
                              std::pair<int64_t, int64_t> dilations = {1, 1}, Loc loc = Loc::current());
// max_pool2d's choice as int64 flat indices into `input` (batch included): the first maximum of
// each window in row-major order (a NaN wins, as in max_pool2d).
Tensor max_pool2d_argmax(const Tensor& input, std::pair<int64_t, int64_t> window,
                         std::pair<int64_t, int64_t> strides, Padding padding = Padding::valid,
                         Loc loc = Loc::current());
// The gradient of max_pool2d with respect to its input, given the gradient of its output: each
// window's out_grad added to the element max_pool2d_argmax picks (one pass, no index tensor).
// input NHWC float, out_grad of max_pool2d(input)'s shape and dtype.
Tensor max_pool2d_backprop(const Tensor& input, const Tensor& out_grad, std::pair<int64_t, int64_t> window,
                           std::pair<int64_t, int64_t> strides, Padding padding = Padding::valid,
                           Loc loc = Loc::current());
// conv2d's patch matrix (TensorFlow's extract_image_patches with rates = dilations): for input
// (N, H, W, C) float, (N, OH, OW, kh * kw * C) with the window (kh, kw) of every output position
// of conv2d(input, filter (kh, kw, C, O), strides, padding, dilations), taps in (kh, kw, C)
// order, zeros where the window reaches outside the input. conv2d(input, filter) equals the 1x1
// conv2d of these patches with the filter reshaped to (1, 1, kh * kw * C, O).
Tensor image_patches(const Tensor& input, std::pair<int64_t, int64_t> window,
                     std::pair<int64_t, int64_t> strides = {1, 1}, Padding padding = Padding::valid,
                     std::pair<int64_t, int64_t> dilations = {1, 1}, Loc loc = Loc::current());
// The adjoint (and gradient) of image_patches for an input of shape `input_shape`: every entry of
// patch_grad added to the input element it was copied from.
Tensor image_patches_backprop(const Shape& input_shape, const Tensor& patch_grad, std::pair<int64_t, int64_t> window,
                              std::pair<int64_t, int64_t> strides = {1, 1}, Padding padding = Padding::valid,
                              std::pair<int64_t, int64_t> dilations = {1, 1}, Loc loc = Loc::current());
// One step of Adam (TensorFlow 1's ApplyAdam) as one kernel, for xf::Adam: with lr_t the step's
// bias-corrected learning rate (a scalar tensor),
//   m' = m * beta1 + grad * (1 - beta1),  v' = v * beta2 + grad^2 * (1 - beta2),
//   var' = var - lr_t * m' / (sqrt(v') + epsilon),
// each operation rounded to var's float dtype, in this order (the scalars too). var, m, v, grad
// share a shape and dtype; lr_t has that dtype. Nothing is assigned: the results are new tensors.
struct AdamResult {
  Tensor var, m, v;
};
AdamResult adam_update(const Tensor& var, const Tensor& m, const Tensor& v, const Tensor& grad, const Tensor& lr_t,
                       double beta1, double beta2, double epsilon, Loc loc = Loc::current());
// The gradient of avg_pool2d with respect to its input (of shape `input_shape`).
Tensor avg_pool2d_backprop(const Shape& input_shape, const Tensor& out_grad, std::pair<int64_t, int64_t> window,
                           std::pair<int64_t, int64_t> strides, Padding padding = Padding::valid,
                           Loc loc = Loc::current());

// ---- operators ----
// A tensor operand that remembers where the operator was written.
struct TensorArg {
  const Tensor& t;
  Loc loc;
  TensorArg(const Tensor& x, Loc l = Loc::current()) : t(x), loc(l) {}
};
#define XFLOW_OPERATOR(sym, fn)                                                      \
  inline Tensor operator sym(TensorArg a, const Tensor& b) { return fn(a.t, b, a.loc); } \
  inline Tensor operator sym(TensorArg a, Scalar b) { return fn(a.t, b, a.loc); }        \
  inline Tensor operator sym(Scalar a, TensorArg b) { return fn(a, b.t, b.loc); }
XFLOW_OPERATOR(+, add) XFLOW_OPERATOR(-, sub) XFLOW_OPERATOR(*, mul) XFLOW_OPERATOR(/, div)
XFLOW_OPERATOR(%, mod) XFLOW_OPERATOR(==, equal) XFLOW_OPERATOR(!=, not_equal)
XFLOW_OPERATOR(<, less) XFLOW_OPERATOR(<=, less_equal) XFLOW_OPERATOR(>, greater)
XFLOW_OPERATOR(>=, greater_equal) XFLOW_OPERATOR(&&, logical_and) XFLOW_OPERATOR(||, logical_or)
XFLOW_OPERATOR(^, logical_xor)
#undef XFLOW_OPERATOR
inline Tensor operator-(TensorArg a) { return neg(a.t, a.loc); }
// There is no elementwise operator!: `!t` is the negated truth value of a one-element tensor (as
// `not t` in Python), because Tensor has an explicit operator bool. Use logical_not(t).

// ---- sorting, scans and searching (NumPy names and argument order; docs/ops.md) ----
// Running sum / product along `axis` (no axis: of the flattened tensor, as NumPy). TensorFlow's
// options: `exclusive` leaves element i out of result i (the first result is 0 / 1), `reverse`
// accumulates from the end. bool and uint8 accumulate in int32, as sum and prod; int32 stays int32
// and integers wrap. Gradients: cumsum's is a reverse cumsum; cumprod's is exact with zeros.
Tensor cumsum(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool exclusive = false,
              bool reverse = false, Loc loc = Loc::current());
Tensor cumprod(const Tensor& x, std::optional<int64_t> axis = std::nullopt, bool exclusive = false,
               bool reverse = false, Loc loc = Loc::current());
// Sorted along `axis`, stable (equal values keep their order). NaN counts as the largest value:
// last ascending (as NumPy), first descending. The gradient goes back to where each value came from.
Tensor sort(const Tensor& x, int64_t axis = -1, bool descending = false, Loc loc = Loc::current());
// The int64 indices that sort x along `axis` (stable, NaN as in sort). Not differentiable.
Tensor argsort(const Tensor& x, int64_t axis = -1, bool descending = false, Loc loc = Loc::current());
struct TopKResult {
  Tensor values, indices;  // (..., k) each; indices int64
};
// The k largest values along the last axis and their indices (tf.math.top_k): ties go to the
// lower index, a NaN counts as the largest. `sorted`: by value, largest first; otherwise in index
// order. k outside [0, last axis] or a scalar x: InvalidArgument.
TopKResult topk(const Tensor& x, int64_t k, bool sorted = true, Loc loc = Loc::current());
// For every value, the int64 index where it would be inserted into the ascending `sorted_seq` to
// keep it sorted: before equal elements ("left") or after them ("right"); NaN as in sort.
// sorted_seq 1-D: values of any shape (NumPy); sorted_seq (..., n): values (..., m) with the same
// leading axes, one sorted row per row (TensorFlow). sorted_seq is not checked to be sorted.
Tensor searchsorted(const Tensor& sorted_seq, const Tensor& values, const std::string& side = "left",
                    Loc loc = Loc::current());
// NumPy's take_along_axis: out[..., i, ...] = x[..., indices[..., i, ...], ...] along `axis`.
// indices (int) have x's rank and x's size on every other axis; outside [-n, n): OutOfRange.
Tensor take_along_axis(const Tensor& x, const Tensor& indices, int64_t axis, Loc loc = Loc::current());
// The adjoint of take_along_axis: zeros with `size` elements along `axis`, each update added at its
// index (repeats add up). updates and indices have one shape. The gradient of sort and topk.
Tensor scatter_add_along_axis(const Tensor& updates, const Tensor& indices, int64_t size, int64_t axis,
                              Loc loc = Loc::current());
// |a - b| <= atol + rtol * |b| elementwise (NumPy's isclose, broadcasting); infinities are close
// only to themselves, NaN to NaN only with equal_nan. Integers compare as float64.
Tensor isclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false,
               Loc loc = Loc::current());
// Reverses the given axes (all axes when none are given); a view.
Tensor flip(const Tensor& x, OptAxes axes = std::nullopt, Loc loc = Loc::current());
// Shifts elements by `shift` along `axis`, wrapping around (no axis: the flattened tensor).
Tensor roll(const Tensor& x, int64_t shift, std::optional<int64_t> axis = std::nullopt, Loc loc = Loc::current());
// Repeats each element `repeats` times along `axis` (no axis: of the flattened tensor), or element i
// repeats[i] times.
Tensor repeat(const Tensor& x, int64_t repeats, std::optional<int64_t> axis = std::nullopt, Loc loc = Loc::current());
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats, std::optional<int64_t> axis,
              Loc loc = Loc::current());

// ---- host ops: the output's shape depends on the values ----
// They read their input on the host, as item() does: inside a trace the read is a guard, so the
// trace holds their result as a constant and a replay with other values retraces (docs/tracing.md).
// Not differentiable.
struct UniqueResult {
  Tensor values;   // the distinct values, ascending (NaN last, all NaNs as one), 1-D
  Tensor inverse;  // int64, x's shape: values[inverse] == x
  Tensor counts;   // int64, how often each value occurs
};
UniqueResult unique(const Tensor& x, Loc loc = Loc::current());
// The int64 coordinates (count, rank) of the nonzero (true) elements in row-major order
// (tf.where and np.argwhere with one argument).
Tensor where(const Tensor& cond, Loc loc = Loc::current());

// ---- random (counter-based Philox generator: results do not depend on the thread count) ----
// Sets the global generator's seed and resets its counter.
void manual_seed(uint64_t seed);
Tensor random_uniform(const Shape& shape, double minval = 0, double maxval = 1, DType d = DType::float32,
                      Loc loc = Loc::current());
Tensor random_normal(const Shape& shape, double mean = 0, double stddev = 1, DType d = DType::float32,
                     Loc loc = Loc::current());
// Normal values redrawn until within two standard deviations (TensorFlow's truncated_normal).
Tensor truncated_normal(const Shape& shape, double mean = 0, double stddev = 1, DType d = DType::float32,
                        Loc loc = Loc::current());


}  // namespace xf
