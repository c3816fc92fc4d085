// Graph optimization passes: graph -> graph rewrites (docs/passes.md).
//
// Every pass returns a new, valid Graph: value and node ids are 0..n-1 in order, inputs, outputs
// and guards are remapped, and the input graph's provenance is copied and followed by one
// GraphProvenance entry per change the pass made, naming the pass ("dce", "cse", "fold",
// "simplify"), the action ("removed", "merged", "folded", "simplified"), the node ids in the graph
// the pass read, and a detail such as "dense1/mul: x*1 -> x". A pass that changes nothing
// returns an equal graph with no new provenance entry.
//
// Replaying the rewritten graph gives bitwise the results of the original: passes never rewrite
// what is not exact in IEEE arithmetic, and never fold or merge random ops.
#pragma once
#include "xflow/graph.hpp"

namespace xf {

struct PassOptions {
  bool dce = true;
  bool cse = true;
  bool fold = true;
  bool simplify = true;
};

// Drops nodes whose outputs reach no graph output and no guard (random nodes with no consumer
// too), and constants nothing reads. Placeholders are kept: they are the graph's arguments.
Graph dead_code_elimination(const Graph& g);

// Merges nodes with the same op, equal attributes and the same inputs (commutative ops also with
// swapped inputs where the swap is bitwise exact), and equal constants (same dtype, shape and
// bytes). Random nodes are never merged.
Graph common_subexpression_elimination(const Graph& g);

// Evaluates, once, every non-random node whose inputs are all constants, with the op's kernel as
// Graph::run would, and replaces its outputs by constants. Outputs larger than
// kMaxFoldElements, and broadcast_to that would expand past kMaxFoldBroadcastElements, stay
// nodes; a node whose kernel throws stays a node (the error belongs to run time).
inline constexpr int64_t kMaxFoldElements = int64_t{1} << 20;
inline constexpr int64_t kMaxFoldBroadcastElements = 4096;
Graph constant_folding(const Graph& g);

// Algebraic rewrites that are exact in IEEE arithmetic: x*1, 1*x, x/1, x-(+0), x+(-0.0) and
// (-0.0)+x, integer x+0, neg(neg(x)), permute of permute (composed; the identity disappears),
// reshape of reshape (one reshape), reshape or broadcast_to to the same shape, cast to the same
// dtype. Never x+0 for floats (-0.0 + 0 = +0.0), never when the constant broadcasts x.
Graph simplify(const Graph& g);

// tf.compat.v1.add_check_numerics_ops for xflow's graphs: a check_numerics node after every float
// placeholder and every float output of a node (named "<node>/check_numerics", message
// "<node>:<output index>", the node's source location), and every reader of the value, the graph's
// outputs included, reads the checked value instead, so any run that computes a value checks it.
// Running the result raises InvalidArgument "<node>:<k> : Tensor had NaN values" for the first
// value in graph order holding a NaN or an Inf. Existing check_numerics nodes get no check of their
// own. Provenance: one "check_numerics"/"added" entry.
Graph add_check_numerics_ops(const Graph& g);

// simplify, fold, cse, dce (those enabled), repeated until a round changes nothing (at most
// kMaxOptimizeRounds rounds).
inline constexpr int kMaxOptimizeRounds = 8;
Graph optimize(const Graph& g, const PassOptions& options = {});

}  // namespace xf
