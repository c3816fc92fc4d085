// TensorFlow 1's queues: FIFOQueue, RandomShuffleQueue and PaddingFIFOQueue over elements
// (tuples of Values). A Queue is a shared handle, like TensorFlow's queue handle: copies refer to
// the same queue, and every operation may be called from any thread (docs/queues.md).
//
// Blocking operations take an optional timeout: none blocks until the operation can complete,
// and an expired timeout throws DeadlineExceeded (elements a dequeue had gathered go back).
// After close(), enqueue throws Cancelled "<Class> '<name>' is closed.", dequeues drain what is
// left and then throw OutOfRange "<Class> '<name>' is closed and has insufficient elements
// (requested N, current size M)", TensorFlow's messages.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/shape.hpp"
#include "xflow/value.hpp"

namespace xf {

using Timeout = std::optional<std::chrono::milliseconds>;

class Queue {
 public:
  // An empty handle: every operation throws FailedPrecondition.
  Queue() = default;

  // Adds one element; blocks while the queue is full. Components must have the queue's dtypes
  // (and shapes when the queue has them; a padding queue's -1 dimensions take any size).
  void enqueue(const Element& e, Timeout timeout = {}, Loc loc = Loc::current());
  // Adds e[.][0], e[.][1], ...: every component is a batch along axis 0 of the same size. Elements
  // go in as room appears, so an enqueue_many larger than the capacity completes once consumers
  // take elements out; on a timeout or cancellation the elements already in stay in.
  void enqueue_many(const Element& e, Timeout timeout = {}, Loc loc = Loc::current());
  // Removes one element (FIFO order; a random one for RandomShuffleQueue).
  Element dequeue(Timeout timeout = {}, Loc loc = Loc::current());
  // Removes n elements and stacks each component along a new axis 0 (a padding queue pads its -1
  // dimensions to the batch's largest with zeros or ""). Needs the queue's shapes. The n elements
  // are consecutive: concurrent dequeue_many calls are served one after another in arrival order.
  Element dequeue_many(int64_t n, Timeout timeout = {}, Loc loc = Loc::current());
  // As dequeue_many, but once the queue is closed returns the remaining elements (fewer than n,
  // at least 1) instead of throwing OutOfRange.
  Element dequeue_up_to(int64_t n, Timeout timeout = {}, Loc loc = Loc::current());

  int64_t size() const;
  // Refuses further enqueues; enqueues that were already waiting still complete, unless
  // cancel_pending_enqueues, which makes them throw Cancelled "Enqueue operation was cancelled".
  // Closing a closed queue again without cancel_pending_enqueues throws Cancelled
  // "Queue '<name>' is already closed." (TensorFlow's behaviour).
  void close(bool cancel_pending_enqueues = false);
  bool is_closed() const;

  const std::vector<ValueType>& dtypes() const;
  // The component shapes ({} when the queue was made without shapes).
  const std::vector<Shape>& shapes() const;
  const std::string& name() const;
  // "FIFOQueue", "RandomShuffleQueue", "PaddingFIFOQueue".
  const char* class_name() const;
  // Capacity (INT64_MAX when unbounded).
  int64_t capacity() const;
  int64_t num_components() const { return static_cast<int64_t>(dtypes().size()); }
  bool defined() const { return state_ != nullptr; }
  // Handles to the same queue compare equal.
  bool operator==(const Queue& o) const { return state_ == o.state_; }
  bool operator!=(const Queue& o) const { return state_ != o.state_; }
  // A process-unique id of the queue (graph nodes refer to queues by it).
  uint64_t id() const;

  struct State;
  explicit Queue(std::shared_ptr<State> state) : state_(std::move(state)) {}
  const std::shared_ptr<State>& state() const { return state_; }

 private:
  const State& s() const;
  State& s();
  std::shared_ptr<State> state_;
};

// A first-in first-out queue. capacity > 0, or negative for unbounded; shapes are empty (any
// shape, but then no dequeue_many) or one per component.
class FIFOQueue : public Queue {
 public:
  FIFOQueue(int64_t capacity, std::vector<ValueType> dtypes, std::vector<Shape> shapes = {},
            std::string name = "fifo_queue", Loc loc = Loc::current());
};

// Dequeues a uniformly random element, and only while more than min_after_dequeue remain (until
// closed), so that what comes out is well mixed. With a seed, the order of dequeued elements is
// a function of the seed and the order of enqueues (std::mt19937_64; not TensorFlow's Philox).
class RandomShuffleQueue : public Queue {
 public:
  RandomShuffleQueue(int64_t capacity, int64_t min_after_dequeue, std::vector<ValueType> dtypes,
                     std::vector<Shape> shapes = {}, std::optional<uint64_t> seed = {},
                     std::string name = "random_shuffle_queue", Loc loc = Loc::current());
  int64_t min_after_dequeue() const;
};

// A FIFOQueue whose shapes may have -1 dimensions: elements of any size there, padded (zeros,
// "") to the largest of each batch by dequeue_many / dequeue_up_to. Shapes are required.
class PaddingFIFOQueue : public Queue {
 public:
  PaddingFIFOQueue(int64_t capacity, std::vector<ValueType> dtypes, std::vector<Shape> shapes,
                   std::string name = "padding_fifo_queue", Loc loc = Loc::current());
};

}  // namespace xf
