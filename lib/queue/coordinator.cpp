#include "xflow/coordinator.hpp"

#include <pthread.h>

#include <algorithm>
#include <new>
#include <sstream>

namespace xf::train {

namespace {

using Clock = std::chrono::steady_clock;

// True when `e` is a clean stop (TensorFlow's clean_stop_exception_types: OutOfRangeError).
bool is_clean_stop(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const OutOfRange&) {
    return true;
  } catch (...) {
    return false;
  }
}

// The thread's name (pthread_setname_np), or its id.
std::string thread_name(std::thread& t) {
  char buf[32] = {0};
  if (pthread_getname_np(t.native_handle(), buf, sizeof buf) == 0 && buf[0] != '\0') return buf;
  std::ostringstream os;
  os << "thread-" << t.get_id();
  return os.str();
}

// Joins t if it has finished; returns true when t is (now) not joinable. std::thread cannot ask
// whether a thread has ended, so this asks pthread_tryjoin_np and, when it reaped the thread,
// gives the std::thread object a fresh empty state.
bool reap(std::thread& t) {
  if (!t.joinable()) return true;
  if (pthread_tryjoin_np(t.native_handle(), nullptr) != 0) return false;
  // The pthread is joined; the std::thread must forget it without join() or detach().
  new (&t) std::thread();
  return true;
}

void set_this_thread_name(const std::string& name) {
  std::string n = name.substr(0, 15);  // Linux's limit (16 bytes with the NUL)
  pthread_setname_np(pthread_self(), n.c_str());
}

}  // namespace

// ---- Coordinator ----

Coordinator::~Coordinator() {
  std::vector<std::thread> reg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    reg = std::move(registered_);
  }
  stop_cv_.notify_all();
  for (std::thread& t : reg) {
    if (t.joinable()) t.join();
  }
}

void Coordinator::request_stop(std::exception_ptr e) {
  if (e && is_clean_stop(e)) e = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // After join() the exception would never be reported: raise it here (TensorFlow does too).
    if (joined_ && e) std::rethrow_exception(e);
    if (stop_) return;
    if (e && !exception_) exception_ = e;
    stop_ = true;
  }
  stop_cv_.notify_all();
}

bool Coordinator::should_stop() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_;
}

bool Coordinator::wait_for_stop(std::optional<std::chrono::milliseconds> timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (timeout) return stop_cv_.wait_for(lock, *timeout, [&] { return stop_; });
  stop_cv_.wait(lock, [&] { return stop_; });
  return true;
}

void Coordinator::clear_stop() {
  std::lock_guard<std::mutex> lock(mu_);
  joined_ = false;
  exception_ = nullptr;
  stop_ = false;
}

void Coordinator::register_thread(std::thread t) {
  std::lock_guard<std::mutex> lock(mu_);
  registered_.push_back(std::move(t));
}

void Coordinator::raise_requested_exception() const {
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e = exception_;
  }
  if (e) std::rethrow_exception(e);
}

bool Coordinator::joined() const {
  std::lock_guard<std::mutex> lock(mu_);
  return joined_;
}

void Coordinator::join(double stop_grace_period_secs) {
  std::vector<std::thread> none;
  join(none, stop_grace_period_secs);
}

void Coordinator::join(std::vector<std::thread>& threads, double stop_grace_period_secs) {
  std::vector<std::thread> reg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reg = std::move(registered_);
    registered_.clear();
  }
  auto any_alive = [&] {
    bool alive = false;
    for (std::thread& t : threads) alive = !reap(t) || alive;
    for (std::thread& t : reg) alive = !reap(t) || alive;
    return alive;
  };
  // Wait for every thread to end, or for a stop request.
  while (any_alive() && !wait_for_stop(std::chrono::milliseconds(5))) {
  }
  // Then give the threads the grace period to end.
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(std::max(0.0, stop_grace_period_secs)));
  auto step = std::chrono::microseconds(500);
  while (any_alive() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<Clock::duration>(step, deadline - Clock::now()));
    step = std::min(step * 2, std::chrono::microseconds(20000));
  }
  std::vector<std::string> stragglers;
  for (std::thread& t : threads) {
    if (t.joinable()) stragglers.push_back(thread_name(t));
  }
  for (std::thread& t : reg) {
    if (t.joinable()) stragglers.push_back(thread_name(t));
  }
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    joined_ = true;
    for (std::thread& t : reg) {
      if (t.joinable()) registered_.push_back(std::move(t));  // still ours: the destructor joins it
    }
    e = exception_;
  }
  if (e) std::rethrow_exception(e);
  if (!stragglers.empty()) {
    std::string names;
    for (const std::string& n : stragglers) names += (names.empty() ? "" : " ") + n;
    throw DeadlineExceeded("Coordinator stopped with threads still running: " + names);
  }
}

// ---- QueueRunner ----

struct QueueRunner::State {
  Queue queue;
  std::vector<std::function<void()>> ops;
  std::function<void()> close_op;
  std::function<void()> cancel_op;
  std::mutex mu;
  int64_t runs = 0;  // enqueue threads still running
  std::vector<std::exception_ptr> exceptions;
};

QueueRunner::QueueRunner(Queue queue, std::vector<std::function<void()>> enqueue_ops, std::function<void()> close_op,
                         std::function<void()> cancel_op)
    : state_(std::make_shared<State>()) {
  if (!queue.defined()) throw InvalidArgument("[QueueRunner] the queue handle is empty");
  if (enqueue_ops.empty()) throw InvalidArgument("[QueueRunner] needs at least one enqueue op");
  for (const auto& op : enqueue_ops) {
    if (!op) throw InvalidArgument("[QueueRunner] an enqueue op is empty");
  }
  state_->queue = queue;
  state_->ops = std::move(enqueue_ops);
  state_->close_op = close_op ? std::move(close_op) : std::function<void()>([queue]() mutable { queue.close(); });
  state_->cancel_op = cancel_op ? std::move(cancel_op) : std::function<void()>([queue]() mutable { queue.close(true); });
}

const Queue& QueueRunner::queue() const { return state_->queue; }
int64_t QueueRunner::num_threads() const { return static_cast<int64_t>(state_->ops.size()); }

std::vector<std::exception_ptr> QueueRunner::exceptions_raised() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->exceptions;
}

void QueueRunner::close_op() const { state_->close_op(); }
void QueueRunner::cancel_op() const { state_->cancel_op(); }

std::vector<std::thread> QueueRunner::create_threads(Coordinator& coord, bool start) {
  if (!start) {
    throw InvalidArgument("[QueueRunner.create_threads] start=false is not supported: a std::thread cannot exist unstarted");
  }
  std::shared_ptr<State> st = state_;
  {
    std::lock_guard<std::mutex> lock(st->mu);
    if (st->runs > 0) return {};
    st->runs = static_cast<int64_t>(st->ops.size());
    st->exceptions.clear();
  }
  const std::string tag = "qr:" + st->queue.name();
  std::vector<std::thread> threads;
  for (size_t i = 0; i < st->ops.size(); ++i) {
    threads.emplace_back([st, i, &coord, tag] {
      set_this_thread_name(tag);
      bool decremented = false;
      try {
        while (!coord.should_stop()) {
          try {
            st->ops[i]();
          } catch (const OutOfRange&) {
            // The op's input is exhausted: this thread is done; the last one closes the queue.
            bool last;
            {
              std::lock_guard<std::mutex> lock(st->mu);
              decremented = true;
              last = --st->runs == 0;
            }
            if (last) {
              try {
                st->close_op();
              } catch (...) {  // TensorFlow ignores errors of the close op (a second close)
              }
            }
            return;
          }
        }
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(st->mu);
          st->exceptions.push_back(std::current_exception());
        }
        try {
          coord.request_stop(std::current_exception());
        } catch (...) {  // the coordinator was already joined: nobody can receive it
        }
      }
      if (!decremented) {
        std::lock_guard<std::mutex> lock(st->mu);
        --st->runs;
      }
    });
  }
  // Closes the queue with cancel_pending_enqueues once a stop is requested, so that enqueues
  // blocked on a full queue return.
  threads.emplace_back([st, &coord, tag] {
    set_this_thread_name(tag + "~");
    coord.wait_for_stop();
    try {
      st->cancel_op();
    } catch (...) {  // ignored, as TensorFlow does
    }
  });
  return threads;
}

// ---- QUEUE_RUNNERS ----

namespace {
std::mutex g_runners_mu;
std::vector<QueueRunner>& runners() {
  static std::vector<QueueRunner> r;
  return r;
}
}  // namespace

void add_queue_runner(QueueRunner qr) {
  std::lock_guard<std::mutex> lock(g_runners_mu);
  runners().push_back(std::move(qr));
}

std::vector<QueueRunner> queue_runners() {
  std::lock_guard<std::mutex> lock(g_runners_mu);
  return runners();
}

void clear_queue_runners() {
  std::lock_guard<std::mutex> lock(g_runners_mu);
  runners().clear();
}

std::vector<std::thread> start_queue_runners(Coordinator& coord) {
  std::vector<std::thread> all;
  for (QueueRunner& qr : queue_runners()) {
    for (std::thread& t : qr.create_threads(coord)) all.push_back(std::move(t));
  }
  return all;
}

}  // namespace xf::train
