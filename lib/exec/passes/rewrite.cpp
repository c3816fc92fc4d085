// The machinery every pass shares: rebuilding a graph from a pass's decisions, attribute keys.
#include "exec/passes/rewrite.hpp"

#include <cstring>

namespace xf::passes {

Rewrite::Rewrite(const Graph& g, const char* pass_name)
    : src(g),
      pass(pass_name),
      nodes(g.nodes),
      alias(g.values.size()),
      fold(g.values.size()),
      drop_node(g.nodes.size(), 0),
      drop_constant(g.values.size(), 0) {
  for (size_t i = 0; i < alias.size(); ++i) alias[i] = static_cast<int>(i);
}

int Rewrite::resolve(int v) const {
  while (alias[v] != v) v = alias[v];
  return v;
}

bool Rewrite::is_constant(int v) const {
  v = resolve(v);
  return fold[v].defined() || src.values[v].kind == GraphValue::Kind::constant;
}

Tensor Rewrite::constant(int v) const {
  v = resolve(v);
  return fold[v].defined() ? fold[v] : src.values[v].constant;
}

void Rewrite::record(const char* action, std::vector<int> node_ids, std::string detail) {
  log.push_back(GraphProvenance{pass, action, std::move(node_ids), std::move(detail)});
}

std::string node_name(const GraphNode& n) { return n.scope.empty() ? std::string(n.op.name()) : n.scope; }

std::string value_spec(const GraphValue& v) { return shape_str(v.shape) + " " + dtype_name(v.dtype); }

namespace {

// Serializes attributes unambiguously: every field is tagged with its name and type.
struct AttrKey : AttrVisitor {
  std::string s;
  void field(const char* name, char type) {
    s += name;
    s += '=';
    s += type;
  }
  void on(const char* n, bool& v) override {
    field(n, 'b');
    s += v ? "1;" : "0;";
  }
  void on(const char* n, int64_t& v) override {
    field(n, 'i');
    s += std::to_string(v) + ';';
  }
  void on(const char* n, double& v) override {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    field(n, 'd');
    s += std::to_string(bits) + ';';
  }
  void on(const char* n, DType& v) override {
    field(n, 't');
    s += dtype_name(v);
    s += ';';
  }
  void on(const char* n, std::vector<int64_t>& v) override {
    field(n, 'v');
    s += std::to_string(v.size()) + ':';
    for (int64_t e : v) s += std::to_string(e) + ',';
    s += ';';
  }
  void on(const char* n, std::string& v) override {
    field(n, 's');
    s += std::to_string(v.size()) + ':' + v + ';';
  }
};

}  // namespace

std::string attr_key(const GraphNode& n) {
  AttrKey k;
  k.s = std::to_string(n.op.index()) + '{';
  // The visitor only reads; visit() takes a non-const reference because readers write through it.
  def_of(n).visit_attrs(const_cast<void*>(n.attrs.get()), k);
  k.s += '}';
  return k.s;
}

Graph rebuild(const Rewrite& r) {
  const Graph& src = r.src;
  Graph out;
  std::vector<int> map(src.values.size(), -1);
  auto copy_value = [&](const GraphValue& v) {
    GraphValue nv = v;
    nv.id = static_cast<int>(out.values.size());
    nv.producer = -1;
    nv.output_index = 0;
    out.values.push_back(std::move(nv));
    map[v.id] = out.values.back().id;
  };
  // Placeholders and the constants that stay, in their old order.
  for (const GraphValue& v : src.values) {
    if (v.kind == GraphValue::Kind::placeholder) copy_value(v);
    else if (v.kind == GraphValue::Kind::constant && !r.drop_constant[v.id] && r.resolve(v.id) == v.id &&
             !r.fold[v.id].defined())
      copy_value(v);
  }
  for (int id : src.inputs) out.inputs.push_back(map[id]);
  // Folded constants are added where they are first read.
  std::vector<int> folded(src.values.size(), -1);
  auto get = [&](int v) {
    int w = r.resolve(v);
    if (r.fold[w].defined()) {
      if (folded[w] < 0) folded[w] = out.add_constant(r.fold[w]);
      return folded[w];
    }
    if (map[w] < 0)
      throw Internal(std::string("[") + r.pass + "] value " + std::to_string(v) + " is read but was removed");
    return map[w];
  };
  for (size_t i = 0; i < r.nodes.size(); ++i) {
    if (r.drop_node[i]) continue;
    const GraphNode& n = r.nodes[i];
    std::vector<int> ins;
    for (int v : n.inputs) ins.push_back(get(v));
    std::vector<std::pair<DType, Shape>> specs;
    for (int v : n.outputs) specs.emplace_back(src.values[v].dtype, src.values[v].shape);
    int id = out.add_node(n.op, n.attrs, std::move(ins), specs, n.scope, n.file, n.line);
    for (size_t k = 0; k < n.outputs.size(); ++k) map[n.outputs[k]] = out.nodes[id].outputs[k];
  }
  for (int v : src.outputs) out.outputs.push_back(get(v));
  for (const GraphGuard& g : src.guards) {
    GraphGuard ng = g;
    ng.value = get(g.value);
    out.guards.push_back(std::move(ng));
  }
  out.provenance = src.provenance;
  out.provenance.insert(out.provenance.end(), r.log.begin(), r.log.end());
  try {
    out.validate();
  } catch (const Error& e) {
    throw Internal(std::string("[") + r.pass + "] produced an invalid graph: " + e.what());
  }
  return out;
}

}  // namespace xf::passes
