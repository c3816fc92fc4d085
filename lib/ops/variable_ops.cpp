// Kernels of the variable primitives and the table of live variables they look ids up in.
// read_variable yields the variable's current tensor (no
// copy: values are immutable, an assignment swaps the handle); assign stores a private copy of
// its input (which may live in a plan's arena) and yields it. A plan that computed the value into
// a buffer nothing else reads hands that buffer over instead (assign_adopting).
#include <cstring>
#include <unordered_map>

#include "ops/prims.hpp"
#include "ops/variable_state.hpp"

namespace xf {

namespace {
struct LiveVariables {
  std::mutex mu;
  int64_t next_id = 1;
  std::unordered_map<int64_t, std::weak_ptr<VariableState>> by_id;
};
LiveVariables& live_variables() {
  static LiveVariables* r = new LiveVariables;
  return *r;
}
}  // namespace

void register_variable(const std::shared_ptr<VariableState>& s) {
  LiveVariables& r = live_variables();
  std::lock_guard<std::mutex> lock(r.mu);
  s->id = r.next_id++;
  r.by_id[s->id] = s;
}

std::shared_ptr<VariableState> find_variable(int64_t id) {
  LiveVariables& r = live_variables();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_id.find(id);
  std::shared_ptr<VariableState> s = it == r.by_id.end() ? nullptr : it->second.lock();
  if (!s) throw NotFound("variable " + std::to_string(id) + " no longer exists");
  return s;
}

namespace {
Specs var_infer(const VariableAttrs& a) { return {TensorSpec{a.dtype, a.shape}}; }

// The variable a node refers to. The id is only a handle of the process (and the moment) that
// recorded the node: a graph loaded from JSON carries the writer's ids, so a node whose id names
// another variable here (or none) is refused; binding by name (xf::train::bind_variables) fixes
// the ids first.
std::shared_ptr<VariableState> bound_variable(const VariableAttrs& a) {
  std::shared_ptr<VariableState> s;
  try {
    s = find_variable(a.var_id);
  } catch (const NotFound&) {
    if (a.name.empty()) throw;
    throw NotFound("variable '" + a.name + "' (id " + std::to_string(a.var_id) +
                   ") does not exist in this process: bind the graph's variables by name first "
                   "(xf::train::bind_variables, import_meta_graph)");
  }
  if (!a.name.empty() && s->name != a.name)
    throw FailedPrecondition("the graph's variable '" + a.name + "' has id " + std::to_string(a.var_id) +
                             ", which is variable '" + s->name +
                             "' in this process: bind the graph's variables by name first "
                             "(xf::train::bind_variables, import_meta_graph)");
  return s;
}
}  // namespace

Specs ReadVariable::infer(const Attrs& a, const Specs& in) {
  if (!in.empty()) infer_fail(ErrorCode::invalid_argument, "takes no inputs");
  return var_infer(a);
}

void ReadVariable::eval(const Attrs& a, const Tensors&, Tensors& out) {
  std::shared_ptr<VariableState> s = bound_variable(a);
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
  bound_variable(a);  // before the copy: an unbound id fails without work
  Tensor src = in[0].contiguous();
  Tensor copy = Tensor::empty(a.shape, a.dtype);
  if (copy.size()) std::memcpy(copy.raw_data(), src.raw_data(), static_cast<size_t>(copy.size()) * dtype_size(a.dtype));
  out[0] = assign_adopting(a, copy);
}

Tensor assign_adopting(const VariableAttrs& a, const Tensor& value) {
  std::shared_ptr<VariableState> s = bound_variable(a);
  if (value.dtype() != a.dtype || value.shape() != a.shape || value.offset() != 0 || !value.is_contiguous())
    throw InvalidArgument("[assign] adopting " + shape_str(value.shape()) + " " + dtype_name(value.dtype()) +
                          " (offset " + std::to_string(value.offset()) + ") for variable of " + shape_str(a.shape) +
                          " " + dtype_name(a.dtype) + ": needs a dense value of its dtype and shape");
  std::lock_guard<std::mutex> lock(s->mu);
  s->value = value;
  return value;
}

// A read has no inputs: its gradient goes to the variable (the tape collects the cotangents of
// a variable's reads). An assignment is not differentiable.
Tensors ReadVariable::vjp(const Attrs&, const VjpArgs&) { return {}; }
Tensors Assign::vjp(const Attrs&, const VjpArgs&) { return {Tensor()}; }

}  // namespace xf
