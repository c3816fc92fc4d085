// Internal: what a primitive op is, and the one list of all primitives.
//
// A primitive is a struct with every part of its definition:
//   name, traits                     registry, passes, viewer palette
//   Attrs with visit(AttrVisitor&)   JSON, hashing/equality (CSE), printing, guards
//   infer(attrs, input specs)        output dtypes and shapes, or an error (no "[op]" prefix and
//                                    no location: apply() adds both)
//   eval(attrs, inputs, outputs)     the kernel; outputs arrive allocated (contiguous) unless the
//                                    primitive is a view, whose eval sets them to views of inputs
//   vjp(attrs, args)                 the gradient, written with public ops
// make_def<P>() reads every part, so an entry that lacks one does not compile.
#pragma once
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/elementwise_kind.hpp"
#include "xflow/small_vector.hpp"
#include "xflow/tensor.hpp"

namespace xf {

struct TensorSpec {
  DType dtype;
  Shape shape;
};
// "a is (2, 3) float32" pieces for messages.
std::string spec_str(const TensorSpec& s);

struct Traits {
  bool elementwise = false;
  bool commutative = false;
  bool inplace = false;         // output may reuse the buffer of input 0 when it dies
  bool differentiable = false;
  bool view = false;            // outputs alias the inputs' buffers
  bool random = false;          // draws from the generator: never folded or merged
  bool stateful = false;        // reads or writes variable state: never folded or merged
  bool side_effect = false;     // changes state: always kept, run in graph order
  bool check = false;           // raises on bad values: never folded, merged or removed
};

// Visits attributes by name. One visitor serves JSON, hashing, equality and printing.
class AttrVisitor {
 public:
  virtual ~AttrVisitor() = default;
  virtual void on(const char* name, bool& v) = 0;
  virtual void on(const char* name, int64_t& v) = 0;
  virtual void on(const char* name, double& v) = 0;
  virtual void on(const char* name, DType& v) = 0;
  virtual void on(const char* name, std::vector<int64_t>& v) = 0;
  virtual void on(const char* name, std::string& v) = 0;
};

struct NoAttrs {
  void visit(AttrVisitor&) {}
};

struct VjpArgs {
  const std::vector<Tensor>& inputs;
  const std::vector<Tensor>& outputs;
  const std::vector<Tensor>& cotangents;  // one per output
  // Which inputs the caller wants a gradient of (one flag per input; null: all). A vjp may leave
  // an unwanted one undefined instead of computing it (conv2d skips its input's gradient when
  // the input is data, not a weight).
  const std::vector<char>* wanted = nullptr;
  bool wants(size_t i) const { return !wanted || (*wanted)[i] != 0; }
};

// Specs keep up to 3 entries inline: infer returns them without allocating.
using Specs = SmallVector<TensorSpec, 3>;
using Tensors = std::vector<Tensor>;

// Whether a kernel of domain d takes inputs of dtype t (ops/elementwise_kind.hpp).
inline bool domain_accepts(ew::Domain d, DType t) {
  switch (d) {
    case ew::Domain::floating: return is_floating(t);
    case ew::Domain::numeric: return t != DType::bool_;
    case ew::Domain::any:
    case ew::Domain::truth: return true;
  }
  return false;
}

// What an elementwise primitive's functor says about it (lib/ops/elementwise_kind.hpp), for the
// public ops, fusion and generated kernels. Derived from the functor in elementwise.cpp.
struct ElementwiseInfo {
  int arity = 0;              // 1 or 2
  ew::Domain domain = ew::Domain::any;
  ew::Result result = ew::Result::same;
  ew::Promotion promotion = ew::Promotion::invalid;
  const char* functor = "";   // its name in xf::ew, as generated kernels spell it ("HypotFn")
  // The kernel on raw operands of dtype `d` (one the domain accepts), each contiguous with n
  // elements (step 1) or one element (step 0), writing n contiguous outputs: eval's loop for
  // operands of the output's shape or of one element, so the fast path of the public ops
  // (apply_elementwise_fast) gives eval's bits.
  void (*flat)(DType d, const void* const* inputs, const int64_t* steps, void* out, int64_t n) = nullptr;
};

struct OpDef {
  const char* name;
  Traits traits;
  Specs (*infer)(const void* attrs, const Specs& inputs);
  void (*eval)(const void* attrs, const Tensors& inputs, Tensors& outputs);
  Tensors (*vjp)(const void* attrs, const VjpArgs& args);
  void (*visit_attrs)(void* attrs, AttrVisitor& v);
  std::shared_ptr<void> (*new_attrs)();
  const ElementwiseInfo* elementwise;  // null unless the primitive has a functor
};

// The gradient slot of a primitive whose gradient the autodiff layer has not written yet.
[[noreturn]] Tensors vjp_pending(const char* op);

template <class P, class = void> struct has_functor : std::false_type {};
template <class P> struct has_functor<P, std::void_t<typename P::Functor>> : std::true_type {};

// Fills the slots of OpDef from the parts of P; a missing part is a compile error.
template <class P>
OpDef make_def() {
  using A = typename P::Attrs;
  const ElementwiseInfo* info = nullptr;
  if constexpr (has_functor<P>::value) info = &P::elementwise;
  static_assert(std::is_default_constructible_v<A>, "Attrs must be default-constructible (JSON reads into it)");
  return OpDef{
      P::name,
      P::traits,
      [](const void* a, const Specs& in) { return P::infer(*static_cast<const A*>(a), in); },
      [](const void* a, const Tensors& in, Tensors& out) { P::eval(*static_cast<const A*>(a), in, out); },
      [](const void* a, const VjpArgs& args) { return P::vjp(*static_cast<const A*>(a), args); },
      [](void* a, AttrVisitor& v) { static_cast<A*>(a)->visit(v); },
      []() -> std::shared_ptr<void> { return std::make_shared<A>(); },
      info,
  };
}

// ---- the one list of primitives ----
//
// Elementwise primitives carry their functor (ops/elementwise_fns.hpp) and arity:
//   E(id, Struct, Functor, arity)
// Everything else about them is derived: the name (#id), the declaration (ops/prims.hpp), traits
// and promotion (from the functor's domain, result and commutative), infer and eval
// (elementwise.cpp), the public functions (ops.cpp), the fusion tile table and the name generated
// kernels call (lib/exec/fusion.cpp). Only the gradient (gradients.cpp) and the public declaration
// (include/xflow/ops.hpp) are written by hand. docs/adding-an-op.md is the checklist.
#define XFLOW_ELEMENTWISE_LIST_(M, X)                                                            \
  M(X, neg, Neg, NegFn, 1) M(X, abs, Abs, AbsFn, 1) M(X, sign, Sign, SignFn, 1)                  \
  M(X, exp, Exp, ExpFn, 1) M(X, expm1, Expm1, Expm1Fn, 1) M(X, log, Log, LogFn, 1)               \
  M(X, log1p, Log1p, Log1pFn, 1) M(X, sqrt, Sqrt, SqrtFn, 1) M(X, rsqrt, Rsqrt, RsqrtFn, 1)      \
  M(X, square, Square, SquareFn, 1) M(X, reciprocal, Reciprocal, ReciprocalFn, 1)                \
  M(X, sin, Sin, SinFn, 1) M(X, cos, Cos, CosFn, 1) M(X, tan, Tan, TanFn, 1)                     \
  M(X, tanh, Tanh, TanhFn, 1) M(X, sigmoid, Sigmoid, SigmoidFn, 1) M(X, relu, Relu, ReluFn, 1)   \
  M(X, erf, Erf, ErfFn, 1) M(X, floor, Floor, FloorFn, 1) M(X, ceil, Ceil, CeilFn, 1)            \
  M(X, round, Round, RoundFn, 1) M(X, logical_not, LogicalNot, LogicalNotFn, 1)                  \
  M(X, isnan, IsNan, IsNanFn, 1) M(X, isinf, IsInf, IsInfFn, 1)                                  \
  M(X, isfinite, IsFinite, IsFiniteFn, 1)                                                        \
  M(X, add, Add, AddFn, 2) M(X, sub, Sub, SubFn, 2) M(X, mul, Mul, MulFn, 2)                     \
  M(X, div, Div, DivFn, 2) M(X, floor_div, FloorDiv, FloorDivFn, 2) M(X, mod, Mod, ModFn, 2)     \
  M(X, pow, Pow, PowFn, 2) M(X, maximum, Maximum, MaximumFn, 2)                                  \
  M(X, minimum, Minimum, MinimumFn, 2) M(X, atan2, Atan2, Atan2Fn, 2)                            \
  M(X, hypot, Hypot, HypotFn, 2) M(X, logaddexp, LogAddExp, LogAddExpFn, 2)                      \
  M(X, relu_grad, ReluGrad, ReluGradFn, 2)                                                       \
  M(X, equal, Equal, EqualFn, 2) M(X, not_equal, NotEqual, NotEqualFn, 2)                        \
  M(X, less, Less, LessFn, 2) M(X, less_equal, LessEqual, LessEqualFn, 2)                        \
  M(X, greater, Greater, GreaterFn, 2) M(X, greater_equal, GreaterEqual, GreaterEqualFn, 2)      \
  M(X, logical_and, LogicalAnd, LogicalAndFn, 2) M(X, logical_or, LogicalOr, LogicalOrFn, 2)     \
  M(X, logical_xor, LogicalXor, LogicalXorFn, 2)
#define XFLOW_ELEMENTWISE_AS_E_(E, id, S, Fn, arity) E(id, S, Fn, arity)
#define XFLOW_ELEMENTWISE_AS_X_(X, id, S, Fn, arity) X(id, S)
// E(id, Struct, Functor, arity) for every elementwise primitive.
#define XFLOW_ELEMENTWISE_PRIMITIVES(E) XFLOW_ELEMENTWISE_LIST_(XFLOW_ELEMENTWISE_AS_E_, E)

// X(id, Struct) for every primitive: the elementwise ones, then the rest.
#define XFLOW_PRIMITIVES(X)                                                                     \
  XFLOW_ELEMENTWISE_LIST_(XFLOW_ELEMENTWISE_AS_X_, X)                                           \
  X(where, Where) X(cast, Cast)                                                                 \
  X(reduce_sum, ReduceSum) X(reduce_prod, ReduceProd) X(reduce_max, ReduceMax)                 \
  X(reduce_min, ReduceMin) X(reduce_all, ReduceAll) X(reduce_any, ReduceAny)                   \
  X(argmax, ArgMax) X(argmin, ArgMin)                                                           \
  X(matmul, MatMul) X(permute, Permute) X(reshape, Reshape) X(broadcast_to, BroadcastTo)       \
  X(slice, StridedSlice) X(concat, Concat) X(gather, Gather) X(pad, Pad)                        \
  X(conv2d, Conv2D) X(max_pool2d, MaxPool2D) X(avg_pool2d, AvgPool2D)                           \
  X(random_uniform, RandomUniform) X(random_normal, RandomNormal)                               \
  X(truncated_normal, TruncatedNormal)                                                          \
  X(stop_gradient, StopGradient) X(scatter_add, ScatterAdd)                                     \
  X(conv2d_backprop_input, Conv2DBackpropInput) X(conv2d_backprop_filter, Conv2DBackpropFilter) \
  X(max_pool2d_argmax, MaxPool2DArgmax) X(avg_pool2d_backprop, AvgPool2DBackprop)             \
  X(max_pool2d_backprop, MaxPool2DBackprop)                                                     \
  X(image_patches, ImagePatches) X(image_patches_backprop, ImagePatchesBackprop)               \
  X(adam_update, AdamUpdate)                                                                    \
  X(read_variable, ReadVariable) X(assign, Assign)                                             \
  X(queue_dequeue, QueueDequeue) X(queue_enqueue, QueueEnqueue)                                 \
  X(cumsum, CumSum) X(cumprod, CumProd) X(sort, Sort) X(topk, TopK)                             \
  X(searchsorted, SearchSorted) X(take_along_axis, TakeAlongAxis)                               \
  X(scatter_add_along_axis, ScatterAddAlongAxis) \
  X(check_numerics, CheckNumerics) X(svd, Svd)

enum class Prim : uint16_t {
#define XFLOW_PRIM_ENUM(id, S) id,
  XFLOW_PRIMITIVES(XFLOW_PRIM_ENUM)
#undef XFLOW_PRIM_ENUM
      count_
};
inline constexpr int kNumPrims = static_cast<int>(Prim::count_);

const OpDef& op_def(Prim p);
// Throws NotFound for an unknown name.
Prim prim_from_name(const std::string& name);

using AttrsPtr = std::shared_ptr<const void>;

template <class A>
AttrsPtr make_attrs(A a) {
  return std::make_shared<const A>(std::move(a));
}

// Runs a primitive: infer (errors get "[op]" and the caller's location), allocate, eval, then
// notify the dispatch observers (tape, tracer).
Tensors apply(Prim p, AttrsPtr attrs, Tensors inputs, Loc loc);
// apply() of a primitive with one output (or its first). Its buffers for specs and outputs are
// reused between calls, and inputs written as a braced list (`apply1(p, {a, b}, loc)`) take the
// initializer_list overload, which builds no vector: an op on small tensors allocates only its
// result (docs/design.md, "Tiny ops").
Tensor apply1(Prim p, const AttrsPtr& attrs, Tensors inputs, Loc loc);
Tensor apply1(Prim p, const AttrsPtr& attrs, std::initializer_list<Tensor> inputs, Loc loc);
// The shared empty attributes of primitives without attributes.
const AttrsPtr& no_attrs();
// The fast path of the public elementwise ops: elementwise primitive `p` on `a` (and `b` for a
// binary one) when nothing but the kernel has work to do: no observer on the thread, the
// numerics-checking mode off, operands of one dtype the primitive accepts, contiguous, of one
// shape or one of them 0-d. The result is what apply1 returns, without the input list, specs,
// infer and scratch (docs/design.md, "Tiny ops"). Returns an empty handle when it does not apply
// (the caller then takes apply1, which reports every error).
Tensor apply_elementwise_fast(Prim p, const Tensor& a, const Tensor* b, Loc loc);
inline Tensor apply1(Prim p, Tensors inputs, Loc loc) { return apply1(p, no_attrs(), std::move(inputs), loc); }
inline Tensor apply1(Prim p, std::initializer_list<Tensor> inputs, Loc loc) {
  return apply1(p, no_attrs(), inputs, loc);
}

// For infer: throw an error of `code` with the message (apply() adds op and location).
[[noreturn]] void infer_fail(ErrorCode code, const std::string& message);

}  // namespace xf
