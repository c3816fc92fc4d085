// Internal: the attribute structs and the declaration of every primitive listed in primitive.hpp.
// Kernels live in elementwise.cpp, reduce.cpp, linalg.cpp, shape_ops.cpp, nn_ops.cpp,
// random_ops.cpp and sort_scan.cpp; gradients in gradients.cpp.
#pragma once
#include "ops/primitive.hpp"

namespace xf {

struct ReduceAttrs {
  std::vector<int64_t> axes;  // sorted, non-negative
  bool keepdims = false;
  void visit(AttrVisitor& v) { v.on("axes", axes); v.on("keepdims", keepdims); }
};
struct ArgAttrs {
  int64_t axis = 0;
  bool keepdims = false;
  void visit(AttrVisitor& v) { v.on("axis", axis); v.on("keepdims", keepdims); }
};
struct CastAttrs {
  DType dtype = DType::float32;
  void visit(AttrVisitor& v) { v.on("dtype", dtype); }
};
struct PermuteAttrs {
  std::vector<int64_t> perm;
  void visit(AttrVisitor& v) { v.on("perm", perm); }
};
struct ShapeAttrs {
  std::vector<int64_t> shape;
  void visit(AttrVisitor& v) { v.on("shape", shape); }
};
// Normalized strided slice: for every axis, the first index, the element count and the step.
struct SliceAttrs {
  std::vector<int64_t> begin, size, step;
  void visit(AttrVisitor& v) { v.on("begin", begin); v.on("size", size); v.on("step", step); }
};
struct AxisAttrs {
  int64_t axis = 0;
  void visit(AttrVisitor& v) { v.on("axis", axis); }
};
struct PadAttrs {
  std::vector<int64_t> pads;  // before0, after0, before1, after1, ...
  double value = 0;
  void visit(AttrVisitor& v) { v.on("pads", pads); v.on("value", value); }
};
// `dilations`: the filter's taps are `dilations` apart (TensorFlow's NHWC dilations, height and
// width). JSON documents without it (schema 1.1 and older) read as {1, 1}.
struct ConvAttrs {
  std::vector<int64_t> strides{1, 1};
  std::string padding = "VALID";  // "SAME" or "VALID"
  std::vector<int64_t> dilations{1, 1};
  void visit(AttrVisitor& v) { v.on("strides", strides); v.on("padding", padding); v.on("dilations", dilations); }
};
struct PoolAttrs {
  std::vector<int64_t> window{1, 1};
  std::vector<int64_t> strides{1, 1};
  std::string padding = "VALID";
  void visit(AttrVisitor& v) { v.on("window", window); v.on("strides", strides); v.on("padding", padding); }
};
// scatter_add, the adjoint of gather: `size` is the length of the output's `axis`.
struct ScatterAttrs {
  int64_t axis = 0;
  int64_t size = 0;
  void visit(AttrVisitor& v) { v.on("axis", axis); v.on("size", size); }
};
// The gradient kernels of conv2d: `shape` is the shape of the result (conv2d's input for
// conv2d_backprop_input, its filter for conv2d_backprop_filter), which the inputs do not fix.
struct ConvGradAttrs {
  std::vector<int64_t> shape;
  std::vector<int64_t> strides{1, 1};
  std::string padding = "VALID";
  std::vector<int64_t> dilations{1, 1};
  void visit(AttrVisitor& v) {
    v.on("shape", shape); v.on("strides", strides); v.on("padding", padding); v.on("dilations", dilations);
  }
};
// image_patches: the (kh, kw) = `window` windows of an NHWC input, taps `dilations` apart, as
// conv2d places them for a (kh, kw, C, O) filter with these strides, padding and dilations.
struct PatchAttrs {
  std::vector<int64_t> window{1, 1};
  std::vector<int64_t> strides{1, 1};
  std::string padding = "VALID";
  std::vector<int64_t> dilations{1, 1};
  void visit(AttrVisitor& v) {
    v.on("window", window); v.on("strides", strides); v.on("padding", padding); v.on("dilations", dilations);
  }
};
// image_patches_backprop: `shape` is the shape of image_patches' input.
struct PatchGradAttrs {
  std::vector<int64_t> shape;
  std::vector<int64_t> window{1, 1};
  std::vector<int64_t> strides{1, 1};
  std::string padding = "VALID";
  std::vector<int64_t> dilations{1, 1};
  void visit(AttrVisitor& v) {
    v.on("shape", shape); v.on("window", window); v.on("strides", strides); v.on("padding", padding);
    v.on("dilations", dilations);
  }
};
// adam_update: Adam's decay rates and epsilon (TensorFlow 1's ApplyAdam).
struct AdamAttrs {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  void visit(AttrVisitor& v) { v.on("beta1", beta1); v.on("beta2", beta2); v.on("epsilon", epsilon); }
};
// avg_pool2d_backprop: `shape` is the shape of avg_pool2d's input.
struct PoolGradAttrs {
  std::vector<int64_t> shape;
  std::vector<int64_t> window{1, 1};
  std::vector<int64_t> strides{1, 1};
  std::string padding = "VALID";
  void visit(AttrVisitor& v) {
    v.on("shape", shape); v.on("window", window); v.on("strides", strides); v.on("padding", padding);
  }
};
// Random ops carry the generator position they read, so a kernel is a pure function of its
// attributes (a, b: minval/maxval for uniform, mean/stddev for the normals).
struct RandomAttrs {
  std::vector<int64_t> shape;
  DType dtype = DType::float32;
  double a = 0, b = 1;
  int64_t seed = 0;
  int64_t counter = 0;
  void visit(AttrVisitor& v) {
    v.on("shape", shape); v.on("dtype", dtype); v.on("a", a); v.on("b", b);
    v.on("seed", seed); v.on("counter", counter);
  }
};

// A variable's identity and fixed dtype and shape (lib/variable/). `var_id` is this process's
// handle; `name` (the variable's unique name) is what outlives the process: checkpoints and
// meta-graphs refer to variables by it.
struct VariableAttrs {
  int64_t var_id = 0;
  DType dtype = DType::float32;
  std::vector<int64_t> shape;
  std::string name;
  void visit(AttrVisitor& v) {
    v.on("var_id", var_id); v.on("dtype", dtype); v.on("shape", shape); v.on("name", name);
  }
};

// A queue operation (lib/queue): the queue's process id, its component dtypes and shapes
// (flattened: rank then dimensions, per component), and what the operation does.
struct QueueAttrs {
  int64_t queue_id = 0;
  std::string name;                  // the queue's name, for messages
  std::vector<int64_t> dtypes;       // DType codes
  std::vector<int64_t> shapes;       // rank, dims..., rank, dims..., one group per component
  int64_t n = -1;                    // dequeue: -1 one element, else a batch of n
  bool many = false;                 // enqueue: the inputs are batches along axis 0
  int64_t timeout_ms = -1;           // -1: block
  void visit(AttrVisitor& v) {
    v.on("queue_id", queue_id); v.on("name", name); v.on("dtypes", dtypes); v.on("shapes", shapes);
    v.on("n", n); v.on("many", many); v.on("timeout_ms", timeout_ms);
  }
};

// cumsum / cumprod along `axis`: `exclusive` leaves the element itself out (TensorFlow), `reverse`
// accumulates from the end.
struct ScanAttrs {
  int64_t axis = 0;
  bool exclusive = false;
  bool reverse = false;
  void visit(AttrVisitor& v) { v.on("axis", axis); v.on("exclusive", exclusive); v.on("reverse", reverse); }
};
struct SortAttrs {
  int64_t axis = 0;
  bool descending = false;
  void visit(AttrVisitor& v) { v.on("axis", axis); v.on("descending", descending); }
};
// topk along the last axis: `sorted` orders the k values by value (else by index).
struct TopKAttrs {
  int64_t k = 1;
  bool sorted = true;
  void visit(AttrVisitor& v) { v.on("k", k); v.on("sorted", sorted); }
};
struct SearchAttrs {
  std::string side = "left";  // "left" or "right"
  void visit(AttrVisitor& v) { v.on("side", side); }
};
// check_numerics: the prefix of its error message (TensorFlow's `message` attribute).
struct CheckNumericsAttrs {
  std::string message;
  void visit(AttrVisitor& v) { v.on("message", message); }
};
// svd: `full_matrices` gives the square U (..., m, m) and Vh (..., n, n) (NumPy's default),
// else the thin U (..., m, k) and Vh (..., k, n).
struct SvdAttrs {
  bool full_matrices = false;
  void visit(AttrVisitor& v) { v.on("full_matrices", full_matrices); }
};

#define XFLOW_DECLARE_PRIM(S, NAME, ATTRS, ...)                     \
  struct S {                                                         \
    static constexpr const char* name = NAME;                        \
    static constexpr Traits traits = __VA_ARGS__;                    \
    using Attrs = ATTRS;                                             \
    static Specs infer(const Attrs& attrs, const Specs& in);         \
    static void eval(const Attrs& attrs, const Tensors& in, Tensors& out); \
    static Tensors vjp(const Attrs& attrs, const VjpArgs& args);     \
  };

// Traits: {elementwise, commutative, inplace, differentiable, view, random}
constexpr Traits kPlain{false, false, false, true, false, false};
constexpr Traits kNonDiff{false, false, false, false, false, false};
constexpr Traits kView{false, false, false, true, true, false};
constexpr Traits kRandom{false, false, false, false, false, true};

// The elementwise primitives, from their list (ops/primitive.hpp): the functor is declared here
// (defined in ops/elementwise_fns.hpp, which needs xsimd); traits and `elementwise` are derived
// from it in elementwise.cpp, which also checks the functor has every part its entry needs.
#define XFLOW_DECLARE_ELEMENTWISE(id, S, Fn, arity)                      \
  namespace ew {                                                         \
  struct Fn;                                                             \
  }                                                                      \
  struct S {                                                             \
    static constexpr const char* name = #id;                             \
    using Functor = ew::Fn;                                              \
    static const Traits traits;                                          \
    static const ElementwiseInfo elementwise;                            \
    using Attrs = NoAttrs;                                               \
    static Specs infer(const Attrs& attrs, const Specs& in);             \
    static void eval(const Attrs& attrs, const Tensors& in, Tensors& out); \
    static Tensors vjp(const Attrs& attrs, const VjpArgs& args);         \
  };
XFLOW_ELEMENTWISE_PRIMITIVES(XFLOW_DECLARE_ELEMENTWISE)
#undef XFLOW_DECLARE_ELEMENTWISE

XFLOW_DECLARE_PRIM(Where, "where", NoAttrs, (Traits{true, false, false, true, false, false}))
XFLOW_DECLARE_PRIM(Cast, "cast", CastAttrs, (Traits{true, false, false, true, false, false}))
XFLOW_DECLARE_PRIM(ReduceSum, "reduce_sum", ReduceAttrs, kPlain)
XFLOW_DECLARE_PRIM(ReduceProd, "reduce_prod", ReduceAttrs, kPlain)
XFLOW_DECLARE_PRIM(ReduceMax, "reduce_max", ReduceAttrs, kPlain)
XFLOW_DECLARE_PRIM(ReduceMin, "reduce_min", ReduceAttrs, kPlain)
XFLOW_DECLARE_PRIM(ReduceAll, "reduce_all", ReduceAttrs, kNonDiff)
XFLOW_DECLARE_PRIM(ReduceAny, "reduce_any", ReduceAttrs, kNonDiff)
XFLOW_DECLARE_PRIM(ArgMax, "argmax", ArgAttrs, kNonDiff)
XFLOW_DECLARE_PRIM(ArgMin, "argmin", ArgAttrs, kNonDiff)
XFLOW_DECLARE_PRIM(MatMul, "matmul", NoAttrs, kPlain)
XFLOW_DECLARE_PRIM(Permute, "permute", PermuteAttrs, kView)
XFLOW_DECLARE_PRIM(Reshape, "reshape", ShapeAttrs, kView)
XFLOW_DECLARE_PRIM(BroadcastTo, "broadcast_to", ShapeAttrs, kView)
XFLOW_DECLARE_PRIM(StridedSlice, "slice", SliceAttrs, kView)
XFLOW_DECLARE_PRIM(Concat, "concat", AxisAttrs, kPlain)
XFLOW_DECLARE_PRIM(Gather, "gather", AxisAttrs, kPlain)
XFLOW_DECLARE_PRIM(Pad, "pad", PadAttrs, kPlain)
XFLOW_DECLARE_PRIM(Conv2D, "conv2d", ConvAttrs, kPlain)
XFLOW_DECLARE_PRIM(MaxPool2D, "max_pool2d", PoolAttrs, kPlain)
XFLOW_DECLARE_PRIM(AvgPool2D, "avg_pool2d", PoolAttrs, kPlain)
XFLOW_DECLARE_PRIM(RandomUniform, "random_uniform", RandomAttrs, kRandom)
XFLOW_DECLARE_PRIM(RandomNormal, "random_normal", RandomAttrs, kRandom)
XFLOW_DECLARE_PRIM(TruncatedNormal, "truncated_normal", RandomAttrs, kRandom)
// The identity whose output the tape does not differentiate through (a view of its input).
XFLOW_DECLARE_PRIM(StopGradient, "stop_gradient", NoAttrs, (Traits{false, false, false, false, true, false}))
// The primitives below are the building blocks of gradients (gather's, conv2d's, the pools').
XFLOW_DECLARE_PRIM(ScatterAdd, "scatter_add", ScatterAttrs, kPlain)
XFLOW_DECLARE_PRIM(Conv2DBackpropInput, "conv2d_backprop_input", ConvGradAttrs, kPlain)
XFLOW_DECLARE_PRIM(Conv2DBackpropFilter, "conv2d_backprop_filter", ConvGradAttrs, kPlain)
XFLOW_DECLARE_PRIM(MaxPool2DArgmax, "max_pool2d_argmax", PoolAttrs, kNonDiff)
XFLOW_DECLARE_PRIM(AvgPool2DBackprop, "avg_pool2d_backprop", PoolGradAttrs, kPlain)
XFLOW_DECLARE_PRIM(MaxPool2DBackprop, "max_pool2d_backprop", PoolAttrs, kPlain)
// conv2d's patch matrix as an op (TensorFlow's extract_image_patches, rates = dilations), and its
// adjoint. conv2d under a gradient tape is image_patches then a 1x1 conv2d, so the filter's
// gradient reads the patches the forward pass built (conv2d_keeps_patches).
XFLOW_DECLARE_PRIM(ImagePatches, "image_patches", PatchAttrs, kPlain)
XFLOW_DECLARE_PRIM(ImagePatchesBackprop, "image_patches_backprop", PatchGradAttrs, kPlain)

// One Adam step of a variable: (var, m, v, grad, lr_t) -> (new var, new m, new v), no state of
// its own (xf::Adam assigns the three results). Not differentiable, as TensorFlow's ApplyAdam.
XFLOW_DECLARE_PRIM(AdamUpdate, "adam_update", AdamAttrs, kNonDiff)

// Whether conv2d(input, filter) with these attributes runs as image_patches and a 1x1 conv2d: a
// gradient tape differentiates through the filter, no graph is being built, the window is more than
// the input itself (not 1x1 with stride 1), the inputs are valid and the whole batch's patch
// matrix fits the kernels' one-block budget (so every result is the conv2d primitive's, bit for
// bit). Defined in nn_ops.cpp.
bool conv2d_keeps_patches(const Tensor& input, const Tensor& filter, const ConvAttrs& attrs);

// Variables: a read yields the current value (captured by reference in traces); an assignment is
// a side effect kept in order. Traits: {elementwise, commutative, inplace, differentiable, view,
// random, stateful, side_effect}.
XFLOW_DECLARE_PRIM(ReadVariable, "read_variable", VariableAttrs, (Traits{false, false, false, true, true, false, true, false}))
XFLOW_DECLARE_PRIM(Assign, "assign", VariableAttrs, (Traits{false, false, false, false, true, false, true, true}))
// The assignment without its copy: `value` becomes the variable's tensor and is returned.
// Assign::eval copies its input first (the input may live in a plan's arena or be held by the
// caller); a plan calls this directly for a value it computed into a buffer of its own that
// nothing else reads (lib/exec/plan.cpp). `value` must be dense and contiguous, of the
// variable's dtype and shape.
Tensor assign_adopting(const VariableAttrs& a, const Tensor& value);
// Queues: a dequeue takes fresh elements on every run and an enqueue adds its inputs (its output
// is the number of elements added); both are side effects kept in graph order per queue, never
// folded or merged. Their kernels reach the queue through ops/queue_resource.hpp.
XFLOW_DECLARE_PRIM(QueueDequeue, "queue_dequeue", QueueAttrs, (Traits{false, false, false, false, true, false, true, true}))
XFLOW_DECLARE_PRIM(QueueEnqueue, "queue_enqueue", QueueAttrs, (Traits{false, false, false, false, true, false, true, true}))
// TensorFlow's CheckNumerics: its input unchanged (a view), or InvalidArgument when the input holds
// a NaN or an Inf. A check: never folded, merged or removed by the passes. Traits: {elementwise,
// commutative, inplace, differentiable, view, random, stateful, side_effect, check}.
XFLOW_DECLARE_PRIM(CheckNumerics, "check_numerics", CheckNumericsAttrs,
                   (Traits{false, false, false, true, true, false, false, false, true}))

// Sorting and scans (lib/ops/sort_scan.cpp). sort and topk have two outputs: the values and their
// int64 indices along the axis. take_along_axis and scatter_add_along_axis (NumPy's
// take_along_axis, and the adjoint that adds instead of put_along_axis's assignment) are the
// gradients' building blocks.
XFLOW_DECLARE_PRIM(CumSum, "cumsum", ScanAttrs, kPlain)
XFLOW_DECLARE_PRIM(CumProd, "cumprod", ScanAttrs, kPlain)
XFLOW_DECLARE_PRIM(Sort, "sort", SortAttrs, kPlain)
XFLOW_DECLARE_PRIM(TopK, "topk", TopKAttrs, kPlain)
XFLOW_DECLARE_PRIM(SearchSorted, "searchsorted", SearchAttrs, kNonDiff)
XFLOW_DECLARE_PRIM(TakeAlongAxis, "take_along_axis", AxisAttrs, kPlain)
XFLOW_DECLARE_PRIM(ScatterAddAlongAxis, "scatter_add_along_axis", ScatterAttrs, kPlain)

// numpy.linalg.svd(x, full_matrices) over the last two axes (lib/ops/linalg.cpp): three outputs
// U (..., m, k), S (..., k) descending, Vh (..., k, n), k = min(m, n), or with full_matrices
// U (..., m, m) and Vh (..., n, n) completed to orthonormal bases; float32/float64.
XFLOW_DECLARE_PRIM(Svd, "svd", SvdAttrs, kPlain)

#undef XFLOW_DECLARE_PRIM

// Helpers shared by infer functions.
// Broadcast output shape of the inputs, or ShapeError listing them.
Shape infer_broadcast(const Specs& in);
// "a is (2, 3) float32, b is (3,) int32"
std::string specs_str(const Specs& in, const char* const* names = nullptr);

}  // namespace xf
