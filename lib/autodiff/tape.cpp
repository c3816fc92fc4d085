// The gradient tape: a dispatch observer that records the differentiable ops touching watched
// tensors, and runs their vjps backwards. grad/value_and_grad and stop_gradient.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

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

// Tensor ids (never 0) numbered by dense slots 0, 1, 2, ... in order of insertion: open addressing
// with linear probing in two arrays, so the tape's per-op lookups and insertions allocate nothing
// but an occasional doubling (docs/decisions.md, 161).
class IdSlots {
 public:
  // The slot of `id`, or -1.
  int32_t find(uint64_t id) const {
    if (count_ == 0) return -1;
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      if (keys_[i] == id) return slots_[i];
      if (keys_[i] == 0) return -1;
    }
  }
  bool contains(uint64_t id) const { return find(id) >= 0; }
  // The slot of `id`; a new id takes the next one.
  int32_t insert(uint64_t id) {
    if ((count_ + 1) * 2 > keys_.size()) grow();
    for (size_t i = home(id);; i = (i + 1) & mask_) {
      if (keys_[i] == id) return slots_[i];
      if (keys_[i] == 0) {
        keys_[i] = id;
        slots_[i] = static_cast<int32_t>(count_);
        return static_cast<int32_t>(count_++);
      }
    }
  }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  void swap(IdSlots& o) noexcept {
    keys_.swap(o.keys_);
    slots_.swap(o.slots_);
    std::swap(count_, o.count_);
    std::swap(mask_, o.mask_);
    std::swap(shift_, o.shift_);
  }

 private:
  // Fibonacci hashing: ids are consecutive integers, the multiply spreads them over the table.
  size_t home(uint64_t id) const { return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> shift_); }
  void grow() {
    std::vector<uint64_t> keys;
    std::vector<int32_t> slots;
    keys.swap(keys_);
    slots.swap(slots_);
    size_t cap = keys.empty() ? 32 : keys.size() * 2;
    keys_.assign(cap, 0);
    slots_.assign(cap, -1);
    mask_ = cap - 1;
    shift_ = 64;
    for (size_t c = cap; c > 1; c >>= 1) --shift_;
    for (size_t j = 0; j < keys.size(); ++j) {
      if (keys[j] == 0) continue;
      size_t i = home(keys[j]);
      while (keys_[i] != 0) i = (i + 1) & mask_;
      keys_[i] = keys[j];
      slots_[i] = slots[j];
    }
  }

  std::vector<uint64_t> keys_;  // 0: empty
  std::vector<int32_t> slots_;
  size_t count_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace

struct GradientTape::State : DispatchObserver {
  bool persistent = false;
  bool observing = false;   // registered with the dispatch hook
  bool recording = true;    // false while a non-persistent tape computes its gradient
  bool used = false;        // gradient() was called
  IdSlots tracked;                       // watched tensors and the float results computed from them
  std::vector<Entry> entries;            // in execution order

  void on_apply(const ApplyEvent& e) override {
    if (!recording || tracked.empty()) return;
    Prim p = static_cast<Prim>(e.op);
    // Ops that are not differentiable (comparisons, argmax, random, stop_gradient) are constants
    // to the tape: their results are not tracked, so gradients stop there.
    if (!op_def(p).traits.differentiable) return;
    bool touches = false;
    for (const Tensor& t : e.inputs)
      if (tracked.contains(t.id())) {
        touches = true;
        break;
      }
    if (!touches) return;
    entries.push_back(Entry{p, e.attrs, e.inputs, e.outputs, current_name_scope()});
    for (const Tensor& t : e.outputs)
      if (is_floating(t.dtype())) tracked.insert(t.id());
  }

  bool tracks(const Tensor& t) const override { return recording && tracked.contains(t.id()); }

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
  IdSlots own_tracked;
  const IdSlots* tracked = &s.tracked;
  if (!s.persistent) {
    s.stop_observing();
    s.recording = false;
    own.swap(s.entries);
    own_tracked.swap(s.tracked);
    entries = &own;
    tracked = &own_tracked;
  }
  size_t n = entries->size();

  // This call's tensors (the target, the sources and what is reached from them) get slots of
  // their own: whether they are reached, wanted, and their gradient so far, in arrays.
  IdSlots ids;
  std::vector<char> reach, wanted;
  std::vector<Tensor> grads;
  reach.reserve(2 * n + sources.size() + 1);
  wanted.reserve(reach.capacity());
  grads.reserve(reach.capacity());
  auto slot = [&](uint64_t id) {
    auto k = static_cast<size_t>(ids.insert(id));
    if (k == reach.size()) {
      reach.push_back(0);
      wanted.push_back(0);
      grads.emplace_back();
    }
    return k;
  };
  auto reached = [&](uint64_t id) {
    int32_t k = ids.find(id);
    return k >= 0 && reach[static_cast<size_t>(k)];
  };

  // The entries on a path from a source: only their inputs receive gradients. Gradients flow to
  // tracked tensors only (watched, or computed from watched ones): an unwatched constant that
  // meets a watched tensor in an op stays unconnected.
  for (const Tensor& t : sources) {
    size_t k = slot(t.id());
    if (tracked->contains(t.id())) reach[k] = 1;
    wanted[k] = 1;
  }
  std::vector<char> needed(n, 0);
  for (size_t k = 0; k < n; ++k) {
    const Entry& e = (*entries)[k];
    for (const Tensor& t : e.inputs)
      if (reached(t.id())) {
        needed[k] = 1;
        break;
      }
    if (needed[k])
      for (const Tensor& t : e.outputs) reach[slot(t.id())] = 1;
  }

  // Gradient names matter only to a recorder (a traced or built training step).
  const bool named = names_recorded();
  {
    std::optional<AbsoluteNameScope> scope;
    if (named) scope.emplace(gradient_scope(""));
    grads[slot(target.id())] = ones_like(target);
  }
  Tensors cts;
  std::vector<char> wants;
  for (size_t k = n; k-- > 0;) {
    if (!needed[k]) continue;
    // A persistent tape may append to its entries meanwhile (moving them): it reads a copy. A
    // non-persistent tape's entries are this call's own.
    std::optional<Entry> copy;
    if (entries != &own) copy.emplace((*entries)[k]);
    const Entry& e = copy ? *copy : own[k];
    cts.assign(e.outputs.size(), Tensor());
    bool any = false;
    for (size_t j = 0; j < e.outputs.size(); ++j) {
      int32_t o = ids.find(e.outputs[j].id());
      if (o < 0 || !grads[static_cast<size_t>(o)].defined()) continue;
      // The gradient of an output nobody asked for is freed below: move it out.
      if (wanted[static_cast<size_t>(o)]) cts[j] = grads[static_cast<size_t>(o)];
      else cts[j] = std::move(grads[static_cast<size_t>(o)]);
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
    for (const Tensor& t : e.outputs) {
      int32_t o = ids.find(t.id());
      if (o >= 0 && !wanted[static_cast<size_t>(o)]) grads[static_cast<size_t>(o)] = Tensor();
    }
    const OpDef& def = op_def(e.op);
    wants.assign(e.inputs.size(), 0);
    for (size_t i = 0; i < e.inputs.size(); ++i)
      wants[i] = reached(e.inputs[i].id()) && is_floating(e.inputs[i].dtype());
    Tensors res = def.vjp(e.attrs.get(), VjpArgs{e.inputs, e.outputs, cts, &wants});
    if (res.size() != e.inputs.size())
      throw Internal("[" + std::string(def.name) + "] vjp returned " + std::to_string(res.size()) +
                     " gradients for " + std::to_string(e.inputs.size()) + " inputs");
    for (size_t i = 0; i < res.size(); ++i) {
      const Tensor& in = e.inputs[i];
      if (!res[i].defined() || !wants[i]) continue;
      if (res[i].shape() != in.shape() || res[i].dtype() != in.dtype())
        throw Internal("[" + std::string(def.name) + "] the gradient of input " + std::to_string(i) + " is " +
                       spec_of(res[i]) + " but the input is " + spec_of(in));
      Tensor& acc = grads[static_cast<size_t>(ids.find(in.id()))];
      if (!acc.defined()) acc = std::move(res[i]);
      else acc = add(acc, res[i]);
    }
  }

  std::vector<Tensor> out;
  for (size_t i = 0; i < sources.size(); ++i) {
    const Tensor& g = grads[static_cast<size_t>(ids.find(sources[i].id()))];
    if (g.defined()) {
      out.push_back(g);
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
