// Reverse-mode automatic differentiation: the gradient tape and the functional transforms.
//
//   xf::GradientTape tape;
//   tape.watch(w);
//   xf::Tensor loss = xf::mean(xf::square(xf::matmul(x, w) - y));
//   xf::Tensor dw = tape.gradient(loss, {w})[0];
//
// The tape records every op this thread runs while the tape is alive and touches a watched tensor
// (or a result computed from one). Gradients are computed with the public ops, so they run
// eagerly, a tracer records them, and a tape that is still recording records them too: nest two
// tapes (or use one persistent tape) for second derivatives. Conventions (ties, zeros,
// broadcasting, dtypes) are in docs/autodiff.md.
#pragma once
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "xflow/tensor.hpp"

namespace xf {

// What gradient() returns for a source the target does not depend on.
enum class UnconnectedGradients {
  zero,  // zeros of the source's shape and dtype
  none,  // raise InvalidArgument naming the source
};

// A tape belongs to the thread that made it (dispatch observers are per thread): use and destroy
// it there.
class GradientTape {
 public:
  // A non-persistent tape computes one gradient and then stops recording and frees what it kept;
  // a persistent tape computes any number (and records its own gradient computations, so it can
  // differentiate them again).
  explicit GradientTape(bool persistent = false);
  ~GradientTape();
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  // Ops on `t` (and on results computed from it) are recorded from now on. Only float tensors
  // have gradients: an integer or bool tensor is a DTypeError.
  void watch(const Tensor& t, Loc loc = Loc::current());

  // d sum(target) / d source for every source, each of the source's shape and dtype. A
  // non-scalar target is summed (the seed is ones_like(target)). Sources must be float
  // (DTypeError) and the target float (DTypeError). A second call on a non-persistent tape is
  // FailedPrecondition.
  std::vector<Tensor> gradient(const Tensor& target, const std::vector<Tensor>& sources,
                               UnconnectedGradients unconnected = UnconnectedGradients::zero,
                               Loc loc = Loc::current());

  bool persistent() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The same values (a view, no copy), but gradients do not flow through it: a tape treats the
// result as a constant. It is the primitive `stop_gradient`, so traces keep it.
Tensor stop_gradient(const Tensor& x, Loc loc = Loc::current());

// f maps tensors to a one-element tensor (a loss).
using LossFn = std::function<Tensor(const std::vector<Tensor>&)>;
using GradFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using ValueAndGradFn = std::function<std::pair<Tensor, std::vector<Tensor>>(const std::vector<Tensor>&)>;

// grad(f)(xs): d f(xs) / d xs[i] for every input, as JAX's grad. The inputs must be float; f
// must return a one-element float tensor (InvalidArgument otherwise). Nest for higher orders:
// grad([&](auto xs) { return grad(f)(xs)[0]; }).
GradFn grad(LossFn f, UnconnectedGradients unconnected = UnconnectedGradients::zero, Loc loc = Loc::current());
// value_and_grad(f)(xs): f(xs) and its gradients from one evaluation of f.
ValueAndGradFn value_and_grad(LossFn f, UnconnectedGradients unconnected = UnconnectedGradients::zero,
                              Loc loc = Loc::current());

}  // namespace xf
