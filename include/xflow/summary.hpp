// Summaries: what a run records for the viewer (scalars, histograms, text, graphs with their
// profiles), as JSON files in one run directory, or as TensorBoard's event file. docs/summaries.md
// describes the directory and every file format; the web viewer is written against it;
// docs/tfrecord.md describes event files.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "xflow/graph.hpp"
#include "xflow/tensor.hpp"

namespace xf {

class Plan;

// How a SummaryWriter writes scalars, histograms and text.
enum class SummaryFormat {
  json_lines,   // scalars.jsonl, histograms.jsonl, text.jsonl (docs/summaries.md)
  tensorboard,  // events.out.tfevents.<time>.<host>: TensorFlow's Event protos in a TFRecord file
};

// Appends events to the JSON-lines files of a run directory. Every event is one line, written
// whole with one write(2) and visible to readers when the call returns, so a crash leaves every
// earlier line readable. Thread-safe; several writers (or processes) may append to one run.
class SummaryWriter {
 public:
  // Creates `run_dir` and its parents. Throws FailedPrecondition when the path exists and is not
  // a directory or is not writable, NotFound when it cannot be created; the message names it.
  // SummaryFormat::tensorboard creates the event file at once, its first event file_version
  // "brain.Event:2", so that TensorBoard (and SummaryReader) see the run; graphs stay JSON files.
  explicit SummaryWriter(const std::string& run_dir, SummaryFormat format = SummaryFormat::json_lines);
  ~SummaryWriter();
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  const std::string& run_dir() const { return run_dir_; }
  SummaryFormat format() const { return format_; }
  // The event file's path (SummaryFormat::tensorboard), else "".
  const std::string& event_file() const { return event_path_; }

  // scalars.jsonl. NaN and Inf are written as the strings "nan", "inf", "-inf". Event files:
  // Summary.Value.simple_value, a float32 as in TensorFlow.
  void add_scalar(const std::string& tag, int64_t step, double value);
  // histograms.jsonl: over the finite values of `values` (any dtype): min, max, count, sum, sum
  // of squares and `bins` equal-width buckets; NaN, +Inf and -Inf are counted separately (event
  // files: a HistogramProto, which has no place for the NaN and infinity counts).
  void add_histogram(const std::string& tag, int64_t step, const Tensor& values, int bins = 30);
  // text.jsonl (event files: TensorBoard's text plugin, a string tensor).
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
  void append_event(const std::string& event);  // one framed record, one write(2)
  void write_graph(const std::string& name, const std::string& json_text);

  std::string run_dir_;
  std::mutex mu_;
  int fds_[3] = {-1, -1, -1};
  SummaryFormat format_ = SummaryFormat::json_lines;
  std::string event_path_;
  int event_fd_ = -1;
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
// TensorBoard event files in the directory (names containing "tfevents", by name; written by
// xflow or by TensorFlow) are read too, after the JSON files: scalars (simple_value, or a
// numeric scalar tensor), histograms (HistogramProto) and text (the text plugin's string
// tensors); other summaries are skipped. A record cut short at the end of an event file is
// skipped with a warning; a damaged record (CRC, not an Event) makes all three accessors raise
// DataLoss naming the file and TensorFlow's message (the events before it are read).
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
  void read_event_files();

  std::string run_dir_;
  std::vector<ScalarEvent> scalars_;
  std::vector<HistogramEvent> histograms_;
  std::vector<TextEvent> texts_;
  std::string errors_[3];  // a DataLoss message per event file, raised by its accessor
  std::vector<std::string> warnings_;
};

}  // namespace xf
