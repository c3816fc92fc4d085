// The gradient tape: a dispatch observer that records the differentiable ops touching watched
// tensors, and runs their vjps backwards. grad/value_and_grad and stop_gradient.
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/observer.hpp"
#include "ops/prims.hpp"
#include "xflow/grad.hpp"
#include "xflow/name_scope.hpp"
#include "xflow/ops.hpp"

namespace xf {

namespace {

std::string spec_of(const Tensor& t) { return spec_str({t.dtype(), t.shape()}); }

struct Entry {
  Prim op;
  AttrsPtr attrs;
  Tensors inputs;
  Tensors outputs;
  std::string scope;  // the name scope the forward op ran in ("conv1", "" at the root)
};

// Gradient ops are named as TensorFlow names them: the backward of an op recorded in scope
// "conv1" runs in "gradients/conv1", whatever scope the backward pass itself runs in.
std::string gradient_scope(const std::string& forward_scope) {
  return forward_scope.empty() ? "gradients" : "gradients/" + forward_scope;
}

}  // namespace

struct GradientTape::State : DispatchObserver {
  bool persistent = false;
  bool observing = false;   // registered with the dispatch hook
  bool recording = true;    // false while a non-persistent tape computes its gradient
  bool used = false;        // gradient() was called
  std::unordered_set<uint64_t> tracked;  // watched tensors and the float results computed from them
  std::vector<Entry> entries;            // in execution order

  void on_apply(const ApplyEvent& e) override {
    if (!recording || tracked.empty()) return;
    Prim p = static_cast<Prim>(e.op);
    // Ops that are not differentiable (comparisons, argmax, random, stop_gradient) are constants
    // to the tape: their results are not tracked, so gradients stop there.
    if (!op_def(p).traits.differentiable) return;
    bool touches = false;
    for (const Tensor& t : e.inputs)
      if (tracked.count(t.id())) {
        touches = true;
        break;
      }
    if (!touches) return;
    entries.push_back(Entry{p, e.attrs, e.inputs, e.outputs, current_name_scope()});
    for (const Tensor& t : e.outputs)
      if (is_floating(t.dtype())) tracked.insert(t.id());
  }

  bool tracks(const Tensor& t) const override { return recording && tracked.count(t.id()) != 0; }

  void stop_observing() {
    if (observing) remove_observer(this);
    observing = false;
  }
};

GradientTape::GradientTape(bool persistent) : state_(std::make_unique<State>()) {
  state_->persistent = persistent;
  add_observer(state_.get());
  state_->observing = true;
}

GradientTape::~GradientTape() { state_->stop_observing(); }

bool GradientTape::persistent() const { return state_->persistent; }

void GradientTape::watch(const Tensor& t, Loc loc) {
  if (!t.defined()) raise(ErrorCode::invalid_argument, "watch", "the tensor is an empty Tensor handle", loc);
  if (!is_floating(t.dtype()))
    raise(ErrorCode::dtype, "watch", "only float tensors have gradients: the tensor is " + spec_of(t), loc);
  if (state_->used && !state_->persistent)
    raise(ErrorCode::failed_precondition, "watch", "this non-persistent tape has computed its gradient already", loc);
  state_->tracked.insert(t.id());
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Tensor>& sources,
                                           UnconnectedGradients unconnected, Loc loc) {
  State& s = *state_;
  if (s.used && !s.persistent)
    raise(ErrorCode::failed_precondition, "gradient",
          "a non-persistent GradientTape computes one gradient; make it persistent to call gradient again", loc);
  if (!target.defined()) raise(ErrorCode::invalid_argument, "gradient", "the target is an empty Tensor handle", loc);
  if (!is_floating(target.dtype()))
    raise(ErrorCode::dtype, "gradient", "only float tensors have gradients: the target is " + spec_of(target), loc);
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].defined())
      raise(ErrorCode::invalid_argument, "gradient", "source " + std::to_string(i) + " is an empty Tensor handle", loc);
    if (!is_floating(sources[i].dtype()))
      raise(ErrorCode::dtype, "gradient",
            "only float tensors have gradients: source " + std::to_string(i) + " is " + spec_of(sources[i]), loc);
  }
  s.used = true;

  // A non-persistent tape is done: it stops recording (outer tapes still record the gradient
  // computation) and hands its entries to this call. A persistent tape keeps recording, its own
  // gradient ops included, and reads only the entries that exist now.
  std::vector<Entry> own;
  const std::vector<Entry>* entries = &s.entries;
  std::unordered_set<uint64_t> own_tracked;
  const std::unordered_set<uint64_t>* tracked = &s.tracked;
  if (!s.persistent) {
    s.stop_observing();
    s.recording = false;
    own.swap(s.entries);
    own_tracked.swap(s.tracked);
    entries = &own;
    tracked = &own_tracked;
  }
  size_t n = entries->size();

  // The entries on a path from a source: only their inputs receive gradients. Gradients flow to
  // tracked tensors only (watched, or computed from watched ones): an unwatched constant that
  // meets a watched tensor in an op stays unconnected.
  std::unordered_set<uint64_t> reach, wanted;
  for (const Tensor& t : sources) {
    if (tracked->count(t.id())) reach.insert(t.id());
    wanted.insert(t.id());
  }
  std::vector<char> needed(n, 0);
  for (size_t k = 0; k < n; ++k) {
    const Entry& e = (*entries)[k];
    for (const Tensor& t : e.inputs)
      if (reach.count(t.id())) {
        needed[k] = 1;
        break;
      }
    if (needed[k])
      for (const Tensor& t : e.outputs) reach.insert(t.id());
  }

  std::unordered_map<uint64_t, Tensor> grads;
  // Gradient names matter only to a recorder (a traced or built training step).
  const bool named = names_recorded();
  {
    std::optional<AbsoluteNameScope> scope;
    if (named) scope.emplace(gradient_scope(""));
    grads[target.id()] = ones_like(target);
  }
  for (size_t k = n; k-- > 0;) {
    if (!needed[k]) continue;
    // A persistent tape may append to its entries meanwhile (moving them): it reads a copy. A
    // non-persistent tape's entries are this call's own.
    std::optional<Entry> copy;
    if (entries != &own) copy.emplace((*entries)[k]);
    const Entry& e = copy ? *copy : own[k];
    Tensors cts(e.outputs.size());
    bool any = false;
    for (size_t j = 0; j < e.outputs.size(); ++j) {
      auto it = grads.find(e.outputs[j].id());
      if (it == grads.end()) continue;
      // The gradient of an output nobody asked for is erased below: move it out.
      if (wanted.count(e.outputs[j].id())) cts[j] = it->second;
      else cts[j] = std::move(it->second);
      any = true;
    }
    if (!any) continue;
    // The vjp, the zeros of missing cotangents and the sums of gradients reaching one tensor
    // along several paths are all named after the forward op's scope.
    std::optional<AbsoluteNameScope> scope;
    if (named) scope.emplace(gradient_scope(e.scope));
    for (size_t j = 0; j < e.outputs.size(); ++j)
      if (!cts[j].defined()) cts[j] = zeros_like(e.outputs[j]);
    // Later entries were processed first, so the outputs' gradients are complete: free them.
    for (const Tensor& t : e.outputs)
      if (!wanted.count(t.id())) grads.erase(t.id());
    const OpDef& def = op_def(e.op);
    std::vector<char> wants(e.inputs.size());
    for (size_t i = 0; i < e.inputs.size(); ++i)
      wants[i] = reach.count(e.inputs[i].id()) && is_floating(e.inputs[i].dtype());
    Tensors res = def.vjp(e.attrs.get(), VjpArgs{e.inputs, e.outputs, cts, &wants});
    if (res.size() != e.inputs.size())
      throw Internal("[" + std::string(def.name) + "] vjp returned " + std::to_string(res.size()) +
                     " gradients for " + std::to_string(e.inputs.size()) + " inputs");
    for (size_t i = 0; i < res.size(); ++i) {
      const Tensor& in = e.inputs[i];
      if (!res[i].defined() || !reach.count(in.id()) || !is_floating(in.dtype())) continue;
      if (res[i].shape() != in.shape() || res[i].dtype() != in.dtype())
        throw Internal("[" + std::string(def.name) + "] the gradient of input " + std::to_string(i) + " is " +
                       spec_of(res[i]) + " but the input is " + spec_of(in));
      auto it = grads.find(in.id());
      if (it == grads.end()) grads.emplace(in.id(), std::move(res[i]));
      else it->second = add(it->second, res[i]);
    }
  }

  std::vector<Tensor> out;
  for (size_t i = 0; i < sources.size(); ++i) {
    auto it = grads.find(sources[i].id());
    if (it != grads.end()) {
      out.push_back(it->second);
    } else if (unconnected == UnconnectedGradients::zero) {
      std::optional<AbsoluteNameScope> scope;
      if (named) scope.emplace(gradient_scope(""));
      out.push_back(zeros_like(sources[i]));
    } else {
      raise(ErrorCode::invalid_argument, "gradient",
            "source " + std::to_string(i) + " (" + spec_of(sources[i]) +
                ") is not connected to the target: it was not watched, or the target does not depend on it",
            loc);
    }
  }
  return out;
}

Tensor stop_gradient(const Tensor& x, Loc loc) {
  if (!x.defined()) raise(ErrorCode::invalid_argument, "stop_gradient", "x is an empty Tensor handle", loc);
  return apply1(Prim::stop_gradient, {x}, loc);
}

namespace {

std::pair<Tensor, std::vector<Tensor>> eval_with_gradients(const char* op, const LossFn& f,
                                                          const std::vector<Tensor>& xs,
                                                          UnconnectedGradients unconnected, Loc loc) {
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].defined())
      raise(ErrorCode::invalid_argument, op, "input " + std::to_string(i) + " is an empty Tensor handle", loc);
    if (!is_floating(xs[i].dtype()))
      raise(ErrorCode::dtype, op, "only float tensors have gradients: input " + std::to_string(i) + " is " +
                                      spec_of(xs[i]), loc);
  }
  GradientTape tape;
  for (const Tensor& x : xs) tape.watch(x, loc);
  Tensor y = f(xs);
  if (!y.defined()) raise(ErrorCode::invalid_argument, op, "f returned an empty Tensor handle", loc);
  if (y.size() != 1)
    raise(ErrorCode::invalid_argument, op, "f must return a one-element tensor, got " + spec_of(y), loc);
  if (!is_floating(y.dtype()))
    raise(ErrorCode::dtype, op, "only float tensors have gradients: f returned " + spec_of(y), loc);
  std::vector<Tensor> g = tape.gradient(y, xs, unconnected, loc);
  return {y, std::move(g)};
}

}  // namespace

GradFn grad(LossFn f, UnconnectedGradients unconnected, Loc loc) {
  return [f = std::move(f), unconnected, loc](const std::vector<Tensor>& xs) {
    return eval_with_gradients("grad", f, xs, unconnected, loc).second;
  };
}

ValueAndGradFn value_and_grad(LossFn f, UnconnectedGradients unconnected, Loc loc) {
  return [f = std::move(f), unconnected, loc](const std::vector<Tensor>& xs) {
    return eval_with_gradients("value_and_grad", f, xs, unconnected, loc);
  };
}

}  // namespace xf
