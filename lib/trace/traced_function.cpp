// The function cache of trace(): one plan per input signature, every retrace explained.
#include <algorithm>
#include <iostream>

#include "xflow/trace.hpp"

#include "core/observer.hpp"

namespace xf {

TracedFunction::TracedFunction(Fn fn, TraceOptions options) : fn_(std::move(fn)), options_(options) {}

TracedFunction trace(TracedFunction::Fn fn, TraceOptions options) { return TracedFunction(std::move(fn), options); }

TracedFunction::Signature TracedFunction::signature_of(const std::vector<Tensor>& inputs) {
  Signature s;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) throw InvalidArgument("[trace] arg " + std::to_string(i) + " is an empty Tensor handle");
    s.emplace_back(inputs[i].dtype(), inputs[i].shape());
  }
  return s;
}

namespace {
std::string explain(const std::vector<std::pair<DType, Shape>>& from, const std::vector<std::pair<DType, Shape>>& to) {
  if (from.size() != to.size())
    return std::to_string(from.size()) + " args -> " + std::to_string(to.size()) + " args";
  std::string out;
  for (size_t i = 0; i < from.size(); ++i) {
    std::string part;
    if (from[i].first != to[i].first)
      part = "arg " + std::to_string(i) + ": dtype " + dtype_name(from[i].first) + " -> " + dtype_name(to[i].first);
    else if (from[i].second != to[i].second)
      part = "arg " + std::to_string(i) + ": shape " + shape_str(from[i].second) + " -> " + shape_str(to[i].second);
    if (!part.empty()) out += (out.empty() ? "" : "; ") + part;
  }
  return out;
}
}  // namespace

std::vector<Tensor> TracedFunction::trace_call(const std::vector<Tensor>& inputs, const Signature& sig) {
  ++stats_.traces;
  last_signature_ = sig;
  auto entry = std::make_shared<Entry>();
  // The call runs eagerly while recording: its results are eager's.
  std::vector<Tensor> outs;
  entry->graph = trace_graph([&](const std::vector<Tensor>& in) { return outs = fn_(in); }, inputs);
  entry->plan = std::make_unique<Plan>(optimize(entry->graph, options_.passes), options_.plan);
  plans_[sig] = entry;
  return outs;
}

std::vector<Tensor> TracedFunction::operator()(const std::vector<Tensor>& inputs, Loc loc) {
  Signature sig = signature_of(inputs);
  // Inside an outer trace, tape or graph builder, run eagerly so that the observer sees every
  // primitive (a replay bypasses apply()).
  if (!observers().empty()) return fn_(inputs);
  auto it = plans_.find(sig);
  if (it != plans_.end()) {
    try {
      std::vector<Tensor> out = it->second->plan->run(inputs, loc);
      ++stats_.replays;
      return out;
    } catch (const GuardFailure& e) {
      ++stats_.guard_failures;
      last_guard_failure_ = e.what();
      const GraphGuard& gd = it->second->graph.guards[e.guard()];
      std::string where = Loc::at(gd.file.c_str(), gd.line).str();
      if (std::find(warned_guards_.begin(), warned_guards_.end(), where) == warned_guards_.end()) {
        warned_guards_.push_back(where);
        std::cerr << e.what() << "; running eagerly and retracing\n";
      }
      ++stats_.retraces;
      last_reason_ = std::string("guard failed at ") + where;
      return trace_call(inputs, sig);
    }
  }
  if (stats_.traces > 0) {
    ++stats_.retraces;
    last_reason_ = explain(last_signature_, sig);
    std::cerr << "[trace] retracing (" << last_reason_ << ") at " << loc.str() << "\n";
    if (stats_.retraces > options_.retrace_limit) {
      std::string msg = std::to_string(stats_.retraces) + " retraces exceed the limit of " +
                        std::to_string(options_.retrace_limit) + " (last: " + last_reason_ + ")";
      if (options_.strict_retrace) raise(ErrorCode::failed_precondition, "trace", msg, loc);
      std::cerr << "[trace] " << msg << "\n";
    }
  }
  return trace_call(inputs, sig);
}

const Graph* TracedFunction::graph_for(const std::vector<Tensor>& inputs) const {
  auto it = plans_.find(signature_of(inputs));
  return it == plans_.end() ? nullptr : &it->second->graph;
}

Plan* TracedFunction::plan_for(const std::vector<Tensor>& inputs) const {
  auto it = plans_.find(signature_of(inputs));
  return it == plans_.end() ? nullptr : it->second->plan.get();
}

}  // namespace xf
