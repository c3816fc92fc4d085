// Internal: evaluating one node of a Graph with its primitive's eager kernel.
#pragma once
#include <vector>

#include "xflow/graph.hpp"

namespace xf::detail {

// Computes node `n` from env[inputs] into env[outputs] (fresh buffers; views for view ops).
// Random nodes draw fresh numbers from the global generator.
void eval_node(const Graph& g, const GraphNode& n, std::vector<Tensor>& env);

// Runs node `n`'s kernel on `in` into `out` (allocated, or empty for view primitives). Random
// nodes get a fresh generator position; kernel errors name the node's source location.
void eval_kernel(const GraphNode& n, const std::vector<Tensor>& in, std::vector<Tensor>& out);

// The numerics-checking mode's check of node `n` (xflow/numerics.hpp), its inputs and outputs read
// from env: InvalidArgument naming the node and its source location when a float output holds a
// NaN or an Inf.
void check_node_numerics(const GraphNode& n, const std::vector<Tensor>& env);

}  // namespace xf::detail
