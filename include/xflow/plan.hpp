// Plan: a Graph compiled for fast replay. Elementwise chains are fused into kernels that run tile
// by tile (intermediates stay in cache) calling the same SIMD batch functions as eager, so results
// are bitwise equal to eager; intermediate values live in one arena whose buffers are reused by
// liveness, in place where an input dies; independent steps of a level run concurrently.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "xflow/graph.hpp"

namespace xf {

// Whether fused groups are compiled to native code by default: yes, unless the environment
// variable XFLOW_CODEGEN is "0" (./dev.sh test sets it, so that tests do not wait for compilers).
bool codegen_default();

struct PlanOptions {
  bool fuse = true;         // elementwise fusion
  bool plan_memory = true;  // arena with buffer reuse by liveness (off: a fresh buffer per value)
  bool inplace = true;      // an elementwise step may write over an input that dies there
  bool parallel = true;     // independent steps of one level run concurrently
  // Fused groups become generated C++ compiled by the system compiler (cached on disk, see
  // docs/tracing.md); off, or without a compiler, the tile interpreter runs them.
  bool codegen = codegen_default();
};

// One step of a plan: a primitive node, or a fused group of elementwise nodes.
struct PlanStep {
  std::vector<int> nodes;        // graph node ids (one for a plain step)
  std::vector<int> inputs;       // value ids read from outside the step
  std::vector<int> outputs;      // value ids the step materializes
  int level = 0;                 // steps of one level do not depend on each other
  bool fused = false;
  // An assign that keeps its input's buffer as the variable's new tensor instead of copying it:
  // the input is a fused or elementwise result that only this assign reads, computed into a
  // buffer of its own each run (docs/tracing.md, "Variables").
  bool adopt = false;
};

// Where a value lives during a run.
struct ValueSlot {
  enum class Kind { input, constant, arena, fresh, view, internal };
  Kind kind = Kind::fresh;
  int64_t offset = 0;  // arena: byte offset
  int64_t bytes = 0;
  int inplace_of = -1; // arena: the value whose buffer this one reuses in place (-1: none)
};

struct PlanProfileEntry {
  int step = 0;
  double seconds = 0;
  int64_t bytes = 0;  // bytes the step wrote
};

// Thrown by Plan::run when a guard fails: the value a traced function read on the host differs
// now. The caller (trace) runs the function eagerly instead; the plan's results are discarded.
class GuardFailure : public FailedPrecondition {
 public:
  GuardFailure(const std::string& what, int guard) : FailedPrecondition(what), guard_(guard) {}
  int guard() const { return guard_; }

 private:
  int guard_;
};

class Plan {
 public:
  Plan(const Graph& g, PlanOptions options = {});
  ~Plan();
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // Runs the plan. Reentrant: concurrent calls on one Plan each run with their own arena (taken
  // from a pool, made on first need); no lock is held while kernels run.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs, Loc loc = Loc::current());

  const Graph& graph() const { return graph_; }
  const PlanOptions& options() const { return options_; }
  const std::vector<PlanStep>& steps() const { return steps_; }
  const std::vector<ValueSlot>& slots() const { return slots_; }
  // Bytes of the arena (intermediates) plus the largest outputs of one run: the peak a run needs
  // beyond its inputs.
  int64_t arena_bytes() const { return arena_bytes_; }
  int64_t peak_bytes() const;

  // Records the time and bytes of every step of later runs (off by default). profile() is the
  // last finished profiled run's; read it when no run is in flight.
  void set_profiling(bool on) { profiling_ = on; }
  const std::vector<PlanProfileEntry>& profile() const { return profile_; }

  // Called after every step with the step index and the values it materialized (for the differ).
  using StepObserver = std::function<void(int step, const std::vector<std::pair<int, Tensor>>& values)>;
  std::vector<Tensor> run_observed(const std::vector<Tensor>& inputs, const StepObserver& observer,
                                   Loc loc = Loc::current());

  // The plan's decisions as provenance entries (what was fused, which buffer each value got).
  std::vector<GraphProvenance> provenance() const;
  // The kernel-cache key of step `step`'s generated kernel (its file in the cache is
  // fused_<key>.so, docs/tracing.md); empty for a plain step or a group the interpreter runs.
  std::string kernel_hash(int step) const;

  struct Fused;  // a compiled fused group (lib/exec/fusion.cpp)

 private:
  struct Compiler;  // the phases of compile (lib/exec/plan.cpp)
  struct RunState;  // one run's arena and values
  std::vector<Tensor> execute(const std::vector<Tensor>& inputs, const StepObserver* observer, Loc loc);
  std::unique_ptr<RunState> take_state();
  void give_back(std::unique_ptr<RunState> state);

  Graph graph_;
  PlanOptions options_;
  // Fixed once compiled; runs only read them.
  std::vector<PlanStep> steps_;
  std::vector<std::vector<int>> levels_;       // step indices per level
  std::vector<char> level_has_random_;         // per level: a random step (draws in graph order)
  std::vector<ValueSlot> slots_;
  std::vector<std::shared_ptr<Fused>> fused_;  // per step (null when not fused)
  int64_t arena_bytes_ = 0;
  int64_t output_bytes_ = 0;
  // Idle run states, reused by later runs.
  std::mutex mu_;
  std::vector<std::unique_ptr<RunState>> idle_;
  std::atomic<bool> profiling_{false};
  std::vector<PlanProfileEntry> profile_;
};

// Runs `g` node by node with the eager kernels and as the Plan, and reports the first node whose
// output differs (bitwise), with its source location; "" when every materialized value is equal.
std::string diff_replay(const Graph& g, const std::vector<Tensor>& inputs, PlanOptions options = {});
// The same against a given plan, whose graph must have g's node and value ids (for example g with
// another pass applied that keeps ids, or g with a constant changed).
std::string diff_replay(const Graph& g, Plan& plan, const std::vector<Tensor>& inputs);

}  // namespace xf
