// add_check_numerics_ops: a check after every float value a graph computes or takes.
#include "exec/passes/rewrite.hpp"
#include "ops/prims.hpp"
#include "xflow/passes.hpp"

namespace xf {

Graph add_check_numerics_ops(const Graph& g) {
  g.validate();
  Graph out;
  std::vector<int> map(g.values.size(), -1);  // old value -> the (checked) value readers use
  int added = 0;
  auto check = [&](int v, const std::string& name, const std::string& message, const std::string& file, int line) {
    const GraphValue& val = out.values[static_cast<size_t>(v)];
    if (!is_floating(val.dtype)) return v;
    int node = out.add_node(op_id(Prim::check_numerics), make_attrs(CheckNumericsAttrs{message}), {v},
                            {{val.dtype, val.shape}}, name + "/check_numerics", file, line);
    ++added;
    return out.nodes[static_cast<size_t>(node)].outputs[0];
  };
  // Placeholders and constants first, in their old order (ids stay ordered: inputs before nodes).
  std::vector<int> raw(g.values.size(), -1);
  for (const GraphValue& v : g.values) {
    if (v.kind == GraphValue::Kind::placeholder) raw[v.id] = out.add_placeholder(v.dtype, v.shape, v.name);
    else if (v.kind == GraphValue::Kind::constant) raw[v.id] = map[v.id] = out.add_constant(v.constant);
  }
  for (int id : g.inputs) {
    const GraphValue& v = g.values[static_cast<size_t>(id)];
    map[id] = check(raw[id], v.name, v.name + ":0", "", 0);
  }
  for (const GraphNode& n : g.nodes) {
    std::vector<int> ins;
    for (int v : n.inputs) ins.push_back(map[v]);
    std::vector<std::pair<DType, Shape>> specs;
    for (int v : n.outputs) specs.emplace_back(g.values[v].dtype, g.values[v].shape);
    int id = out.add_node(n.op, n.attrs, std::move(ins), specs, n.scope, n.file, n.line);
    const GraphNode& nn = out.nodes[static_cast<size_t>(id)];
    std::vector<int> outs = nn.outputs;
    const bool is_check = def_of(n).traits.check;
    std::string name = passes::node_name(n);
    for (size_t k = 0; k < outs.size(); ++k)
      map[n.outputs[k]] = is_check ? outs[k] : check(outs[k], name, name + ":" + std::to_string(k), n.file, n.line);
  }
  for (int v : g.outputs) out.outputs.push_back(map[v]);
  for (const GraphGuard& gd : g.guards) {
    GraphGuard ng = gd;
    ng.value = map[gd.value];
    out.guards.push_back(std::move(ng));
  }
  out.provenance = g.provenance;
  out.provenance.push_back(GraphProvenance{"check_numerics", "added", {},
                                           std::to_string(added) + " check_numerics nodes, one per float value"});
  out.validate();
  return out;
}

}  // namespace xf
