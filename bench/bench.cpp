// Benchmarks W1–W4 of BENCHMARKS.md for eager xflow, and checkpoint save/restore (ckpt/*), each
// against a baseline measured in the same run (samples of the compared variants alternate, so a load change hits both alike).
//
//   ./build/bench/xflow_bench [--json PATH] [--filter SUBSTR] [--quick]
//
// Prints a table (name, median time of one unit, a unit figure, baseline, ratio = time / baseline
// time) and, with --json, writes a list of {"name", "seconds", "baseline", "baseline_seconds",
// "ratio"} entries (baselines are entries of their own, with baseline null), plus
// "<name>/peak_bytes" entries with a "bytes" field; W1/eager also has "allocs_per_op", the heap
// allocations (global operator new, which this binary replaces with a counting one) of one op. --filter runs the groups (one workload at one
// thread count) that have an entry whose name contains SUBSTR. Before timing, every eager result
// is checked against its baseline's (allclose), so a broken kernel cannot look fast; a failed
// check makes the exit status 1.
//
// Only the baselines use xtensor and xsimd directly; xflow is used through its public headers.
#include <cblas.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xtensor.hpp>

#include "xflow/numerics.hpp"
#include "xflow/ops.hpp"
#include "xflow/tensor.hpp"
#include "xflow/session.hpp"
#include "xflow/trace.hpp"
#include "xflow/grad.hpp"
#include "xflow/variable.hpp"
#include "xflow/saver.hpp"

#include <fcntl.h>
#include <unistd.h>
#include "xflow/npy.hpp"
#include "bench_common.hpp"

// ---- a counting allocator: global operator new/delete of this binary only ----
// Counts the allocations of the calling thread (a thread_local needs no atomic, so counting does
// not slow the timed code down); W1 reads the count around its ops.
namespace {
thread_local int64_t t_allocations = 0;

void* counted_alloc(std::size_t n, std::size_t align) {
  ++t_allocations;
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n) : std::aligned_alloc(align, (n + align - 1) / align * align);
  return p;
}
void* counted_alloc_or_throw(std::size_t n, std::size_t align) {
  void* p = counted_alloc(n, align);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc_or_throw(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc_or_throw(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace xfbench {

using B = xsimd::batch<float>;

// Heap allocations made by this thread so far (the counting operator new above).
int64_t thread_allocations() { return t_allocations; }
// Allocations per op of rows that report them (W1/eager), by row name.
std::map<std::string, double> g_allocs_per_op;
constexpr int64_t kLanes = static_cast<int64_t>(B::size);


// ---- options and results ----



std::vector<Entry> g_entries;
bool g_failed = false;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string fmt_time(double s) {
  if (s < 1e-6) return fmt("%.1f ns", s * 1e9);
  if (s < 1e-3) return fmt("%.2f us", s * 1e6);
  return fmt("%.3f ms", s * 1e3);
}

void print_header() {
  std::printf("%-22s %12s %16s  %-20s %7s %9s\n", "name", "median", "figure", "baseline", "ratio", "allocs/op");
  std::printf("%s\n", std::string(92, '-').c_str());
}

void print_entry(const Entry& e) {
  if (e.bytes) {
    std::printf("%-22s %12s %16s\n", e.name.c_str(), "", fmt("%.1f MiB", static_cast<double>(*e.bytes) / (1 << 20)).c_str());
    return;
  }
  std::string ratio = e.baseline ? fmt("%.3f", e.seconds / e.baseline_seconds) : "";
  auto allocs = g_allocs_per_op.find(e.name);
  std::string allocs_str = allocs != g_allocs_per_op.end() ? fmt("%.2f", allocs->second) : "";
  std::printf("%-22s %12s %16s  %-20s %7s %9s\n", e.name.c_str(), fmt_time(e.seconds).c_str(), e.figure.c_str(),
              e.baseline ? e.baseline->c_str() : "", ratio.c_str(), allocs_str.c_str());
  std::fflush(stdout);
}

void add_entry(Entry e) {
  print_entry(e);
  g_entries.push_back(std::move(e));
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void write_json(const std::string& path) {
  std::ofstream f(path);
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    g_failed = true;
    return;
  }
  f << "[\n";
  for (size_t i = 0; i < g_entries.size(); ++i) {
    const Entry& e = g_entries[i];
    f << "  {\"name\": \"" << json_escape(e.name) << "\"";
    if (e.bytes) {
      f << ", \"bytes\": " << *e.bytes;
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g", e.seconds);
      f << ", \"seconds\": " << buf;
      if (e.baseline) {
        f << ", \"baseline\": \"" << json_escape(*e.baseline) << "\"";
        std::snprintf(buf, sizeof buf, "%.9g", e.baseline_seconds);
        f << ", \"baseline_seconds\": " << buf;
        std::snprintf(buf, sizeof buf, "%.6g", e.seconds / e.baseline_seconds);
        f << ", \"ratio\": " << buf;
      } else {
        f << ", \"baseline\": null, \"baseline_seconds\": null, \"ratio\": null";
      }
      auto allocs = g_allocs_per_op.find(e.name);
      if (allocs != g_allocs_per_op.end()) {
        std::snprintf(buf, sizeof buf, "%.6g", allocs->second);
        f << ", \"allocs_per_op\": " << buf;
      }
    }
    f << "}" << (i + 1 < g_entries.size() ? "," : "") << "\n";
  }
  f << "]\n";
}

// ---- timing ----

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Times several variants of one workload. Each fn runs `units` units per call (W1: 100,000 ops;
// otherwise 1). After a warm-up, each variant's call count per sample is set so a sample lasts
// about `min_sample` seconds; then samples alternate between the variants (A B C A B C ...).
// Returns each variant's median seconds per unit.
std::vector<double> measure(const std::vector<std::function<void()>>& fns, int samples, double min_sample,
                            double units) {
  std::vector<int> calls(fns.size(), 1);
  for (size_t k = 0; k < fns.size(); ++k) {
    fns[k]();  // warm-up (first-touch, caches, allocator free lists, thread pools)
    auto t0 = Clock::now();
    fns[k]();
    double t = seconds_since(t0);
    calls[k] = std::max(1, static_cast<int>(std::ceil(min_sample / std::max(t, 1e-9))));
  }
  std::vector<std::vector<double>> times(fns.size());
  for (int s = 0; s < samples; ++s) {
    for (size_t k = 0; k < fns.size(); ++k) {
      auto t0 = Clock::now();
      for (int c = 0; c < calls[k]; ++c) fns[k]();
      times[k].push_back(seconds_since(t0) / (calls[k] * units));
    }
  }
  std::vector<double> med;
  for (auto& t : times) med.push_back(median(t));
  return med;
}

// ---- inputs (BENCHMARKS.md: computed in double and cast) ----

float input_a(int64_t i) { return static_cast<float>(static_cast<double>(i % 1000) * 0.001); }
float input_b(int64_t i) { return static_cast<float>(static_cast<double>((i * 7) % 1000) * 0.001); }
float input_x(int64_t i) { return static_cast<float>(static_cast<double>((i * 37) % 1000) * 0.006 - 3.0); }

// A 64-byte aligned float array, not tied to xflow's allocator.
struct Array {
  float* p = nullptr;
  int64_t n = 0;
  explicit Array(int64_t count) : n(count) {
    size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
    p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
  }
  ~Array() { std::free(p); }
  Array(Array&& o) noexcept : p(o.p), n(o.n) { o.p = nullptr; }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;
};

Array make_array(int64_t n, float (*f)(int64_t)) {
  Array a(n);
  for (int64_t i = 0; i < n; ++i) a.p[i] = f(i);
  return a;
}

xf::Tensor make_tensor(const xf::Shape& shape, float (*f)(int64_t)) {
  xf::Tensor t = xf::Tensor::empty(shape, xf::DType::float32);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.size(); ++i) p[i] = f(i);
  return t;
}

// Compares an eager result with a baseline's; reports and remembers a failure.
bool check(const char* what, const xf::Tensor& eager, const float* expect, double rtol, double atol) {
  if (eager.dtype() != xf::DType::float32 || !eager.is_contiguous()) {
    std::printf("  CHECK FAILED %s: result is not a contiguous float32 tensor\n", what);
    g_failed = true;
    return false;
  }
  const float* p = eager.data<float>();
  int64_t n = eager.size(), bad = 0, differ = 0, first_bad = -1;
  double max_err = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = std::fabs(static_cast<double>(p[i]) - expect[i]);
    if (std::memcmp(&p[i], &expect[i], sizeof(float)) != 0) ++differ;
    max_err = std::max(max_err, d);
    if (!(d <= atol + rtol * std::fabs(static_cast<double>(expect[i])))) {
      if (first_bad < 0) first_bad = i;
      ++bad;
    }
  }
  if (bad) {
    std::printf("  CHECK FAILED %s: %lld of %lld elements differ (first at %lld: %g vs %g)\n", what,
                static_cast<long long>(bad), static_cast<long long>(n), static_cast<long long>(first_bad),
                static_cast<double>(p[first_bad]), static_cast<double>(expect[first_bad]));
    g_failed = true;
    return false;
  }
  std::printf("  check %s: allclose, %s (max abs diff %.3g)\n", what,
              differ ? (std::to_string(differ) + " elements not bitwise equal").c_str() : "bitwise equal", max_err);
  return true;
}

// Splits [0, n) for a hand baseline: serially with one thread, else tbb::parallel_for over blocks
// (oneTBB honours the limit xf::set_num_threads installed).
template <class F>
void split(int threads, int64_t n, int64_t grain, F&& f) {
  if (threads < 2) {
    f(int64_t{0}, n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                    [&](const tbb::blocked_range<int64_t>& r) { f(r.begin(), r.end()); });
}

std::string suffix(int threads) { return threads > 1 ? "/2t" : ""; }

bool wanted(const Options& o, const std::vector<std::string>& names) {
  if (o.filter.empty()) return true;
  for (const auto& n : names)
    if (n.find(o.filter) != std::string::npos) return true;
  return false;
}

void peak_entry(const std::string& name, const std::function<void()>& fn) {
  xf::reset_peak_bytes();
  int64_t before = xf::allocator_stats().live_bytes;
  fn();
  Entry e;
  e.name = name + "/peak_bytes";
  e.bytes = xf::allocator_stats().peak_bytes - before;
  add_entry(e);
}

void check_steps(const StepCheck& c, const std::function<StepLosses()>& step) {
  for (int k = 0; k < c.steps; ++k) {
    StepLosses l = step();
    const float le = l.eager.item<float>(), lh = l.hand;
    if (!xf::bitwise_equal(l.eager, l.replay)) {
      if (c.replay_values)
        std::printf("  CHECK FAILED %s: replayed loss %.*g differs from eager %.*g at step %d\n", c.workload, c.digits,
                    static_cast<double>(l.replay.item<float>()), c.digits, static_cast<double>(le), k);
      else
        std::printf("  CHECK FAILED %s: replayed loss differs from eager at step %d\n", c.workload, k);
      g_failed = true;
    }
    const float tol = (k == 0 ? c.first_tol : c.later_tol) * std::max(1.0f, std::fabs(lh));
    if (!(std::fabs(le - lh) <= tol)) {
      std::printf("  CHECK FAILED %s: eager loss %.*g, hand loss %.*g at step %d\n", c.workload, c.digits,
                  static_cast<double>(le), c.digits, static_cast<double>(lh), k);
      g_failed = true;
    }
  }
}

}  // namespace xfbench

namespace {

using namespace xfbench;

// ---- W1: c = a + b on shape (1,), 100,000 ops ----

// W1's baseline: `ops` hand-written adds, each into a fresh malloc'd float.
void w1_hand(const float* ha, const float* hb, int ops) {
  for (int i = 0; i < ops; ++i) {
    float* c = static_cast<float*>(std::malloc(sizeof(float)));
    escape(c);
    c[0] = ha[0] + hb[0];
    escape(c);
    std::free(c);
  }
}

void w1(const Options& o) {
  const std::string eager = "W1/eager", hand = "W1/hand";
  if (!wanted(o, {eager, hand})) return;
  xf::set_num_threads(1);
  constexpr int kOps = 100000;
  xf::Tensor a = make_tensor({1}, input_a), b = make_tensor({1}, input_b);
  static float ha[1], hb[1];
  ha[0] = input_a(0) + 0.25f;  // nonzero inputs, the same for both variants
  hb[0] = input_b(0) + 0.5f;
  a.data<float>()[0] = ha[0];
  b.data<float>()[0] = hb[0];
  {
    xf::Tensor c = a + b;
    float expect = ha[0] + hb[0];
    if (c.shape() != xf::Shape{1}) {
      std::printf("  CHECK FAILED W1: result shape\n");
      g_failed = true;
    }
    check("W1 eager vs hand", c, &expect, 0, 0);
  }
  auto run_eager = [&] {
    for (int i = 0; i < kOps; ++i) {
      xf::Tensor c = a + b;
      escape(&c);
    }
  };
  auto run_hand = [&] { w1_hand(ha, hb, kOps); };
  {
    run_eager();  // warm: the scratch of apply() and the allocator's free lists are in place
    int64_t before = thread_allocations();
    run_eager();
    g_allocs_per_op[eager] = static_cast<double>(thread_allocations() - before) / kOps;
  }
  int samples = o.quick ? 3 : 11;
  auto t = measure({run_eager, run_hand}, samples, 0.0, kOps);
  add_entry({hand, t[1], fmt("%.1f ns/op", t[1] * 1e9), std::nullopt, 0, std::nullopt});
  add_entry({eager, t[0], fmt("%.1f ns/op", t[0] * 1e9), hand, t[1], std::nullopt});
}

// ---- numerics: W1 with the numerics-checking mode off and on (docs/debugging.md) ----
// Off, apply() reads one relaxed atomic: numerics/W1_off has W1/eager's baseline (W1/hand), so
// its ratio reads against W1/eager's of a build without the mode. On, every op's output is
// scanned for NaN and Inf: numerics/W1_on against numerics/W1_off is what the mode costs.

void numerics_w1(const Options& o) {
  const std::string off = "numerics/W1_off", on = "numerics/W1_on", hand = "numerics/W1_hand";
  if (!wanted(o, {off, on, hand})) return;
  xf::set_num_threads(1);
  constexpr int kOps = 100000;
  xf::Tensor a = make_tensor({1}, input_a), b = make_tensor({1}, input_b);
  static float ha[1], hb[1];
  ha[0] = input_a(0) + 0.25f;
  hb[0] = input_b(0) + 0.5f;
  a.data<float>()[0] = ha[0];
  b.data<float>()[0] = hb[0];
  if (xf::debug::check_numerics_enabled()) {
    std::printf("  CHECK FAILED numerics: XFLOW_CHECK_NUMERICS is set, the 'off' row would be on\n");
    g_failed = true;
    return;
  }
  float expect = ha[0] + hb[0];
  check("numerics W1 off vs hand", a + b, &expect, 0, 0);
  auto run_off = [&] {
    for (int i = 0; i < kOps; ++i) {
      xf::Tensor c = a + b;
      escape(&c);
    }
  };
  auto run_on = [&] {
    xf::debug::CheckNumericsScope scope;
    for (int i = 0; i < kOps; ++i) {
      xf::Tensor c = a + b;
      escape(&c);
    }
  };
  auto run_hand = [&] { w1_hand(ha, hb, kOps); };
  int samples = o.quick ? 3 : 11;
  auto t = measure({run_off, run_on, run_hand}, samples, 0.0, kOps);
  add_entry({hand, t[2], fmt("%.1f ns/op", t[2] * 1e9), std::nullopt, 0, std::nullopt});
  add_entry({off, t[0], fmt("%.1f ns/op", t[0] * 1e9), hand, t[2], std::nullopt});
  add_entry({on, t[1], fmt("%.1f ns/op", t[1] * 1e9), off, t[0], std::nullopt});
}

// ---- W2: c = a + b, 4,194,304 elements ----

constexpr int64_t kN = 4194304;

void add_loop(const float* a, const float* b, float* c, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes) (B::load_aligned(a + i) + B::load_aligned(b + i)).store_aligned(c + i);
  if (i < end) {  // a padded batch (never taken for W2's sizes)
    alignas(64) float ta[kLanes] = {}, tb[kLanes] = {};
    std::memcpy(ta, a + i, static_cast<size_t>(end - i) * sizeof(float));
    std::memcpy(tb, b + i, static_cast<size_t>(end - i) * sizeof(float));
    (B::load_aligned(ta) + B::load_aligned(tb)).store_aligned(ta);
    std::memcpy(c + i, ta, static_cast<size_t>(end - i) * sizeof(float));
  }
}

void w2(const Options& o, int threads) {
  const std::string eager = "W2/eager" + suffix(threads), hand = "W2/hand" + suffix(threads);
  if (!wanted(o, {eager, hand})) return;
  xf::set_num_threads(threads);
  xf::Tensor a = make_tensor({kN}, input_a), b = make_tensor({kN}, input_b);
  Array ha = make_array(kN, input_a), hb = make_array(kN, input_b), hc(kN);
  auto run_hand = [&] {
    split(threads, kN, int64_t{1} << 15, [&](int64_t s, int64_t e) { add_loop(ha.p, hb.p, hc.p, s, e); });
    escape(hc.p);
  };
  run_hand();
  check(("W2 eager vs hand" + suffix(threads)).c_str(), a + b, hc.p, 0, 0);
  auto run_eager = [&] {
    xf::Tensor c = a + b;
    escape(&c);
  };
  int samples = o.quick ? 5 : 31;
  auto t = measure({run_eager, run_hand}, samples, 0.02);
  const double bytes = 3.0 * kN * sizeof(float);
  add_entry({hand, t[1], fmt("%.2f GB/s", bytes / t[1] / 1e9), std::nullopt, 0, std::nullopt});
  add_entry({eager, t[0], fmt("%.2f GB/s", bytes / t[0] / 1e9), hand, t[1], std::nullopt});
  peak_entry(eager, run_eager);
}

// ---- W3: y = tanh(x*0.5 + 1) * sigmoid(x) - (x*x)/3 + exp(-(x*x)) ----

// One SIMD batch of the formula, written as the eager ops compute it (sigmoid = 1 / (1 + exp(-x))).
inline B w3_batch(const B& x) {
  B xx = x * x;
  B sig = B(1.0f) / (B(1.0f) + xsimd::exp(-x));
  return xsimd::tanh(x * B(0.5f) + B(1.0f)) * sig - xx / B(3.0f) + xsimd::exp(-xx);
}

void w3_hand_loop(const float* x, float* y, int64_t begin, int64_t end) {
  int64_t i = begin;
  for (; i + kLanes <= end; i += kLanes) w3_batch(B::load_aligned(x + i)).store_aligned(y + i);
  if (i < end) {
    alignas(64) float tmp[kLanes] = {};
    std::memcpy(tmp, x + i, static_cast<size_t>(end - i) * sizeof(float));
    w3_batch(B::load_aligned(tmp)).store_aligned(tmp);
    std::memcpy(y + i, tmp, static_cast<size_t>(end - i) * sizeof(float));
  }
}

void w3_xtensor_range(const float* x, float* y, int64_t begin, int64_t end) {
  std::array<size_t, 1> shape{static_cast<size_t>(end - begin)};
  auto xv = xt::adapt(x + begin, static_cast<size_t>(end - begin), xt::no_ownership(), shape);
  auto yv = xt::adapt(y + begin, static_cast<size_t>(end - begin), xt::no_ownership(), shape);
  xt::noalias(yv) = xt::tanh(xv * 0.5f + 1.0f) * (1.0f / (1.0f + xt::exp(-xv))) - (xv * xv) / 3.0f +
                    xt::exp(-(xv * xv));
}

void w3(const Options& o, int threads) {
  const std::string eager = "W3/eager" + suffix(threads), hand = "W3/hand" + suffix(threads),
                    xtv = "W3/xtensor" + suffix(threads), replay = "W3/replay" + suffix(threads),
                    session = "W3/session" + suffix(threads);
  if (!wanted(o, {eager, hand, xtv, replay, session})) return;
  xf::set_num_threads(threads);
  xf::Tensor x = make_tensor({kN}, input_x);
  Array hx = make_array(kN, input_x), hy(kN), xy(kN);
  auto formula = [](const xf::Tensor& v) {
    return xf::tanh(v * 0.5 + 1) * xf::sigmoid(v) - (v * v) / 3 + xf::exp(-(v * v));
  };
  auto run_hand = [&] {
    split(threads, kN, int64_t{1} << 15, [&](int64_t s, int64_t e) { w3_hand_loop(hx.p, hy.p, s, e); });
    escape(hy.p);
  };
  auto run_xtensor = [&] {
    split(threads, kN, int64_t{1} << 15, [&](int64_t s, int64_t e) { w3_xtensor_range(hx.p, xy.p, s, e); });
    escape(xy.p);
  };
  auto run_eager = [&] {
    xf::Tensor y = formula(x);
    escape(&y);
  };
  auto traced = xf::trace([&](const std::vector<xf::Tensor>& in) { return std::vector<xf::Tensor>{formula(in[0])}; });
  traced({x});  // traces
  auto run_replay = [&] {
    xf::Tensor y = traced({x})[0];
    escape(&y);
  };
  // The same formula as a TF1-style graph run by a Session: fetch by name, feed by name.
  xf::Graph g = xf::trace_graph([&](const std::vector<xf::Tensor>& in) { return std::vector<xf::Tensor>{formula(in[0])}; },
                                {x});
  xf::Session sess(g);
  const std::string fetch = sess.name_of(g.outputs[0]);
  auto run_session = [&] {
    xf::Tensor y = sess.run(std::vector<std::string>{fetch}, {{"input0", x}})[0];
    escape(&y);
  };
  run_hand();
  run_xtensor();
  xf::Tensor y = formula(x);
  if (y.dtype() != xf::DType::float32) {
    std::printf("  CHECK FAILED W3: eager result is %s, not float32\n", xf::dtype_name(y.dtype()));
    g_failed = true;
  }
  check(("W3 eager vs hand" + suffix(threads)).c_str(), y, hy.p, 1e-5, 1e-6);
  {
    xf::Tensor xt_result = xf::Tensor::from_bytes(xy.p, kN, xf::DType::float32, {kN});
    check(("W3 xtensor vs hand" + suffix(threads)).c_str(), xt_result, hy.p, 1e-5, 1e-6);
  }
  if (!xf::bitwise_equal(traced({x})[0], y)) {
    std::printf("  CHECK FAILED W3: replay is not bitwise equal to eager\n");
    g_failed = true;
  }
  if (!xf::bitwise_equal(sess.run(std::vector<std::string>{fetch}, {{"input0", x}})[0], y)) {
    std::printf("  CHECK FAILED W3: session run is not bitwise equal to eager\n");
    g_failed = true;
  }
  int samples = o.quick ? 3 : 15;
  auto t = measure({run_eager, run_hand, run_xtensor, run_replay, run_session}, samples, 0.03);
  add_entry({hand, t[1], fmt("%.2f ns/elem", t[1] / kN * 1e9), std::nullopt, 0, std::nullopt});
  add_entry({xtv, t[2], fmt("%.2f ns/elem", t[2] / kN * 1e9), std::nullopt, 0, std::nullopt});
  add_entry({eager, t[0], fmt("%.2f ns/elem", t[0] / kN * 1e9), hand, t[1], std::nullopt});
  add_entry({replay, t[3], fmt("%.2f ns/elem", t[3] / kN * 1e9), hand, t[1], std::nullopt});
  add_entry({session, t[4], fmt("%.2f ns/elem", t[4] / kN * 1e9), replay, t[3], std::nullopt});
  std::printf("  (%s / %s = %.3f; %s / %s = %.3f)\n", eager.c_str(), xtv.c_str(), t[0] / t[2], eager.c_str(),
              replay.c_str(), t[0] / t[3]);
  peak_entry(eager, run_eager);
  peak_entry(replay, run_replay);
}

// ---- W5fwd: the forward pass of W5's MLP (64 x 64 batch, 64->128 ReLU, 128->10, softmax CE) ----

void w5fwd(const Options& o) {
  const std::string eager = "W5fwd/eager", replay = "W5fwd/replay";
  if (!wanted(o, {eager, replay})) return;
  xf::set_num_threads(1);
  xf::manual_seed(5);
  xf::Tensor x = make_tensor({64, 64}, input_x);
  xf::Tensor w1 = xf::random_normal({64, 128}, 0, 0.1), b1 = xf::zeros({128});
  xf::Tensor w2 = xf::random_normal({128, 10}, 0, 0.1), b2 = xf::zeros({10});
  std::vector<int> labels_v(64);
  for (int i = 0; i < 64; ++i) labels_v[i] = i % 10;
  xf::Tensor labels = xf::one_hot(xf::Tensor::from_vector(labels_v, {64}), 10);
  auto forward = [&](const std::vector<xf::Tensor>& in) {
    xf::Tensor h = xf::relu(xf::matmul(in[0], w1) + b1);
    xf::Tensor logits = xf::matmul(h, w2) + b2;
    xf::Tensor loss = -xf::mean(xf::sum(labels * xf::log_softmax(logits), xf::Axes{1}));
    return std::vector<xf::Tensor>{loss};
  };
  auto traced = xf::trace(forward);
  traced({x});
  if (!xf::bitwise_equal(traced({x})[0], forward({x})[0])) {
    std::printf("  CHECK FAILED W5fwd: replay is not bitwise equal to eager\n");
    g_failed = true;
  }
  auto run_eager = [&] {
    xf::Tensor y = forward({x})[0];
    escape(&y);
  };
  auto run_replay = [&] {
    xf::Tensor y = traced({x})[0];
    escape(&y);
  };
  auto t = measure({run_eager, run_replay}, o.quick ? 3 : 15, 0.02);
  add_entry({eager, t[0], fmt("%.1f us/call", t[0] * 1e6), std::nullopt, 0, std::nullopt});
  add_entry({replay, t[1], fmt("%.1f us/call", t[1] * 1e6), eager, t[0], std::nullopt});
  peak_entry(eager, run_eager);
  Entry pe;
  pe.name = replay + "/peak_bytes";
  pe.bytes = traced.plan_for({x})->peak_bytes();  // arena + outputs: the plan's whole need
  add_entry(pe);
}

// ---- W5: one MLP training step (forward, backward, SGD update) ----

struct MlpParams {
  std::vector<float> w1, b1, w2, b2;
};

MlpParams w5_params() {
  MlpParams p;
  p.w1.resize(64 * 128);
  p.b1.assign(128, 0.0f);
  p.w2.resize(128 * 10);
  p.b2.assign(10, 0.0f);
  for (size_t i = 0; i < p.w1.size(); ++i) p.w1[i] = static_cast<float>(((i * 13) % 200) * 0.001 - 0.1);
  for (size_t i = 0; i < p.w2.size(); ++i) p.w2[i] = static_cast<float>(((i * 17) % 200) * 0.001 - 0.1);
  return p;
}

// The hand-written step: cblas_sgemm for the products, loops for the rest.
struct HandMlp {
  MlpParams p;
  std::vector<float> h, logits, dlogits, dh, dw1, dw2;
  HandMlp() : p(w5_params()), h(64 * 128), logits(64 * 10), dlogits(64 * 10), dh(64 * 128), dw1(64 * 128), dw2(128 * 10) {}
  float step(const float* x, const int* labels, float lr) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 64, 128, 64, 1.0f, x, 64, p.w1.data(), 128, 0.0f, h.data(), 128);
    for (int i = 0; i < 64; ++i)
      for (int j = 0; j < 128; ++j) h[i * 128 + j] = std::max(h[i * 128 + j] + p.b1[j], 0.0f);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 64, 10, 128, 1.0f, h.data(), 128, p.w2.data(), 10, 0.0f,
                logits.data(), 10);
    float loss = 0;
    for (int i = 0; i < 64; ++i) {
      float* l = logits.data() + i * 10;
      float m = -1e30f;
      for (int j = 0; j < 10; ++j) {
        l[j] += p.b2[j];
        m = std::max(m, l[j]);
      }
      float s = 0;
      for (int j = 0; j < 10; ++j) s += std::exp(l[j] - m);
      float lse = m + std::log(s);
      loss += lse - l[labels[i]];
      for (int j = 0; j < 10; ++j) dlogits[i * 10 + j] = (std::exp(l[j] - lse) - (j == labels[i] ? 1.0f : 0.0f)) / 64.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 128, 10, 64, 1.0f, h.data(), 128, dlogits.data(), 10, 0.0f,
                dw2.data(), 10);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 64, 128, 10, 1.0f, dlogits.data(), 10, p.w2.data(), 10, 0.0f,
                dh.data(), 128);
    for (size_t k = 0; k < dh.size(); ++k)
      if (h[k] <= 0) dh[k] = 0;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 64, 128, 64, 1.0f, x, 64, dh.data(), 128, 0.0f, dw1.data(), 128);
    for (int j = 0; j < 10; ++j) {
      float g = 0;
      for (int i = 0; i < 64; ++i) g += dlogits[i * 10 + j];
      p.b2[j] -= lr * g;
    }
    for (int j = 0; j < 128; ++j) {
      float g = 0;
      for (int i = 0; i < 64; ++i) g += dh[i * 128 + j];
      p.b1[j] -= lr * g;
    }
    for (size_t k = 0; k < dw1.size(); ++k) p.w1[k] -= lr * dw1[k];
    for (size_t k = 0; k < dw2.size(); ++k) p.w2[k] -= lr * dw2[k];
    return loss / 64.0f;
  }
};

void w5(const Options& o) {
  const std::string eager = "W5/eager", replay = "W5/replay", hand = "W5/hand";
  if (!wanted(o, {eager, replay, hand})) return;
  xf::set_num_threads(1);
  xf::Tensor x = make_tensor({64, 64}, input_x);
  std::vector<int> labels_v(64);
  for (int i = 0; i < 64; ++i) labels_v[i] = (i * 7) % 10;
  xf::Tensor labels = xf::Tensor::from_vector(labels_v, {64});
  Array hx = make_array(64 * 64, input_x);
  MlpParams init = w5_params();
  auto make_vars = [&] {
    return std::vector<xf::Variable>{xf::Variable(xf::Tensor::from_vector(init.w1, {64, 128})),
                                     xf::Variable(xf::Tensor::from_vector(init.b1, {128})),
                                     xf::Variable(xf::Tensor::from_vector(init.w2, {128, 10})),
                                     xf::Variable(xf::Tensor::from_vector(init.b2, {10}))};
  };
  auto step_with = [](std::vector<xf::Variable>& vars) {
    return [&vars](const std::vector<xf::Tensor>& in) {
      xf::GradientTape tape;
      std::vector<xf::Tensor> v;
      for (const xf::Variable& var : vars) {
        v.push_back(var.value());
        tape.watch(v.back());
      }
      xf::Tensor h = xf::relu(xf::matmul(in[0], v[0]) + v[1]);
      xf::Tensor logits = xf::matmul(h, v[2]) + v[3];
      xf::Tensor onehot = xf::one_hot(in[1], 10);
      xf::Tensor loss = -xf::mean(xf::sum(onehot * xf::log_softmax(logits), xf::Axes{1}));
      std::vector<xf::Tensor> g = tape.gradient(loss, v);
      for (size_t k = 0; k < vars.size(); ++k) vars[k].assign_sub(g[k] * 0.1f);
      return std::vector<xf::Tensor>{loss};
    };
  };
  std::vector<xf::Variable> ev = make_vars(), tv = make_vars();
  auto eager_step = step_with(ev);
  auto traced = xf::trace(step_with(tv));
  HandMlp hm;
  // Same trajectory: eager and replay bitwise, hand close.
  check_steps({"W5", 3, 1e-4f, 1e-4f, 6, false}, [&] {
    return StepLosses{eager_step({x, labels})[0], traced({x, labels})[0], hm.step(hx.p, labels_v.data(), 0.1f)};
  });
  auto run_eager = [&] { xf::Tensor l = eager_step({x, labels})[0]; escape(&l); };
  auto run_replay = [&] { xf::Tensor l = traced({x, labels})[0]; escape(&l); };
  auto run_hand = [&] { float l = hm.step(hx.p, labels_v.data(), 0.1f); escape(&l); };
  auto t = measure({run_eager, run_replay, run_hand}, o.quick ? 3 : 15, 0.03);
  add_entry({hand, t[2], fmt("%.1f us/step", t[2] * 1e6), std::nullopt, 0, std::nullopt});
  add_entry({eager, t[0], fmt("%.1f us/step", t[0] * 1e6), hand, t[2], std::nullopt});
  add_entry({replay, t[1], fmt("%.1f us/step", t[1] * 1e6), hand, t[2], std::nullopt});
  peak_entry(eager, run_eager);
  Entry pe;
  pe.name = replay + "/peak_bytes";
  pe.bytes = traced.plan_for({x, labels})->peak_bytes();
  add_entry(pe);
}

// ---- G200: a graph of 200 small ops on (16, 16) float32 ----

void g200(const Options& o) {
  const std::string eager = "G200/eager", replay = "G200/replay", unfused = "G200/replay/unfused";
  if (!wanted(o, {eager, replay, unfused})) return;
  xf::set_num_threads(1);
  xf::Tensor x = make_tensor({16, 16}, input_x);
  xf::Tensor c = make_tensor({16, 16}, input_a);
  auto chain = [&](const std::vector<xf::Tensor>& in) {
    xf::Tensor y = in[0];
    for (int i = 0; i < 50; ++i) y = xf::tanh(y * c + 0.5f) - c;  // 4 ops per round
    return std::vector<xf::Tensor>{y};
  };
  auto fused = xf::trace(chain);
  xf::TraceOptions no_fuse;
  no_fuse.plan.fuse = false;
  auto plain = xf::trace(chain, no_fuse);
  fused({x});
  plain({x});
  xf::Tensor ref = chain({x})[0];
  if (!xf::bitwise_equal(fused({x})[0], ref) || !xf::bitwise_equal(plain({x})[0], ref)) {
    std::printf("  CHECK FAILED G200: replay is not bitwise equal to eager\n");
    g_failed = true;
  }
  xf::Plan* plan = plain.plan_for({x});
  // The kernels alone: the same 200 steps' kernels, timed one by one by the plan's profiler.
  plan->set_profiling(true);
  double kernels = 1e30;
  for (int r = 0; r < (o.quick ? 20 : 200); ++r) {
    plan->run({x});
    double sum = 0;
    for (const auto& p : plan->profile()) sum += p.seconds;
    kernels = std::min(kernels, sum);
  }
  plan->set_profiling(false);
  auto run_eager = [&] { xf::Tensor y = chain({x})[0]; escape(&y); };
  auto run_fused = [&] { xf::Tensor y = fused({x})[0]; escape(&y); };
  auto run_plain = [&] { xf::Tensor y = plain({x})[0]; escape(&y); };
  auto t = measure({run_eager, run_fused, run_plain}, o.quick ? 3 : 15, 0.02);
  add_entry({eager, t[0], fmt("%.1f us/call", t[0] * 1e6), std::nullopt, 0, std::nullopt});
  add_entry({replay, t[1], fmt("%.1f us/call", t[1] * 1e6), eager, t[0], std::nullopt});
  add_entry({unfused, t[2], fmt("%.1f us/call", t[2] * 1e6), eager, t[0], std::nullopt});
  std::printf("  per-node replay overhead (unfused): (%.1f us - %.1f us of kernels) / 200 = %.1f ns\n", t[2] * 1e6,
              kernels * 1e6, (t[2] - kernels) / 200 * 1e9);
  Entry ov;
  ov.name = "G200/replay/overhead_per_node";
  ov.seconds = (t[2] - kernels) / 200;
  ov.figure = fmt("%.1f ns/node", ov.seconds * 1e9);
  add_entry(ov);
}

// ---- W4: C = A @ B, n x n ----

void w4(const Options& o, int threads, int n) {
  const std::string eager = "W4/eager/" + std::to_string(n) + suffix(threads),
                    blas = "W4/blas/" + std::to_string(n) + suffix(threads);
  if (!wanted(o, {eager, blas})) return;
  xf::set_num_threads(threads);  // also OpenBLAS's thread count
  int64_t nn = static_cast<int64_t>(n) * n;
  xf::Tensor a = make_tensor({n, n}, input_a), b = make_tensor({n, n}, input_b);
  Array ha = make_array(nn, input_a), hb = make_array(nn, input_b), hc(nn);
  auto run_blas = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, ha.p, n, hb.p, n, 0.0f, hc.p, n);
    escape(hc.p);
  };
  auto run_eager = [&] {
    xf::Tensor c = xf::matmul(a, b);
    escape(&c);
  };
  run_blas();
  xf::Tensor c = xf::matmul(a, b);
  if (c.shape() != xf::Shape{n, n}) {
    std::printf("  CHECK FAILED W4: result shape\n");
    g_failed = true;
  } else {
    check(("W4 eager vs blas/" + std::to_string(n) + suffix(threads)).c_str(), c, hc.p, 1e-5, 1e-4);
  }
  int samples = o.quick ? 3 : (n >= 2048 ? 5 : n >= 1024 ? 9 : 21);
  double min_sample = n >= 1024 ? 0.0 : 0.02;
  auto t = measure({run_eager, run_blas}, samples, min_sample);
  double flop = 2.0 * n * n * static_cast<double>(n);
  add_entry({blas, t[1], fmt("%.1f GFLOP/s", flop / t[1] / 1e9), std::nullopt, 0, std::nullopt});
  add_entry({eager, t[0], fmt("%.1f GFLOP/s", flop / t[0] / 1e9), blas, t[1], std::nullopt});
}

// ---- ckpt: Saver save/restore of 256 MiB (8 float32 variables of 32 MiB) vs write(2)/read(2) of
// the same bytes to/from one file, in the same directory; first without fsync (both), then with ----

void ckpt(const Options& o) {
  const std::string save = "ckpt/save", write = "ckpt/write", restore = "ckpt/restore", read = "ckpt/read",
                    save_sync = "ckpt/save+fsync", write_sync = "ckpt/write+fsync";
  if (!wanted(o, {save, write, restore, read, save_sync, write_sync})) return;
  xf::set_num_threads(0);  // the restore reads its tensors in parallel; the baselines use one thread
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/xflow_bench_ckpt_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  const std::string dir = buf.data();
  constexpr int kVars = 8;
  constexpr int64_t kRows = 2048, kCols = 4096;  // 32 MiB of float32
  const size_t var_bytes = static_cast<size_t>(kRows * kCols) * sizeof(float);
  std::vector<xf::Variable> vars;
  std::vector<xf::Tensor> initial;
  for (int k = 0; k < kVars; ++k) {
    std::vector<float> values(static_cast<size_t>(kRows * kCols));
    for (size_t i = 0; i < values.size(); ++i) values[i] = input_x(static_cast<int64_t>(i) + k * 131);
    initial.push_back(xf::Tensor::from_vector(values, {kRows, kCols}));
    vars.emplace_back(initial.back(), "bench_ckpt/var" + std::to_string(k));
  }
  std::vector<std::vector<char>> host(kVars, std::vector<char>(var_bytes));
  auto write_plain = [&](bool sync) {
    const std::string path = dir + "/plain";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + path);
    for (const auto& v : vars) {
      xf::Tensor t = v.value();
      const char* p = static_cast<const char*>(t.raw_data());
      size_t left = var_bytes;
      while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w <= 0) throw std::runtime_error("write failed");
        p += w;
        left -= static_cast<size_t>(w);
      }
    }
    if (sync && ::fsync(fd) != 0) throw std::runtime_error("fsync failed");
    ::close(fd);
  };
  auto read_plain = [&] {
    const std::string path = dir + "/plain";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path);
    for (auto& h : host) {
      char* p = h.data();
      size_t left = var_bytes;
      while (left > 0) {
        ssize_t r = ::read(fd, p, left);
        if (r <= 0) throw std::runtime_error("read failed");
        p += r;
        left -= static_cast<size_t>(r);
      }
      escape(h.data());
    }
    ::close(fd);
  };
  xf::train::SaverOptions nosync;
  nosync.sync = false;
  nosync.write_meta_graph = false;
  xf::train::Saver saver(vars, nosync);
  xf::train::SaverOptions synced = nosync;
  synced.sync = true;
  xf::train::Saver saver_sync(vars, synced);
  const std::string prefix = dir + "/bench";
  auto run_save = [&] { saver.save(prefix, std::nullopt, /*write_state=*/false); };
  auto run_save_sync = [&] { saver_sync.save(prefix, std::nullopt, /*write_state=*/false); };
  auto run_restore = [&] { saver.restore(prefix); };

  // The restore must bring back what was saved.
  run_save();
  for (auto& v : vars) v.assign(xf::zeros({kRows, kCols}));
  run_restore();
  for (int k = 0; k < kVars; ++k) {
    if (!xf::bitwise_equal(vars[k].value(), initial[k])) {
      std::printf("  CHECK FAILED ckpt: variable %d differs after restore\n", k);
      g_failed = true;
    }
  }
  write_plain(false);
  read_plain();
  if (std::memcmp(host[3].data(), initial[3].raw_data(), var_bytes) != 0) {
    std::printf("  CHECK FAILED ckpt: plain read differs\n");
    g_failed = true;
  }
  const double mib = kVars * static_cast<double>(var_bytes) / (1 << 20);
  const int samples = o.quick ? 3 : 7;
  auto t = measure({run_save, [&] { write_plain(false); }}, samples, 0.0);
  add_entry({write, t[1], fmt("%.0f MiB/s", mib / t[1]), std::nullopt, 0, std::nullopt});
  add_entry({save, t[0], fmt("%.0f MiB/s", mib / t[0]), write, t[1], std::nullopt});
  t = measure({run_restore, read_plain}, samples, 0.0);
  add_entry({read, t[1], fmt("%.0f MiB/s", mib / t[1]), std::nullopt, 0, std::nullopt});
  add_entry({restore, t[0], fmt("%.0f MiB/s", mib / t[0]), read, t[1], std::nullopt});
  t = measure({run_save_sync, [&] { write_plain(true); }}, o.quick ? 2 : 5, 0.0);
  add_entry({write_sync, t[1], fmt("%.0f MiB/s", mib / t[1]), std::nullopt, 0, std::nullopt});
  add_entry({save_sync, t[0], fmt("%.0f MiB/s", mib / t[0]), write_sync, t[1], std::nullopt});
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// ---- npz: 256 MiB of float32 variables (8 x 32 MiB) saved and loaded, against NumPy ----

// /usr/bin/python3 running bench/npz_numpy.py as a coprocess: one command line in, one line out.
class NumpyTimer {
 public:
  NumpyTimer(const std::string& xflow_npz, const std::string& numpy_npz) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      ::execl("/usr/bin/python3", "python3", XFLOW_NPZ_BENCH_SCRIPT, xflow_npz.c_str(), numpy_npz.c_str(),
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = ::fdopen(in[1], "w");
    from_ = ::fdopen(out[0], "r");
    if (line() != "ready") throw std::runtime_error("npz_numpy.py did not start");
  }
  ~NumpyTimer() {
    std::fputs("quit\n", to_);
    std::fclose(to_);
    std::fclose(from_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::string ask(const char* cmd) {
    std::fprintf(to_, "%s\n", cmd);
    std::fflush(to_);
    return line();
  }
  double seconds(const char* cmd) { return std::stod(ask(cmd)); }

 private:
  std::string line() {
    char buf[256];
    if (!std::fgets(buf, sizeof buf, from_)) throw std::runtime_error("npz_numpy.py exited");
    std::string s = buf;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

void npz(const Options& o) {
  const std::string xf_save = "npz/save", np_save = "npz/save/numpy", xf_load = "npz/load",
                    np_load = "npz/load/numpy", xf_fresh = "npz/save/fresh", np_fresh = "npz/save/fresh/numpy";
  if (!wanted(o, {xf_save, np_save, xf_load, np_load, xf_fresh, np_fresh})) return;
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/xflow_bench_npz_XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  const std::string dir = tmpl, xf_path = dir + "/xflow.npz", np_path = dir + "/numpy.npz";
  constexpr int64_t kArrays = 8, kElems = (int64_t{32} << 20) / 4;  // 8 x 32 MiB
  xf::io::NamedTensors arrays;
  for (int64_t k = 0; k < kArrays; ++k) {
    std::vector<float> v(static_cast<size_t>(kElems));
    for (int64_t i = 0; i < kElems; ++i) v[static_cast<size_t>(i)] = input_x(i * 3 + k);
    arrays.emplace_back("layer" + std::to_string(k / 2) + (k % 2 ? "/bias" : "/kernel"),
                        xf::Tensor::from_vector(v, {kElems / 1024, 1024}));
  }
  const double bytes = static_cast<double>(kArrays * kElems * 4);
  auto cleanup = [&] {
    std::remove(xf_path.c_str());
    std::remove(np_path.c_str());
    ::rmdir(dir.c_str());
  };
  try {
    xf::io::save_npz(xf_path, arrays, false);
    NumpyTimer numpy(xf_path, np_path);
    // Checks: NumPy reads xflow's file as the arrays; xflow reads NumPy's file as the arrays.
    if (numpy.ask("check") != "ok") {
      std::printf("  CHECK FAILED npz: NumPy reads other arrays from xflow's file\n");
      g_failed = true;
    }
    numpy.seconds("save");
    auto back = xf::io::load_npz(np_path);
    bool same = back.size() == arrays.size();
    for (const auto& [name, t] : arrays) same = same && back.count(name) && xf::bitwise_equal(back.at(name), t);
    if (!same) {
      std::printf("  CHECK FAILED npz: xflow reads other arrays from NumPy's file\n");
      g_failed = true;
    }
    back.clear();
    int samples = o.quick ? 4 : 10;
    std::vector<double> ts[6];
    for (int s = 0; s < samples; ++s) {
      // Who goes first alternates, so that writeback of the other's file hits both alike.
      auto save_xflow = [&] {
        auto t0 = Clock::now();
        xf::io::save_npz(xf_path, arrays, false);
        ts[0].push_back(seconds_since(t0));
      };
      // The same into a path that does not exist (removed, untimed): the cost of replacing the
      // previous file (a rename over it; NumPy truncates it) left out.
      auto fresh_xflow = [&] {
        std::remove(xf_path.c_str());
        auto t0 = Clock::now();
        xf::io::save_npz(xf_path, arrays, false);
        ts[4].push_back(seconds_since(t0));
      };
      auto load_xflow = [&] {
        auto t0 = Clock::now();
        auto loaded = xf::io::load_npz(xf_path);
        escape(&loaded);
        loaded.clear();
        ts[2].push_back(seconds_since(t0));
      };
      if (s % 2 == 0) {
        save_xflow();
        ts[1].push_back(numpy.seconds("save"));
        load_xflow();
        ts[3].push_back(numpy.seconds("load"));
        fresh_xflow();
        ts[5].push_back(numpy.seconds("fresh"));
      } else {
        ts[1].push_back(numpy.seconds("save"));
        save_xflow();
        ts[3].push_back(numpy.seconds("load"));
        load_xflow();
        ts[5].push_back(numpy.seconds("fresh"));
        fresh_xflow();
      }
    }
    double t[6];
    for (int k = 0; k < 6; ++k) t[k] = median(ts[k]);
    add_entry({np_save, t[1], fmt("%.2f GB/s", bytes / t[1] / 1e9), std::nullopt, 0, std::nullopt});
    add_entry({xf_save, t[0], fmt("%.2f GB/s", bytes / t[0] / 1e9), np_save, t[1], std::nullopt});
    add_entry({np_load, t[3], fmt("%.2f GB/s", bytes / t[3] / 1e9), std::nullopt, 0, std::nullopt});
    add_entry({xf_load, t[2], fmt("%.2f GB/s", bytes / t[2] / 1e9), np_load, t[3], std::nullopt});
    add_entry({np_fresh, t[5], fmt("%.2f GB/s", bytes / t[5] / 1e9), std::nullopt, 0, std::nullopt});
    add_entry({xf_fresh, t[4], fmt("%.2f GB/s", bytes / t[4] / 1e9), np_fresh, t[5], std::nullopt});
  } catch (...) {
    cleanup();
    throw;
  }
  cleanup();
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string s;
  std::getline(f, s);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--json" && i + 1 < argc) o.json_path = argv[++i];
    else if (arg == "--filter" && i + 1 < argc) o.filter = argv[++i];
    else if (arg == "--quick") o.quick = true;
    else {
      std::fprintf(stderr, "usage: %s [--json PATH] [--filter SUBSTR] [--quick]\n", argv[0]);
      return 2;
    }
  }
  std::printf("xflow_bench%s; load average at start: %s\n", o.quick ? " (quick)" : "", loadavg().c_str());
  auto t0 = Clock::now();
  print_header();
  try {
    w1(o);
    numerics_w1(o);
    for (int threads : {1, 2}) {
      w2(o, threads);
      w3(o, threads);
      for (int n : {256, 1024, 2048}) w4(o, threads, n);
    }
    w5fwd(o);
    w5(o);
    bench_w6(o);
    g200(o);
    ckpt(o);
    npz(o);
    // Rows defined in bench_*.cpp (declared in bench_common.hpp).
    bench_tfrecord(o);
    bench_example(o);
    bench_dataset(o);
    bench_queue(o);
    bench_sort(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  xf::set_num_threads(0);
  std::printf("done in %.1f s; load average at end: %s\n", seconds_since(t0), loadavg().c_str());
  if (!o.json_path.empty()) {
    write_json(o.json_path);
    std::printf("wrote %s\n", o.json_path.c_str());
  }
  if (g_failed) std::printf("SOME CHECKS FAILED\n");
  return g_failed ? 1 : 0;
}
