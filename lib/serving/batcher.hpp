// Server-side batching (TF Serving's --enable_batching): concurrent requests to one signature are
// merged into one run of up to max_batch_size rows, then each gets its rows back. No thread of its
// own: the first request of a batch gathers the next ones while every core runs a batch (or until
// the batch is full, or batch_timeout_micros) and runs the batch for all of them; with a core free
// it runs at once, so a lone request never waits (docs/serving.md).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "xflow/serving.hpp"
#include "xflow/tensor.hpp"

namespace xf::serving {

using TensorMap = std::map<std::string, Tensor>;

class Batcher {
 public:
  // max_running: batches of this batcher that run at once (one per core).
  explicit Batcher(BatchingOptions options, int max_running = 1) : options_(options), max_running_(max_running) {}
  using RunFn = std::function<TensorMap(const TensorMap&)>;
  // Runs `inputs` (every tensor batched along dimension 0, the same rows) merged with concurrent
  // requests; returns this request's rows of every output.
  TensorMap run(const TensorMap& inputs, const RunFn& fn);

 private:
  struct Task {
    const TensorMap* inputs = nullptr;
    int64_t rows = 0;
    TensorMap out;
    std::exception_ptr error;
    bool taken = false;  // in a batch that is running
    bool done = false;
  };
  BatchingOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Task*> queue_;
  int64_t queued_rows_ = 0;
  bool collecting_ = false;  // a request is gathering the next batch
  int running_ = 0;          // batches running now
  int max_running_ = 1;
};

// At most `n` runs at once (one per core): more threads than cores only make each run slower.
class RunLimiter {
 public:
  explicit RunLimiter(unsigned n) : free_(n) {}
  class Slot {
   public:
    explicit Slot(RunLimiter& l) : l_(l) {
      std::unique_lock<std::mutex> lock(l_.mu_);
      l_.cv_.wait(lock, [this] { return l_.free_ > 0; });
      --l_.free_;
    }
    ~Slot() {
      {
        std::lock_guard<std::mutex> lock(l_.mu_);
        ++l_.free_;
      }
      l_.cv_.notify_one();
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    RunLimiter& l_;
  };

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned free_;
};

}  // namespace xf::serving
