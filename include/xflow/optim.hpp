// Optimizers with TensorFlow 1's update formulas (tf.train.*Optimizer and the Apply* training
// ops): SGD, Momentum (optionally Nesterov), Adam and RMSProp (optionally centered).
//
//   xf::Adam opt(0.01);
//   xf::Tensor loss = opt.minimize([&](const std::vector<xf::Tensor>& p) {
//     return xf::mean(xf::square(xf::matmul(x, p[0]) + p[1] - y));
//   }, {w, b});
//
// Every update is written with the public ops and the Variable primitives: slots (momentum
// accumulators, Adam's m and v, ...) and the iteration count are Variables, so a traced training
// step (xf::trace of a function calling minimize or apply_gradients) replays every update, slots
// and count included, bitwise like eager. Formulas, slots and tracing: docs/optimizers.md.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "xflow/tensor.hpp"
#include "xflow/variable.hpp"

namespace xf {

class Optimizer {
 public:
  virtual ~Optimizer();

  // One update of every variable from its gradient. Each gradient must be defined, float, of
  // its variable's shape (ShapeError naming the variable) and of its dtype or one that promotes
  // to it without loss (float32 for a float64 variable; DTypeError otherwise); variables must be
  // float and appear once. Everything is checked before anything changes. Then the iteration
  // count is incremented and each variable is updated, in order, with the new count as `step`.
  // Slots and the iteration count are Variables created on first use (non-trainable), so a
  // traced training step replays their updates too.
  void apply_gradients(const std::vector<std::pair<Tensor, Variable>>& grads_and_vars, Loc loc = Loc::current());

  // Reads every variable, watches the values on a GradientTape, calls loss_fn(values), computes
  // d loss / d values and applies them; returns the loss. A variable the loss does not depend on
  // gets a zero gradient (UnconnectedGradients::zero). Works eagerly and inside xf::trace.
  // (Reading a variable again inside loss_fn also works: a read returns the same tensor as
  // `values[i]` until the variable is assigned.)
  Tensor minimize(const std::function<Tensor(const std::vector<Tensor>&)>& loss_fn, const std::vector<Variable>& vars,
                  Loc loc = Loc::current());

  // Updates applied so far (reads the iteration Variable on the host: inside a trace, a guard).
  int64_t iterations() const;

  // The slot `name` of `var` ("momentum", "m", "v", "rms", "mg"), or an undefined Variable when
  // this optimizer has not created it (as TensorFlow 1's get_slot returns None).
  Variable get_slot(const Variable& var, const std::string& name) const;
  // "SGD", "Momentum", "Adam", "RMSProp": the prefix of the slot and iteration variables' names.
  const std::string& name() const { return name_; }

 protected:
  explicit Optimizer(std::string name);

  // Updates `var` from `grad` (already checked: the variable's shape and dtype). `step` is the
  // float32 0-d iteration count of this update, 1-based.
  virtual void update(const Tensor& grad, const Variable& var, const Tensor& step /* float32 0-d, 1-based */,
                      Loc loc) = 0;

  // The slot `name` of `var`: created once per (var, name), as a non-trainable Variable
  // "<var>/<optimizer>/<name>" of the variable's shape and dtype filled with `init`.
  Variable slot(const Variable& var, const std::string& name, double init = 0);

 private:
  std::string name_;
  Variable iterations_;  // int64 0-d, created by the first apply_gradients
  std::map<std::pair<int64_t, std::string>, Variable> slots_;
};

// var -= lr * g
class SGD : public Optimizer {
 public:
  explicit SGD(double learning_rate);

 protected:
  void update(const Tensor& grad, const Variable& var, const Tensor& step, Loc loc) override;

 private:
  double lr_;
};

// accum = accum * momentum + g; var -= lr * accum
// Nesterov: var -= lr * g + lr * momentum * accum (with the new accum).
class Momentum : public Optimizer {
 public:
  Momentum(double learning_rate, double momentum, bool use_nesterov = false);

 protected:
  void update(const Tensor& grad, const Variable& var, const Tensor& step, Loc loc) override;

 private:
  double lr_, momentum_;
  bool nesterov_;
};

// lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
// m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g^2
// var -= lr_t * m / (sqrt(v) + epsilon)
class Adam : public Optimizer {
 public:
  explicit Adam(double learning_rate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8);

 protected:
  void update(const Tensor& grad, const Variable& var, const Tensor& step, Loc loc) override;

 private:
  double lr_, beta1_, beta2_, epsilon_;
};

// ms = decay * ms + (1 - decay) * g^2                       (ms starts at 1, as TensorFlow 1)
// mom = momentum * mom + lr * g / sqrt(ms + epsilon); var -= mom
// centered: mg = decay * mg + (1 - decay) * g;
//           mom = momentum * mom + lr * g / sqrt(ms - mg^2 + epsilon)
class RMSProp : public Optimizer {
 public:
  explicit RMSProp(double learning_rate = 0.001, double decay = 0.9, double momentum = 0.0, double epsilon = 1e-10,
                   bool centered = false);

 protected:
  void update(const Tensor& grad, const Variable& var, const Tensor& step, Loc loc) override;

 private:
  double lr_, decay_, momentum_, epsilon_;
  bool centered_;
};

}  // namespace xf
