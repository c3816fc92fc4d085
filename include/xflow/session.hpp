// TensorFlow-1 style graphs: build a Graph explicitly by running ops on placeholders, then run
// any part of it with a Session, feeding and fetching values by id or by name (docs/session.md).
//
//   xf::GraphBuilder b;
//   xf::Tensor x = b.placeholder(xf::DType::float32, {2, 4}, "x");
//   xf::Tensor y;
//   { xf::NameScope s("dense1"); y = xf::relu(xf::matmul(x, w)); }
//   xf::Session sess(b.finish({y}));
//   auto r = sess.run({"dense1/relu"}, {{"x", batch}});
#pragma once
#include <atomic>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "xflow/graph.hpp"
#include "xflow/passes.hpp"
#include "xflow/plan.hpp"

namespace xf {

// Builds a graph by running ops on placeholders; while it lives (until finish()), the ops this
// thread runs are recorded, as trace_graph records them: with the active NameScope and the
// caller's source location; tensors made before the builder become constants. Construct, use and
// destroy it on one thread. Reading the value of a tensor that depends on a placeholder (item(),
// to_vector(), bool conversion, printing) throws FailedPrecondition: a placeholder stands for
// values that are not known yet.
namespace detail {
class Recorder;
}

class GraphBuilder {
 public:
  GraphBuilder();
  ~GraphBuilder();
  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;

  // A zero tensor bound to a new placeholder value called `name` ("input<k>" when empty).
  // Throws InvalidArgument for a name already used by another placeholder, FailedPrecondition
  // after finish().
  Tensor placeholder(DType d, const Shape& shape, const std::string& name);
  // The recorded graph with these outputs; stops recording. Output tensors made outside the
  // builder become constants. May be called again (for other outputs); no op is recorded after
  // the first call.
  Graph finish(const std::vector<Tensor>& outputs);
  // The graph value id of a tensor made while building (a placeholder, an op's output, or a
  // tensor captured as a constant); throws NotFound for any other tensor.
  int value_of(const Tensor& t) const;

 private:
  std::unique_ptr<detail::Recorder> rec_;
  std::set<std::string> placeholder_names_;
};

// Runs parts of a graph. Fetches and feeds are value ids, or names:
//   - a placeholder's name ("x", or "input0" for traced graphs);
//   - a node's scope name ("dense1/matmul"), meaning its output 0, or "dense1/matmul:1" for its
//     output 1; when several nodes share a scope name, the first is "dense1/add", the next ones
//     "dense1/add_1", "dense1/add_2", ... (TensorFlow's rule); an exact name always wins.
// Any value can be fed, not only placeholders; its producers are then not run. A run computes
// only the nodes its fetches need; random nodes draw fresh numbers every run.
// Each distinct (fetches, fed values) pair is compiled once, as a traced replay is: the needed
// subgraph goes through the passes (SessionOptions::passes) and becomes a Plan (fusion,
// generated kernels, memory plan, guards; SessionOptions::plan), cached and reused by later runs.
// A guard of the graph whose value a run computes is checked as a replay checks it
// (GuardFailure, a FailedPrecondition, when the value differs from the traced one).
// Errors: an unknown name or id → NotFound; a fetch that needs a placeholder that is not fed →
// InvalidArgument naming it; a feed whose dtype or shape differs from its value's →
// InvalidArgument naming both ("feed 'x' must be (2, 4) float32, got (3, 4) float32"); a value
// fed twice → InvalidArgument. run() may be called from several threads at once.
struct SessionOptions {
  PassOptions passes;  // rewrites applied to each pruned subgraph before it is compiled
  PlanOptions plan;    // how it is compiled
};

class Session {
 public:
  // Validates the graph (Graph::validate) and indexes its names.
  explicit Session(Graph g, SessionOptions options = {});

  std::vector<Tensor> run(const std::vector<std::string>& fetches,
                          const std::vector<std::pair<std::string, Tensor>>& feeds = {},
                          Loc loc = Loc::current());
  std::vector<Tensor> run(const std::vector<int>& fetches, const std::vector<std::pair<int, Tensor>>& feeds = {},
                          Loc loc = Loc::current());
  // Braced lists of ids: `run({y})`, `run({y}, {{0, x}})`. (With only the vector overloads,
  // `run({y})` would be ambiguous, as std::vector<std::string> has an explicit size constructor.)
  // run() by ids, calling `observer` after every step of the plan it runs (Plan::run_observed: the
  // steps then run one at a time); plan_for(fetches, fed ids) is that plan. Used by dump_run.
  std::vector<Tensor> run_observed(const std::vector<int>& fetches, const std::vector<std::pair<int, Tensor>>& feeds,
                                   const Plan::StepObserver& observer, Loc loc = Loc::current());
  std::vector<Tensor> run(std::initializer_list<int> fetches, std::initializer_list<std::pair<int, Tensor>> feeds = {},
                          Loc loc = Loc::current()) {
    return run(std::vector<int>(fetches), std::vector<std::pair<int, Tensor>>(feeds), loc);
  }

  // The value id a name refers to (the rules above); throws NotFound.
  int value_id(const std::string& name) const;
  // The name of a value: a placeholder's name, "scope" or "scope:k" for node outputs (with the
  // "_1" suffix of a repeated scope name), or "" for a constant.
  std::string name_of(int value) const;

  // How many nodes of the graph the last run() on this session needed (before the passes).
  int64_t last_run_node_count() const { return last_count_.load(); }
  const Graph& graph() const { return graph_; }
  // The compiled plan for these fetches and fed values (compiling it if needed): for profiling
  // and inspection.
  std::shared_ptr<xf::Plan> plan_for(const std::vector<int>& fetches, const std::vector<int>& fed);

 private:
  struct Compiled;
  std::vector<Tensor> run_ids(const std::vector<int>& fetches, const std::vector<std::pair<int, Tensor>>& feeds,
                              const std::vector<std::string>& feed_labels, const std::vector<std::string>& fetch_labels,
                              Loc loc, const Plan::StepObserver* observer = nullptr);
  std::shared_ptr<const Compiled> compiled_for(const std::vector<int>& fetches, const std::vector<int>& fed,
                                               const std::vector<std::string>& fetch_labels, Loc loc);

  int lookup(const std::string& name) const;  // value id, or -1

  Graph graph_;
  SessionOptions options_;
  std::unordered_map<std::string, int> placeholders_;   // name → value id
  std::unordered_map<std::string, int> nodes_by_name_;  // unique node name → node id
  std::vector<std::string> node_names_;                 // per node: its unique name
  std::mutex mu_;
  std::map<std::pair<std::vector<int>, std::vector<int>>, std::shared_ptr<const Compiled>> plans_;
  std::atomic<int64_t> last_count_{0};
};

}  // namespace xf
