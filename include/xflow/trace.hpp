// trace(fn): the first call runs fn eagerly and records it; later calls with the same input
// signature (dtypes and shapes) replay the recorded graph.
//
//   auto step = xf::trace(fn);
//   auto y = step({x});
//
// A replay never silently differs from eager: a function that reads a tensor's value on the host
// while traced (item, to_vector, bool conversion, printing) may branch on it, and until guards
// are written such a function is refused for replay and always runs eagerly, with one warning
// naming the read's location.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xflow/graph.hpp"

namespace xf {

struct TraceOptions {
  int retrace_limit = 8;         // more retraces than this warn (or raise when strict)
  bool strict_retrace = false;   // raise FailedPrecondition instead of warning
};

struct TraceStats {
  int64_t traces = 0;       // calls that recorded a graph (the first one included)
  int64_t retraces = 0;     // traces after the first, caused by a new signature
  int64_t replays = 0;      // calls served by a recorded graph
  int64_t eager_calls = 0;  // calls run eagerly because the trace was refused
};

class TracedFunction {
 public:
  using Fn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
  TracedFunction(Fn fn, TraceOptions options);

  std::vector<Tensor> operator()(const std::vector<Tensor>& inputs, Loc loc = Loc::current());

  const TraceStats& stats() const { return stats_; }
  // Why the last retrace happened: "arg 0: shape (64, 784) -> (32, 784)".
  const std::string& last_retrace_reason() const { return last_reason_; }
  // Why calls with these inputs run eagerly ("" when they replay).
  std::string refusal(const std::vector<Tensor>& inputs) const;
  // The graph recorded for these inputs' signature, or nullptr.
  const Graph* graph_for(const std::vector<Tensor>& inputs) const;

 private:
  struct Plan {
    Graph graph;
    std::string refusal;  // non-empty: run eagerly
  };
  using Signature = std::vector<std::pair<DType, Shape>>;
  static Signature signature_of(const std::vector<Tensor>& inputs);

  Fn fn_;
  TraceOptions options_;
  std::map<Signature, std::shared_ptr<Plan>> plans_;
  Signature last_signature_;
  TraceStats stats_;
  std::string last_reason_;
};

TracedFunction trace(TracedFunction::Fn fn, TraceOptions options = {});

}  // namespace xf
