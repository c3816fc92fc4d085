// trace(fn): the first call runs fn eagerly and records it; later calls with the same input
// signature (dtypes and shapes) replay the recorded graph.
//
//   auto step = xf::trace(fn);
//   auto y = step({x});
//
// A replay never silently differs from eager: every read of a tensor's value on the host while
// tracing (item, to_vector, bool conversion, printing) becomes a guard. A replay re-checks the
// guards; when one fails, the call runs eagerly, the function is retraced, and a warning (once
// per guard location) names the location and the old and new values.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xflow/graph.hpp"
#include "xflow/passes.hpp"
#include "xflow/plan.hpp"

namespace xf {

// Records the eager calls `fn` makes on `example_inputs` into a Graph: the inputs become
// placeholders, tensors made elsewhere become constants, every primitive a node with the
// caller's source location and the active name scope.
// Every read of a tensor's value by the host during the trace (item, to_vector, bool conversion,
// printing) becomes a guard (Graph::guards) with its source location.
Graph trace_graph(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                  const std::vector<Tensor>& example_inputs);

struct TraceOptions {
  int retrace_limit = 8;         // more retraces than this warn (or raise when strict)
  bool strict_retrace = false;   // raise FailedPrecondition instead of warning
  PassOptions passes;            // graph rewrites before compiling (docs/passes.md)
  PlanOptions plan;              // how the optimized graph is compiled
};

struct TraceStats {
  int64_t traces = 0;       // calls that recorded a graph (the first one included)
  int64_t retraces = 0;     // traces after the first, caused by a new signature
  int64_t replays = 0;      // calls served by a recorded graph
  int64_t guard_failures = 0;  // replays discarded because a guard failed (the call ran eagerly)
};

class TracedFunction {
 public:
  using Fn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
  TracedFunction(Fn fn, TraceOptions options);

  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs, Loc loc = Loc::current());

  const TraceStats& stats() const { return stats_; }
  // Why the last retrace happened: "arg 0: shape (64, 784) -> (32, 784)".
  const std::string& last_retrace_reason() const { return last_reason_; }
  // The last guard failure's message ("" if none).
  const std::string& last_guard_failure() const { return last_guard_failure_; }
  // The graph recorded for these inputs' signature (as traced, before passes), or nullptr;
  // plan_for(...)->graph() is the optimized graph the plan runs.
  const Graph* graph_for(const std::vector<Tensor>& inputs) const;
  // The compiled plan for these inputs' signature, or nullptr.
  Plan* plan_for(const std::vector<Tensor>& inputs) const;

 private:
  struct Entry {
    Graph graph;
    std::unique_ptr<Plan> plan;
  };
  using Signature = std::vector<std::pair<DType, Shape>>;
  static Signature signature_of(const std::vector<Tensor>& inputs);

  Fn fn_;
  TraceOptions options_;
  std::vector<Tensor> trace_call(const std::vector<Tensor>& inputs, const Signature& sig);
  std::map<Signature, std::shared_ptr<Entry>> plans_;
  Signature last_signature_;
  TraceStats stats_;
  std::string last_reason_;
  std::string last_guard_failure_;
  std::vector<std::string> warned_guards_;
};

TracedFunction trace(TracedFunction::Fn fn, TraceOptions options = {});

}  // namespace xf
