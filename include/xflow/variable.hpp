// Variables: named, mutable state with a fixed dtype and shape, as in TensorFlow 1.
//
// Reading a variable (`value()`) and assigning it are primitives (`read_variable`, `assign`), so a
// trace captures a variable by reference — a replay reads its current value — and replays its
// assignments as side effects, in order.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "xflow/tensor.hpp"

namespace xf {

struct VariableState;

class Variable {
 public:
  Variable() = default;
  // A variable holding a copy of `initial`. Names are unique: a taken name gets "_1", "_2", ...
  // Every variable joins the "global_variables" collection, trainable ones also
  // "trainable_variables", and then the named `collections`.
  explicit Variable(const Tensor& initial, const std::string& name = "Variable", bool trainable = true,
                    const std::vector<std::string>& collections = {}, Loc loc = Loc::current());

  bool defined() const { return state_ != nullptr; }
  Tensor value(Loc loc = Loc::current()) const;
  // Replaces the value; `v` must have the variable's shape, and its dtype (or promote to it
  // without loss under the usual rules: an int32 tensor may be assigned to a float32 variable).
  // Returns the new value.
  Tensor assign(const Tensor& v, Loc loc = Loc::current()) const;
  Tensor assign_add(const Tensor& delta, Loc loc = Loc::current()) const;
  Tensor assign_sub(const Tensor& delta, Loc loc = Loc::current()) const;

  const std::string& name() const;
  DType dtype() const;
  const Shape& shape() const;
  bool trainable() const;
  int64_t id() const;
  const std::shared_ptr<VariableState>& state() const { return state_; }
  // A handle to existing state (collections, optimizers' slots).
  static Variable from_state(std::shared_ptr<VariableState> s) {
    Variable v;
    v.state_ = std::move(s);
    return v;
  }

 private:
  std::shared_ptr<VariableState> state_;
};

// The name scope a read of the variable named `variable` is recorded in, from the active scope:
// the variable's name nested in the active scope, the longest tail of the active scope that
// is also the head of the name said once. A layer "fc1" reading "fc1/kernel" inside scope
// "model/fc1" reads in "model/fc1/kernel"; at the root, in "fc1/kernel"; Adam's update of
// "fc1/kernel" (scope "Adam/fc1/kernel") reads its slot "fc1/kernel/Adam/m" in
// "Adam/fc1/kernel/Adam/m".
std::string variable_read_scope(const std::string& active, const std::string& variable);

// Initializers: tensors to create variables from. `seed`-less: they draw from the global
// generator (xf::manual_seed).
Tensor glorot_uniform(const Shape& shape, DType d = DType::float32, Loc loc = Loc::current());  // Xavier
Tensor glorot_normal(const Shape& shape, DType d = DType::float32, Loc loc = Loc::current());   // truncated, TF's
Tensor he_uniform(const Shape& shape, DType d = DType::float32, Loc loc = Loc::current());
Tensor he_normal(const Shape& shape, DType d = DType::float32, Loc loc = Loc::current());       // truncated, TF's

// Collections (TensorFlow 1): the live variables of a collection, in creation order.
std::vector<Variable> global_variables();
std::vector<Variable> trainable_variables();
std::vector<Variable> get_collection(const std::string& name);
void add_to_collection(const std::string& name, const Variable& v);
// The names of the collections that hold a live variable, sorted (what a meta-graph exports).
std::vector<std::string> collection_names();
// Forgets every collection and name (tests; a fresh "graph").
void reset_variables();

}  // namespace xf
