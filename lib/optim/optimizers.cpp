// Optimizers: TensorFlow 1's update formulas written with the public ops, so a traced training
// step records (and replays) every read and assignment of the variables, their slots and the
// iteration count. No host reads: Adam's bias correction is computed from the iteration Variable
// with tensor ops.
#include "xflow/optim.hpp"

#include <cmath>
#include <set>

#include "xflow/grad.hpp"
#include "xflow/name_scope.hpp"
#include "xflow/ops.hpp"
#include "variable/assign_fresh.hpp"

namespace xf {

namespace {

std::string spec(const Shape& s, DType d) { return shape_str(s) + " " + dtype_name(d); }

void check_finite(const char* op, const char* what, double v, Loc loc) {
  if (!std::isfinite(v))
    raise(ErrorCode::invalid_argument, op, std::string(what) + " must be finite, got " + std::to_string(v), loc);
}
void check_range(const char* op, const char* what, double v, double lo, double hi, bool hi_open, Loc loc) {
  check_finite(op, what, v, loc);
  if (v < lo || v > hi || (hi_open && v == hi))
    raise(ErrorCode::invalid_argument, op,
          std::string(what) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + (hi_open ? ")" : "]") +
              ", got " + std::to_string(v),
          loc);
}
constexpr double kInf = HUGE_VAL;

// Values an update computes from the step alone, shared by the variables of one apply_gradients
// call (Adam's lr_t, per dtype), keyed by optimizer, step tensor and dtype; apply_gradients
// empties the list when its updates are done. Tensor ids are never reused, so a key cannot match
// a value of another call.
struct StepValue {
  const void* owner;
  uint64_t step;
  DType dtype;
  Tensor value;
};
thread_local std::vector<StepValue> t_step_values;

template <class F>
Tensor step_value(const void* owner, const Tensor& step, DType d, F&& compute) {
  for (const StepValue& s : t_step_values)
    if (s.owner == owner && s.step == step.id() && s.dtype == d) return s.value;
  Tensor v = compute();
  t_step_values.push_back(StepValue{owner, step.id(), d, v});
  return v;
}

}  // namespace

// ---- Optimizer ----

Optimizer::Optimizer(std::string name) : name_(std::move(name)) {}
Optimizer::~Optimizer() = default;

Variable Optimizer::slot(const Variable& var, const std::string& name, double init) {
  if (!var.defined()) throw InvalidArgument("[" + name_ + "] slot of an empty Variable handle");
  auto key = std::make_pair(var.id(), name);
  auto it = slots_.find(key);
  if (it != slots_.end()) return it->second;
  // The initial value is a factory result (a constant to a tracer) that only the Variable's
  // private copy reads; slots are optimizer state, not trainable weights.
  Variable s(full(var.shape(), init, var.dtype()), var.name() + "/" + name_ + "/" + name, false);
  slots_.emplace(key, s);
  return s;
}

Variable Optimizer::get_slot(const Variable& var, const std::string& name) const {
  if (!var.defined()) return Variable();
  auto it = slots_.find(std::make_pair(var.id(), name));
  return it == slots_.end() ? Variable() : it->second;
}

int64_t Optimizer::iterations() const {
  if (!iterations_.defined()) return 0;
  return iterations_.value().item<int64_t>();
}

void Optimizer::apply_gradients(const std::vector<std::pair<Tensor, Variable>>& grads_and_vars, Loc loc) {
  const char* op = "apply_gradients";
  if (grads_and_vars.empty()) raise(ErrorCode::invalid_argument, op, "no gradients and variables given", loc);
  // Check everything first: an error leaves the variables, slots and count untouched.
  std::set<int64_t> seen;
  for (size_t i = 0; i < grads_and_vars.size(); ++i) {
    const auto& [g, v] = grads_and_vars[i];
    if (!v.defined())
      raise(ErrorCode::invalid_argument, op, "variable " + std::to_string(i) + " is an empty Variable handle", loc);
    const std::string what = "variable '" + v.name() + "' (" + spec(v.shape(), v.dtype()) + ")";
    if (!seen.insert(v.id()).second) raise(ErrorCode::invalid_argument, op, what + " is given more than once", loc);
    if (!is_floating(v.dtype())) raise(ErrorCode::dtype, op, what + " is not float: only float variables train", loc);
    if (!g.defined()) raise(ErrorCode::invalid_argument, op, "the gradient of " + what + " is an empty Tensor handle", loc);
    if (g.shape() != v.shape())
      raise(ErrorCode::shape, op,
            "the gradient of " + what + " is " + spec(g.shape(), g.dtype()) + ": it must have the variable's shape", loc);
    if (!is_floating(g.dtype()) ||
        (g.dtype() != v.dtype() && (promote_types(g.dtype(), v.dtype()) != v.dtype() || strict_dtypes())))
      raise(ErrorCode::dtype, op,
            "the gradient of " + what + " is " + spec(g.shape(), g.dtype()) +
                ": it must be float, of the variable's dtype (or promote to it without loss)",
            loc);
  }
  if (!iterations_.defined()) iterations_ = Variable(Tensor(int64_t{0}), name_ + "/iterations", false);
  // Updates are named as TensorFlow names them: the count under "<optimizer>/", each
  // variable's update under "<optimizer>/<variable's name>/" (Adam/conv1/kernel/...).
  NameScope scope(name_);
  // The count of this update, 1-based, as a tensor: a trace replays the increment and the read.
  Tensor step = cast(iterations_.assign_add(Tensor(int64_t{1}), loc), DType::float32, loc);
  struct ClearStepValues {
    ~ClearStepValues() { t_step_values.clear(); }
  } clear_step_values;
  for (const auto& [g, v] : grads_and_vars) {
    NameScope var_scope(v.name());
    Tensor grad = g.dtype() == v.dtype() ? g : cast(g, v.dtype(), loc);
    update(grad, v, step, loc);
  }
}

Tensor Optimizer::minimize(const std::function<Tensor(const std::vector<Tensor>&)>& loss_fn,
                           const std::vector<Variable>& vars, Loc loc) {
  const char* op = "minimize";
  if (!loss_fn) raise(ErrorCode::invalid_argument, op, "loss_fn is empty", loc);
  if (vars.empty()) raise(ErrorCode::invalid_argument, op, "no variables given", loc);
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].defined())
      raise(ErrorCode::invalid_argument, op, "variable " + std::to_string(i) + " is an empty Variable handle", loc);
    if (!is_floating(vars[i].dtype()))
      raise(ErrorCode::dtype, op,
            "variable '" + vars[i].name() + "' (" + spec(vars[i].shape(), vars[i].dtype()) +
                ") is not float: only float variables train",
            loc);
  }
  std::vector<Tensor> values;
  values.reserve(vars.size());
  for (const Variable& v : vars) values.push_back(v.value(loc));
  Tensor loss;
  std::vector<Tensor> grads;
  {
    GradientTape tape;
    for (const Tensor& x : values) tape.watch(x, loc);
    loss = loss_fn(values);
    if (!loss.defined()) raise(ErrorCode::invalid_argument, op, "loss_fn returned an empty Tensor handle", loc);
    grads = tape.gradient(loss, values, UnconnectedGradients::zero, loc);
  }
  std::vector<std::pair<Tensor, Variable>> gv;
  gv.reserve(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) gv.emplace_back(grads[i], vars[i]);
  apply_gradients(gv, loc);
  return loss;
}

// ---- SGD ----

SGD::SGD(double learning_rate) : Optimizer("SGD"), lr_(learning_rate) {
  check_finite("SGD", "learning_rate", learning_rate, Loc());
}

void SGD::update(const Tensor& grad, const Variable& var, const Tensor&, Loc loc) {
  var.assign_sub(mul(grad, lr_, loc), loc);
}

// ---- Momentum (ApplyMomentum) ----

Momentum::Momentum(double learning_rate, double momentum, bool use_nesterov)
    : Optimizer("Momentum"), lr_(learning_rate), momentum_(momentum), nesterov_(use_nesterov) {
  check_finite("Momentum", "learning_rate", learning_rate, Loc());
  check_finite("Momentum", "momentum", momentum, Loc());
}

void Momentum::update(const Tensor& grad, const Variable& var, const Tensor&, Loc loc) {
  Variable accum = slot(var, "momentum");
  Tensor a = assign_fresh(accum, add(mul(accum.value(loc), momentum_, loc), grad, loc), loc);
  if (nesterov_)
    var.assign_sub(add(mul(grad, lr_, loc), mul(mul(a, momentum_, loc), lr_, loc), loc), loc);
  else
    var.assign_sub(mul(a, lr_, loc), loc);
}

// ---- Adam (ApplyAdam) ----

Adam::Adam(double learning_rate, double beta1, double beta2, double epsilon)
    : Optimizer("Adam"), lr_(learning_rate), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {
  check_finite("Adam", "learning_rate", learning_rate, Loc());
  check_range("Adam", "beta1", beta1, 0, 1, true, Loc());
  check_range("Adam", "beta2", beta2, 0, 1, true, Loc());
  check_range("Adam", "epsilon", epsilon, 0, kInf, false, Loc());
}

void Adam::update(const Tensor& grad, const Variable& var, const Tensor& step, Loc loc) {
  Variable m = slot(var, "m");
  Variable v = slot(var, "v");
  // beta^t in the variable's dtype, from the step tensor (no host read), and the step's learning
  // rate: computed once per dtype for all the variables of this apply_gradients.
  Tensor lr_t = step_value(this, step, var.dtype(), [&] {
    Tensor t = cast(step, var.dtype(), loc);
    Tensor beta1_t = pow(beta1_, t, loc);
    Tensor beta2_t = pow(beta2_, t, loc);
    return div(mul(lr_, sqrt(sub(1.0, beta2_t, loc), loc), loc), sub(1.0, beta1_t, loc), loc);
  });
  // m, v and var in one kernel (the formulas of ApplyAdam, each operation rounded as the
  // equivalent chain of elementwise ops would round it), then the three assignments in order.
  AdamResult r = adam_update(var.value(loc), m.value(loc), v.value(loc), grad, lr_t, beta1_, beta2_, epsilon_, loc);
  assign_fresh(m, std::move(r.m), loc);
  assign_fresh(v, std::move(r.v), loc);
  assign_fresh(var, std::move(r.var), loc);
}

// ---- RMSProp (ApplyRMSProp, ApplyCenteredRMSProp) ----

RMSProp::RMSProp(double learning_rate, double decay, double momentum, double epsilon, bool centered)
    : Optimizer("RMSProp"), lr_(learning_rate), decay_(decay), momentum_(momentum), epsilon_(epsilon),
      centered_(centered) {
  check_finite("RMSProp", "learning_rate", learning_rate, Loc());
  check_range("RMSProp", "decay", decay, 0, 1, false, Loc());
  check_finite("RMSProp", "momentum", momentum, Loc());
  check_range("RMSProp", "epsilon", epsilon, 0, kInf, false, Loc());
}

void RMSProp::update(const Tensor& grad, const Variable& var, const Tensor&, Loc loc) {
  // TensorFlow 1 starts the mean square at one (tf.train.RMSPropOptimizer's "rms" slot).
  Variable ms = slot(var, "rms", 1.0);
  Variable mom = slot(var, "momentum");
  Tensor ms_new =
      assign_fresh(ms, add(mul(ms.value(loc), decay_, loc), mul(square(grad, loc), 1.0 - decay_, loc), loc), loc);
  Tensor denom;
  if (centered_) {
    Variable mg = slot(var, "mg");
    Tensor mg_new = assign_fresh(mg, add(mul(mg.value(loc), decay_, loc), mul(grad, 1.0 - decay_, loc), loc), loc);
    denom = sqrt(add(sub(ms_new, square(mg_new, loc), loc), epsilon_, loc), loc);
  } else {
    denom = sqrt(add(ms_new, epsilon_, loc), loc);
  }
  Tensor mom_new =
      assign_fresh(mom, add(mul(mom.value(loc), momentum_, loc), div(mul(grad, lr_, loc), denom, loc), loc), loc);
  var.assign_sub(mom_new, loc);
}

}  // namespace xf
