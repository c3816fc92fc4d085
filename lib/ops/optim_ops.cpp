// adam_update: TensorFlow 1's ApplyAdam step for one variable as one kernel (xf::Adam's update).
#include <cmath>

#include "core/dispatch.hpp"
#include "core/parallel.hpp"
#include "ops/prims.hpp"
#include "xflow/ops.hpp"

namespace xf {

namespace {

// Elements [b, e) of the update; restrict-qualified so the loop vectorizes (sqrt and division are
// exact in SIMD lanes too).
template <class T>
void adam_range(int64_t b, int64_t e, T b1, T c1, T b2, T c2, T eps, T lr, const T* __restrict px,
                const T* __restrict pm, const T* __restrict pv, const T* __restrict pg, T* __restrict ox,
                T* __restrict om, T* __restrict ov) {
  for (int64_t i = b; i < e; ++i) {
    const T gi = pg[i];
    const T mi = pm[i] * b1 + gi * c1;
    const T vi = pv[i] * b2 + (gi * gi) * c2;
    om[i] = mi;
    ov[i] = vi;
    ox[i] = px[i] - (lr * mi) / (std::sqrt(vi) + eps);
  }
}

}  // namespace

Specs AdamUpdate::infer(const Attrs& a, const Specs& in) {
  static const char* const names[] = {"var", "m", "v", "grad", "lr_t"};
  if (in.size() != 5) infer_fail(ErrorCode::invalid_argument, "expects var, m, v, grad and lr_t");
  if (!is_floating(in[0].dtype))
    infer_fail(ErrorCode::dtype, "var must be float: " + specs_str(in, names));
  for (size_t i = 1; i < 5; ++i)
    if (in[i].dtype != in[0].dtype)
      infer_fail(ErrorCode::dtype, std::string(names[i]) + " must have var's dtype: " + specs_str(in, names));
  for (size_t i = 1; i < 4; ++i)
    if (in[i].shape != in[0].shape)
      infer_fail(ErrorCode::shape, std::string(names[i]) + " must have var's shape: " + specs_str(in, names));
  if (!in[4].shape.empty()) infer_fail(ErrorCode::shape, "lr_t must be a scalar (shape ()): " + specs_str(in, names));
  auto in_unit = [](double b) { return std::isfinite(b) && b >= 0 && b < 1; };
  if (!in_unit(a.beta1) || !in_unit(a.beta2))
    infer_fail(ErrorCode::invalid_argument, "beta1 and beta2 must be in [0, 1), got " + std::to_string(a.beta1) +
                                                ", " + std::to_string(a.beta2) + ": " + specs_str(in, names));
  if (!std::isfinite(a.epsilon) || a.epsilon < 0)
    infer_fail(ErrorCode::invalid_argument,
               "epsilon must be finite and >= 0, got " + std::to_string(a.epsilon) + ": " + specs_str(in, names));
  return {in[0], in[0], in[0]};
}

// The op chain xf::Adam ran before (mul, add, square, sqrt, div, sub with its scalars rounded to
// the variable's dtype), element by element in the same order: the same bits (no contraction,
// -ffp-contract=off), with one pass over the five inputs instead of eleven.
void AdamUpdate::eval(const Attrs& a, const Tensors& in, Tensors& out) {
  Tensor var = in[0].contiguous(), m = in[1].contiguous(), v = in[2].contiguous(), g = in[3].contiguous();
  detail::visit_dtype(var.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T b1 = static_cast<T>(a.beta1), c1 = static_cast<T>(1.0 - a.beta1);
      const T b2 = static_cast<T>(a.beta2), c2 = static_cast<T>(1.0 - a.beta2);
      // The kernel's own read of an input (item() would tell a tracer the host read a value).
      const T eps = static_cast<T>(a.epsilon), lr = *in[4].contiguous().data<T>();
      const T* px = var.data<T>();
      const T* pm = m.data<T>();
      const T* pv = v.data<T>();
      const T* pg = g.data<T>();
      T* ox = out[0].data<T>();
      T* om = out[1].data<T>();
      T* ov = out[2].data<T>();
      detail::parallel_for(var.size(), 1 << 14, [&](int64_t b, int64_t e) {
        adam_range<T>(b, e, b1, c1, b2, c2, eps, lr, px, pm, pv, pg, ox, om, ov);
      });
    }
  });
}

namespace {
void check_defined(const char* op, std::initializer_list<const Tensor*> ts, Loc loc) {
  for (const Tensor* t : ts)
    if (!t->defined()) raise(ErrorCode::invalid_argument, op, "an input is an empty Tensor handle", loc);
}
}  // namespace

AdamResult adam_update(const Tensor& var, const Tensor& m, const Tensor& v, const Tensor& grad, const Tensor& lr_t,
                       double beta1, double beta2, double epsilon, Loc loc) {
  check_defined("adam_update", {&var, &m, &v, &grad, &lr_t}, loc);
  Tensors r = apply(Prim::adam_update, make_attrs(AdamAttrs{beta1, beta2, epsilon}), {var, m, v, grad, lr_t}, loc);
  return AdamResult{r[0], r[1], r[2]};
}

}  // namespace xf
