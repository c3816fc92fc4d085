// The public elementwise, reduction, linear-algebra and random ops: validation, dtype promotion
// (docs/dtypes.md) and the call to the primitive. Composite ops are in composite.cpp.
#include <algorithm>

#include "ops/prims.hpp"
#include "ops/random_state.hpp"
#include "xflow/ops.hpp"

namespace xf {


namespace {

Specs specs_of(std::initializer_list<const Tensor*> ts) {
  Specs s;
  for (const Tensor* t : ts) s.push_back(TensorSpec{t->dtype(), t->shape()});
  return s;
}

void check_defined(const char* op, std::initializer_list<const Tensor*> ts, Loc loc) {
  for (const Tensor* t : ts)
    if (!t->defined()) raise(ErrorCode::invalid_argument, op, "an input is an empty Tensor handle", loc);
}

Tensor cast_to(const Tensor& x, DType d, Loc loc) {
  if (x.dtype() == d) return x;
  return apply1(Prim::cast, make_attrs(CastAttrs{d}), {x}, loc);
}

// `what` builds the message only when it is needed (this runs on every op).
template <class What>
void strict_check(const char* op, bool promoted, What&& what, Loc loc) {
  if (promoted && strict_dtypes())
    raise(ErrorCode::dtype, op, "implicit dtype promotion in strict mode: " + what(), loc);
}

// The promotion rule of an elementwise primitive, derived from its functor's domain and result
// (ops/elementwise_kind.hpp, docs/dtypes.md).
ew::Promotion promotion(Prim p) {
  const ElementwiseInfo* e = op_def(p).elementwise;
  if (!e) throw Internal(std::string("[") + op_def(p).name + "] is not an elementwise primitive");
  return e->promotion;
}

// Whether the public op hands operands of dtype `d` to the primitive unchanged (no cast, no
// promotion), so the fast path may run it.
bool passes_unchanged(ew::Promotion rule, DType d) {
  switch (rule) {
    case ew::Promotion::logical: return d == DType::bool_;
    case ew::Promotion::float_fn:
    case ew::Promotion::rounding: return is_floating(d);
    default: return true;
  }
}

Tensor unary(Prim p, const Tensor& x, Loc loc) {
  const char* name = op_def(p).name;
  check_defined(name, {&x}, loc);
  if (passes_unchanged(promotion(p), x.dtype())) {
    Tensor y = apply_elementwise_fast(p, x, nullptr, loc);
    if (y.defined()) return y;
  }
  switch (promotion(p)) {
    case ew::Promotion::float_fn:
      if (!is_floating(x.dtype())) {
        strict_check(name, true, [&] { return std::string(specs_str(specs_of({&x})) + " would become float32"); }, loc);
        return apply1(p, {cast_to(x, DType::float32, loc)}, loc);
      }
      break;
    case ew::Promotion::rounding:
      // bool is not a number (as for neg, abs, sign): cast first. Integers are already whole.
      if (x.dtype() == DType::bool_)
        raise(ErrorCode::dtype, name, "needs a numeric (non-bool) dtype: x is " + spec_str({x.dtype(), x.shape()}), loc);
      if (!is_floating(x.dtype())) return x;
      break;
    default:
      break;
  }
  return apply1(p, {x}, loc);
}

// Promotes both operands to the dtype the op computes in, then applies it.
Tensor binary_in(Prim p, const Tensor& a, const Tensor& b, DType common, Loc loc) {
  const char* name = op_def(p).name;
  switch (promotion(p)) {
    case ew::Promotion::logical:
      return apply1(p, {cast_to(a, DType::bool_, loc), cast_to(b, DType::bool_, loc)}, loc);
    case ew::Promotion::float_fn:
      if (!is_floating(common)) {
        strict_check(name, true, [&] { return std::string(specs_str(specs_of({&a, &b})) + " would become float32"); }, loc);
        common = DType::float32;
      }
      break;
    default:
      break;
  }
  return apply1(p, {cast_to(a, common, loc), cast_to(b, common, loc)}, loc);
}

Tensor binary(Prim p, const Tensor& a, const Tensor& b, Loc loc) {
  const char* name = op_def(p).name;
  check_defined(name, {&a, &b}, loc);
  if (a.dtype() == b.dtype() && passes_unchanged(promotion(p), a.dtype())) {
    Tensor y = apply_elementwise_fast(p, a, &b, loc);
    if (y.defined()) return y;
  }
  DType common = promote_types(a.dtype(), b.dtype());
  strict_check(name, a.dtype() != b.dtype() && promotion(p) != ew::Promotion::logical, [&] { return std::string(specs_str(specs_of({&a, &b}))); }, loc);
  return binary_in(p, a, b, common, loc);
}

Tensor scalar_tensor(Scalar s, DType d, Loc loc) { return full({}, s, d, loc); }

Tensor binary(Prim p, const Tensor& a, Scalar s, bool scalar_first, Loc loc) {
  const char* name = op_def(p).name;
  check_defined(name, {&a}, loc);
  DType d = s.weak_result(a.dtype());
  if (promotion(p) != ew::Promotion::logical)
    strict_check(name, d != a.dtype(), [&] { return std::string(specs_str(specs_of({&a})) + " with a " +
                     (s.kind == Scalar::Kind::floating ? "float" : "integer") + " scalar would become " + dtype_name(d)); },
                 loc);
  Tensor st = scalar_tensor(s, d, loc);
  if (d == a.dtype() && passes_unchanged(promotion(p), d)) {
    Tensor y = scalar_first ? apply_elementwise_fast(p, st, &a, loc) : apply_elementwise_fast(p, a, &st, loc);
    if (y.defined()) return y;
  }
  return scalar_first ? binary_in(p, st, a, d, loc) : binary_in(p, a, st, d, loc);
}

}  // namespace

// The public elementwise functions, one per entry of the list (ops/primitive.hpp). Each must have
// been declared in include/xflow/ops.hpp: a definition without a declaration is an error here.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wmissing-declarations"
#define XFLOW_PUBLIC_ELEMENTWISE_1(id) \
  Tensor id(const Tensor& x, Loc loc) { return unary(Prim::id, x, loc); }
#define XFLOW_PUBLIC_ELEMENTWISE_2(id)                                                                \
  Tensor id(const Tensor& a, const Tensor& b, Loc loc) { return binary(Prim::id, a, b, loc); }      \
  Tensor id(const Tensor& a, Scalar b, Loc loc) { return binary(Prim::id, a, b, false, loc); }      \
  Tensor id(Scalar a, const Tensor& b, Loc loc) { return binary(Prim::id, b, a, true, loc); }
#define XFLOW_PUBLIC_ELEMENTWISE(id, S, Fn, arity) XFLOW_PUBLIC_ELEMENTWISE_##arity(id)
XFLOW_ELEMENTWISE_PRIMITIVES(XFLOW_PUBLIC_ELEMENTWISE)
#undef XFLOW_PUBLIC_ELEMENTWISE
#undef XFLOW_PUBLIC_ELEMENTWISE_1
#undef XFLOW_PUBLIC_ELEMENTWISE_2
#pragma GCC diagnostic pop

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, Loc loc) {
  check_defined("where", {&cond, &a, &b}, loc);
  DType common = promote_types(a.dtype(), b.dtype());
  strict_check("where", a.dtype() != b.dtype(), [&] { return std::string(specs_str(specs_of({&a, &b}))); }, loc);
  return apply1(Prim::where, {cast_to(cond, DType::bool_, loc), cast_to(a, common, loc), cast_to(b, common, loc)}, loc);
}
Tensor where(const Tensor& cond, const Tensor& a, Scalar b, Loc loc) {
  check_defined("where", {&cond, &a}, loc);
  DType d = b.weak_result(a.dtype());
  strict_check("where", d != a.dtype(), [&] { return std::string(specs_str(specs_of({&a})) + " with a scalar would become " + dtype_name(d)); }, loc);
  return apply1(Prim::where, {cast_to(cond, DType::bool_, loc), cast_to(a, d, loc), scalar_tensor(b, d, loc)}, loc);
}
Tensor where(const Tensor& cond, Scalar a, const Tensor& b, Loc loc) {
  check_defined("where", {&cond, &b}, loc);
  DType d = a.weak_result(b.dtype());
  strict_check("where", d != b.dtype(), [&] { return std::string(specs_str(specs_of({&b})) + " with a scalar would become " + dtype_name(d)); }, loc);
  return apply1(Prim::where, {cast_to(cond, DType::bool_, loc), scalar_tensor(a, d, loc), cast_to(b, d, loc)}, loc);
}

Tensor where(const Tensor& cond, Scalar a, Scalar b, Loc loc) {
  check_defined("where", {&cond}, loc);
  DType d = a.weak_result(b.default_dtype());
  strict_check("where", a.default_dtype() != b.default_dtype(), [&] {
    return std::string("scalars of dtypes ") + dtype_name(a.default_dtype()) + " and " + dtype_name(b.default_dtype());
  }, loc);
  return apply1(Prim::where, {cast_to(cond, DType::bool_, loc), scalar_tensor(a, d, loc), scalar_tensor(b, d, loc)}, loc);
}

Tensor cast(const Tensor& x, DType d, Loc loc) {
  check_defined("cast", {&x}, loc);
  return cast_to(x, d, loc);
}

Tensor check_numerics(const Tensor& x, const std::string& message, Loc loc) {
  if (!x.defined()) raise(ErrorCode::invalid_argument, "check_numerics", "x is an empty Tensor handle", loc);
  return apply1(Prim::check_numerics, make_attrs(CheckNumericsAttrs{message}), {x}, loc);
}

Tensor clip(const Tensor& x, Scalar lo, Scalar hi, Loc loc) { return minimum(maximum(x, lo, loc), hi, loc); }
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi, Loc loc) {
  return minimum(maximum(x, lo, loc), hi, loc);
}
Tensor clip(const Tensor& x, const Tensor& lo, Scalar hi, Loc loc) { return minimum(maximum(x, lo, loc), hi, loc); }
Tensor clip(const Tensor& x, Scalar lo, const Tensor& hi, Loc loc) { return minimum(maximum(x, lo, loc), hi, loc); }

// ---- reductions ----

namespace {

std::vector<int64_t> norm_axes(const char* op, const Tensor& x, const OptAxes& axes, Loc loc) {
  std::vector<int64_t> out;
  if (!axes) {
    for (int64_t i = 0; i < x.rank(); ++i) out.push_back(i);
    return out;
  }
  for (int64_t a : *axes) {
    if (a < -x.rank() || a >= x.rank())
      raise(ErrorCode::axis, op,
            "axis " + std::to_string(a) + " is out of range: x is " + spec_str({x.dtype(), x.shape()}), loc);
    out.push_back(a < 0 ? a + x.rank() : a);
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    raise(ErrorCode::invalid_argument, op, "repeated axis: x is " + spec_str({x.dtype(), x.shape()}), loc);
  return out;
}

Tensor reduce(Prim p, const char* op, const Tensor& x, const OptAxes& axes, bool keepdims, Loc loc) {
  check_defined(op, {&x}, loc);
  return apply1(p, make_attrs(ReduceAttrs{norm_axes(op, x, axes, loc), keepdims}), {x}, loc);
}

// Sums and products of bool and uint8 accumulate in int32 (docs/dtypes.md).
Tensor widen_for_sum(const Tensor& x, Loc loc) {
  return (x.dtype() == DType::bool_ || x.dtype() == DType::uint8) ? cast_to(x, DType::int32, loc) : x;
}

int64_t reduced_count(const Tensor& x, const std::vector<int64_t>& axes) {
  int64_t n = 1;
  for (int64_t a : axes) n *= x.shape()[a];
  return n;
}

Tensor to_float(const Tensor& x, const char* op, Loc loc) {
  if (is_floating(x.dtype())) return x;
  strict_check(op, true, [&] { return std::string("x is " + spec_str({x.dtype(), x.shape()}) + " and would become float32"); }, loc);
  return cast_to(x, DType::float32, loc);
}

}  // namespace

Tensor sum(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  check_defined("sum", {&x}, loc);
  norm_axes("sum", x, axes, loc);  // axis errors name the caller's x, not its int32 widening
  return reduce(Prim::reduce_sum, "sum", widen_for_sum(x, loc), axes, keepdims, loc);
}
Tensor prod(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  check_defined("prod", {&x}, loc);
  norm_axes("prod", x, axes, loc);  // axis errors name the caller's x, not its int32 widening
  return reduce(Prim::reduce_prod, "prod", widen_for_sum(x, loc), axes, keepdims, loc);
}
Tensor max(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  return reduce(Prim::reduce_max, "max", x, axes, keepdims, loc);
}
Tensor min(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  return reduce(Prim::reduce_min, "min", x, axes, keepdims, loc);
}
Tensor all(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  return reduce(Prim::reduce_all, "all", x, axes, keepdims, loc);
}
Tensor any(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  return reduce(Prim::reduce_any, "any", x, axes, keepdims, loc);
}

Tensor mean(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  check_defined("mean", {&x}, loc);
  std::vector<int64_t> ax = norm_axes("mean", x, axes, loc);
  Tensor xf = to_float(x, "mean", loc);
  Tensor s = apply1(Prim::reduce_sum, make_attrs(ReduceAttrs{ax, keepdims}), {xf}, loc);
  return div(s, static_cast<double>(reduced_count(x, ax)), loc);
}

Tensor variance(const Tensor& x, OptAxes axes, bool keepdims, int64_t ddof, Loc loc) {
  check_defined("variance", {&x}, loc);
  std::vector<int64_t> ax = norm_axes("variance", x, axes, loc);
  Tensor xf = to_float(x, "variance", loc);
  Tensor m = mean(xf, ax, true, loc);
  Tensor d = sub(xf, m, loc);
  Tensor s = apply1(Prim::reduce_sum, make_attrs(ReduceAttrs{ax, keepdims}), {mul(d, d, loc)}, loc);
  // NumPy divides by max(n - ddof, 0): ddof >= n gives inf (NaN where every deviation is 0),
  // never a negative variance.
  return div(s, static_cast<double>(std::max<int64_t>(reduced_count(x, ax) - ddof, 0)), loc);
}

Tensor stddev(const Tensor& x, OptAxes axes, bool keepdims, int64_t ddof, Loc loc) {
  return sqrt(variance(x, axes, keepdims, ddof, loc), loc);
}

Tensor logsumexp(const Tensor& x, OptAxes axes, bool keepdims, Loc loc) {
  check_defined("logsumexp", {&x}, loc);
  std::vector<int64_t> ax = norm_axes("logsumexp", x, axes, loc);
  Tensor xf = to_float(x, "logsumexp", loc);
  // log of an empty sum is -inf (max would have no identity to shift by).
  if (reduced_count(x, ax) == 0) return log(sum(xf, ax, keepdims, loc), loc);
  Tensor m = max(xf, ax, true, loc);
  m = where(isfinite(m, loc), m, 0, loc);  // all -inf (or inf) rows: no shift
  // logsumexp is invariant to the shift, so its exact gradient is 0: behind stop_gradient the tape
  // builds g * softmax(x) and no argmax mask (docs/decisions.md, 163 and 175).
  m = apply1(Prim::stop_gradient, {m}, loc);
  Tensor s = log(sum(exp(sub(xf, m, loc), loc), ax, true, loc), loc);
  Tensor r = add(s, m, loc);
  return keepdims ? r : squeeze(r, ax, loc);
}

namespace {
Tensor arg_reduce(Prim p, const char* op, const Tensor& x, std::optional<int64_t> axis, bool keepdims, Loc loc) {
  check_defined(op, {&x}, loc);
  if (!axis) {
    Tensor flat = reshape(x, {x.size()}, loc);
    Tensor r = apply1(p, make_attrs(ArgAttrs{0, false}), {flat}, loc);
    return keepdims ? reshape(r, Shape(static_cast<size_t>(x.rank()), 1), loc) : r;
  }
  int64_t a = normalize_axis(*axis, x.rank(), op, loc);
  return apply1(p, make_attrs(ArgAttrs{a, keepdims}), {x}, loc);
}
}  // namespace

Tensor argmax(const Tensor& x, std::optional<int64_t> axis, bool keepdims, Loc loc) {
  return arg_reduce(Prim::argmax, "argmax", x, axis, keepdims, loc);
}
Tensor argmin(const Tensor& x, std::optional<int64_t> axis, bool keepdims, Loc loc) {
  return arg_reduce(Prim::argmin, "argmin", x, axis, keepdims, loc);
}

// ---- matmul ----

Tensor matmul(const Tensor& a, const Tensor& b, Loc loc) {
  check_defined("matmul", {&a, &b}, loc);
  if (a.rank() == 0 || b.rank() == 0)
    raise(ErrorCode::shape, "matmul", "operands must not be scalars: " + specs_str(specs_of({&a, &b})), loc);
  if (a.rank() >= 2 && b.rank() >= 2 && a.shape().back() != b.shape()[b.rank() - 2])
    raise(ErrorCode::shape, "matmul", "inner dimensions differ: " + specs_str(specs_of({&a, &b})), loc);
  if ((a.rank() == 1 || b.rank() == 1) &&
      a.shape().back() != (b.rank() == 1 ? b.shape()[0] : b.shape()[b.rank() - 2]))
    raise(ErrorCode::shape, "matmul", "inner dimensions differ: " + specs_str(specs_of({&a, &b})), loc);
  DType d = promote_types(a.dtype(), b.dtype());
  strict_check("matmul", a.dtype() != b.dtype(), [&] { return std::string(specs_str(specs_of({&a, &b}))); }, loc);
  if (d == DType::bool_) raise(ErrorCode::dtype, "matmul", "bool operands: " + specs_str(specs_of({&a, &b})), loc);
  Tensor a2 = a.rank() == 1 ? reshape(a, {1, a.dim(0)}, loc) : a;
  Tensor b2 = b.rank() == 1 ? reshape(b, {b.dim(0), 1}, loc) : b;
  Tensor y = apply1(Prim::matmul, {cast_to(a2, d, loc), cast_to(b2, d, loc)}, loc);
  if (a.rank() == 1 && b.rank() == 1) return reshape(y, {}, loc);
  if (a.rank() == 1) return squeeze(y, Axes{-2}, loc);
  if (b.rank() == 1) return squeeze(y, Axes{-1}, loc);
  return y;
}

// ---- random ----

namespace {
Tensor random_op(Prim p, const char* op, const Shape& shape, double a, double b, DType d, Loc loc) {
  for (int64_t s : shape)
    if (s < 0) raise(ErrorCode::shape, op, "negative dimension in shape " + shape_str(shape), loc);
  auto [seed, counter] = reserve_random(numel(shape));
  return apply(p, make_attrs(RandomAttrs{shape, d, a, b, seed, counter}), {}, loc)[0];
}
}  // namespace

Tensor random_uniform(const Shape& shape, double minval, double maxval, DType d, Loc loc) {
  if (!(minval < maxval))
    raise(ErrorCode::invalid_argument, "random_uniform", "needs minval < maxval, got " + std::to_string(minval) +
                                                            " and " + std::to_string(maxval), loc);
  return random_op(Prim::random_uniform, "random_uniform", shape, minval, maxval, d, loc);
}
Tensor random_normal(const Shape& shape, double mean, double stddev, DType d, Loc loc) {
  if (!(stddev >= 0)) raise(ErrorCode::invalid_argument, "random_normal", "stddev must be >= 0", loc);
  return random_op(Prim::random_normal, "random_normal", shape, mean, stddev, d, loc);
}
Tensor truncated_normal(const Shape& shape, double mean, double stddev, DType d, Loc loc) {
  if (!(stddev >= 0)) raise(ErrorCode::invalid_argument, "truncated_normal", "stddev must be >= 0", loc);
  return random_op(Prim::truncated_normal, "truncated_normal", shape, mean, stddev, d, loc);
}

}  // namespace xf
