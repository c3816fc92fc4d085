// The shared state behind a Queue handle (internal to lib/queue).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "ops/queue_resource.hpp"
#include "xflow/queue.hpp"

namespace xf {

struct Queue::State : QueueResource {
  enum class Kind { fifo, shuffle, padding };
  Kind kind = Kind::fifo;
  const char* cls = "FIFOQueue";
  std::string name;
  int64_t capacity = 0;
  int64_t min_after_dequeue = 0;
  std::vector<ValueType> dtypes;
  std::vector<Shape> shapes;  // empty: unspecified
  uint64_t id = 0;

  // A blocked operation: its own condition variable, so that exactly the one that can proceed
  // is woken (a shared one would wake every blocked producer for each element taken).
  struct Waiter {
    std::condition_variable cv;
  };

  mutable std::mutex mu;
  std::deque<Element> items;
  // Blocked operations are served in arrival order (TensorFlow's attempt queues): only the
  // waiter at the front of its line may add or take elements.
  std::deque<Waiter*> enq_line;
  std::deque<Waiter*> deq_line;
  // The front enqueuer has added part of its batch: nobody may add elements before it ends.
  bool enq_partial = false;
  bool closed = false;     // no new enqueue
  bool cancelled = false;  // waiting enqueues throw Cancelled
  std::mt19937_64 rng;

  // TensorFlow's `closed_`: the close takes effect for dequeues once the enqueues that were
  // waiting when it came have completed.
  bool drained_closed() const { return closed && enq_line.empty(); }

  // Inside graphs (ops/queue_resource.hpp): the kernels of queue_dequeue and queue_enqueue.
  std::vector<Tensor> graph_dequeue(int64_t n, int64_t timeout_ms) override;
  int64_t graph_enqueue(const std::vector<Tensor>& components, bool many, int64_t timeout_ms) override;
};

}  // namespace xf
