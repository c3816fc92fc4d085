// The eager op library, with NumPy/TensorFlow names and semantics.
//
// Every function validates its inputs, promotes dtypes (docs/dtypes.md), broadcasts (NumPy rules)
// and runs at once. Errors name the op, every input's shape and dtype, and the caller's location:
//   [matmul] inner dimensions differ: a is (2, 3) float32, b is (4, 5) float32 (train.cpp:42)
#pragma once
#include <optional>
#include <string>
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
// input NHWC, filter (kh, kw, in_channels, out_channels) as TensorFlow.
Tensor conv2d(const Tensor& input, const Tensor& filter, std::pair<int64_t, int64_t> strides = {1, 1},
              Padding padding = Padding::valid, Loc loc = Loc::current());
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
                             Loc loc = Loc::current());
// The gradient of conv2d with respect to its filter (of shape `filter_shape`).
Tensor conv2d_backprop_filter(const Tensor& input, const Shape& filter_shape, const Tensor& out_grad,
                              std::pair<int64_t, int64_t> strides = {1, 1}, Padding padding = Padding::valid,
                              Loc loc = Loc::current());
// max_pool2d's choice as int64 flat indices into `input` (batch included): the first maximum of
// each window in row-major order (a NaN wins, as in max_pool2d).
Tensor max_pool2d_argmax(const Tensor& input, std::pair<int64_t, int64_t> window,
                         std::pair<int64_t, int64_t> strides, Padding padding = Padding::valid,
                         Loc loc = Loc::current());
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
