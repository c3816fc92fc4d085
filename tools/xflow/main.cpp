// The `xflow` command (docs/viewer.md):
//   xflow view [RUN_DIR] [--dump DIR] [--port N]  serve the web viewer, a run directory and a dump on 127.0.0.1
//   xflow dot GRAPH.json            the graph as Graphviz text
//   xflow inspect PATH [--values]   a graph JSON: nodes, ops, parameters, inputs, outputs, guards;
//                                   a checkpoint (prefix or directory), .npy/.npz file or export
//                                   directory: its tensors, and with --values their statistics;
//                                   a dump directory (xf::debug::dump_run): its index as a table
//   xflow diff A.json B.json        what changed between two graphs
//   xflow records cat|count|verify FILE... [--compression GZIP|ZLIB]
//                                   TFRecord files: records as JSON Examples, count, CRC check
//   xflow serve --model_base_path DIR  exported models over TF Serving's REST API (serve.cpp)
// A graph that cannot be read prints the library's message (NotFound, InvalidArgument) and exits 1.
#include <CLI/CLI.hpp>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/dot.hpp"
#include "xflow/graph.hpp"
#include "xflow/numerics_dump.hpp"
#include "xflow/summary.hpp"
#include "inspect_files.hpp"
#include "records.hpp"
#include "serve.hpp"
#include "xflow_build_config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A graph file read twice over: validated by the library (Graph), and as plain JSON for what the
// Graph keeps opaque (attributes by name) or leaves out (the "profile" section).
struct GraphFile {
  std::string path;
  xf::Graph graph;
  json raw;
};

std::string read_file(const std::string& path, const char* who) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw xf::InvalidArgument(std::string("[") + who + "] '" + path + "' is a directory, not a graph JSON file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw xf::NotFound(std::string("[") + who + "] cannot open '" + path + "': no such file or not readable");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

GraphFile load_graph(const std::string& path, const char* who) {
  GraphFile gf;
  gf.path = path;
  std::string text = read_file(path, who);
  try {
    gf.graph = xf::Graph::from_json(text);
  } catch (const xf::Error& e) {
    xf::throw_error(e.code(), path + ": " + e.what());
  }
  gf.raw = json::parse(text);  // from_json accepted it, so it parses
  return gf;
}

std::string spec(const xf::GraphValue& v) { return xf::shape_str(v.shape) + " " + xf::dtype_name(v.dtype); }

const char* kind_name(xf::GraphValue::Kind k) {
  switch (k) {
    case xf::GraphValue::Kind::placeholder: return "placeholder";
    case xf::GraphValue::Kind::constant: return "constant";
    case xf::GraphValue::Kind::node_output: return "node_output";
  }
  return "?";
}

// "main.cpp:42" from a full path.
std::string location(const std::string& file, int line) {
  if (file.empty()) return "(unknown location)";
  return fs::path(file).filename().string() + ":" + std::to_string(line);
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

// The label of a node for people: its scope (which already ends in the op's name) or the op.
std::string node_label(const xf::GraphNode& n) { return n.scope.empty() ? std::string(n.op.name()) : n.scope; }

// ----- dot -----

int cmd_dot(const std::string& path) {
  GraphFile gf = load_graph(path, "xflow dot");
  std::cout << xf::to_dot(gf.graph);
  return 0;
}

// ----- inspect -----

int cmd_inspect(const std::string& path, bool values) {
  int rc = xflow_cli::inspect_file(path, values, std::cout);
  if (rc >= 0) return rc;
  GraphFile gf = load_graph(path, "xflow inspect");
  const xf::Graph& g = gf.graph;
  std::cout << "graph: " << path << "\n";
  if (gf.raw.contains("schema_version") && gf.raw["schema_version"].size() == 2)
    std::cout << "schema: " << gf.raw["schema_version"][0].get<int64_t>() << "."
              << gf.raw["schema_version"][1].get<int64_t>() << "\n";
  std::cout << "nodes: " << g.nodes.size() << "\n";

  size_t n_ph = 0, n_const = 0, n_out = 0;
  int64_t param_elems = 0, param_bytes = 0, value_bytes = 0;
  for (const xf::GraphValue& v : g.values) {
    int64_t b = xf::numel(v.shape) * xf::dtype_size(v.dtype);
    value_bytes += b;
    if (v.kind == xf::GraphValue::Kind::placeholder) ++n_ph;
    if (v.kind == xf::GraphValue::Kind::node_output) ++n_out;
    if (v.kind == xf::GraphValue::Kind::constant) {
      ++n_const;
      param_elems += xf::numel(v.shape);
      param_bytes += b;
    }
  }
  std::cout << "values: " << g.values.size() << " (" << n_ph << " placeholders, " << n_const << " constants, "
            << n_out << " node outputs; " << human_bytes(static_cast<double>(value_bytes)) << " in all)\n";
  std::cout << "parameters: " << param_elems << " elements in " << n_const << " constants ("
            << human_bytes(static_cast<double>(param_bytes)) << ")\n";

  std::map<std::string, size_t> hist;
  for (const xf::GraphNode& n : g.nodes) ++hist[n.op.name()];
  std::vector<std::pair<std::string, size_t>> ops(hist.begin(), hist.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  size_t width = 0;
  for (const auto& [op, c] : ops) width = std::max(width, op.size());
  std::cout << "ops (" << ops.size() << " kinds):\n";
  for (const auto& [op, c] : ops) std::cout << "  " << op << std::string(width - op.size() + 2, ' ') << c << "\n";

  // Top-level scopes, with their node counts.
  std::map<std::string, size_t> scopes;
  for (const xf::GraphNode& n : g.nodes) {
    size_t slash = n.scope.find('/');
    if (slash != std::string::npos && slash > 0) ++scopes[n.scope.substr(0, slash)];
  }
  if (!scopes.empty()) {
    std::cout << "scopes:";
    size_t shown = 0;
    for (const auto& [s, c] : scopes) {
      if (shown++ == 20) {
        std::cout << " ... (" << scopes.size() << " in all)";
        break;
      }
      std::cout << " " << s << " (" << c << ")";
    }
    std::cout << "\n";
  }

  std::cout << "inputs (" << g.inputs.size() << "):\n";
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const xf::GraphValue& v = g.values[static_cast<size_t>(g.inputs[i])];
    std::cout << "  " << i << "  " << (v.name.empty() ? "value " + std::to_string(v.id) : v.name) << "  " << spec(v)
              << "\n";
  }
  std::cout << "outputs (" << g.outputs.size() << "):\n";
  for (size_t i = 0; i < g.outputs.size(); ++i) {
    const xf::GraphValue& v = g.values[static_cast<size_t>(g.outputs[i])];
    std::cout << "  " << i << "  value " << v.id << "  " << spec(v);
    if (v.kind == xf::GraphValue::Kind::node_output) {
      const xf::GraphNode& n = g.nodes[static_cast<size_t>(v.producer)];
      std::cout << "  from " << n.op << " (" << node_label(n) << ", " << location(n.file, n.line) << ")";
    } else {
      std::cout << "  (" << kind_name(v.kind) << ")";
    }
    std::cout << "\n";
  }
  if (g.guards.empty()) {
    std::cout << "guards: none\n";
  } else {
    std::cout << "guards (" << g.guards.size() << "):\n";
    for (const xf::GraphGuard& gd : g.guards) {
      std::cout << "  value " << gd.value << "  " << xf::shape_str(gd.expected.shape()) << " "
                << xf::dtype_name(gd.expected.dtype()) << "  read at " << location(gd.file, gd.line);
      if (xf::numel(gd.expected.shape()) <= 8) std::cout << "  expects " << gd.expected;
      std::cout << "\n";
    }
  }
  if (!g.provenance.empty()) {
    std::map<std::string, size_t> acts;
    for (const xf::GraphProvenance& p : g.provenance) ++acts[p.pass + " " + p.action];
    std::cout << "provenance (" << g.provenance.size() << "):";
    for (const auto& [a, c] : acts) std::cout << " " << a << " x" << c << ";";
    std::cout << "\n";
  }
  if (gf.raw.contains("profile") && gf.raw["profile"].is_object()) {
    const json& p = gf.raw["profile"];
    std::cout << "profile:";
    if (p.contains("seconds") && p["seconds"].is_number()) std::cout << " " << p["seconds"].get<double>() * 1e3 << " ms";
    if (p.contains("peak_bytes") && p["peak_bytes"].is_number())
      std::cout << ", peak " << human_bytes(p["peak_bytes"].get<double>());
    if (p.contains("steps") && p["steps"].is_array()) std::cout << ", " << p["steps"].size() << " steps";
    std::cout << "\n";
  }
  return 0;
}

// ----- diff -----

// Nodes are matched by (scope, op): the k-th node with a key in A is the k-th with that key in B.
std::map<std::pair<std::string, std::string>, std::vector<int>> nodes_by_key(const xf::Graph& g) {
  std::map<std::pair<std::string, std::string>, std::vector<int>> m;
  for (const xf::GraphNode& n : g.nodes) m[{n.scope, n.op.name()}].push_back(n.id);
  return m;
}

// "dense/matmul", "dense/add#2" for the second node with that key; the op is added in brackets
// when the scope's leaf is not the op's name (a hand-made or loaded graph).
std::string keyed_label(const xf::GraphNode& n, size_t k) {
  std::string s = node_label(n);
  if (!n.scope.empty() && n.scope.substr(n.scope.find_last_of('/') + 1) != n.op) s += " [" + std::string(n.op.name()) + "]";
  if (k > 0) s += "#" + std::to_string(k + 1);
  return s;
}

std::string outputs_spec(const xf::Graph& g, const xf::GraphNode& n) {
  std::string s;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (i) s += ", ";
    s += spec(g.values[static_cast<size_t>(n.outputs[i])]);
  }
  return s;
}

const json& raw_attrs(const GraphFile& gf, int node) {
  static const json empty = json::object();
  const json& nodes = gf.raw.at("nodes");
  const json& n = nodes.at(static_cast<size_t>(node));
  return n.contains("attrs") ? n.at("attrs") : empty;
}

std::string value_desc(const xf::Graph& g, int vid) {
  const xf::GraphValue& v = g.values[static_cast<size_t>(vid)];
  std::string s = spec(v);
  if (!v.name.empty()) s = v.name + " " + s;
  return s;
}

int cmd_diff(const std::string& pa, const std::string& pb, bool exit_code) {
  GraphFile A = load_graph(pa, "xflow diff");
  GraphFile B = load_graph(pb, "xflow diff");
  const xf::Graph& a = A.graph;
  const xf::Graph& b = B.graph;
  std::cout << "--- " << pa << " (" << a.nodes.size() << " nodes)\n";
  std::cout << "+++ " << pb << " (" << b.nodes.size() << " nodes)\n";

  auto ka = nodes_by_key(a), kb = nodes_by_key(b);
  std::vector<std::string> added, removed, attr_changes, shape_changes, io_changes;
  // Walk the keys in A's execution order first, then B's new ones, so the report reads top-down.
  std::vector<std::pair<std::string, std::string>> order;
  std::set<std::pair<std::string, std::string>> seen;
  for (const xf::Graph* g : {&a, &b})
    for (const xf::GraphNode& n : g->nodes)
      if (seen.insert({n.scope, n.op.name()}).second) order.push_back({n.scope, n.op.name()});

  for (const auto& key : order) {
    const std::vector<int>& va = ka.count(key) ? ka[key] : std::vector<int>{};
    const std::vector<int>& vb = kb.count(key) ? kb[key] : std::vector<int>{};
    size_t common = std::min(va.size(), vb.size());
    for (size_t k = 0; k < common; ++k) {
      const xf::GraphNode& na = a.nodes[static_cast<size_t>(va[k])];
      const xf::GraphNode& nb = b.nodes[static_cast<size_t>(vb[k])];
      std::string label = keyed_label(na, k);
      const json& aa = raw_attrs(A, na.id);
      const json& ab = raw_attrs(B, nb.id);
      std::set<std::string> names;
      for (auto it = aa.begin(); it != aa.end(); ++it) names.insert(it.key());
      for (auto it = ab.begin(); it != ab.end(); ++it) names.insert(it.key());
      for (const std::string& name : names) {
        std::string va_s = aa.contains(name) ? aa.at(name).dump() : "(none)";
        std::string vb_s = ab.contains(name) ? ab.at(name).dump() : "(none)";
        if (va_s != vb_s) attr_changes.push_back(label + ": " + name + " " + va_s + " -> " + vb_s);
      }
      std::string oa = outputs_spec(a, na), ob = outputs_spec(b, nb);
      if (oa != ob) shape_changes.push_back(label + ": " + oa + " -> " + ob);
      if (na.inputs.size() != nb.inputs.size())
        shape_changes.push_back(label + ": " + std::to_string(na.inputs.size()) + " inputs -> " +
                                std::to_string(nb.inputs.size()));
    }
    for (size_t k = common; k < va.size(); ++k) {
      const xf::GraphNode& n = a.nodes[static_cast<size_t>(va[k])];
      removed.push_back(keyed_label(n, k) + "  -> " + outputs_spec(a, n) + "  (" + location(n.file, n.line) + ")");
    }
    for (size_t k = common; k < vb.size(); ++k) {
      const xf::GraphNode& n = b.nodes[static_cast<size_t>(vb[k])];
      added.push_back(keyed_label(n, k) + "  -> " + outputs_spec(b, n) + "  (" + location(n.file, n.line) + ")");
    }
  }

  auto io = [&](const char* what, const std::vector<int>& ia, const std::vector<int>& ib) {
    size_t n = std::max(ia.size(), ib.size());
    for (size_t i = 0; i < n; ++i) {
      std::string sa = i < ia.size() ? value_desc(a, ia[i]) : "(none)";
      std::string sb = i < ib.size() ? value_desc(b, ib[i]) : "(none)";
      if (sa != sb) io_changes.push_back(std::string(what) + " " + std::to_string(i) + ": " + sa + " -> " + sb);
    }
  };
  io("input", a.inputs, b.inputs);
  io("output", a.outputs, b.outputs);

  auto section = [](const char* title, const char* mark, const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    std::cout << title << " (" << lines.size() << "):\n";
    for (const std::string& l : lines) std::cout << "  " << mark << " " << l << "\n";
  };
  section("nodes added", "+", added);
  section("nodes removed", "-", removed);
  section("attributes changed", "~", attr_changes);
  section("shapes changed", "~", shape_changes);
  section("inputs and outputs changed", "~", io_changes);

  // Counts that summarize what the lists above do not: parameters and guards.
  auto params = [](const xf::Graph& g) {
    int64_t n = 0;
    for (const xf::GraphValue& v : g.values)
      if (v.kind == xf::GraphValue::Kind::constant) n += xf::numel(v.shape);
    return n;
  };
  std::vector<std::string> other;
  if (params(a) != params(b))
    other.push_back("parameters: " + std::to_string(params(a)) + " -> " + std::to_string(params(b)) + " elements");
  if (a.guards.size() != b.guards.size())
    other.push_back("guards: " + std::to_string(a.guards.size()) + " -> " + std::to_string(b.guards.size()));
  section("other", "~", other);

  size_t total = added.size() + removed.size() + attr_changes.size() + shape_changes.size() + io_changes.size() +
                 other.size();
  if (total == 0) {
    std::cout << "no differences\n";
  } else {
    std::cout << added.size() << " added, " << removed.size() << " removed, " << attr_changes.size()
              << " attribute changes, " << shape_changes.size() << " shape changes, " << io_changes.size()
              << " input/output changes\n";
  }
  return exit_code && total != 0 ? 3 : 0;
}

// ----- view -----

// Maps a URL path below /run/ to a file of the run directory, or returns "" when the path would
// leave it: ".." components, backslashes, NUL bytes, hidden files, and symbolic links that point
// outside are refused.
std::string run_file(const fs::path& root_canonical, const std::string& rel) {
  if (rel.empty() || rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) return "";
  fs::path p = root_canonical;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == ".." || (!part.empty() && part[0] == '.')) return "";
    if (!part.empty()) p /= part;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  if (ec) return "";
  std::string cs = c.string(), rs = root_canonical.string();
  if (cs.size() <= rs.size() || cs.compare(0, rs.size(), rs) != 0 || cs[rs.size()] != '/') return "";
  if (!fs::is_regular_file(c, ec)) return "";
  return cs;
}

// With a charset parameter, so that cpp-httplib does not compress: it picks brotli at its highest
// quality, which takes seconds for a graph of a few megabytes and gains nothing on loopback.
std::string content_type(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  if (ext == ".json") return "application/json; charset=utf-8";
  if (ext == ".jsonl") return "application/x-ndjson; charset=utf-8";
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".txt" || ext == ".md" || ext == ".dot" || ext == ".log") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// The files of the run directory (recursively; runs may sit in subfolders), without hidden ones.
json run_index(const fs::path& root) {
  json files = json::array();
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  size_t count = 0;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    std::string name = e.path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (e.is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it.depth() > 4) {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code fec;
    if (e.is_symlink(fec) || !e.is_regular_file(fec)) continue;
    json f = {{"path", fs::relative(e.path(), root).generic_string()}, {"size", e.file_size(fec)}};
    files.push_back(std::move(f));
    if (++count >= 10000) break;
  }
  // A folder with TensorBoard event files (TensorFlow's or xflow's) also lists the JSON-lines files
  // the viewer reads; they are served converted from the events (event_jsonl below).
  std::set<std::string> listed, event_dirs;
  for (const json& f : files) {
    std::string path = f["path"].get<std::string>();
    listed.insert(path);
    fs::path rel(path);
    if (rel.filename().string().find("tfevents") != std::string::npos) event_dirs.insert(rel.parent_path().generic_string());
  }
  for (const std::string& d : event_dirs)
    for (const char* name : {"scalars.jsonl", "histograms.jsonl", "text.jsonl"}) {
      std::string path = d.empty() ? name : d + "/" + name;
      if (!listed.count(path)) files.push_back({{"path", path}, {"size", 0}, {"from", "tfevents"}});
    }
  std::sort(files.begin(), files.end(), [](const json& x, const json& y) { return x["path"] < y["path"]; });
  return {{"format", "xflow.run_index"}, {"run", root.filename().string()}, {"files", std::move(files)}};
}

// JSON has no NaN or Inf: the strings "nan", "inf", "-inf" (docs/summaries.md).
json json_double(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

// DIR/scalars.jsonl, DIR/histograms.jsonl or DIR/text.jsonl of a folder holding TensorBoard event
// files: the folder's events as SummaryReader reads them (its JSON-lines file, then the event
// files), written as JSON lines. False (nothing answered) for any other path.
bool event_jsonl(const fs::path& root, const std::string& rel, httplib::Response& res) {
  fs::path r(rel);
  std::string name = r.filename().string();
  if (name != "scalars.jsonl" && name != "histograms.jsonl" && name != "text.jsonl") return false;
  // The folder, checked as run_file checks files: inside the run, no hidden or ".." parts.
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) return false;
  for (const auto& part : r.parent_path()) {
    std::string p = part.string();
    if (p == ".." || (!p.empty() && p[0] == '.')) return false;
  }
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(root / r.parent_path(), ec);
  if (ec || !fs::is_directory(dir, ec)) return false;
  std::string ds = dir.string(), rs = root.string();
  if (ds != rs && (ds.size() <= rs.size() || ds.compare(0, rs.size(), rs) != 0 || ds[rs.size()] != '/')) return false;
  bool has_events = false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string n = it->path().filename().string();
    if (n.find("tfevents") != std::string::npos && n[0] != '.') has_events = true;
  }
  if (!has_events) return false;
  std::string out;
  try {
    xf::SummaryReader reader(dir.string());
    if (name == "scalars.jsonl") {
      for (const auto& e : reader.scalars())
        out += json({{"tag", e.tag}, {"step", e.step}, {"wall_time", json_double(e.wall_time)},
                     {"value", json_double(e.value)}}).dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    } else if (name == "text.jsonl") {
      for (const auto& e : reader.texts())
        out += json({{"tag", e.tag}, {"step", e.step}, {"wall_time", json_double(e.wall_time)}, {"text", e.text}})
                   .dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    } else {
      for (const auto& e : reader.histograms()) {
        json j = {{"tag", e.tag}, {"step", e.step}, {"wall_time", json_double(e.wall_time)}, {"count", e.count}};
        j["min"] = e.count ? json_double(e.min) : json(nullptr);
        j["max"] = e.count ? json_double(e.max) : json(nullptr);
        j["sum"] = json_double(e.sum);
        j["sum_squares"] = json_double(e.sum_squares);
        j["nan_count"] = e.nan_count;
        j["pos_inf_count"] = e.pos_inf_count;
        j["neg_inf_count"] = e.neg_inf_count;
        json edges = json::array();
        for (double x : e.bucket_edges) edges.push_back(json_double(x));
        j["bucket_edges"] = edges;
        j["bucket_counts"] = e.bucket_counts;
        out += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
      }
    }
  } catch (const std::exception& e) {
    res.status = 500;
    res.set_content(std::string("cannot read the event files of ") + rel + ": " + e.what() + "\n",
                    "text/plain; charset=utf-8");
    return true;
  }
  res.set_content(out, "application/x-ndjson; charset=utf-8");
  return true;
}

const char* kMissingPage =
    "<!doctype html><meta charset=utf-8><title>xflow viewer</title>"
    "<p>The viewer page is not built. Build it with <code>./dev.sh run</code> or "
    "<code>cd tools/viewer &amp;&amp; npm ci &amp;&amp; npm run build</code>, or pass "
    "<code>--page tools/viewer/dist/index.html</code>.</p>"
    "<p>The run directory is served at <a href=\"/run/index.json\">/run/index.json</a>.</p>";

// The viewer page: installed next to this program (<bindir>/../<datadir>/xflow/viewer/index.html),
// else the one built in the source tree (tools/viewer/dist/index.html).
std::string default_viewer_page() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  fs::path viewer_dir = XFLOW_VIEWER_INSTALL_DIR;
  if (!ec && viewer_dir.is_relative()) {
    fs::path prefix = exe.parent_path();
    for (const auto& part : fs::path(XFLOW_BINDIR)) {
      (void)part;
      prefix = prefix.parent_path();
    }
    fs::path installed = prefix / viewer_dir / "index.html";
    if (fs::is_regular_file(installed, ec)) return installed.string();
  } else if (fs::is_regular_file(viewer_dir / "index.html", ec)) {
    return (viewer_dir / "index.html").string();
  }
  return XFLOW_VIEWER_SOURCE_PAGE;
}

// Whether DIR holds a dump of xf::debug::dump_run (an index.json of format "xflow-dump").
bool is_dump_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.json", ec)) return false;
  std::ifstream f(fs::path(dir) / "index.json");
  json j = json::parse(f, nullptr, false);
  return j.is_object() && j.value("format", "") == "xflow-dump";
}

// Checks a directory given to `xflow view` and resolves it; "" (after a message) when unusable.
fs::path view_dir(const std::string& dir, const char* what) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    std::cerr << "xflow view: " << what << " '" << dir << "' does not exist\n";
    return {};
  }
  if (!fs::is_directory(dir, ec)) {
    std::cerr << "xflow view: '" << dir << "' is not a directory\n";
    return {};
  }
  fs::path root = fs::canonical(dir, ec);
  if (ec) {
    std::cerr << "xflow view: cannot resolve '" << dir << "': " << ec.message() << "\n";
    return {};
  }
  return root;
}

int cmd_view(std::string run_dir, std::string dump_dir, int port, std::string page) {
  std::error_code ec;
  if (run_dir.empty() && dump_dir.empty()) {
    std::cerr << "xflow view: give a run directory, --dump DUMP_DIR, or both (xflow view --help)\n";
    return 2;
  }
  // A dump directory given as the run directory is served as --dump: its own index.json would be
  // hidden behind the run listing (/run/index.json).
  if (dump_dir.empty() && is_dump_dir(run_dir)) std::swap(run_dir, dump_dir);
  if (port < 0 || port > 65535) {
    std::cerr << "xflow view: --port must be in 0..65535 (0 picks a free port), got " << port << "\n";
    return 1;
  }
  fs::path root, dump_root;
  if (!run_dir.empty() && (root = view_dir(run_dir, "run directory")).empty()) return 1;
  if (!dump_dir.empty()) {
    if ((dump_root = view_dir(dump_dir, "dump directory")).empty()) return 1;
    try {
      xf::debug::read_dump_index(dump_root.string());  // NotFound or DataLoss, with the reason
    } catch (const xf::Error& e) {
      std::cerr << "xflow view: --dump '" << dump_dir << "': " << e.what() << "\n";
      return 1;
    }
  }
  if (page.empty()) page = default_viewer_page();
  if (page.empty() || !fs::is_regular_file(page, ec))
    std::cerr << "xflow view: warning: the viewer page '" << page
              << "' is missing (build it: cd tools/viewer && npm ci && npm run build); serving a placeholder\n";

  httplib::Server svr;
  auto no_cache = [](httplib::Response& res) { res.set_header("Cache-Control", "no-store"); };
  // A file below `base` (the run or the dump directory), or 404.
  auto serve_file = [](const fs::path& base, const std::string& rel, httplib::Response& res) {
    std::string file = base.empty() ? "" : run_file(base, rel);
    if (file.empty()) {
      res.status = 404;
      res.set_content("not found: " + rel + "\n", "text/plain; charset=utf-8");
      return;
    }
    std::ifstream f(file, std::ios::binary);
    if (!f) {
      res.status = 404;
      res.set_content("cannot read: " + rel + "\n", "text/plain; charset=utf-8");
      return;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    res.set_content(ss.str(), content_type(file).c_str());
  };
  svr.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    std::ifstream f(page, std::ios::binary);
    std::string body = kMissingPage;
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      body = ss.str();
    }
    no_cache(res);
    res.set_content(body, "text/html; charset=utf-8");
  });
  svr.Get("/run/index.json", [&](const httplib::Request&, httplib::Response& res) {
    no_cache(res);
    json index = root.empty() ? json{{"format", "xflow.run_index"}, {"run", dump_root.filename().string()}, {"files", json::array()}}
                              : run_index(root);
    if (!dump_root.empty()) index["dump"] = dump_root.filename().string();
    res.set_content(index.dump(), "application/json; charset=utf-8");
  });
  svr.Get(R"(/run/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    no_cache(res);
    if (!root.empty() && event_jsonl(root, req.matches[1], res)) return;
    serve_file(root, req.matches[1], res);
  });
  svr.Get(R"(/dump/(.+))", [&](const httplib::Request& req, httplib::Response& res) {
    no_cache(res);
    serve_file(dump_root, req.matches[1], res);
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) res.set_content(std::to_string(res.status) + "\n", "text/plain; charset=utf-8");
  });

  int bound = port;
  if (port == 0) {
    bound = svr.bind_to_any_port("127.0.0.1");
    if (bound <= 0) {
      std::cerr << "xflow view: cannot listen on 127.0.0.1\n";
      return 1;
    }
  } else if (!svr.bind_to_port("127.0.0.1", port)) {
    std::cerr << "xflow view: cannot listen on 127.0.0.1:" << port << " (is the port in use? --port 0 picks a free one)\n";
    return 1;
  }
  std::string what = root.empty() ? "the dump " + dump_root.string()
                                  : root.string() + (dump_root.empty() ? "" : " and the dump " + dump_root.string());
  std::cout << "xflow view: serving " << what << " at http://127.0.0.1:" << bound << "/" << std::endl;
  if (!svr.listen_after_bind()) {
    std::cerr << "xflow view: the server stopped with an error\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"xflow: view runs and graphs written by xflow (docs/viewer.md)", "xflow"};
  app.require_subcommand(1);

  std::string run_dir, dump_dir, page;
  int port = 6060;
  CLI::App* view = app.add_subcommand("view", "Serve the web viewer and RUN_DIR (and a dump, --dump) on http://127.0.0.1:PORT/");
  view->add_option("RUN_DIR", run_dir, "run directory (graphs *.json, scalars.jsonl, ...); a dump directory is served as --dump");
  view->add_option("--dump", dump_dir, "a dump directory of xf::debug::dump_run: its graph, with each node's dumped statistics");
  view->add_option("--port,-p", port, "port on 127.0.0.1; 0 picks a free one")->capture_default_str();
  view->add_option("--page", page, "the viewer page to serve (default: the installed one, else the one built in tools/viewer/dist)");

  std::string dot_path;
  CLI::App* dot = app.add_subcommand("dot", "Print a graph JSON as Graphviz DOT text");
  dot->add_option("GRAPH", dot_path, "graph JSON file")->required();

  std::string inspect_path;
  bool inspect_values = false;
  CLI::App* inspect = app.add_subcommand("inspect", "Summarize a graph JSON, a checkpoint (prefix or directory), a .npy/.npz file, an export directory or a dump directory");
  inspect->add_option("PATH", inspect_path, "graph JSON, checkpoint prefix or directory, .npy/.npz, export directory, dump directory")->required();
  inspect->add_flag("--values", inspect_values, "tensors' statistics: min, max, mean, NaN and Inf counts");

  std::string diff_a, diff_b;
  bool exit_code = false;
  CLI::App* diff = app.add_subcommand("diff", "Show what changed between two graph JSON files");
  diff->add_option("A", diff_a, "the old graph")->required();
  diff->add_option("B", diff_b, "the new graph")->required();
  diff->add_flag("--exit-code", exit_code, "exit with 3 when the graphs differ (1 stays for errors)");

  xflow_cli::RecordsOptions records_opts;
  CLI::App* records = xflow_cli::add_records_command(app, records_opts);
  CLI::App* serve = add_serve_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  try {
    if (*view) return cmd_view(run_dir, dump_dir, port, page);
    if (*dot) return cmd_dot(dot_path);
    if (*inspect) return cmd_inspect(inspect_path, inspect_values);
    if (*diff) return cmd_diff(diff_a, diff_b, exit_code);
    if (*records) return xflow_cli::cmd_records(records_opts);
    if (*serve) return run_serve_command();
  } catch (const xf::Error& e) {
    std::cerr << "xflow: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "xflow: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
