// Internal: the one recorder. A dispatch observer that records every primitive apply() runs on
// this thread into a Graph: inputs it has not seen become constants, each node gets the active
// name scope and the caller's source location. trace_graph (host reads become guards) and
// GraphBuilder (host reads of placeholder-dependent values are refused) both use it.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "core/observer.hpp"
#include "xflow/graph.hpp"

namespace xf::detail {

class Recorder : public DispatchObserver {
 public:
  enum class HostReads {
    guard,   // a read of a non-constant value becomes a guard (trace)
    refuse,  // a read of a value that depends on a placeholder throws FailedPrecondition (builder)
  };
  explicit Recorder(HostReads mode) : mode_(mode) {}
  ~Recorder() override { stop(); }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Starts or stops observing this thread's ops (stop is idempotent).
  void start();
  void stop();
  bool recording() const { return recording_; }

  // A new placeholder value named `name`, bound to `t`.
  int bind_placeholder(const Tensor& t, const std::string& name);
  // The value bound to `t`, or a new constant holding it.
  int value_of(const Tensor& t);
  // The value bound to `t`, or -1.
  int find(const Tensor& t) const;

  Graph& graph() { return g_; }
  const Graph& graph() const { return g_; }

  void on_apply(const ApplyEvent& e) override;
  void on_host_read(const Tensor& t, Loc loc) override;
  bool records_names() const override { return true; }
  bool builds_graph() const override { return mode_ == HostReads::refuse; }

 private:
  HostReads mode_;
  bool recording_ = false;
  Graph g_;
  std::unordered_map<uint64_t, int> ids_;  // tensor id -> value id
  std::vector<int> depends_on_;            // value id -> a placeholder it depends on, or -1
};

}  // namespace xf::detail
