// GraphBuilder (explicit graph building on placeholders) and Session (runs the part of a graph
// that its fetches need, with any value fed). docs/session.md.
#include "xflow/session.hpp"

#include <algorithm>
#include <set>

#include "graph/node.hpp"
#include "graph/recorder.hpp"

namespace xf {

// ---- GraphBuilder ----

GraphBuilder::GraphBuilder() : rec_(std::make_unique<detail::Recorder>(detail::Recorder::HostReads::refuse)) {
  rec_->start();
}

GraphBuilder::~GraphBuilder() { rec_->stop(); }

Tensor GraphBuilder::placeholder(DType d, const Shape& shape, const std::string& name) {
  if (!rec_->recording()) throw FailedPrecondition("[graph_builder] placeholder() after finish()");
  std::string n = name;
  if (n.empty()) {
    for (size_t k = rec_->graph().inputs.size();; ++k)
      if (!placeholder_names_.count(n = "input" + std::to_string(k))) break;
  } else if (placeholder_names_.count(n)) {
    throw InvalidArgument("[graph_builder] placeholder name '" + n + "' is already used");
  }
  Tensor t = zeros(shape, d);  // checks the shape
  placeholder_names_.insert(n);
  rec_->bind_placeholder(t, n);
  return t;
}

Graph GraphBuilder::finish(const std::vector<Tensor>& outputs) {
  rec_->stop();
  std::vector<int> ids;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined())
      throw InvalidArgument("[graph_builder] output " + std::to_string(i) + " is an empty Tensor handle");
    ids.push_back(rec_->value_of(outputs[i]));
  }
  Graph g = rec_->graph();
  g.outputs = std::move(ids);
  return g;
}

int GraphBuilder::value_of(const Tensor& t) const {
  if (!t.defined()) throw InvalidArgument("[graph_builder] value_of: an empty Tensor handle");
  int v = rec_->find(t);
  if (v < 0)
    throw NotFound("[graph_builder] value_of: the tensor " + shape_str(t.shape()) + " " + dtype_name(t.dtype()) +
                   " was not made while building this graph");
  return v;
}

// ---- Session ----

namespace {
std::string spec_text(DType d, const Shape& s) { return shape_str(s) + " " + dtype_name(d); }

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

// One set of fetches and fed values, compiled: the pruned subgraph (fed values are its
// placeholders, in increasing id of the original value, then the constants and nodes the fetches
// need, in the original order) optimized and planned.
struct Session::Compiled {
  std::shared_ptr<xf::Plan> plan;
  std::vector<int> fed;    // original value id of each placeholder of the subgraph
  int64_t node_count = 0;  // nodes of the pruned subgraph, before the passes
};

Session::Session(Graph g, SessionOptions options) : graph_(std::move(g)), options_(options) {
  graph_.validate();
  // Names: placeholders first, then every node's scope name; a name taken already (a repeated
  // scope) gets the first free suffix _1, _2, ..., after all exact names are reserved.
  std::set<std::string> taken;
  for (int id : graph_.inputs) {
    const std::string& n = graph_.values[id].name;
    if (!n.empty() && placeholders_.emplace(n, id).second) taken.insert(n);
  }
  auto base_name = [](const GraphNode& n) { return n.scope.empty() ? std::string(n.op.name()) : n.scope; };
  node_names_.assign(graph_.nodes.size(), "");
  for (const GraphNode& n : graph_.nodes)
    if (taken.insert(base_name(n)).second) node_names_[n.id] = base_name(n);
  std::unordered_map<std::string, int> next_suffix;  // per repeated base name
  for (const GraphNode& n : graph_.nodes) {
    if (!node_names_[n.id].empty()) continue;
    std::string base = base_name(n), name;
    for (int& k = next_suffix.emplace(base, 1).first->second;; ++k)
      if (!taken.count(name = base + "_" + std::to_string(k))) break;
    taken.insert(name);
    node_names_[n.id] = name;
  }
  for (const GraphNode& n : graph_.nodes) nodes_by_name_.emplace(node_names_[n.id], n.id);
}

int Session::lookup(const std::string& name) const {
  if (auto it = placeholders_.find(name); it != placeholders_.end()) return it->second;
  if (auto it = nodes_by_name_.find(name); it != nodes_by_name_.end()) {
    const GraphNode& n = graph_.nodes[it->second];
    if (n.outputs.empty()) return -1;
    return n.outputs[0];
  }
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && all_digits(name.substr(colon + 1)) && colon + 1 < name.size() &&
      name.size() - colon - 1 <= 9) {
    std::string base = name.substr(0, colon);
    size_t k = std::stoul(name.substr(colon + 1));
    if (auto it = placeholders_.find(base); it != placeholders_.end()) return k == 0 ? it->second : -1;
    if (auto it = nodes_by_name_.find(base); it != nodes_by_name_.end()) {
      const GraphNode& n = graph_.nodes[it->second];
      return k < n.outputs.size() ? n.outputs[k] : -1;
    }
  }
  return -1;
}

int Session::value_id(const std::string& name) const {
  int id = lookup(name);
  if (id < 0) {
    std::string msg = "[session] no value is named '" + name + "'";
    if (all_digits(name)) msg += " (to name a value by id, use the run() taking ints)";
    throw NotFound(msg);
  }
  return id;
}

std::string Session::name_of(int value) const {
  if (value < 0 || value >= static_cast<int>(graph_.values.size()))
    throw NotFound("[session] value " + std::to_string(value) + " does not exist (the graph has " +
                   std::to_string(graph_.values.size()) + " values)");
  const GraphValue& v = graph_.values[value];
  switch (v.kind) {
    case GraphValue::Kind::placeholder: return v.name;
    case GraphValue::Kind::constant: return "";
    case GraphValue::Kind::node_output:
      return node_names_[v.producer] + (v.output_index ? ":" + std::to_string(v.output_index) : "");
  }
  return "";
}

std::vector<Tensor> Session::run(const std::vector<std::string>& fetches,
                                 const std::vector<std::pair<std::string, Tensor>>& feeds, Loc loc) {
  auto resolve = [&](const std::string& name, const char* what) {
    int id = lookup(name);
    if (id < 0) {
      std::string msg = std::string(what) + " '" + name + "' names no value of the graph";
      if (all_digits(name)) msg += " (to name a value by id, use the run() taking ints)";
      raise(ErrorCode::not_found, "session.run", msg, loc);
    }
    return id;
  };
  std::vector<int> fetch_ids;
  for (const std::string& f : fetches) fetch_ids.push_back(resolve(f, "fetch"));
  std::vector<std::pair<int, Tensor>> feed_ids;
  std::vector<std::string> feed_labels;
  for (const auto& [name, t] : feeds) {
    feed_ids.emplace_back(resolve(name, "feed"), t);
    feed_labels.push_back(name);
  }
  return run_ids(fetch_ids, feed_ids, feed_labels, fetches, loc);
}

std::vector<Tensor> Session::run_observed(const std::vector<int>& fetches,
                                          const std::vector<std::pair<int, Tensor>>& feeds,
                                          const Plan::StepObserver& observer, Loc loc) {
  const int nv = static_cast<int>(graph_.values.size());
  auto label = [&](int id, const char* what) {
    if (id < 0 || id >= nv)
      raise(ErrorCode::not_found, "session.run",
            std::string(what) + " value " + std::to_string(id) + " does not exist (the graph has " +
                std::to_string(nv) + " values)",
            loc);
    std::string n = name_of(id);
    return n.empty() ? "value " + std::to_string(id) : n;
  };
  std::vector<std::string> fetch_labels, feed_labels;
  for (int id : fetches) fetch_labels.push_back(label(id, "fetch"));
  for (const auto& f : feeds) feed_labels.push_back(label(f.first, "feed"));
  return run_ids(fetches, feeds, feed_labels, fetch_labels, loc, observer ? &observer : nullptr);
}

std::vector<Tensor> Session::run(const std::vector<int>& fetches, const std::vector<std::pair<int, Tensor>>& feeds,
                                 Loc loc) {
  return run_observed(fetches, feeds, Plan::StepObserver(), loc);  // an empty observer: a plain run
}

std::vector<Tensor> Session::run_ids(const std::vector<int>& fetches, const std::vector<std::pair<int, Tensor>>& feeds,
                                     const std::vector<std::string>& feed_labels,
                                     const std::vector<std::string>& fetch_labels, Loc loc,
                                     const Plan::StepObserver* observer) {
  // Feeds: each value once, with its value's dtype and shape.
  std::vector<std::pair<int, size_t>> order;  // (value id, index into feeds)
  for (size_t i = 0; i < feeds.size(); ++i) {
    const GraphValue& v = graph_.values[feeds[i].first];
    const Tensor& t = feeds[i].second;
    if (!t.defined() || t.dtype() != v.dtype || t.shape() != v.shape)
      raise(ErrorCode::invalid_argument, "session.run",
            "feed '" + feed_labels[i] + "' must be " + spec_text(v.dtype, v.shape) + ", got " +
                (t.defined() ? spec_text(t.dtype(), t.shape()) : std::string("an empty handle")),
            loc);
    order.emplace_back(feeds[i].first, i);
  }
  std::sort(order.begin(), order.end());
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i].first == order[i - 1].first)
      raise(ErrorCode::invalid_argument, "session.run",
            "value '" + feed_labels[order[i].second] + "' is fed twice (as '" + feed_labels[order[i - 1].second] +
                "' too)",
            loc);
  std::vector<int> fed;
  for (const auto& o : order) fed.push_back(o.first);

  std::shared_ptr<const Compiled> c = compiled_for(fetches, fed, fetch_labels, loc);
  std::vector<Tensor> args;
  args.reserve(c->fed.size());
  size_t j = 0;
  for (int id : c->fed) {  // both sorted by value id
    while (order[j].first != id) ++j;
    args.push_back(feeds[order[j].second].second);
  }
  last_count_.store(c->node_count);
  if (observer) return c->plan->run_observed(args, *observer, loc);
  return c->plan->run(args, loc);
}

std::shared_ptr<xf::Plan> Session::plan_for(const std::vector<int>& fetches, const std::vector<int>& fed) {
  const int nv = static_cast<int>(graph_.values.size());
  std::vector<std::string> labels;
  for (int id : fetches) {
    if (id < 0 || id >= nv) throw NotFound("[session] value " + std::to_string(id) + " does not exist");
    labels.push_back(name_of(id).empty() ? "value " + std::to_string(id) : name_of(id));
  }
  std::vector<int> sorted = fed;
  std::sort(sorted.begin(), sorted.end());
  for (int id : sorted)
    if (id < 0 || id >= nv) throw NotFound("[session] value " + std::to_string(id) + " does not exist");
  return compiled_for(fetches, sorted, labels, Loc::current())->plan;
}

std::shared_ptr<const Session::Compiled> Session::compiled_for(const std::vector<int>& fetches, const std::vector<int>& fed,
                                                       const std::vector<std::string>& fetch_labels, Loc loc) {
  auto key = std::make_pair(fetches, fed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second;
  }
  const size_t nv = graph_.values.size();
  std::vector<char> is_fed(nv, 0);
  for (int id : fed) is_fed[id] = 1;

  auto label_of = [&](int id) {
    std::string n = name_of(id);
    return n.empty() ? "value " + std::to_string(id) : n;
  };
  // Walk back from every fetch to fed values, constants and placeholders.
  std::vector<char> needed_value(nv, 0), needed_node(graph_.nodes.size(), 0);
  auto walk = [&](int from, std::vector<char>& values, std::vector<char>& nodes, std::vector<int>& missing) {
    std::vector<int> stack{from};
    while (!stack.empty()) {
      int id = stack.back();
      stack.pop_back();
      if (values[id]) continue;
      values[id] = 1;
      const GraphValue& v = graph_.values[id];
      if (is_fed[id] || v.kind == GraphValue::Kind::constant) continue;
      if (v.kind == GraphValue::Kind::placeholder) {
        missing.push_back(id);
        continue;
      }
      if (nodes[v.producer]) continue;
      nodes[v.producer] = 1;
      for (int in : graph_.nodes[v.producer].inputs) stack.push_back(in);
    }
  };
  for (size_t f = 0; f < fetches.size(); ++f) {
    std::vector<int> missing;
    walk(fetches[f], needed_value, needed_node, missing);
    if (!missing.empty()) {
      std::sort(missing.begin(), missing.end());
      std::string names;
      for (size_t i = 0; i < missing.size(); ++i)
        names += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + ("'" + label_of(missing[i]) + "'");
      raise(ErrorCode::invalid_argument, "session.run",
            "fetch '" + fetch_labels[f] + "' needs placeholder" + (missing.size() > 1 ? "s " : " ") + names +
                (missing.size() > 1 ? ", which are" : ", which is") + " not fed",
            loc);
    }
  }
  // A guard (a host read the trace made) is checked whenever this run's feeds determine its value,
  // as a replay of the trace checks it; a guard that needs an unfed placeholder cannot apply.
  std::vector<int> guards;
  if (!fetches.empty())
    for (size_t i = 0; i < graph_.guards.size(); ++i) {
      int gv = graph_.guards[i].value;
      if (is_fed[gv]) continue;
      std::vector<char> values = needed_value, nodes = needed_node;
      std::vector<int> missing;
      walk(gv, values, nodes, missing);
      if (!missing.empty()) continue;
      needed_value.swap(values);
      needed_node.swap(nodes);
      guards.push_back(static_cast<int>(i));
    }

  auto compiled = std::make_shared<Compiled>();
  Graph sub;
  std::vector<int> remap(nv, -1);
  for (int id : fed)
    if (needed_value[id]) {
      const GraphValue& v = graph_.values[id];
      remap[id] = sub.add_placeholder(v.dtype, v.shape, label_of(id));
      compiled->fed.push_back(id);
    }
  for (const GraphValue& v : graph_.values)
    if (needed_value[v.id] && remap[v.id] < 0 && v.kind == GraphValue::Kind::constant)
      remap[v.id] = sub.add_constant(v.constant);
  for (const GraphNode& n : graph_.nodes) {
    if (!needed_node[n.id]) continue;
    std::vector<int> ins;
    for (int id : n.inputs) ins.push_back(remap[id]);
    std::vector<std::pair<DType, Shape>> outs;
    for (int id : n.outputs) outs.emplace_back(graph_.values[id].dtype, graph_.values[id].shape);
    int node = sub.add_node(n.op, n.attrs, std::move(ins), outs, n.scope, n.file, n.line);
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (remap[n.outputs[k]] < 0) remap[n.outputs[k]] = sub.nodes[node].outputs[k];
  }
  for (int id : fetches) sub.outputs.push_back(remap[id]);
  for (int i : guards) {
    GraphGuard g = graph_.guards[i];
    g.value = remap[g.value];
    sub.guards.push_back(std::move(g));
  }
  compiled->node_count = static_cast<int64_t>(sub.nodes.size());
  compiled->plan = std::make_shared<xf::Plan>(optimize(sub, options_.passes), options_.plan);

  std::lock_guard<std::mutex> lock(mu_);
  return plans_.emplace(key, std::move(compiled)).first->second;
}

}  // namespace xf
