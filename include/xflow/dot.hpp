// Graphviz export: a Graph as DOT text, with name scopes drawn as nested clusters.
//
//   std::ofstream("model.dot") << xf::to_dot(graph);   // then: dot -Tsvg model.dot -o model.svg
#pragma once
#include <string>

#include "xflow/graph.hpp"

namespace xf {

// The graph as a DOT digraph (docs/dot.md):
//   - placeholders are "invhouse" nodes labeled with their name, constants "note" nodes, primitive
//     nodes rounded boxes labeled with their op (and their scope leaf when it differs);
//   - a node whose scope is "dense1/inner/matmul" sits in `subgraph cluster_N` "inner" nested in
//     the cluster "dense1"; a constant sits in the innermost scope holding all its consumers;
//   - every input of every node is one edge, labeled with the value's shape and dtype
//     ("(64, 128) float32");
//   - graph output k is an "output k" node (doubled outline), its producer drawn bold.
// Names are quoted and escaped, so any scope or placeholder name is safe. Throws InvalidArgument
// when the graph refers to a value or node that does not exist.
std::string to_dot(const Graph& g);

}  // namespace xf
