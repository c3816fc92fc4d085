// Internal: what the passes share. A pass reads a Graph, writes its decisions into a Rewrite
// (value aliases, folded constants, dropped nodes and constants, edited nodes, provenance), and
// rebuild() turns that into a new graph with ids 0..n-1 in order.
#pragma once
#include <string>
#include <vector>

#include "graph/node.hpp"
#include "xflow/graph.hpp"

namespace xf::passes {

struct Rewrite {
  explicit Rewrite(const Graph& g, const char* pass_name);

  const Graph& src;
  const char* pass;
  std::vector<GraphNode> nodes;     // working copy: a pass may edit a node's inputs and attrs
  std::vector<int> alias;           // value -> the value that replaces it (itself when kept)
  std::vector<Tensor> fold;         // value -> the constant that replaces it (undefined: none)
  std::vector<char> drop_node;      // node is not emitted (its outputs are aliased, folded or unused)
  std::vector<char> drop_constant;  // constant is not emitted (unused)
  std::vector<GraphProvenance> log;

  // The value that stands for `v` after the aliases.
  int resolve(int v) const;
  // Whether resolve(v) is a constant (captured or folded), and its tensor.
  bool is_constant(int v) const;
  Tensor constant(int v) const;
  // Replaces value `from` by `to` everywhere (consumers, outputs, guards).
  void replace(int from, int to) { alias[from] = resolve(to); }
  void record(const char* action, std::vector<int> node_ids, std::string detail);
  bool changed() const { return !log.empty(); }
};

// The new graph: the source's provenance followed by the rewrite's log. Validates the result
// and throws Internal (naming the pass) if the rewrite broke it.
Graph rebuild(const Rewrite& r);

// "dense1/mul" (the node's scope, or its op name when it has none).
std::string node_name(const GraphNode& n);
// "(2, 3) float32"
std::string value_spec(const GraphValue& v);
// The op name and its attributes, serialized through the AttrVisitor: equal strings mean equal
// attributes (doubles compare by their bits, so -0.0 and 0.0 differ and a NaN equals itself).
std::string attr_key(const GraphNode& n);
using xf::def_of;

}  // namespace xf::passes
