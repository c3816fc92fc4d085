// dump_run: every value of one plan run (or Session::run) to .npy files, index.json and graph.json.
#include "xflow/numerics_dump.hpp"

#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "graph/eval.hpp"
#include "xflow/npy.hpp"

namespace xf::debug {

namespace {

constexpr const char* kFormat = "xflow-dump";
constexpr int kVersion = 1;

// A copy in a buffer of its own: a step's outputs may live in the plan's arena, which later steps
// reuse.
Tensor own_copy(const Tensor& t) {
  Tensor c = t.contiguous();
  return Tensor::from_bytes(c.raw_data(), static_cast<size_t>(c.size()), c.dtype(), c.shape());
}

std::string node_name(const GraphNode& n, int k) {
  std::string base = n.scope.empty() ? std::string(n.op.name()) : n.scope;
  return k == 0 ? base : base + ":" + std::to_string(k);
}

nlohmann::json finite_or_null(const ValueSummary& s, double x) {
  if (s.finite == 0) return nullptr;
  return x;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw DataLoss("[dump_run] cannot write " + path.string());
}

// Runs `run` with an observer that collects every value of `g` (the plan's graph), then writes the
// dump. `inputs[i]` is the value of g.inputs[i].
std::vector<Tensor> dump(const Graph& g, const std::vector<PlanStep>& steps, const std::vector<Tensor>& inputs,
                         const std::function<std::vector<Tensor>(const Plan::StepObserver&)>& run,
                         const std::string& dir, Loc loc) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    raise(ErrorCode::invalid_argument, "dump_run", "cannot create the directory '" + dir + "': " + ec.message(), loc);
  std::vector<Tensor> env(g.values.size());
  std::vector<int> step_of(g.values.size(), -1);
  std::vector<char> fused(g.values.size(), 0);
  for (size_t i = 0; i < g.inputs.size() && i < inputs.size(); ++i) env[g.inputs[i]] = inputs[i];
  for (const GraphValue& v : g.values)
    if (v.kind == GraphValue::Kind::constant) env[v.id] = v.constant;
  std::vector<Tensor> result;
  std::string error;
  std::exception_ptr failure;
  auto observe = [&](int si, const std::vector<std::pair<int, Tensor>>& vals) {
    for (const auto& [v, t] : vals) {
      env[v] = own_copy(t);
      step_of[v] = si;
    }
    const PlanStep& s = steps[static_cast<size_t>(si)];
    if (!s.fused) return;
    // What the fused kernel kept in registers, node by node with the eager kernels.
    for (int m : s.nodes) {
      const GraphNode& n = g.nodes[static_cast<size_t>(m)];
      for (int v : n.outputs) fused[v] = 1;
      if (env[n.outputs[0]].defined() && step_of[n.outputs[0]] == si) continue;
      xf::detail::eval_node(g, n, env);
      for (int v : n.outputs) step_of[v] = si;
    }
  };
  // A run that fails (a check_numerics, the numerics-checking mode, a kernel error) still leaves the
  // values computed before the failure on disk, with the error in the index: the dump of the run
  // that went wrong is the one worth reading.
  try {
    result = run(observe);
  } catch (const Error& e) {
    error = e.what();
    failure = std::current_exception();
  }

  nlohmann::json values = nlohmann::json::array();
  for (const GraphValue& v : g.values) {
    if (v.kind == GraphValue::Kind::constant || !env[v.id].defined()) continue;
    const Tensor& t = env[v.id];
    std::string file = "value_" + std::to_string(v.id) + ".npy";
    io::save_npy((fs::path(dir) / file).string(), t, false);
    ValueSummary s = summarize(t);
    nlohmann::json e;
    e["value"] = v.id;
    if (v.kind == GraphValue::Kind::placeholder) {
      e["name"] = v.name;
      e["kind"] = "input";
      e["node"] = -1;
      e["op"] = "placeholder";
      e["step"] = -1;
      e["source"] = "";
    } else {
      const GraphNode& n = g.nodes[static_cast<size_t>(v.producer)];
      e["name"] = node_name(n, v.output_index);
      e["kind"] = "node";
      e["node"] = n.id;
      e["op"] = n.op.name();
      e["step"] = step_of[v.id];
      e["source"] = Loc::at(n.file.c_str(), n.line).str();
    }
    e["fused"] = static_cast<bool>(fused[v.id]);
    e["dtype"] = dtype_name(t.dtype());
    e["shape"] = t.shape();
    e["file"] = file;
    e["count"] = s.count;
    e["min"] = finite_or_null(s, s.min);
    e["max"] = finite_or_null(s, s.max);
    e["mean"] = finite_or_null(s, s.mean);
    e["nan"] = s.nan;
    e["pos_inf"] = s.pos_inf;
    e["neg_inf"] = s.neg_inf;
    values.push_back(std::move(e));
  }
  nlohmann::json index;
  index["format"] = kFormat;
  index["version"] = kVersion;
  index["graph"] = "graph.json";
  index["values"] = std::move(values);
  index["error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
  write_text(fs::path(dir) / "graph.json", g.to_json(1));
  write_text(fs::path(dir) / "index.json", index.dump(1));
  if (failure) std::rethrow_exception(failure);
  return result;
}

}  // namespace

std::vector<Tensor> dump_run(Plan& plan, const std::vector<Tensor>& inputs, const std::string& dir, Loc loc) {
  return dump(plan.graph(), plan.steps(), inputs,
              [&](const Plan::StepObserver& obs) { return plan.run_observed(inputs, obs, loc); }, dir, loc);
}

std::vector<Tensor> dump_run(Session& session, const std::vector<std::string>& fetches,
                             const std::vector<std::pair<std::string, Tensor>>& feeds, const std::string& dir,
                             Loc loc) {
  auto resolve = [&](const std::string& name, const char* what) {
    try {
      return session.value_id(name);
    } catch (const NotFound&) {
      raise(ErrorCode::not_found, "dump_run", std::string(what) + " '" + name + "' names no value of the graph", loc);
    }
  };
  std::vector<int> fetch_ids, fed;
  std::vector<std::pair<int, Tensor>> feed_ids;
  for (const std::string& f : fetches) fetch_ids.push_back(resolve(f, "fetch"));
  for (const auto& [name, t] : feeds) {
    feed_ids.emplace_back(resolve(name, "feed"), t);
    fed.push_back(feed_ids.back().first);
  }
  // The plan the session runs for these fetches and fed values; its placeholders are the fed values
  // it needs, named as the session names them.
  std::shared_ptr<Plan> plan = session.plan_for(fetch_ids, fed);
  const Graph& g = plan->graph();
  std::vector<Tensor> inputs;
  for (int id : g.inputs) {
    const std::string& pname = g.values[static_cast<size_t>(id)].name;
    Tensor t;
    for (const auto& [fid, ft] : feed_ids) {
      std::string n = session.name_of(fid);
      if ((n.empty() ? "value " + std::to_string(fid) : n) == pname) t = ft;
    }
    inputs.push_back(t);
  }
  return dump(g, plan->steps(), inputs,
              [&](const Plan::StepObserver& obs) { return session.run_observed(fetch_ids, feed_ids, obs, loc); }, dir,
              loc);
}

std::vector<DumpEntry> read_dump_index(const std::string& dir) {
  std::string path = (std::filesystem::path(dir) / "index.json").string();
  std::ifstream f(path);
  if (!f) throw NotFound("[dump] no dump index at " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const std::exception& e) {
    throw DataLoss("[dump] " + path + " is not JSON: " + e.what());
  }
  if (!j.is_object() || j.value("format", "") != kFormat)
    throw DataLoss("[dump] " + path + " is not an xflow dump index (no \"format\": \"" + kFormat + "\")");
  std::vector<DumpEntry> out;
  try {
    for (const auto& e : j.at("values")) {
      DumpEntry d;
      d.value = e.at("value").get<int>();
      d.name = e.at("name").get<std::string>();
      d.kind = e.at("kind").get<std::string>();
      d.node = e.at("node").get<int>();
      d.op = e.at("op").get<std::string>();
      d.step = e.at("step").get<int>();
      d.fused = e.at("fused").get<bool>();
      d.dtype = e.at("dtype").get<std::string>();
      d.shape = e.at("shape").get<Shape>();
      d.file = e.at("file").get<std::string>();
      d.source = e.at("source").get<std::string>();
      d.stats.count = e.at("count").get<int64_t>();
      d.stats.nan = e.at("nan").get<int64_t>();
      d.stats.pos_inf = e.at("pos_inf").get<int64_t>();
      d.stats.neg_inf = e.at("neg_inf").get<int64_t>();
      d.stats.finite = d.stats.count - d.stats.nan - d.stats.inf();
      if (!e.at("min").is_null()) {
        d.stats.min = e.at("min").get<double>();
        d.stats.max = e.at("max").get<double>();
        d.stats.mean = e.at("mean").get<double>();
      }
      out.push_back(std::move(d));
    }
  } catch (const nlohmann::json::exception& e) {
    throw DataLoss("[dump] " + path + ": " + e.what());
  }
  return out;
}

}  // namespace xf::debug
