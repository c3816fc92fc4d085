// Dumping every value of one run to a directory, as tfdbg's dump directories do (docs/debugging.md):
// one .npy file per value (NumPy reads them: np.load), index.json describing each (its node, op,
// dtype, shape, file, min/max/mean, NaN and Inf counts, source location) and graph.json, the
// graph that ran. `xflow inspect DIR` prints the index as a table.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "xflow/numerics.hpp"
#include "xflow/plan.hpp"
#include "xflow/session.hpp"

namespace xf::debug {

// One value of a dump, as index.json records it.
struct DumpEntry {
  int value = -1;        // value id in graph.json
  std::string name;      // the placeholder's name, or the node's name (its scope, else its op), ":k" for output k > 0
  std::string kind;      // "input" or "node"
  int node = -1;         // the producing node's id, or -1 for an input
  std::string op;        // the node's op, or "placeholder"
  int step = -1;         // the plan step that computed it (-1 for an input)
  bool fused = false;    // computed inside a fused step (its value recomputed node by node for the dump)
  std::string dtype;
  Shape shape;
  std::string file;      // the .npy file, relative to the dump directory
  std::string source;    // "model.cpp:42", or ""
  ValueSummary stats;
};

// Runs `plan` once on `inputs` (its steps one at a time) and writes every input and every node's
// output of that run into `dir` (created if missing; files of an earlier dump are overwritten).
// Values a fused step keeps in registers are computed again node by node with the eager kernels,
// which equal the fused kernels bit for bit. Returns the run's outputs, as Plan::run would. When
// the run throws (a check_numerics, the numerics-checking mode, a kernel error), the values
// computed before the failure are written with the error's message in index.json ("error"), then
// the exception is rethrown.
std::vector<Tensor> dump_run(Plan& plan, const std::vector<Tensor>& inputs, const std::string& dir,
                             Loc loc = Loc::current());
// The same for one Session::run: the dump holds the values of the plan the session runs for these
// fetches and feeds (the pruned, optimized graph: graph.json is that graph).
std::vector<Tensor> dump_run(Session& session, const std::vector<std::string>& fetches,
                             const std::vector<std::pair<std::string, Tensor>>& feeds, const std::string& dir,
                             Loc loc = Loc::current());

// The entries of DIR/index.json, in value order. NotFound without an index, DataLoss for an index
// that is not a dump's.
std::vector<DumpEntry> read_dump_index(const std::string& dir);

}  // namespace xf::debug
