// Kernels of the variable primitives. read_variable yields the variable's current tensor (no
// copy: values are immutable, an assignment swaps the handle); assign stores a private copy of
// its input (which may live in a plan's arena) and yields it.
#include <cstring>

#include "ops/prims.hpp"
#include "variable/variable_state.hpp"

namespace xf {

namespace {
Specs var_infer(const VariableAttrs& a) { return {TensorSpec{a.dtype, a.shape}}; }
}  // namespace

Specs ReadVariable::infer(const Attrs& a, const Specs& in) {
  if (!in.empty()) infer_fail(ErrorCode::invalid_argument, "takes no inputs");
  return var_infer(a);
}

void ReadVariable::eval(const Attrs& a, const Tensors&, Tensors& out) {
  std::shared_ptr<VariableState> s = find_variable(a.var_id);
  std::lock_guard<std::mutex> lock(s->mu);
  out[0] = s->value;
}

Specs Assign::infer(const Attrs& a, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects one value");
  if (in[0].dtype != a.dtype || in[0].shape != a.shape)
    infer_fail(ErrorCode::shape, "the variable is " + shape_str(a.shape) + " " + dtype_name(a.dtype) + ": " + specs_str(in));
  return var_infer(a);
}

void Assign::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  std::shared_ptr<VariableState> s = find_variable(a.var_id);
  Tensor src = in[0].contiguous();
  Tensor copy = Tensor::empty(a.shape, a.dtype);
  if (copy.size()) std::memcpy(copy.raw_data(), src.raw_data(), static_cast<size_t>(copy.size()) * dtype_size(a.dtype));
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->value = copy;
  }
  out[0] = copy;
}

// A read has no inputs: its gradient goes to the variable (the tape collects the cotangents of
// a variable's reads). An assignment is not differentiable.
Tensors ReadVariable::vjp(const Attrs&, const VjpArgs&) { return {}; }
Tensors Assign::vjp(const Attrs&, const VjpArgs&) { return {Tensor()}; }

}  // namespace xf
