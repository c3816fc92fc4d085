// The gradient slot of every primitive. Until the autodiff layer writes them (with public ops,
// so gradients run eagerly, are traced, and can be differentiated again), each raises
// Unimplemented naming its op: never a made-up gradient.
#include "ops/prims.hpp"

namespace xf {

#define XFLOW_VJP_PENDING(id, S) \
  Tensors S::vjp(const Attrs&, const VjpArgs&) { vjp_pending(S::name); }
XFLOW_PRIMITIVES(XFLOW_VJP_PENDING)
#undef XFLOW_VJP_PENDING

}  // namespace xf
