// What every benchmark file shares: options, result rows, timing. Defined in bench.cpp; a new
// group of rows lives in its own bench_<area>.cpp with a `void bench_<area>(const Options&)`
// declared below and called from main() in bench.cpp.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "xflow/tensor.hpp"

namespace xfbench {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string json_path;
  std::string filter;
  bool quick = false;
};

// One row: a timed workload (seconds per unit, with its baseline's name and time), or a
// "<name>/peak_bytes" row with `bytes`.
struct Entry {
  std::string name;
  double seconds = 0;
  std::string figure;  // "123.4 ns/op", "18.2 GB/s", ...
  std::optional<std::string> baseline;
  double baseline_seconds = 0;
  std::optional<int64_t> bytes;  // peak_bytes entries
};

// Set when a result check fails: the program then exits 1.
extern bool g_failed;

// Keeps the compiler from proving a value or a memory write unused.
template <class T>
inline void escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
}

std::string fmt(const char* f, double v);
std::string fmt_time(double s);
// Prints the row and keeps it for --json.
void add_entry(Entry e);
double seconds_since(Clock::time_point t0);
double median(std::vector<double> v);
// Times several variants of one workload, alternating their samples; returns each variant's
// median seconds per unit (each fn runs `units` units per call).
std::vector<double> measure(const std::vector<std::function<void()>>& fns, int samples, double min_sample,
                            double units = 1);
// Whether --filter selects any of `names`.
bool wanted(const Options& o, const std::vector<std::string>& names);
// Adds the row "<name>/peak_bytes": the allocator's peak live bytes above the start while fn runs.
void peak_entry(const std::string& name, const std::function<void()>& fn);

// The losses of one training step run three ways from the same weights: eagerly, replayed (a
// trace of the same step) and by the hand-written baseline.
struct StepLosses {
  xf::Tensor eager, replay;
  float hand = 0;
};
// How a training workload (W5, W6) checks its rows agree before it times them.
struct StepCheck {
  const char* workload;        // "W5": messages read "CHECK FAILED W5: ..."
  int steps = 3;
  float first_tol = 1e-4f;     // |eager - hand| <= tol * max(1, |hand|) at step 0 ...
  float later_tol = 1e-4f;     // ... and at the later steps (Adam magnifies rounding differences)
  int digits = 6;              // significant digits of the losses in messages (%g is 6)
  bool replay_values = false;  // whether the replay message shows both losses
};
// Runs `step` c.steps times: replay's loss must be bitwise eager's and the hand loss close to it
// (a NaN fails). Each failure prints a "  CHECK FAILED" line and sets g_failed.
void check_steps(const StepCheck& c, const std::function<StepLosses()>& step);

// Rows of bench_tfrecord.cpp: tfrecord/read, tfrecord/read_gzip.
void bench_tfrecord(const Options& o);
// example/parse (bench_example.cpp).
void bench_example(const Options& o);
// dataset/pipeline (bench_dataset.cpp).
void bench_dataset(const Options& o);
// Rows of bench_<area>.cpp files.
void bench_queue(const Options& o);  // queue/fifo/1p, queue/fifo/4p
void bench_sort(const Options& o);   // sort/rows, topk/rows, cumsum/rows
void bench_w6(const Options& o);     // W6/hand, W6/eager, W6/replay (the digits CNN's training step)

}  // namespace xfbench
