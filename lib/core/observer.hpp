// Internal: the dispatch hook. apply() notifies every registered observer after an op ran;
// the tape (autodiff) and the tracer register themselves here, so apply() knows neither.
#pragma once
#include <memory>
#include <vector>

#include "xflow/tensor.hpp"

namespace xf {

struct ApplyEvent {
  int op;                              // primitive id
  const std::shared_ptr<const void>& attrs;
  const std::vector<Tensor>& inputs;
  const std::vector<Tensor>& outputs;
  Loc loc;
};

class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;
  virtual void on_apply(const ApplyEvent& e) = 0;
};

// Observers are per thread: a trace or tape on one thread does not see another thread's ops.
void add_observer(DispatchObserver* o);
void remove_observer(DispatchObserver* o);
const std::vector<DispatchObserver*>& observers();

}  // namespace xf
