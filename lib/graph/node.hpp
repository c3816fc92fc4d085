// Internal: typed access to graph nodes. Passes, the planner and the executor match nodes by
// primitive id and read attributes as the primitive's own Attrs struct; a name is never compared.
//
//   if (const CastAttrs* a = attrs_if<Cast>(n)) ...   // n is a cast: its attributes
//   if (is<Reshape>(n)) ...
//   const OpDef& def = def_of(n);                      // traits, infer, eval
#pragma once
#include "ops/prims.hpp"
#include "xflow/graph.hpp"

namespace xf {

// The Prim of each primitive struct, from the one list (a struct missing from it does not compile).
template <class P> struct PrimOf;
#define XFLOW_PRIM_OF(id, S) \
  template <> struct PrimOf<S> { static constexpr Prim value = Prim::id; };
XFLOW_PRIMITIVES(XFLOW_PRIM_OF)
#undef XFLOW_PRIM_OF

inline OpId op_id(Prim p) { return OpId(static_cast<int>(p)); }
inline Prim prim_of(const GraphNode& n) { return static_cast<Prim>(n.op.index()); }
inline const OpDef& def_of(const GraphNode& n) { return op_def(prim_of(n)); }

template <class P>
bool is(const GraphNode& n) {
  return n.op.index() == static_cast<int>(PrimOf<P>::value);
}

// The attributes of `n` when it runs primitive P, else null.
template <class P>
const typename P::Attrs* attrs_if(const GraphNode& n) {
  return is<P>(n) ? static_cast<const typename P::Attrs*>(n.attrs.get()) : nullptr;
}

// The attributes of `n`, which must run primitive P (Internal error otherwise).
template <class P>
const typename P::Attrs& attrs_of(const GraphNode& n) {
  if (!is<P>(n))
    throw Internal(std::string("[graph] node ") + std::to_string(n.id) + " runs " + n.op.name() + ", not " + P::name);
  return *static_cast<const typename P::Attrs*>(n.attrs.get());
}

// The variable a read_variable or assign node refers to, else null.
inline const VariableAttrs* variable_of(const GraphNode& n) {
  if (const VariableAttrs* a = attrs_if<ReadVariable>(n)) return a;
  return attrs_if<Assign>(n);
}

// The queue a queue_dequeue or queue_enqueue node refers to, else null.
inline const QueueAttrs* queue_of(const GraphNode& n) {
  if (const QueueAttrs* a = attrs_if<QueueDequeue>(n)) return a;
  return attrs_if<QueueEnqueue>(n);
}

}  // namespace xf
