// Constant folding: a node that reads only constants runs once, now, and becomes a constant.
#include "exec/passes/rewrite.hpp"
#include "graph/eval.hpp"
#include "xflow/passes.hpp"

namespace xf {

Graph constant_folding(const Graph& g) {
  passes::Rewrite r(g, "fold");
  for (const GraphNode& n : r.nodes) {
    const OpDef& def = passes::def_of(n);
    if (def.traits.random) continue;  // random nodes draw fresh numbers on every run
    if (def.traits.stateful) continue;  // a variable's value belongs to the run
    if (def.traits.check) continue;     // a check raises when the graph runs, as eager would
    bool all_constant = true;
    for (int v : n.inputs) all_constant = all_constant && r.is_constant(v);
    if (!all_constant) continue;
    bool small = true;
    for (int v : n.outputs) small = small && numel(g.values[v].shape) <= kMaxFoldElements;
    if (!small) continue;
    if (is<BroadcastTo>(n)) {
      // A broadcast is a free view; materialized it is a big constant and no faster.
      int64_t in = numel(g.values[r.resolve(n.inputs[0])].shape), out = numel(g.values[n.outputs[0]].shape);
      if (out > in && out > kMaxFoldBroadcastElements) continue;
    }
    // Exactly as Graph::run and the plan evaluate a node.
    Tensors ins;
    for (int v : n.inputs) ins.push_back(r.constant(v));
    Tensors outs(n.outputs.size());
    if (!def.traits.view)
      for (size_t k = 0; k < n.outputs.size(); ++k)
        outs[k] = Tensor::empty(g.values[n.outputs[k]].shape, g.values[n.outputs[k]].dtype);
    try {
      detail::eval_kernel(n, ins, outs);
    } catch (const Error&) {
      continue;  // e.g. an index out of range: the error is raised when the graph runs, as eager would
    }
    std::string made;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      r.fold[n.outputs[k]] = outs[k].contiguous();
      made += (k ? ", " : "") + passes::value_spec(g.values[n.outputs[k]]);
    }
    r.drop_node[n.id] = 1;
    r.record("folded", {n.id}, passes::node_name(n) + ": inputs are constants, folded into a constant " + made);
  }
  return passes::rebuild(r);
}

}  // namespace xf
