// Summaries: what a run records for the viewer (scalars, histograms, text, graphs with their
// profiles), as JSON files in one run directory. docs/summaries.md describes the directory and
// every file format; the web viewer is written against it.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "xflow/graph.hpp"
#include "xflow/tensor.hpp"

namespace xf {

class Plan;

// Appends events to the JSON-lines files of a run directory. Every event is one line, written
// whole with one write(2) and visible to readers when the call returns, so a crash leaves every
// earlier line readable. Thread-safe; several writers (or processes) may append to one run.
class SummaryWriter {
 public:
  // Creates `run_dir` and its parents. Throws FailedPrecondition when the path exists and is not
  // a directory or is not writable, NotFound when it cannot be created; the message names it.
  explicit SummaryWriter(const std::string& run_dir);
  ~SummaryWriter();
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  const std::string& run_dir() const { return run_dir_; }

  // scalars.jsonl. NaN and Inf are written as the strings "nan", "inf", "-inf".
  void add_scalar(const std::string& tag, int64_t step, double value);
  // histograms.jsonl: over the finite values of `values` (any dtype): min, max, count, sum, sum
  // of squares and `bins` equal-width buckets; NaN, +Inf and -Inf are counted separately.
  void add_histogram(const std::string& tag, int64_t step, const Tensor& values, int bins = 30);
  // text.jsonl.
  void add_text(const std::string& tag, int64_t step, const std::string& text);
  // Writes run_dir/<name>.json (graph JSON, docs/graph-json.md) atomically: a temporary file in
  // run_dir, then rename. `name` is a file name: not empty, no '/', not "." or "..".
  void add_graph(const Graph& g, const std::string& name = "graph");
  // The same plus a "profile" section from the plan's last profiled run (per node and per step:
  // seconds and bytes; docs/summaries.md) and the plan's provenance appended to the graph's. The
  // plan must have been built from `g` (same node ids, InvalidArgument otherwise) and run with
  // set_profiling(true) (FailedPrecondition otherwise).
  void add_graph(const Graph& g, const Plan& plan, const std::string& name = "graph");
  // Lines are already visible to readers when add_* returns; flush() also makes them durable
  // (fsync), surviving a power loss.
  void flush();

 private:
  int fd_for(int kind);  // opens the file of an event kind on first use; mu_ held
  void append(int kind, const std::string& line);
  void write_graph(const std::string& name, const std::string& json_text);

  std::string run_dir_;
  std::mutex mu_;
  int fds_[3] = {-1, -1, -1};
  int64_t temp_counter_ = 0;
};

struct ScalarEvent {
  std::string tag;
  int64_t step = 0;
  double wall_time = 0;  // seconds since the Unix epoch
  double value = 0;
};

struct HistogramEvent {
  std::string tag;
  int64_t step = 0;
  double wall_time = 0;
  double min = 0;  // of the finite values; NaN when there are none
  double max = 0;
  int64_t count = 0;  // finite values (the ones in min, max, sum and the buckets)
  double sum = 0;
  double sum_squares = 0;
  int64_t nan_count = 0;
  int64_t pos_inf_count = 0;
  int64_t neg_inf_count = 0;
  std::vector<double> bucket_edges;     // bins + 1 ascending edges; empty when count == 0
  std::vector<int64_t> bucket_counts;   // bins counts; the last bucket includes its upper edge
};

struct TextEvent {
  std::string tag;
  int64_t step = 0;
  double wall_time = 0;
  std::string text;
};

// Reads a run directory written by SummaryWriter. The constructor reads a snapshot of the three
// event files (reload() reads again). A file that ends without a newline ends with a partial
// line (a crash mid-write): that line is skipped and warnings() says so. A malformed complete
// line is corruption: the accessor of that file raises DataLoss naming the file and line number.
class SummaryReader {
 public:
  // Throws NotFound naming `run_dir` when it does not exist or is not a directory.
  explicit SummaryReader(const std::string& run_dir);

  void reload();

  // Events in the order they were written; raise DataLoss if their file has a malformed line.
  const std::vector<ScalarEvent>& scalars() const;
  const std::vector<HistogramEvent>& histograms() const;
  const std::vector<TextEvent>& texts() const;
  // The names of the graphs (run_dir/<name>.json), sorted. Read on every call.
  std::vector<std::string> graph_names() const;
  // Loads run_dir/<name>.json with Graph::load (the profile section is left out).
  Graph graph(const std::string& name = "graph") const;
  // What was skipped while reading, e.g. "scalars.jsonl: skipped a partial last line (37 bytes)".
  const std::vector<std::string>& warnings() const { return warnings_; }

  const std::string& run_dir() const { return run_dir_; }

 private:
  std::string run_dir_;
  std::vector<ScalarEvent> scalars_;
  std::vector<HistogramEvent> histograms_;
  std::vector<TextEvent> texts_;
  std::string errors_[3];  // a DataLoss message per event file, raised by its accessor
  std::vector<std::string> warnings_;
};

}  // namespace xf
