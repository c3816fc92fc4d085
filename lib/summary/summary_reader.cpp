// SummaryReader: reads a run directory (docs/summaries.md). A partial last line is what a crash
// mid-write leaves and is skipped with a warning; any other bad line is corruption (DataLoss).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "summary/format.hpp"
#include "xflow/summary.hpp"

namespace xf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A malformed line: the caller adds the file and line number.
struct BadLine {
  std::string what;
};

const json& get(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw BadLine{std::string("field '") + name + "' is missing"};
  return *it;
}
std::string get_string(const json& j, const char* name) {
  const json& f = get(j, name);
  if (!f.is_string()) throw BadLine{std::string("field '") + name + "' must be a string"};
  return f.get<std::string>();
}
int64_t get_int(const json& j, const char* name) {
  const json& f = get(j, name);
  if (!f.is_number_integer()) throw BadLine{std::string("field '") + name + "' must be an integer"};
  if (f.is_number_unsigned() && f.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    throw BadLine{std::string("field '") + name + "' is out of range"};
  return f.get<int64_t>();
}
int64_t get_count(const json& j, const char* name) {
  int64_t v = get_int(j, name);
  if (v < 0) throw BadLine{std::string("field '") + name + "' must not be negative"};
  return v;
}
double to_double(const json& f, const std::string& name, bool null_ok) {
  if (f.is_number()) return f.get<double>();
  if (f.is_null() && null_ok) return std::nan("");
  if (f.is_string()) {
    const std::string& s = f.get_ref<const std::string&>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return HUGE_VAL;
    if (s == "-inf") return -HUGE_VAL;
  }
  throw BadLine{"field '" + name + "' must be a number or \"nan\", \"inf\", \"-inf\"" + (null_ok ? " or null" : "")};
}
double get_double(const json& j, const char* name, bool null_ok = false) {
  return to_double(get(j, name), name, null_ok);
}

void read_common(const json& j, std::string& tag, int64_t& step, double& wall_time) {
  tag = get_string(j, "tag");
  step = get_int(j, "step");
  wall_time = get_double(j, "wall_time");
}

ScalarEvent parse_scalar(const json& j) {
  ScalarEvent e;
  read_common(j, e.tag, e.step, e.wall_time);
  e.value = get_double(j, "value");
  return e;
}

HistogramEvent parse_histogram(const json& j) {
  HistogramEvent e;
  read_common(j, e.tag, e.step, e.wall_time);
  e.count = get_count(j, "count");
  e.min = get_double(j, "min", true);
  e.max = get_double(j, "max", true);
  e.sum = get_double(j, "sum");
  e.sum_squares = get_double(j, "sum_squares");
  e.nan_count = get_count(j, "nan_count");
  e.pos_inf_count = get_count(j, "pos_inf_count");
  e.neg_inf_count = get_count(j, "neg_inf_count");
  const json& edges = get(j, "bucket_edges");
  const json& counts = get(j, "bucket_counts");
  if (!edges.is_array()) throw BadLine{"field 'bucket_edges' must be a list"};
  if (!counts.is_array()) throw BadLine{"field 'bucket_counts' must be a list"};
  for (const json& x : edges) e.bucket_edges.push_back(to_double(x, "bucket_edges", false));
  int64_t total = 0;
  for (const json& x : counts) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0)
      throw BadLine{"field 'bucket_counts' must be a list of non-negative integers"};
    e.bucket_counts.push_back(x.get<int64_t>());
    total += e.bucket_counts.back();
  }
  if (!(e.bucket_edges.empty() && e.bucket_counts.empty()) && e.bucket_edges.size() != e.bucket_counts.size() + 1)
    throw BadLine{std::to_string(e.bucket_edges.size()) + " bucket edges do not bound " +
                  std::to_string(e.bucket_counts.size()) + " buckets"};
  if (total != e.count)
    throw BadLine{"the bucket counts add up to " + std::to_string(total) + ", not count " + std::to_string(e.count)};
  return e;
}

TextEvent parse_text(const json& j) {
  TextEvent e;
  read_common(j, e.tag, e.step, e.wall_time);
  e.text = get_string(j, "text");
  return e;
}

}  // namespace

SummaryReader::SummaryReader(const std::string& run_dir) : run_dir_(run_dir) {
  std::error_code ec;
  if (!fs::exists(run_dir, ec)) throw NotFound("[summary] run directory '" + run_dir + "' does not exist");
  if (!fs::is_directory(run_dir, ec)) throw NotFound("[summary] run directory '" + run_dir + "' is not a directory");
  reload();
}

void SummaryReader::reload() {
  scalars_.clear();
  histograms_.clear();
  texts_.clear();
  warnings_.clear();
  for (std::string& e : errors_) e.clear();
  for (int kind = 0; kind < summary::kKinds; ++kind) {
    const char* name = summary::file_name(kind);
    std::string path = (fs::path(run_dir_) / name).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;  // no events of this kind
    std::ifstream f(path, std::ios::binary);
    if (!f) throw FailedPrecondition("[summary] cannot open '" + path + "' for reading");
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    size_t pos = 0;
    int64_t line_no = 0;
    // A malformed line is corruption unless the next line is a writer's recovery marker (the line
    // was cut by a crash and later ended by a new writer): then it is skipped with a warning.
    std::string pending;  // the error of the previous line, if it was malformed
    size_t pending_bytes = 0;
    int64_t pending_line = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) {
        // No newline: the writer died inside this line's write. Every line it finished ends in one.
        warnings_.push_back(std::string(name) + ": skipped a partial last line (" +
                            std::to_string(text.size() - pos) + " bytes)");
        break;
      }
      ++line_no;
      std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      try {
        json j;
        try {
          j = json::parse(line);
        } catch (const json::parse_error&) {
          throw BadLine{line.empty() ? std::string("the line is empty") : std::string("not valid JSON")};
        }
        if (!j.is_object()) throw BadLine{"not a JSON object"};
        if (j.contains(summary::kRecoveryKey)) {
          if (!pending.empty())
            warnings_.push_back(std::string(name) + " line " + std::to_string(pending_line) +
                                ": skipped a partial line left by a crashed writer (" +
                                std::to_string(pending_bytes) + " bytes)");
          pending.clear();
          continue;
        }
        if (!pending.empty()) break;
        switch (kind) {
          case summary::kScalars: scalars_.push_back(parse_scalar(j)); break;
          case summary::kHistograms: histograms_.push_back(parse_histogram(j)); break;
          default: texts_.push_back(parse_text(j)); break;
        }
      } catch (const BadLine& b) {
        if (!pending.empty()) break;
        pending = "[summary] " + path + " line " + std::to_string(line_no) + ": " + b.what;
        pending_bytes = line.size();
        pending_line = line_no;
      }
    }
    if (!pending.empty()) errors_[kind] = pending;
  }
}

const std::vector<ScalarEvent>& SummaryReader::scalars() const {
  if (!errors_[summary::kScalars].empty()) throw DataLoss(errors_[summary::kScalars]);
  return scalars_;
}

const std::vector<HistogramEvent>& SummaryReader::histograms() const {
  if (!errors_[summary::kHistograms].empty()) throw DataLoss(errors_[summary::kHistograms]);
  return histograms_;
}

const std::vector<TextEvent>& SummaryReader::texts() const {
  if (!errors_[summary::kTexts].empty()) throw DataLoss(errors_[summary::kTexts]);
  return texts_;
}

std::vector<std::string> SummaryReader::graph_names() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(run_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code ec2;
    if (p.extension() != ".json" || !it->is_regular_file(ec2)) continue;
    std::string stem = p.stem().string();
    if (stem.empty() || stem[0] == '.') continue;  // temporary files of add_graph
    names.push_back(stem);
  }
  if (ec) throw NotFound("[summary] cannot list run directory '" + run_dir_ + "': " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Graph SummaryReader::graph(const std::string& name) const {
  std::string path = (fs::path(run_dir_) / (name + ".json")).string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw NotFound("[summary] run '" + run_dir_ + "' has no graph '" + name + "' (" + path + ")");
  return Graph::load(path);
}

}  // namespace xf
