// The pass pipeline: simplify, fold, cse, dce, repeated until nothing changes.
#include "xflow/passes.hpp"

namespace xf {

Graph optimize(const Graph& g, const PassOptions& options) {
  // simplify first (it removes identities and exposes equal subexpressions), then fold (constant
  // subgraphs become constants), then cse (which also merges the equal constants folding made),
  // then dce (which drops what the others left unread). Each can expose work for the others
  // (a folded constant of ones for simplify, a merge for a neg(neg(x))), hence the rounds.
  Graph cur = g;
  for (int round = 0; round < kMaxOptimizeRounds; ++round) {
    size_t before = cur.provenance.size();
    if (options.simplify) cur = simplify(cur);
    if (options.fold) cur = constant_folding(cur);
    if (options.cse) cur = common_subexpression_elimination(cur);
    if (options.dce) cur = dead_code_elimination(cur);
    if (cur.provenance.size() == before) break;
  }
  return cur;
}

}  // namespace xf
