// TensorFlow 1's thread coordination (tf.train.Coordinator, tf.train.QueueRunner,
// tf.train.add_queue_runner / start_queue_runners) for threads that feed queues.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/queue.hpp"

namespace xf::train {

// Coordinates the stop of a set of threads (TensorFlow's coordinator.py):
//   - any thread may request_stop(), optionally with the exception that made it stop; the first
//     exception is kept and later ones are ignored. OutOfRange is a clean stop (TensorFlow's
//     clean_stop_exception_types): it stops the threads but is not re-raised;
//   - threads poll should_stop() or block in wait_for_stop();
//   - join() waits for the threads, then re-raises the kept exception; threads still running
//     stop_grace_period_secs after the stop request make it throw DeadlineExceeded
//     "Coordinator stopped with threads still running: <names>" (TensorFlow raises RuntimeError).
class Coordinator {
 public:
  Coordinator() = default;
  // Requests a stop and joins the registered threads that are still owned.
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Requests a stop. `e` (e.g. std::current_exception()) is kept when it is the first real one.
  // After join() has returned, a non-null real exception is rethrown instead.
  void request_stop(std::exception_ptr e = nullptr);
  bool should_stop() const;
  // Blocks until a stop is requested or the timeout passes; returns should_stop().
  bool wait_for_stop(std::optional<std::chrono::milliseconds> timeout = {}) const;
  // Waits for `threads` and the registered ones to finish (all of them, or, once a stop is
  // requested, for at most stop_grace_period_secs more), joins those that finished, then
  // rethrows the first exception passed to request_stop. Threads that did not finish stay
  // joinable in `threads` (registered ones stay owned by the coordinator) and the call throws
  // DeadlineExceeded naming them.
  void join(std::vector<std::thread>& threads, double stop_grace_period_secs = 120);
  void join(double stop_grace_period_secs = 120);  // the registered threads only
  // Forgets the stop request and the kept exception, so that the coordinator can be reused.
  void clear_stop();
  // The coordinator owns `t` and joins it in join().
  void register_thread(std::thread t);
  // Runs f; an exception from it is passed to request_stop() (and not rethrown).
  template <class F>
  void stop_on_exception(F&& f) {
    try {
      std::forward<F>(f)();
    } catch (...) {
      request_stop(std::current_exception());
    }
  }
  // Rethrows the exception passed to request_stop, if any.
  void raise_requested_exception() const;
  bool joined() const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable stop_cv_;
  bool stop_ = false;
  bool joined_ = false;
  std::exception_ptr exception_;
  std::vector<std::thread> registered_;
};

// Runs enqueue operations in threads until they report that the queue is done (TensorFlow's
// queue_runner_impl.py). Each op runs in a loop in its own thread until coord.should_stop();
//   - an OutOfRange from an op (its input is exhausted) ends that thread; the last thread to end
//     runs close_op (default: queue.close()), so consumers drain the queue then get OutOfRange;
//   - any other exception is passed to the coordinator's request_stop, which stops everyone;
//   - one more thread waits for the coordinator's stop and runs cancel_op (default:
//     queue.close(cancel_pending_enqueues = true)) so that blocked enqueues return.
// Exceptions from close_op and cancel_op are ignored (a second close, for instance). A
// QueueRunner is a shared handle: copies refer to the same runner.
class QueueRunner {
 public:
  QueueRunner(Queue queue, std::vector<std::function<void()>> enqueue_ops, std::function<void()> close_op = {},
              std::function<void()> cancel_op = {});

  // Starts one thread per enqueue op plus the thread that runs cancel_op on a stop, and returns
  // them: join them with coord.join(threads). TensorFlow also registers them with the
  // coordinator; a std::thread has one owner, so here the caller owns them. While threads of an
  // earlier call still run, returns no threads. `start` must be true (a std::thread cannot
  // exist unstarted): false throws InvalidArgument.
  std::vector<std::thread> create_threads(Coordinator& coord, bool start = true);
  const Queue& queue() const;
  int64_t num_threads() const;  // the number of enqueue ops
  // Exceptions raised by the ops (those passed to the coordinator too).
  std::vector<std::exception_ptr> exceptions_raised() const;
  // The runner's close and cancel operations.
  void close_op() const;
  void cancel_op() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// TensorFlow's QUEUE_RUNNERS collection (process-wide).
void add_queue_runner(QueueRunner qr);
std::vector<QueueRunner> queue_runners();
void clear_queue_runners();
// Starts the threads of every collected runner; join them with coord.join(threads).
std::vector<std::thread> start_queue_runners(Coordinator& coord);

}  // namespace xf::train
