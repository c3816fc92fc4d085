// Graph building, validation and the replay interpreter.
#include "xflow/graph.hpp"

#include <ostream>

#include "graph/eval.hpp"
#include "graph/node.hpp"
#include "ops/prims.hpp"
#include "ops/random_state.hpp"
#include "xflow/numerics.hpp"

namespace xf {

OpId::OpId(int index) : index_(index) {
  if (index < 0 || index >= kNumPrims)
    throw NotFound("[op] no primitive has index " + std::to_string(index) + " (there are " +
                   std::to_string(kNumPrims) + ")");
}

OpId OpId::from_name(const std::string& name) { return op_id(prim_from_name(name)); }

const char* OpId::name() const { return index_ < 0 ? "?" : op_def(static_cast<Prim>(index_)).name; }

std::ostream& operator<<(std::ostream& os, OpId op) { return os << op.name(); }

int Graph::add_placeholder(DType d, const Shape& s, const std::string& name) {
  GraphValue v;
  v.id = static_cast<int>(values.size());
  v.kind = GraphValue::Kind::placeholder;
  v.dtype = d;
  v.shape = s;
  v.name = name;
  values.push_back(std::move(v));
  inputs.push_back(values.back().id);
  return values.back().id;
}

int Graph::add_constant(const Tensor& t) {
  GraphValue v;
  v.id = static_cast<int>(values.size());
  v.kind = GraphValue::Kind::constant;
  v.dtype = t.dtype();
  v.shape = t.shape();
  v.constant = t.contiguous();
  values.push_back(std::move(v));
  return values.back().id;
}

int Graph::add_node(OpId op, std::shared_ptr<const void> attrs, std::vector<int> ins,
                    const std::vector<std::pair<DType, Shape>>& outs, std::string scope, std::string file, int line) {
  GraphNode n;
  n.id = static_cast<int>(nodes.size());
  n.op = op;
  n.attrs = std::move(attrs);
  n.inputs = std::move(ins);
  n.scope = std::move(scope);
  n.file = std::move(file);
  n.line = line;
  for (size_t i = 0; i < outs.size(); ++i) {
    GraphValue v;
    v.id = static_cast<int>(values.size());
    v.kind = GraphValue::Kind::node_output;
    v.dtype = outs[i].first;
    v.shape = outs[i].second;
    v.producer = n.id;
    v.output_index = static_cast<int>(i);
    values.push_back(std::move(v));
    n.outputs.push_back(values.back().id);
  }
  nodes.push_back(std::move(n));
  return nodes.back().id;
}

namespace {
[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw InvalidArgument("[graph] " + where + ": " + what);
}
}  // namespace

void Graph::validate() const {
  std::vector<bool> defined(values.size(), false);
  for (size_t i = 0; i < values.size(); ++i) {
    const GraphValue& v = values[i];
    if (v.id != static_cast<int>(i)) bad("values[" + std::to_string(i) + "]", "id " + std::to_string(v.id) + " is out of order");
    if (v.kind == GraphValue::Kind::constant) {
      if (!v.constant.defined() || v.constant.dtype() != v.dtype || v.constant.shape() != v.shape)
        bad("values[" + std::to_string(i) + "]", "constant data does not match its dtype and shape");
      defined[i] = true;
    }
  }
  for (int id : inputs) {
    if (id < 0 || id >= static_cast<int>(values.size()) || values[id].kind != GraphValue::Kind::placeholder)
      bad("inputs", "value " + std::to_string(id) + " is not a placeholder");
    defined[id] = true;
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const GraphNode& n = nodes[i];
    std::string where = "nodes[" + std::to_string(i) + "] (" + n.op.name() + ")";
    if (n.id != static_cast<int>(i)) bad(where, "id " + std::to_string(n.id) + " is out of order");
    if (!n.op.valid()) bad(where, "has no op");
    Prim p = prim_of(n);
    if (!n.attrs) bad(where, "missing attributes");
    Specs in;
    for (int id : n.inputs) {
      if (id < 0 || id >= static_cast<int>(values.size())) bad(where, "input " + std::to_string(id) + " does not exist");
      if (!defined[id]) bad(where, "input " + std::to_string(id) + " is used before it is defined (a cycle or a bad order)");
      in.push_back(TensorSpec{values[id].dtype, values[id].shape});
    }
    Specs out;
    try {
      out = op_def(p).infer(n.attrs.get(), in);
    } catch (const Error& e) {
      bad(where, std::string("does not type-check: ") + e.what());
    }
    if (out.size() != n.outputs.size()) bad(where, "has " + std::to_string(n.outputs.size()) + " outputs, its op makes " + std::to_string(out.size()));
    for (size_t k = 0; k < out.size(); ++k) {
      int id = n.outputs[k];
      if (id < 0 || id >= static_cast<int>(values.size())) bad(where, "output " + std::to_string(id) + " does not exist");
      const GraphValue& v = values[id];
      if (v.kind != GraphValue::Kind::node_output || v.producer != n.id || defined[id])
        bad(where, "output " + std::to_string(id) + " is not produced by this node alone");
      if (v.dtype != out[k].dtype || v.shape != out[k].shape)
        bad(where, "output " + std::to_string(id) + " is recorded as " + shape_str(v.shape) + " " + dtype_name(v.dtype) +
                       " but the op makes " + spec_str(out[k]));
      defined[id] = true;
    }
  }
  for (int id : outputs)
    if (id < 0 || id >= static_cast<int>(values.size()) || !defined[id])
      bad("outputs", "value " + std::to_string(id) + " is not defined");
  for (size_t i = 0; i < guards.size(); ++i) {
    const GraphGuard& g = guards[i];
    if (g.value < 0 || g.value >= static_cast<int>(values.size()))
      bad("guards[" + std::to_string(i) + "]", "value " + std::to_string(g.value) + " does not exist");
    if (!g.expected.defined() || g.expected.dtype() != values[g.value].dtype || g.expected.shape() != values[g.value].shape)
      bad("guards[" + std::to_string(i) + "]", "expected value does not match the guarded value's dtype and shape");
  }
}

std::vector<Tensor> Graph::run(const std::vector<Tensor>& args, Loc loc) const {
  if (args.size() != inputs.size())
    raise(ErrorCode::invalid_argument, "graph.run",
          "expects " + std::to_string(inputs.size()) + " inputs, got " + std::to_string(args.size()), loc);
  std::vector<Tensor> env(values.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const GraphValue& v = values[inputs[i]];
    if (!args[i].defined() || args[i].dtype() != v.dtype || args[i].shape() != v.shape)
      raise(ErrorCode::invalid_argument, "graph.run",
            "arg " + std::to_string(i) + " must be " + shape_str(v.shape) + " " + dtype_name(v.dtype) + ", got " +
                (args[i].defined() ? shape_str(args[i].shape()) + " " + dtype_name(args[i].dtype()) : "an empty handle"),
            loc);
    env[inputs[i]] = args[i];
  }
  for (const GraphValue& v : values)
    if (v.kind == GraphValue::Kind::constant) env[v.id] = v.constant;
  const bool checking = debug::check_numerics_enabled();
  for (const GraphNode& n : nodes) {
    detail::eval_node(*this, n, env);
    if (checking) detail::check_node_numerics(n, env);
  }
  std::vector<Tensor> result;
  for (int id : outputs) result.push_back(env[id]);
  return result;
}

}  // namespace xf

namespace xf::detail {

void eval_node(const Graph& g, const GraphNode& n, std::vector<Tensor>& env) {
  const OpDef& def = def_of(n);
  Tensors in;
  in.reserve(n.inputs.size());
  for (int id : n.inputs) in.push_back(env[id]);
  Tensors out(n.outputs.size());
  if (!def.traits.view)
    for (size_t k = 0; k < n.outputs.size(); ++k)
      out[k] = Tensor::empty(g.values[n.outputs[k]].shape, g.values[n.outputs[k]].dtype);
  eval_kernel(n, in, out);
  for (size_t k = 0; k < n.outputs.size(); ++k) env[n.outputs[k]] = out[k];
}

void check_node_numerics(const GraphNode& n, const std::vector<Tensor>& env) {
  std::vector<Tensor> in, out;
  for (int v : n.inputs) in.push_back(env[v]);
  for (int v : n.outputs) out.push_back(env[v]);
  debug::check_outputs(n.op.name(), "node " + std::to_string(n.id) + " '" + (n.scope.empty() ? n.op.name() : n.scope) + "'",
                       in, out, Loc::at(n.file.c_str(), n.line));
}

void eval_kernel(const GraphNode& n, const std::vector<Tensor>& in, std::vector<Tensor>& out) {
  const OpDef& def = def_of(n);
  const void* attrs = n.attrs.get();
  RandomAttrs fresh;
  if (def.traits.random) {
    // Generator state belongs to the run: draw fresh numbers as eager would. (Every random
    // primitive takes RandomAttrs: the static_asserts in lib/graph/node.hpp's users keep it so.)
    fresh = *static_cast<const RandomAttrs*>(attrs);
    auto [seed, counter] = reserve_random(numel(fresh.shape));
    fresh.seed = seed;
    fresh.counter = counter;
    attrs = &fresh;
  }
  try {
    def.eval(attrs, in, out);
  } catch (const Error& e) {
    raise(e.code(), def.name, e.what(), Loc::at(n.file.c_str(), n.line));
  }
}

}  // namespace xf::detail
