#include "core/parallel.hpp"

#include <cblas.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/threads.hpp"

namespace xf {
namespace {
std::mutex g_mu;
std::unique_ptr<tbb::global_control> g_control;
int g_threads = 0;  // 0: default
}  // namespace

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (n < 0) throw InvalidArgument("[set_num_threads] n must be >= 0, got " + std::to_string(n));
  g_control.reset();
  if (n > 0) g_control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, n);
  g_threads = n;
  openblas_set_num_threads(n > 0 ? n : tbb::this_task_arena::max_concurrency());
}

int num_threads() {
  return static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

namespace detail {

void parallel_for_chunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& f) {
  if (n <= 0) return;
  int64_t chunks = (n + chunk - 1) / chunk;
  if (chunks < 2 || num_threads() < 2) {
    f(0, n);
    return;
  }
#if defined(__SANITIZE_THREAD__)
  // libtbb is not instrumented, so ThreadSanitizer cannot see its synchronization and reports
  // every kernel as a race. Under TSan the same chunks run on plain threads (fork-join), which
  // TSan understands; what it checks is that the kernels' chunks do not race.
  // An exception thrown by a chunk is carried to the caller, as tbb::parallel_for carries it: the
  // first one is rethrown after every thread has joined, and the other threads stop taking chunks.
  int workers = static_cast<int>(std::min<int64_t>(chunks, num_threads()));
  std::vector<std::thread> pool;
  std::mutex error_mu;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      for (int64_t c = w; c < chunks && !failed.load(); c += workers) {
        try {
          f(c * chunk, std::min(n, (c + 1) * chunk));
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mu);
          if (!error) error = std::current_exception();
          failed.store(true);
        }
      }
    });
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return;
#endif
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, chunks, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t c = r.begin(); c != r.end(); ++c) f(c * chunk, std::min(n, (c + 1) * chunk));
      },
      tbb::simple_partitioner());
}

}  // namespace detail
}  // namespace xf
