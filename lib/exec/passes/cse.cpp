// Common subexpression elimination: equal constants and equal nodes become one.
#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "exec/passes/rewrite.hpp"
#include "xflow/passes.hpp"

namespace xf {

namespace {

bool same_constant(const Tensor& a, const Tensor& b) {
  // bitwise_equal compares dtype, shape and bytes: -0.0 and 0.0 differ, NaNs with equal bits match.
  return bitwise_equal(a, b);
}

size_t constant_hash(const Tensor& t) {
  std::string_view bytes(static_cast<const char*>(t.raw_data()), static_cast<size_t>(t.size()) * dtype_size(t.dtype()));
  size_t h = std::hash<std::string_view>()(bytes);
  h ^= static_cast<size_t>(t.dtype()) * 0x9E3779B97F4A7C15ull;
  for (int64_t d : t.shape()) h = h * 31 + static_cast<size_t>(d);
  return h;
}

// Whether `op(a, b)` equals `op(b, a)` bit for bit. Traits.commutative says so mathematically; for
// floats, maximum and minimum are not: maximum(+0, -0) is +0 but maximum(-0, +0) is -0, and with
// two NaNs the first one's payload is returned.
bool swap_is_exact(const GraphNode& n, const OpDef& def, const Graph& g) {
  if (!def.traits.commutative || n.inputs.size() != 2) return false;
  if ((is<Maximum>(n) || is<Minimum>(n)) && is_floating(g.values[n.inputs[0]].dtype)) return false;
  return true;
}

}  // namespace

Graph common_subexpression_elimination(const Graph& g) {
  passes::Rewrite r(g, "cse");
  // Constants: same dtype, shape and bytes.
  std::unordered_map<size_t, std::vector<int>> constants;
  for (const GraphValue& v : g.values) {
    if (v.kind != GraphValue::Kind::constant) continue;
    Tensor c = v.constant.contiguous();
    std::vector<int>& bucket = constants[constant_hash(c)];
    auto same = std::find_if(bucket.begin(), bucket.end(), [&](int w) { return same_constant(g.values[w].constant, c); });
    if (same == bucket.end()) {
      bucket.push_back(v.id);
      continue;
    }
    r.replace(v.id, *same);
    r.record("merged", {},
             "constant " + std::to_string(v.id) + " " + passes::value_spec(v) + " -> constant " + std::to_string(*same));
  }
  // Nodes: same op, attributes and (resolved) inputs; in order, so chains of duplicates collapse.
  std::unordered_map<std::string, int> seen;
  for (GraphNode& n : r.nodes) {
    const OpDef& def = passes::def_of(n);
    for (int& v : n.inputs) v = r.resolve(v);
    if (def.traits.random) continue;  // every random node draws its own numbers
    if (def.traits.stateful) continue;  // two reads of a variable may see different assignments
    if (def.traits.check) continue;     // each check keeps its own message
    std::vector<int> ins = n.inputs;
    bool swappable = swap_is_exact(n, def, g);
    if (swappable) std::sort(ins.begin(), ins.end());
    std::string key = passes::attr_key(n) + '(';
    for (int v : ins) key += std::to_string(v) + ',';
    key += ')';
    auto [it, fresh] = seen.emplace(std::move(key), n.id);
    if (fresh) continue;
    const GraphNode& keep = r.nodes[it->second];
    for (size_t k = 0; k < n.outputs.size(); ++k) r.replace(n.outputs[k], keep.outputs[k]);
    r.drop_node[n.id] = 1;
    bool swapped = swappable && n.inputs != keep.inputs;
    r.record("merged", {n.id, keep.id},
             passes::node_name(n) + ": same as node " + std::to_string(keep.id) + " (" + passes::node_name(keep) + ")" +
                 (swapped ? " with its inputs swapped" : ""));
  }
  return passes::rebuild(r);
}

}  // namespace xf
