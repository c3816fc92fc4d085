// SummaryReader: reads a run directory (docs/summaries.md). A partial last line is what a crash
// mid-write leaves and is skipped with a warning; any other bad line is corruption (DataLoss).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/event_file.hpp"
#include "summary/format.hpp"
#include "xflow/summary.hpp"
#include "xflow/tfrecord.hpp"

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

// A HistogramProto as a HistogramEvent: edges from `min` through the bucket limits, TensorFlow's
// last limit (DBL_MAX) and limits beyond `max` becoming `max`; empty buckets at both ends dropped
// (TensorFlow's own histograms have dozens around the data).
HistogramEvent from_histogram_proto(const io::events::Histogram& h) {
  HistogramEvent e;
  e.count = static_cast<int64_t>(std::llround(std::isfinite(h.num) && h.num >= 0 && h.num < 9e18 ? h.num : 0));
  e.min = e.count ? h.min : std::nan("");
  e.max = e.count ? h.max : std::nan("");
  e.sum = h.sum;
  e.sum_squares = h.sum_squares;
  size_t n = std::min(h.bucket.size(), h.bucket_limit.size());
  size_t first = 0, last = n;
  while (first < last && !(h.bucket[first] > 0)) ++first;
  while (last > first && !(h.bucket[last - 1] > 0)) --last;
  if (first == last || e.count == 0) return e;
  double lo = first == 0 ? h.min : h.bucket_limit[first - 1];
  if (!(lo >= h.min)) lo = h.min;
  e.bucket_edges.push_back(lo);
  int64_t total = 0;
  for (size_t i = first; i < last; ++i) {
    double lim = h.bucket_limit[i];
    if (!std::isfinite(lim) || lim >= 1.7976931348623157e308 || lim > h.max) lim = h.max;
    e.bucket_edges.push_back(std::max(lim, e.bucket_edges.back()));
    double c = h.bucket[i];
    int64_t k = static_cast<int64_t>(std::llround(std::isfinite(c) && c > 0 && c < 9e18 ? c : 0));
    e.bucket_counts.push_back(k);
    total += k;
  }
  e.count = total;  // the buckets are the values shown
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
  read_event_files();
}

void SummaryReader::read_event_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(run_dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code ec2;
    if (io::events::is_event_file_name(name) && name[0] != '.' && it->is_regular_file(ec2)) files.push_back(name);
  }
  std::sort(files.begin(), files.end());  // TensorFlow's names start with the time
  for (const std::string& name : files) {
    std::string path = (fs::path(run_dir_) / name).string();
    io::TFRecordReader reader(path);
    std::string record;
    try {
      while (reader.read(record)) {
        io::events::Event ev = io::events::decode_event(record);
        for (io::events::Value& v : ev.values) {
          switch (v.kind) {
            case io::events::Value::kScalar:
              scalars_.push_back({v.tag, ev.step, ev.wall_time, v.scalar_value});
              break;
            case io::events::Value::kHistogram: {
              HistogramEvent h = from_histogram_proto(v.histogram);
              h.tag = v.tag;
              h.step = ev.step;
              h.wall_time = ev.wall_time;
              histograms_.push_back(std::move(h));
              break;
            }
            case io::events::Value::kText:
              texts_.push_back({v.tag, ev.step, ev.wall_time, std::move(v.text)});
              break;
          }
        }
      }
    } catch (const DataLoss& e) {
      std::string what = e.what();
      if (what.rfind("truncated record at ", 0) == 0) {
        // What a writer still writing (or one that crashed mid-record) leaves.
        warnings_.push_back(name + ": skipped a partial last record (" + what + ")");
        continue;
      }
      std::string msg = "[summary] " + path + ": " + what + " (after " + std::to_string(reader.records_read()) + " records)";
      for (std::string& err : errors_)
        if (err.empty()) err = msg;
    }
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
