// Internal: the state a variable primitive (read_variable, assign) acts on, and the table of live
// variables by id. They sit in ops with the primitives' kernels, so the ops layer is complete
// without lib/variable; the Variable class, names and collections (lib/variable) build on them.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "xflow/tensor.hpp"

namespace xf {

struct VariableState {
  int64_t id = 0;
  std::string name;
  DType dtype = DType::float32;
  Shape shape;
  bool trainable = true;
  std::mutex mu;
  Tensor value;  // immutable tensors: an assignment swaps the handle, readers keep the old one
};

// Gives `s` a fresh id and makes it findable by that id for as long as it lives.
void register_variable(const std::shared_ptr<VariableState>& s);
// The live variable with this id; NotFound when it was destroyed.
std::shared_ptr<VariableState> find_variable(int64_t id);

}  // namespace xf
