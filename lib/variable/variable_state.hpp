// Internal: the shared state behind a Variable, and the registry the variable primitives use.
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "xflow/variable.hpp"

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

// The live variable with this id; NotFound when it was destroyed.
std::shared_ptr<VariableState> find_variable(int64_t id);

}  // namespace xf
