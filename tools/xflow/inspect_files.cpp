#include "inspect_files.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <fstream>
#include <sstream>
#include <vector>

#include "xflow/checkpoint.hpp"
#include "xflow/meta_graph.hpp"
#include "xflow/npy.hpp"
#include "xflow/numerics_dump.hpp"
#include "xflow/saved_model.hpp"
#include "xflow/error.hpp"
#include "xflow/shape.hpp"
#include "xflow/tensor.hpp"

namespace fs = std::filesystem;

namespace xflow_cli {

namespace {

bool exists(const std::string& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// TensorFlow's spelling, "[2, 3]" (xf::shape_str prints "(2, 3)").
std::string bracket_shape_str(const xf::Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// min, max, mean over the finite values, and how many are NaN or infinite (TensorFlow's
// inspect_checkpoint prints the values; a summary is what one reads for big tensors).
struct Stats {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  int64_t finite = 0, nan = 0, inf = 0;
};

template <class T>
void accumulate(const T* p, int64_t n, Stats& s) {
  for (int64_t i = 0; i < n; ++i) {
    double v = static_cast<double>(p[i]);
    if (std::isnan(v)) { ++s.nan; continue; }
    if (std::isinf(v)) { ++s.inf; continue; }
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    s.sum += v;
    ++s.finite;
  }
}

std::string stats_of(const xf::Tensor& t0) {
  xf::Tensor t = t0.contiguous();
  Stats s;
  int64_t n = xf::numel(t.shape());
  switch (t.dtype()) {
    case xf::DType::bool_:
    case xf::DType::uint8: accumulate(t.data<uint8_t>(), n, s); break;
    case xf::DType::int32: accumulate(t.data<int32_t>(), n, s); break;
    case xf::DType::int64: accumulate(t.data<int64_t>(), n, s); break;
    case xf::DType::float32: accumulate(t.data<float>(), n, s); break;
    case xf::DType::float64: accumulate(t.data<double>(), n, s); break;
  }
  std::ostringstream o;
  o << std::setprecision(6);
  if (s.finite == 0) {
    o << "no finite values";
  } else {
    o << "min " << s.min << "  max " << s.max << "  mean " << s.sum / static_cast<double>(s.finite);
  }
  if (s.nan) o << "  NaN " << s.nan;
  if (s.inf) o << "  Inf " << s.inf;
  return o.str();
}

int inspect_checkpoint(const std::string& prefix, bool values, std::ostream& out) {
  xf::io::BundleReader r(prefix);
  out << "checkpoint: " << prefix << " (TensorFlow V2 tensor bundle)\n";
  size_t width = 0;
  int64_t bytes = 0;
  for (const auto& e : r.entries()) {
    width = std::max(width, e.key.size());
    bytes += e.size;
  }
  out << "tensors: " << r.entries().size() << " (" << bytes << " bytes of data)\n";
  for (const auto& e : r.entries()) {
    out << "  " << e.key << std::string(width - e.key.size() + 2, ' ') << e.tf_dtype_name << " "
        << bracket_shape_str(e.shape);
    if (values) {
      if (e.dtype) {
        out << "  " << stats_of(r.read(e.key));
      } else {
        out << "  (values of dtype " << e.tf_dtype_name << " are not read)";
      }
    }
    out << "\n";
  }
  return 0;
}

void print_tensor(const std::string& name, size_t width, const xf::Tensor& t, bool values, std::ostream& out) {
  out << "  " << name << std::string(width - std::min(width, name.size()) + 2, ' ') << xf::dtype_name(t.dtype())
      << " " << bracket_shape_str(t.shape());
  if (values) out << "  " << stats_of(t);
  out << "\n";
}

int inspect_npy(const std::string& path, bool values, std::ostream& out) {
  xf::Tensor t = xf::io::load_npy(path);
  out << "npy: " << path << "\n";
  print_tensor("(array)", 7, t, values, out);
  return 0;
}

int inspect_npz(const std::string& path, bool values, std::ostream& out) {
  xf::io::NpzReader r(path);
  std::vector<std::string> names = r.names();
  out << "npz: " << path << " (" << names.size() << " arrays)\n";
  size_t width = 0;
  for (const auto& n : names) width = std::max(width, n.size());
  for (const auto& n : names) print_tensor(n, width, r.read(n), values, out);
  return 0;
}

std::string sig_info(const xf::train::TensorInfo& ti) {
  return std::string(xf::dtype_name(ti.dtype)) + " " + bracket_shape_str(ti.shape);
}

void print_meta_graph(const xf::train::MetaGraph& mg, std::ostream& out) {
  out << "graph: " << mg.graph().nodes.size() << " nodes, " << mg.graph().values.size() << " values\n";
  out << "signatures: " << mg.signatures().size() << "\n";
  for (const auto& [name, sig] : mg.signatures()) {
    out << "  " << name << " (" << sig.method_name << ")\n";
    for (const auto& [in, ti] : sig.inputs)
      out << "    input  " << in << ": " << sig_info(ti)
          << (xf::train::fed_by_string_input(sig, in) ? " (parsed from Examples)" : "") << "\n";
    // DT_STRING inputs and outputs (docs/serving.md): what each feature feeds, what each looks up.
    for (const auto& [in, si] : sig.string_inputs) {
      out << "    input  " << in << ": string [-1], serialized tf.Example:";
      for (const auto& [f, spec] : si.features)
        out << " " << f << " -> " << spec.input << " (" << xf::dtype_name(spec.dtype)
            << (spec.default_value.empty() ? ", required)" : ", with a default)");
      out << "\n";
    }
    for (const auto& [o, ti] : sig.outputs) out << "    output " << o << ": " << sig_info(ti) << "\n";
    for (const auto& [o, so] : sig.string_outputs)
      out << "    output " << o << ": string, " << so.indices << " through a vocabulary of " << so.vocabulary.size()
          << " (default \"" << so.default_value << "\")\n";
  }
  out << "variables: " << mg.variable_defs().size() << "\n";
}

// A meta-graph file (export_meta_graph): JSON whose "format" is "xflow.meta_graph".
bool is_meta_graph_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char head[4096] = {};
  f.read(head, sizeof head - 1);
  return std::string(head).find("\"xflow.meta_graph\"") != std::string::npos;
}

int inspect_meta_graph(const std::string& path, std::ostream& out) {
  xf::train::ImportOptions opts;
  opts.bind = false;
  xf::train::MetaGraph mg = xf::train::import_meta_graph(path, opts);
  out << "meta-graph: " << path << "\n";
  print_meta_graph(mg, out);
  return 0;
}

int inspect_export_version(const std::string& dir, bool values, std::ostream& out) {
  out << "export: " << dir << "\n";
  inspect_meta_graph(dir + "/saved_model.json", out);
  return inspect_checkpoint(dir + "/variables/variables", values, out);
}

std::string num(double x) {
  std::ostringstream os;
  os << std::setprecision(6) << x;
  return os.str();
}

// A dump directory of xf::debug::dump_run: its index as a table, one row per value.
int inspect_dump(const std::string& dir, std::ostream& out) {
  std::vector<xf::debug::DumpEntry> entries = xf::debug::read_dump_index(dir);
  int64_t bad = 0;
  for (const auto& e : entries) bad += e.stats.bad();
  out << "dump: " << dir << " (" << entries.size() << " values, " << bad << " with NaN or Inf; graph.json)\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"value", "name", "op", "dtype", "shape", "min", "max", "mean", "NaN", "Inf", "file", "source"});
  for (const auto& e : entries) {
    bool any = e.stats.finite > 0;
    rows.push_back({std::to_string(e.value), e.name, e.op + (e.fused ? " (fused)" : ""), e.dtype, shape_str(e.shape),
                    any ? num(e.stats.min) : "-", any ? num(e.stats.max) : "-", any ? num(e.stats.mean) : "-",
                    std::to_string(e.stats.nan), std::to_string(e.stats.inf()), e.file, e.source});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    out << line << "\n";
  }
  return 0;
}

bool ends_with(const std::string& s, const char* suffix) {
  std::string x(suffix);
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

}  // namespace

int inspect_file(const std::string& path, bool values, std::ostream& out) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (exists(path + "/checkpoint")) {
      std::string latest = xf::io::latest_checkpoint(path);
      if (latest.empty())
        throw xf::NotFound(path + "/checkpoint names no checkpoint whose files exist");
      out << "state file: " << path << "/checkpoint\n";
      if (auto st = xf::io::get_checkpoint_state(path)) {
        for (const auto& p : st->all_model_checkpoint_paths) out << "  " << p << "\n";
      }
      return inspect_checkpoint(latest, values, out);
    }
    if (exists(path + "/saved_model.json")) return inspect_export_version(path, values, out);
    if (exists(path + "/index.json")) return inspect_dump(path, out);
    if (exists(path + "/variables/variables.index"))
      return inspect_checkpoint(path + "/variables/variables", values, out);
    std::vector<int64_t> versions = xf::saved_model_versions(path);
    if (!versions.empty()) {
      out << "export base: " << path << " (versions:";
      for (int64_t v : versions) out << " " << v;
      out << ")\n";
      for (const auto& e : fs::directory_iterator(path)) {
        std::string name = e.path().filename().string();
        if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            std::stoll(name) == versions.back())
          return inspect_file(e.path().string(), values, out);
      }
    }
    throw xf::InvalidArgument("'" + path +
                              "' is a directory with no `checkpoint` state file, export version, variables/variables.index "
                              "or dump index.json");
  }
  if (exists(path + ".index")) return inspect_checkpoint(path, values, out);
  if (ends_with(path, ".npy")) return inspect_npy(path, values, out);
  if (ends_with(path, ".npz")) return inspect_npz(path, values, out);
  if (exists(path) && is_meta_graph_file(path)) return inspect_meta_graph(path, out);
  return -1;
}

}  // namespace xflow_cli
