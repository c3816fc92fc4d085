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
  // The host read a tensor's values (item, to_vector, bool conversion, printing): a tracer
  // cannot replay a function whose result may depend on such a read without a guard.
  virtual void on_host_read(const Tensor& t, Loc loc) {
    (void)t;
    (void)loc;
  }
  // Whether this observer keeps the name scopes of what it sees (a graph recorder does; the tape
  // does not). Library code that only names things (gradient and variable-read scopes) skips
  // that work when no observer of the thread records names.
  virtual bool records_names() const { return false; }
  // Whether the ops this observer sees run on placeholder values whose results mean nothing (a
  // GraphBuilder): stateful kernels (queues) then leave their state alone.
  virtual bool builds_graph() const { return false; }
  // Whether this observer differentiates through t: a gradient tape that watches it, or recorded
  // it as a result computed from a watched tensor. An op whose forward pass can keep work for its
  // gradient (conv2d's patch matrix) asks before keeping it.
  virtual bool tracks(const Tensor& t) const {
    (void)t;
    return false;
  }
};

// Whether an observer of this thread builds a graph (see builds_graph).
bool graph_building();

// Whether an observer of this thread differentiates through t (see tracks).
bool gradient_tracked(const Tensor& t);

// Whether an observer of this thread records name scopes.
bool names_recorded();

// Tells every observer of this thread about a host read.
void notify_host_read(const Tensor& t, Loc loc);

// Observers are per thread: a trace or tape on one thread does not see another thread's ops.
void add_observer(DispatchObserver* o);
void remove_observer(DispatchObserver* o);
const std::vector<DispatchObserver*>& observers();

}  // namespace xf
