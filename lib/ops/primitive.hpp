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
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

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
};

using Specs = std::vector<TensorSpec>;
using Tensors = std::vector<Tensor>;

struct OpDef {
  const char* name;
  Traits traits;
  Specs (*infer)(const void* attrs, const Specs& inputs);
  void (*eval)(const void* attrs, const Tensors& inputs, Tensors& outputs);
  Tensors (*vjp)(const void* attrs, const VjpArgs& args);
  void (*visit_attrs)(void* attrs, AttrVisitor& v);
  std::shared_ptr<void> (*new_attrs)();
};

// The gradient slot of a primitive whose gradient the autodiff layer has not written yet.
[[noreturn]] Tensors vjp_pending(const char* op);

// Fills the slots of OpDef from the parts of P; a missing part is a compile error.
template <class P>
OpDef make_def() {
  using A = typename P::Attrs;
  static_assert(std::is_default_constructible_v<A>, "Attrs must be default-constructible (JSON reads into it)");
  return OpDef{
      P::name,
      P::traits,
      [](const void* a, const Specs& in) { return P::infer(*static_cast<const A*>(a), in); },
      [](const void* a, const Tensors& in, Tensors& out) { P::eval(*static_cast<const A*>(a), in, out); },
      [](const void* a, const VjpArgs& args) { return P::vjp(*static_cast<const A*>(a), args); },
      [](void* a, AttrVisitor& v) { static_cast<A*>(a)->visit(v); },
      []() -> std::shared_ptr<void> { return std::make_shared<A>(); },
  };
}

// ---- the one list of primitives: X(id, Struct) ----
#define XFLOW_PRIMITIVES(X)                                                                     \
  X(neg, Neg) X(abs, Abs) X(sign, Sign) X(exp, Exp) X(expm1, Expm1) X(log, Log) X(log1p, Log1p) \
  X(sqrt, Sqrt) X(rsqrt, Rsqrt) X(square, Square) X(reciprocal, Reciprocal) X(sin, Sin)         \
  X(cos, Cos) X(tan, Tan) X(tanh, Tanh) X(sigmoid, Sigmoid) X(relu, Relu) X(erf, Erf)           \
  X(floor, Floor) X(ceil, Ceil) X(round, Round) X(logical_not, LogicalNot) X(isnan, IsNan)     \
  X(isinf, IsInf) X(isfinite, IsFinite)                                                          \
  X(add, Add) X(sub, Sub) X(mul, Mul) X(div, Div) X(floor_div, FloorDiv) X(mod, Mod)           \
  X(pow, Pow) X(maximum, Maximum) X(minimum, Minimum) X(atan2, Atan2) X(equal, Equal)          \
  X(not_equal, NotEqual) X(less, Less) X(less_equal, LessEqual) X(greater, Greater)            \
  X(greater_equal, GreaterEqual) X(logical_and, LogicalAnd) X(logical_or, LogicalOr)            \
  X(logical_xor, LogicalXor)                                                                    \
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
  X(read_variable, ReadVariable) X(assign, Assign)

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
inline Tensor apply1(Prim p, AttrsPtr attrs, Tensors inputs, Loc loc) {
  return apply(p, std::move(attrs), std::move(inputs), loc)[0];
}
// The shared empty attributes of primitives without attributes.
const AttrsPtr& no_attrs();
inline Tensor apply1(Prim p, Tensors inputs, Loc loc) { return apply(p, no_attrs(), std::move(inputs), loc)[0]; }

// For infer: throw an error of `code` with the message (apply() adds op and location).
[[noreturn]] void infer_fail(ErrorCode code, const std::string& message);

}  // namespace xf
