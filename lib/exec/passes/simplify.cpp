// Algebraic simplification: only rewrites that are exact in IEEE arithmetic (docs/passes.md).
#include <cmath>
#include <type_traits>

#include "core/dispatch.hpp"
#include "exec/passes/rewrite.hpp"
#include "xflow/passes.hpp"

namespace xf {

namespace {

enum class Elem { one, zero, pos_zero, neg_zero };

// Whether every element of `t` is exactly `want` (for floats, the zeros' signs count).
bool all_elements(const Tensor& t, Elem want) {
  Tensor c = t.contiguous();
  bool ok = true;
  detail::visit_dtype(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c.data<T>();
    for (int64_t i = 0; ok && i < c.size(); ++i) {
      T x = p[i];
      bool negative_zero = false;
      if constexpr (std::is_floating_point_v<T>) negative_zero = x == T(0) && std::signbit(x);
      switch (want) {
        case Elem::one: ok = x == T(1); break;
        case Elem::zero: ok = x == T(0); break;
        case Elem::pos_zero: ok = x == T(0) && !negative_zero; break;
        case Elem::neg_zero: ok = negative_zero; break;
      }
    }
  });
  return ok;
}

std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

}  // namespace

Graph simplify(const Graph& g) {
  passes::Rewrite r(g, "simplify");
  auto val = [&](int v) -> const GraphValue& { return g.values[v]; };
  // The node making value v (already simplified: nodes are visited in order), or null.
  auto producer = [&](int v) -> const GraphNode* {
    const GraphValue& gv = g.values[v];
    return gv.kind == GraphValue::Kind::node_output ? &r.nodes[gv.producer] : nullptr;
  };
  for (GraphNode& n : r.nodes) {
    for (int& v : n.inputs) v = r.resolve(v);
    if (n.outputs.size() != 1) continue;
    const int o = n.outputs[0];
    const std::string name = passes::node_name(n);
    auto rewrite_to = [&](int x, const std::string& what, std::vector<int> ids) {
      r.replace(o, x);
      r.drop_node[n.id] = 1;
      r.record("simplified", std::move(ids), name + ": " + what);
    };
    // x can stand for the result only if the other operand did not broadcast it or change its dtype.
    auto stands_for_result = [&](int x) { return val(x).dtype == val(o).dtype && val(x).shape == val(o).shape; };
    auto constant_is = [&](int v, Elem want) { return r.is_constant(v) && all_elements(r.constant(v), want); };

    if (is<Mul>(n) || is<Div>(n) || is<Sub>(n) || is<Add>(n)) {
      const int a = n.inputs[0], b = n.inputs[1];
      const bool fp = is_floating(val(o).dtype);
      if (is<Mul>(n)) {
        if (constant_is(b, Elem::one) && stands_for_result(a)) rewrite_to(a, "x*1 -> x", {n.id});
        else if (constant_is(a, Elem::one) && stands_for_result(b)) rewrite_to(b, "1*x -> x", {n.id});
      } else if (is<Div>(n)) {
        if (constant_is(b, Elem::one) && stands_for_result(a)) rewrite_to(a, "x/1 -> x", {n.id});
      } else if (is<Sub>(n)) {
        // x - (+0.0) is x for every x (-0.0 - +0.0 = -0.0); x - (-0.0) is x + 0.0, which is not.
        if (constant_is(b, fp ? Elem::pos_zero : Elem::zero) && stands_for_result(a))
          rewrite_to(a, fp ? "x-0.0 -> x" : "x-0 -> x", {n.id});
      } else if (fp) {
        // x + (-0.0) is x for every x; x + 0.0 is not (-0.0 + 0.0 = +0.0).
        if (constant_is(b, Elem::neg_zero) && stands_for_result(a)) rewrite_to(a, "x+(-0.0) -> x", {n.id});
        else if (constant_is(a, Elem::neg_zero) && stands_for_result(b)) rewrite_to(b, "(-0.0)+x -> x", {n.id});
      } else {
        // Integers have one zero: x + 0 is x.
        if (constant_is(b, Elem::zero) && stands_for_result(a)) rewrite_to(a, "x+0 -> x (integer)", {n.id});
        else if (constant_is(a, Elem::zero) && stands_for_result(b)) rewrite_to(b, "0+x -> x (integer)", {n.id});
      }
    } else if (is<Neg>(n)) {
      // Negation flips the sign bit (wraps around for integers): twice is the identity, NaNs included.
      const GraphNode* p = producer(n.inputs[0]);
      if (p && is<Neg>(*p)) rewrite_to(p->inputs[0], "neg(neg(x)) -> x", {p->id, n.id});
    } else if (is<Permute>(n)) {
      const auto perm = attrs_of<Permute>(n).perm;
      auto identity = [](const std::vector<int64_t>& q) {
        for (size_t i = 0; i < q.size(); ++i)
          if (q[i] != static_cast<int64_t>(i)) return false;
        return true;
      };
      const GraphNode* p = producer(n.inputs[0]);
      if (identity(perm)) {
        rewrite_to(n.inputs[0], "permute(x, identity) -> x", {n.id});
      } else if (p && is<Permute>(*p)) {
        // permute(permute(x, p1), p2) takes axis p1[p2[i]] of x to axis i.
        const auto& first = attrs_of<Permute>(*p).perm;
        std::vector<int64_t> q(perm.size());
        for (size_t i = 0; i < perm.size(); ++i) q[i] = first[static_cast<size_t>(perm[i])];
        std::string what = "permute(permute(x, " + ints_str(first) + "), " + ints_str(perm) + ")";
        if (identity(q)) {
          rewrite_to(p->inputs[0], what + " -> x", {p->id, n.id});
        } else {
          const int x = p->inputs[0];
          const int pid = p->id;
          n.inputs[0] = x;
          n.attrs = make_attrs(PermuteAttrs{q});
          r.record("simplified", {pid, n.id}, name + ": " + what + " -> permute(x, " + ints_str(q) + ")");
        }
      }
    } else if (is<Reshape>(n)) {
      const auto& shape = attrs_of<Reshape>(n).shape;
      const GraphNode* p = producer(n.inputs[0]);
      // A reshape reads its input in row-major order, so the inner reshape adds nothing.
      const bool collapse = p && is<Reshape>(*p);
      std::vector<int> ids = collapse ? std::vector<int>{p->id, n.id} : std::vector<int>{n.id};
      if (collapse) n.inputs[0] = p->inputs[0];
      if (val(n.inputs[0]).shape == shape)
        rewrite_to(n.inputs[0], collapse ? "reshape(reshape(x)) -> x" : "reshape to the same shape -> x", ids);
      else if (collapse)
        r.record("simplified", ids, name + ": reshape(reshape(x)) -> reshape(x, " + shape_str(shape) + ")");
    } else if (const ShapeAttrs* b = attrs_if<BroadcastTo>(n)) {
      if (val(n.inputs[0]).shape == b->shape)
        rewrite_to(n.inputs[0], "broadcast_to the same shape -> x", {n.id});
    } else if (const CastAttrs* c = attrs_if<Cast>(n)) {
      if (val(n.inputs[0]).dtype == c->dtype)
        rewrite_to(n.inputs[0], "cast to the same dtype -> x", {n.id});
    }
  }
  return passes::rebuild(r);
}

}  // namespace xf
