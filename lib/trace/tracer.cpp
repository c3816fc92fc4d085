// The tracer: a dispatch observer that records every primitive apply() runs into a Graph.
#include <unordered_map>

#include "core/observer.hpp"
#include "ops/prims.hpp"
#include "xflow/trace.hpp"

namespace xf {

namespace {

class Tracer : public DispatchObserver {
 public:
  explicit Tracer(Graph& g) : g_(g) {}

  void bind(const Tensor& t, int value) { ids_[t.id()] = value; }

  int value_of(const Tensor& t) {
    auto it = ids_.find(t.id());
    if (it != ids_.end()) return it->second;
    int v = g_.add_constant(t);  // made outside the trace: a constant
    ids_[t.id()] = v;
    return v;
  }

  // A host read becomes a guard: replay re-checks that the value read is still the same.
  void on_host_read(const Tensor& t, Loc loc) override {
    int v = value_of(t);
    if (g_.values[v].kind == GraphValue::Kind::constant) return;  // cannot change between calls
    GraphGuard gd;
    gd.value = v;
    gd.expected = t.contiguous();
    gd.file = loc.file ? loc.file : "";
    gd.line = loc.line;
    g_.guards.push_back(std::move(gd));
  }

  void on_apply(const ApplyEvent& e) override {
    std::vector<int> ins;
    for (const Tensor& t : e.inputs) ins.push_back(value_of(t));
    std::vector<std::pair<DType, Shape>> outs;
    for (const Tensor& t : e.outputs) outs.emplace_back(t.dtype(), t.shape());
    const OpDef& def = op_def(static_cast<Prim>(e.op));
    std::string scope = current_name_scope();
    std::string name = scope.empty() ? def.name : scope + "/" + def.name;
    int node = g_.add_node(def.name, e.attrs, std::move(ins), outs, name, e.loc.file ? e.loc.file : "", e.loc.line);
    for (size_t k = 0; k < e.outputs.size(); ++k) ids_[e.outputs[k].id()] = g_.nodes[node].outputs[k];
  }

 private:
  Graph& g_;
  std::unordered_map<uint64_t, int> ids_;
};

}  // namespace

Graph trace_graph(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                  const std::vector<Tensor>& example_inputs) {
  Graph g;
  Tracer tracer(g);
  for (size_t i = 0; i < example_inputs.size(); ++i) {
    const Tensor& x = example_inputs[i];
    if (!x.defined()) throw InvalidArgument("[trace] example input " + std::to_string(i) + " is an empty Tensor handle");
    tracer.bind(x, g.add_placeholder(x.dtype(), x.shape(), "input" + std::to_string(i)));
  }
  add_observer(&tracer);
  std::vector<Tensor> outs;
  try {
    outs = fn(example_inputs);
  } catch (...) {
    remove_observer(&tracer);
    throw;
  }
  remove_observer(&tracer);
  for (const Tensor& t : outs) {
    if (!t.defined()) throw InvalidArgument("[trace] the traced function returned an empty Tensor handle");
    g.outputs.push_back(tracer.value_of(t));
  }
  return g;
}

}  // namespace xf
