// The stages with threads: parallel map and prefetch, on std::threads (TSan sees their
// synchronization; libtbb's is invisible to it). Each stage starts its threads at its first
// next(), and its destructor cancels the stages under it, wakes its threads and joins them, so
// an iterator dropped in the middle of an epoch leaves nothing running.
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "dataset/internal.hpp"

namespace xf::data::detail {
namespace {

[[noreturn]] void throw_cancelled() { throw Cancelled("[Dataset] iterator cancelled"); }

// Workers pull elements from the input one at a time (in order, under input_mu_), numbering
// them, call fn outside any lock and file the result under its number; the consumer takes the
// results in number order. At most `window` numbers are handed out beyond the consumer's.
class ParallelMapIterator : public IteratorBase {
 public:
  ParallelMapIterator(std::unique_ptr<IteratorBase> input, MapFn fn, int64_t threads)
      : input_(std::move(input)), fn_(std::move(fn)), threads_(threads), window_(2 * threads) {}

  ~ParallelMapIterator() override {
    cancel();
    for (auto& t : workers_) t.join();
  }

  std::optional<Element> next() override {
    if (workers_.empty() && !finished_) {
      for (int64_t i = 0; i < threads_; ++i) workers_.emplace_back([this] { work(); });
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_out_.wait(lock, [&] { return stop_ || done_.count(next_out_) > 0 || (end_ && *end_ == next_out_); });
    if (done_.count(next_out_) == 0) {
      if (stop_) throw_cancelled();
      // The end: no thread has anything left to do.
      finished_ = true;
      lock.unlock();
      join();
      return std::nullopt;
    }
    auto node = done_.extract(next_out_);
    int64_t index = next_out_++;
    lock.unlock();
    cv_work_.notify_all();
    Result& r = node.mapped();
    if (r.error) {
      if (r.from_input) std::rethrow_exception(r.error);
      rethrow_at("map", index, r.error);
    }
    return std::move(r.value);
  }

  void cancel() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_work_.notify_all();
    cv_out_.notify_all();
    input_->cancel();
  }

 private:
  void join() {
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void work() {
    for (;;) {
      int64_t seq;
      Element in;
      {
        std::unique_lock<std::mutex> input_lock(input_mu_);
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_work_.wait(lock, [&] { return stop_ || end_ || next_in_ < next_out_ + window_; });
          if (stop_ || end_) return;
          seq = next_in_++;
        }
        std::optional<Element> e;
        Result r;
        try {
          e = input_->next();
        } catch (...) {
          r.error = std::current_exception();
          r.from_input = true;
        }
        if (!r.error && !e) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            end_ = seq;
          }
          cv_work_.notify_all();
          cv_out_.notify_all();
          return;
        }
        if (r.error) {
          file(seq, std::move(r));
          continue;
        }
        in = std::move(*e);
      }
      Result r;
      try {
        r.value = fn_(in);
      } catch (...) {
        r.error = std::current_exception();
      }
      file(seq, std::move(r));
    }
  }

  void file(int64_t seq, Result r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_.emplace(seq, std::move(r));
    }
    cv_out_.notify_all();
  }

  std::unique_ptr<IteratorBase> input_;
  MapFn fn_;
  int64_t threads_, window_;
  std::mutex input_mu_;  // one worker at a time pulls from the input
  std::mutex mu_;        // guards what follows
  std::condition_variable cv_work_, cv_out_;
  int64_t next_in_ = 0, next_out_ = 0;
  std::optional<int64_t> end_;  // the number the input's end got
  std::map<int64_t, Result> done_;
  bool stop_ = false;
  bool finished_ = false;  // consumer only
  std::vector<std::thread> workers_;  // consumer only
};

// One producer thread keeps up to buffer_size elements (or errors) ready.
class PrefetchIterator : public IteratorBase {
 public:
  PrefetchIterator(std::unique_ptr<IteratorBase> input, int64_t buffer_size)
      : input_(std::move(input)), size_(buffer_size) {}

  ~PrefetchIterator() override {
    cancel();
    if (producer_.joinable()) producer_.join();
  }

  std::optional<Element> next() override {
    if (!started_) {
      started_ = true;
      producer_ = std::thread([this] { produce(); });
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_out_.wait(lock, [&] { return stop_ || !buffer_.empty() || end_; });
    if (buffer_.empty()) {
      if (stop_) throw_cancelled();
      lock.unlock();
      if (producer_.joinable()) producer_.join();
      return std::nullopt;
    }
    Result r = std::move(buffer_.front());
    buffer_.pop_front();
    lock.unlock();
    cv_in_.notify_one();
    if (r.error) std::rethrow_exception(r.error);
    return std::move(r.value);
  }

  void cancel() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_in_.notify_all();
    cv_out_.notify_all();
    input_->cancel();
  }

 private:
  void produce() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_in_.wait(lock, [&] { return stop_ || static_cast<int64_t>(buffer_.size()) < size_; });
        if (stop_) return;
      }
      Result r;
      try {
        r.value = input_->next();
      } catch (...) {
        r.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!r.error && !r.value) end_ = true;
        else buffer_.push_back(std::move(r));
      }
      cv_out_.notify_one();
      if (end_) return;  // only this thread writes end_
    }
  }

  std::unique_ptr<IteratorBase> input_;
  int64_t size_;
  std::mutex mu_;  // guards what follows
  std::condition_variable cv_in_, cv_out_;
  std::deque<Result> buffer_;
  bool end_ = false, stop_ = false;
  bool started_ = false;  // consumer only
  std::thread producer_;
};

}  // namespace

std::unique_ptr<IteratorBase> make_parallel_map_iterator(std::unique_ptr<IteratorBase> input, MapFn fn,
                                                         int64_t threads) {
  return std::make_unique<ParallelMapIterator>(std::move(input), std::move(fn), threads);
}

std::unique_ptr<IteratorBase> make_prefetch_iterator(std::unique_ptr<IteratorBase> input, int64_t buffer_size) {
  return std::make_unique<PrefetchIterator>(std::move(input), buffer_size);
}

}  // namespace xf::data::detail
