// Dead code elimination: keeps what reaches a graph output or a guard, drops the rest.
#include <algorithm>

#include "exec/passes/rewrite.hpp"
#include "xflow/passes.hpp"

namespace xf {

Graph dead_code_elimination(const Graph& g) {
  passes::Rewrite r(g, "dce");
  std::vector<char> live(g.values.size(), 0);
  for (int v : g.outputs) live[v] = 1;
  for (const GraphGuard& gd : g.guards) live[gd.value] = 1;  // a guarded value must still be computed
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const GraphNode& n = g.nodes[i];
    bool used = false;
    for (int v : n.outputs) used = used || live[v];
    // A random node is kept even when nobody reads it: it advances the generator, and the nodes
    // after it must draw from the position eager would (DESIGN.md, bitwise equality).
    // A check is kept too: it raises when its input holds a NaN or an Inf, whoever reads it.
    const Traits& tr = passes::def_of(n).traits;
    if (used || tr.random || tr.side_effect || tr.check) {
      for (int v : n.inputs) live[v] = 1;
      continue;
    }
    r.drop_node[i] = 1;
    r.record("removed", {n.id}, passes::node_name(n) + ": its outputs reach no graph output");
  }
  std::vector<int> dead;
  std::string list;
  for (const GraphValue& v : g.values)
    if (v.kind == GraphValue::Kind::constant && !live[v.id]) {
      r.drop_constant[v.id] = 1;
      dead.push_back(v.id);
      list += (list.empty() ? "" : ", ") + std::to_string(v.id) + " " + passes::value_spec(v);
    }
  if (!dead.empty())
    r.record("removed", {}, std::to_string(dead.size()) + (dead.size() == 1 ? " unused constant" : " unused constants") +
                                " (values " + list + ")");
  // The log lists nodes in execution order.
  std::reverse(r.log.begin(), r.log.end() - (dead.empty() ? 0 : 1));
  return passes::rebuild(r);
}

}  // namespace xf
