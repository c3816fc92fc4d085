// queue/fifo/1p and queue/fifo/4p: elements per second through a FIFOQueue (capacity 64) from
// 1 or 4 producer threads to one consumer, each element an (int64 scalar, float32 (16,)) pair.
// Baseline in the same run: the same elements handed over through a plain bounded std::deque
// guarded by a mutex and two condition variables (the least a blocking queue must do).
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "bench_common.hpp"
#include "xflow/queue.hpp"

namespace xfbench {

namespace {

class PlainQueue {
 public:
  explicit PlainQueue(size_t cap) : cap_(cap) {}
  void push(xf::Element e) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return q_.size() < cap_; });
    q_.push_back(std::move(e));
    not_empty_.notify_one();
  }
  xf::Element pop() {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait(l, [&] { return !q_.empty(); });
    xf::Element e = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return e;
  }

 private:
  size_t cap_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<xf::Element> q_;
};

}  // namespace

void bench_queue(const Options& o) {
  const std::string n1 = "queue/fifo/1p", n4 = "queue/fifo/4p", b1 = "queue/deque_condvar/1p", b4 = "queue/deque_condvar/4p";
  if (!wanted(o, {n1, n4, b1, b4})) return;
  const int64_t total = o.quick ? 20000 : 200000;
  const xf::Element elem{xf::Tensor(int64_t{7}), xf::zeros({16})};
  for (int producers : {1, 4}) {
    const int64_t per = total / producers;
    const int64_t n = per * producers;
    auto run_xf = [&] {
      xf::FIFOQueue q(64, {xf::DType::int64, xf::DType::float32}, {{}, {16}}, "bench");
      std::vector<std::thread> ts;
      for (int p = 0; p < producers; ++p)
        ts.emplace_back([&] {
          for (int64_t i = 0; i < per; ++i) q.enqueue(elem);
        });
      int64_t got = 0;
      for (int64_t i = 0; i < n; ++i) got += q.dequeue()[0].tensor().size();
      for (auto& t : ts) t.join();
      if (got != n) g_failed = true;
    };
    auto run_plain = [&] {
      PlainQueue q(64);
      std::vector<std::thread> ts;
      for (int p = 0; p < producers; ++p)
        ts.emplace_back([&] {
          for (int64_t i = 0; i < per; ++i) q.push(elem);
        });
      int64_t got = 0;
      for (int64_t i = 0; i < n; ++i) got += q.pop()[0].tensor().size();
      for (auto& t : ts) t.join();
      if (got != n) g_failed = true;
    };
    std::vector<double> t = measure({run_xf, run_plain}, o.quick ? 3 : 7, 0.05, static_cast<double>(n));
    const std::string& name = producers == 1 ? n1 : n4;
    const std::string& base = producers == 1 ? b1 : b4;
    add_entry({base, t[1], fmt("%.3g elements/s", 1.0 / t[1]), std::nullopt, 0, std::nullopt});
    add_entry({name, t[0], fmt("%.3g elements/s", 1.0 / t[0]), base, t[1], std::nullopt});
  }
}

}  // namespace xfbench
