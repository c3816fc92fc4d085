#include "graph/recorder.hpp"

#include "graph/node.hpp"

namespace xf::detail {

void Recorder::start() {
  if (recording_) return;
  add_observer(this);
  recording_ = true;
}

void Recorder::stop() {
  if (!recording_) return;
  remove_observer(this);
  recording_ = false;
}

int Recorder::bind_placeholder(const Tensor& t, const std::string& name) {
  int v = g_.add_placeholder(t.dtype(), t.shape(), name);
  ids_[t.id()] = v;
  depends_on_.resize(g_.values.size(), -1);
  depends_on_[v] = v;
  return v;
}

int Recorder::find(const Tensor& t) const {
  auto it = ids_.find(t.id());
  return it == ids_.end() ? -1 : it->second;
}

int Recorder::value_of(const Tensor& t) {
  int v = find(t);
  if (v >= 0) return v;
  v = g_.add_constant(t);  // made outside the recording: a constant
  ids_[t.id()] = v;
  depends_on_.resize(g_.values.size(), -1);
  return v;
}

void Recorder::on_apply(const ApplyEvent& e) {
  std::vector<int> ins;
  ins.reserve(e.inputs.size());
  int dep = -1;
  for (const Tensor& t : e.inputs) {
    int v = value_of(t);
    ins.push_back(v);
    if (dep < 0) dep = depends_on_[v];
  }
  std::vector<std::pair<DType, Shape>> outs;
  outs.reserve(e.outputs.size());
  for (const Tensor& t : e.outputs) outs.emplace_back(t.dtype(), t.shape());
  const Prim p = static_cast<Prim>(e.op);
  const char* op_name = op_def(p).name;
  std::string scope = current_name_scope();
  std::string name = scope.empty() ? op_name : scope + "/" + op_name;
  int node = g_.add_node(op_id(p), e.attrs, std::move(ins), outs, std::move(name), e.loc.file ? e.loc.file : "",
                         e.loc.line);
  depends_on_.resize(g_.values.size(), -1);
  for (size_t k = 0; k < e.outputs.size(); ++k) {
    int v = g_.nodes[node].outputs[k];
    ids_[e.outputs[k].id()] = v;
    depends_on_[v] = dep;
  }
}

void Recorder::on_host_read(const Tensor& t, Loc loc) {
  if (mode_ == HostReads::guard) {
    int v = value_of(t);
    if (g_.values[v].kind == GraphValue::Kind::constant) return;  // cannot change between calls
    GraphGuard gd;
    gd.value = v;
    gd.expected = t.contiguous();
    gd.file = loc.file ? loc.file : "";
    gd.line = loc.line;
    g_.guards.push_back(std::move(gd));
    return;
  }
  int v = find(t);
  if (v < 0 || depends_on_[v] < 0) return;
  raise(ErrorCode::failed_precondition, "graph_builder",
        "read the value of a tensor that depends on placeholder '" + g_.values[depends_on_[v]].name +
            "' while building a graph; a placeholder holds zeros, not its future values, so the graph "
            "cannot depend on them. Fetch the tensor with Session::run instead",
        loc);
}

}  // namespace xf::detail
