#include "xflow/queue.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "core/observer.hpp"
#include "ops/prims.hpp"
#include "queue/queue_state.hpp"

namespace xf {

namespace {

using Clock = std::chrono::steady_clock;
using Kind = Queue::State::Kind;

std::atomic<uint64_t> g_next_queue_id{1};

// TensorFlow's TensorShape::DebugString: "[2,3]", "[]", "[2,?]" for an unknown dimension.
std::string tf_shape(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ",";
    r += s[i] < 0 ? "?" : std::to_string(s[i]);
  }
  return r + "]";
}

std::shared_ptr<Queue::State> make_state(Kind kind, const char* cls, int64_t capacity,
                                         std::vector<ValueType> dtypes, std::vector<Shape> shapes,
                                         std::string name, Loc loc) {
  if (dtypes.empty()) raise(ErrorCode::invalid_argument, cls, "a queue needs at least one component dtype", loc);
  if (capacity == 0) {
    raise(ErrorCode::invalid_argument, cls, "capacity must be positive (or negative for unbounded), got 0", loc);
  }
  if (!shapes.empty() && shapes.size() != dtypes.size()) {
    raise(ErrorCode::invalid_argument, cls,
          "queue shapes must have the same length as dtypes: " + std::to_string(shapes.size()) + " shapes for " +
              std::to_string(dtypes.size()) + " dtypes",
          loc);
  }
  for (size_t i = 0; i < shapes.size(); ++i) {
    for (int64_t d : shapes[i]) {
      if (d < -1 || (d == -1 && kind != Kind::padding)) {
        raise(ErrorCode::invalid_argument, cls,
              "shape " + tf_shape(shapes[i]) + " of component " + std::to_string(i) + " has dimension " +
                  std::to_string(d) + (kind == Kind::padding ? "; dimensions are sizes or -1"
                                                             : "; only a PaddingFIFOQueue accepts unknown (-1) dimensions"),
              loc);
      }
    }
  }
  auto s = std::make_shared<Queue::State>();
  s->kind = kind;
  s->cls = cls;
  s->name = std::move(name);
  s->capacity = capacity < 0 ? std::numeric_limits<int64_t>::max() : capacity;
  s->dtypes = std::move(dtypes);
  s->shapes = std::move(shapes);
  s->id = g_next_queue_id.fetch_add(1);
  register_queue_resource(s->id, s);
  return s;
}

// PaddingFIFOQueue inherits FIFOQueue's enqueue and single dequeue in TensorFlow, and so their
// messages name FIFOQueue; only its dequeue_many / dequeue_up_to name PaddingFIFOQueue.
const char* msg_class(const Queue::State& s, bool batch) {
  return s.kind == Kind::padding && !batch ? "FIFOQueue" : s.cls;
}

[[noreturn]] void closed_error(const Queue::State& s) {
  throw Cancelled(std::string(msg_class(s, false)) + " '" + s.name + "' is closed.");
}

std::string timeout_str(std::chrono::milliseconds t) { return std::to_string(t.count()) + " ms"; }

// Checks an element (or a batch of elements, `many`) against the queue's dtypes and shapes.
// Returns the batch size for `many`.
int64_t validate(const Queue::State& s, const Element& e, bool many, const char* op, Loc loc) {
  std::string who = std::string(s.cls) + " '" + s.name + "' " + op;
  if (e.size() != s.dtypes.size()) {
    raise(ErrorCode::invalid_argument, who.c_str(),
          "Wrong number of components in tuple. Expected " + std::to_string(s.dtypes.size()) + ", got " +
              std::to_string(e.size()),
          loc);
  }
  int64_t batch = -1;
  for (size_t i = 0; i < e.size(); ++i) {
    const Value& v = e[i];
    if (!v.is_string() && !v.tensor().defined()) {
      raise(ErrorCode::invalid_argument, who.c_str(), "tuple component " + std::to_string(i) + " is an empty tensor handle", loc);
    }
    if (v.type() != s.dtypes[i]) {
      raise(ErrorCode::invalid_argument, who.c_str(),
            "Type mismatch in tuple component " + std::to_string(i) + ". Expected " + s.dtypes[i].name() + ", got " +
                v.type().name(),
            loc);
    }
    const Shape& sh = v.shape();
    Shape elem = sh;
    if (many) {
      if (sh.empty()) {
        raise(ErrorCode::invalid_argument, who.c_str(),
              "tuple component " + std::to_string(i) + " is a scalar; enqueue_many needs a batch along axis 0", loc);
      }
      if (batch < 0) batch = sh[0];
      else if (sh[0] != batch) {
        raise(ErrorCode::invalid_argument, who.c_str(),
              "All input tensors must have the same size in the 0th dimension. Component " + std::to_string(i) +
                  " has " + std::to_string(sh[0]) + ", and should have " + std::to_string(batch),
              loc);
      }
      elem.erase(elem.begin());
    }
    if (!s.shapes.empty()) {
      const Shape& want = s.shapes[i];
      bool ok = want.size() == elem.size();
      for (size_t d = 0; ok && d < want.size(); ++d) ok = want[d] < 0 || want[d] == elem[d];
      if (!ok) {
        Shape expected = want;
        if (many) expected.insert(expected.begin(), sh[0]);
        raise(ErrorCode::invalid_argument, who.c_str(),
              "Shape mismatch in tuple component " + std::to_string(i) + ". Expected " + tf_shape(expected) +
                  ", got " + tf_shape(sh),
              loc);
      }
    }
  }
  return batch;
}

// Element i of a batch (a view for tensors, a copy for strings).
Value slice(const Value& v, int64_t i) {
  if (v.is_string()) return v.strings()[i];
  const Tensor& t = v.tensor();
  Shape rest(t.shape().begin() + 1, t.shape().end());
  Strides rs(t.strides().begin() + 1, t.strides().end());
  return Tensor::view(t.buffer(), t.dtype(), std::move(rest), std::move(rs), t.offset() + i * t.strides()[0]);
}

// Copies `src` (shape s) into slot `slot` of `dst` (shape [n] + S with S >= s per dimension),
// row-major, leaving the rest of the slot as it is (zeros / "").
template <class Copy>
void copy_padded(const Shape& s, const Shape& S, int64_t slot, Copy&& copy) {
  int64_t slot_size = numel(S);
  int64_t n = numel(s);
  if (n == 0) return;
  if (s.empty()) {
    copy(slot * slot_size, 0, 1);
    return;
  }
  size_t r = s.size();
  int64_t inner = s[r - 1];
  Strides dst_strides = contiguous_strides(S);
  std::vector<int64_t> idx(r - 1, 0);
  for (int64_t src = 0; src < n; src += inner) {
    int64_t off = 0;
    for (size_t k = 0; k + 1 < r; ++k) off += idx[k] * dst_strides[k];
    copy(slot * slot_size + off, src, inner);
    for (size_t k = r - 1; k-- > 0;) {
      if (++idx[k] < s[k]) break;
      idx[k] = 0;
    }
  }
}

// Stacks component c of `items` along a new axis 0, padding to the largest size per dimension.
Value stack(const Queue::State& s, const std::vector<Element>& items, size_t c) {
  const int64_t n = static_cast<int64_t>(items.size());
  Shape elem = s.shapes[c];
  bool padded = false;
  for (size_t d = 0; d < elem.size(); ++d) {
    if (elem[d] >= 0) continue;
    padded = true;
    elem[d] = 0;
    for (const Element& e : items) elem[d] = std::max(elem[d], e[c].shape()[d]);
  }
  Shape out_shape = elem;
  out_shape.insert(out_shape.begin(), n);
  if (s.dtypes[c].is_string()) {
    std::vector<std::string> out(static_cast<size_t>(numel(out_shape)));
    for (int64_t i = 0; i < n; ++i) {
      const StringTensor& src = items[static_cast<size_t>(i)][c].strings();
      copy_padded(src.shape(), elem, i, [&](int64_t dst_off, int64_t src_off, int64_t count) {
        for (int64_t k = 0; k < count; ++k) out[static_cast<size_t>(dst_off + k)] = src.values()[static_cast<size_t>(src_off + k)];
      });
    }
    return StringTensor(std::move(out), std::move(out_shape));
  }
  DType dt = s.dtypes[c].dtype();
  Tensor out = padded ? zeros(out_shape, dt) : Tensor::empty(out_shape, dt);
  const size_t es = static_cast<size_t>(dtype_size(dt));
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    Tensor src = items[static_cast<size_t>(i)][c].tensor().contiguous();
    const char* sp = static_cast<const char*>(src.raw_data());
    if (!padded) {
      size_t bytes = static_cast<size_t>(src.size()) * es;
      if (bytes) std::memcpy(dst + static_cast<size_t>(i) * bytes, sp, bytes);
      continue;
    }
    copy_padded(src.shape(), elem, i, [&](int64_t dst_off, int64_t src_off, int64_t count) {
      std::memcpy(dst + static_cast<size_t>(dst_off) * es, sp + static_cast<size_t>(src_off) * es,
                  static_cast<size_t>(count) * es);
    });
  }
  return out;
}

Element stack_all(const Queue::State& s, const std::vector<Element>& items) {
  Element out;
  out.reserve(s.dtypes.size());
  for (size_t c = 0; c < s.dtypes.size(); ++c) out.push_back(stack(s, items, c));
  return out;
}

using Waiter = Queue::State::Waiter;

void leave_line(std::deque<Waiter*>& line, Waiter* w) {
  auto it = std::find(line.begin(), line.end(), w);
  if (it != line.end()) line.erase(it);
}

// Wakes the waiter at the front of a line: the only one that can make progress.
void wake_front(const std::deque<Waiter*>& line) {
  if (!line.empty()) line.front()->cv.notify_one();
}

// Waits until notified or the deadline; returns false when the deadline has passed.
bool wait(std::unique_lock<std::mutex>& lock, Waiter& w, const std::optional<Clock::time_point>& deadline) {
  if (deadline) return w.cv.wait_until(lock, *deadline) == std::cv_status::no_timeout || Clock::now() < *deadline;
  w.cv.wait(lock);
  return true;
}

// Adds items[from, to) of a batch (or one element); shared by enqueue and enqueue_many.
template <class Get>
void enqueue_impl(Queue::State& s, int64_t count, Get&& get, Timeout timeout) {
  if (count == 0) return;
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.closed) closed_error(s);
  int64_t done = 0;
  // An enqueue that finds room goes in at once, also ahead of blocked ones (when no batch is half
  // in): the order of concurrent enqueues is not observable, and a strict handoff would cost a
  // context switch per element once the queue is full. A batch that does not fit entirely waits
  // in line, so its elements stay consecutive.
  if ((s.enq_line.empty() || (!s.enq_partial && count == 1)) &&
      count <= s.capacity - static_cast<int64_t>(s.items.size())) {
    while (done < count) s.items.push_back(get(done++));
    wake_front(s.deq_line);
    return;
  }
  if (s.enq_line.empty()) {
    while (done < count && static_cast<int64_t>(s.items.size()) < s.capacity) s.items.push_back(get(done++));
    if (done > 0) wake_front(s.deq_line);
  }
  Waiter me;
  s.enq_line.push_back(&me);
  if (s.enq_line.front() == &me) s.enq_partial = done > 0;
  auto leave = [&] {
    bool front = s.enq_line.front() == &me;
    if (front) s.enq_partial = false;
    leave_line(s.enq_line, &me);
    if (front) wake_front(s.enq_line);
    if (s.closed) wake_front(s.deq_line);  // the close may now take effect for dequeues
  };
  for (;;) {
    if (s.cancelled) {
      leave();
      throw Cancelled("Enqueue operation was cancelled");
    }
    if (s.enq_line.front() == &me) {
      int64_t before = done;
      while (done < count && static_cast<int64_t>(s.items.size()) < s.capacity) s.items.push_back(get(done++));
      if (done > before) wake_front(s.deq_line);
      s.enq_partial = done > 0 && done < count;
      if (done == count) {
        leave();
        return;
      }
    }
    if (!wait(lock, me, deadline)) {
      leave();
      throw DeadlineExceeded(std::string(s.cls) + " '" + s.name + "': enqueue timed out after " + timeout_str(*timeout) +
                             (count > 1 ? " (" + std::to_string(done) + " of " + std::to_string(count) + " elements enqueued)" : ""));
    }
  }
}

// Takes n elements (fewer once closed when allow_small); shared by every dequeue.
std::vector<Element> dequeue_impl(Queue::State& s, int64_t n, bool allow_small, bool batch, Timeout timeout) {
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  std::vector<Element> taken;
  std::unique_lock<std::mutex> lock(s.mu);
  Waiter me;
  s.deq_line.push_back(&me);
  auto restore = [&] {
    if (taken.empty()) return;
    if (s.kind == Kind::shuffle) {
      for (auto& e : taken) s.items.push_back(std::move(e));
    } else {
      for (auto it = taken.rbegin(); it != taken.rend(); ++it) s.items.push_front(std::move(*it));
    }
    taken.clear();
  };
  auto leave = [&] {
    bool front = s.deq_line.front() == &me;
    leave_line(s.deq_line, &me);
    if (front) wake_front(s.deq_line);
  };
  auto take_one = [&] {
    if (s.kind == Kind::shuffle) {
      size_t i = static_cast<size_t>(s.rng() % s.items.size());
      taken.push_back(std::move(s.items[i]));
      if (i + 1 != s.items.size()) s.items[i] = std::move(s.items.back());
      s.items.pop_back();
    } else {
      taken.push_back(std::move(s.items.front()));
      s.items.pop_front();
    }
  };
  for (;;) {
    if (s.deq_line.front() == &me) {
      const bool closed = s.drained_closed();
      int64_t need = n - static_cast<int64_t>(taken.size());
      if (closed && static_cast<int64_t>(s.items.size()) < need) {
        restore();
        if (allow_small && !s.items.empty()) {
          while (!s.items.empty()) take_one();
          leave();
          wake_front(s.enq_line);
          return taken;
        }
        int64_t size = static_cast<int64_t>(s.items.size());
        leave();
        throw OutOfRange(std::string(msg_class(s, batch)) + " '" + s.name + "' is closed and has insufficient elements (requested " +
                         std::to_string(n) + ", current size " + std::to_string(size) + ")");
      }
      int64_t avail = static_cast<int64_t>(s.items.size());
      if (s.kind == Kind::shuffle && !closed) avail -= s.min_after_dequeue;
      int64_t k = std::min(avail, need);
      for (int64_t i = 0; i < k; ++i) take_one();
      if (k > 0) wake_front(s.enq_line);
      if (static_cast<int64_t>(taken.size()) == n) {
        leave();
        return taken;
      }
    }
    if (!wait(lock, me, deadline)) {
      restore();
      int64_t size = static_cast<int64_t>(s.items.size());
      leave();
      throw DeadlineExceeded(std::string(s.cls) + " '" + s.name + "': dequeue timed out after " + timeout_str(*timeout) +
                             " (requested " + std::to_string(n) + ", current size " + std::to_string(size) + ")");
    }
  }
}

// Why the queue cannot be a graph node, or "" when it can: graphs hold numeric tensors of
// static shapes only.
std::string not_graphable(const Queue::State& s, bool batch) {
  for (size_t i = 0; i < s.dtypes.size(); ++i) {
    if (s.dtypes[i].is_string()) {
      return "component " + std::to_string(i) + " is a string; graphs hold numeric tensors only (dequeue it eagerly, "
             "outside the traced function or graph, and parse it first)";
    }
  }
  if (s.shapes.empty()) return "the queue has no shapes; a graph needs each component's static shape";
  for (size_t i = 0; i < s.shapes.size(); ++i) {
    for (int64_t d : s.shapes[i]) {
      if (d < 0 && batch) return "component " + std::to_string(i) + " has a padded (-1) dimension; its batch shape is known only at run time";
      if (d < 0) return "component " + std::to_string(i) + " has an unknown (-1) dimension";
    }
  }
  return "";
}

// Whether a queue operation goes through apply() as a primitive: when this thread records a
// graph (a trace or a GraphBuilder), it must become a node so that a replay or a session run
// performs it again; under other observers (a tape) it does when it can, so they see it too.
// Otherwise the eager path runs directly.
bool as_primitive(const Queue::State& s, bool batch) {
  if (observers().empty()) return false;
  return names_recorded() || not_graphable(s, batch).empty();
}

QueueAttrs graph_attrs(const Queue::State& s, int64_t n, bool many, const Timeout& timeout) {
  QueueAttrs a;
  a.queue_id = static_cast<int64_t>(s.id);
  a.name = s.name;
  for (const ValueType& t : s.dtypes) a.dtypes.push_back(static_cast<int64_t>(t.dtype()));
  for (const Shape& sh : s.shapes) {
    a.shapes.push_back(static_cast<int64_t>(sh.size()));
    a.shapes.insert(a.shapes.end(), sh.begin(), sh.end());
  }
  a.n = n;
  a.many = many;
  a.timeout_ms = timeout ? static_cast<int64_t>(timeout->count()) : -1;
  return a;
}

void check_graphable(const Queue::State& s, bool batch, const char* op, Loc loc) {
  std::string why = not_graphable(s, batch);
  if (!why.empty()) {
    raise(ErrorCode::invalid_argument, (std::string(s.cls) + " '" + s.name + "' " + op).c_str(),
          std::string("cannot be recorded in a traced function or graph: ") + why, loc);
  }
}

Timeout timeout_of(int64_t ms) { return ms < 0 ? Timeout{} : Timeout{std::chrono::milliseconds(ms)}; }

Element dequeue_batch(Queue::State& st, int64_t n, bool allow_small, Timeout timeout, const char* op);

}  // namespace

const Queue::State& Queue::s() const {
  if (!state_) throw FailedPrecondition("[Queue] the queue handle is empty");
  return *state_;
}
Queue::State& Queue::s() {
  if (!state_) throw FailedPrecondition("[Queue] the queue handle is empty");
  return *state_;
}

void Queue::enqueue(const Element& e, Timeout timeout, Loc loc) {
  State& st = s();
  validate(st, e, false, "enqueue", loc);
  if (as_primitive(st, false)) {
    check_graphable(st, false, "enqueue", loc);
    Tensors in;
    for (const Value& v : e) in.push_back(v.tensor());
    apply(Prim::queue_enqueue, make_attrs(graph_attrs(st, -1, false, timeout)), std::move(in), loc);
    return;
  }
  enqueue_impl(st, 1, [&](int64_t) { return e; }, timeout);
}

void Queue::enqueue_many(const Element& e, Timeout timeout, Loc loc) {
  State& st = s();
  int64_t n = validate(st, e, true, "enqueue_many", loc);
  if (as_primitive(st, false)) {
    check_graphable(st, false, "enqueue_many", loc);
    Tensors in;
    for (const Value& v : e) in.push_back(v.tensor());
    apply(Prim::queue_enqueue, make_attrs(graph_attrs(st, -1, true, timeout)), std::move(in), loc);
    return;
  }
  enqueue_impl(st, n, [&](int64_t i) {
    Element out;
    out.reserve(e.size());
    for (const Value& v : e) out.push_back(slice(v, i));
    return out;
  }, timeout);
}

Element Queue::dequeue(Timeout timeout, Loc loc) {
  State& st = s();
  if (as_primitive(st, false)) {
    check_graphable(st, false, "dequeue", loc);
    Tensors out = apply(Prim::queue_dequeue, make_attrs(graph_attrs(st, -1, false, timeout)), {}, loc);
    return Element(out.begin(), out.end());
  }
  std::vector<Element> got = dequeue_impl(st, 1, false, false, timeout);
  return std::move(got[0]);
}

namespace {
Element dequeue_batch(Queue::State& st, int64_t n, bool allow_small, Timeout timeout, const char* op) {
  if (st.shapes.empty()) {
    throw InvalidArgument(std::string(st.cls) + "'s DequeueMany and DequeueUpTo require the components to have specified shapes.");
  }
  if (n < 0) {
    throw InvalidArgument("[" + std::string(st.cls) + " '" + st.name + "' " + op + "] n must be >= 0, got " + std::to_string(n));
  }
  if (n == 0) return stack_all(st, {});
  return stack_all(st, dequeue_impl(st, n, allow_small, true, timeout));
}
}  // namespace

Element Queue::dequeue_many(int64_t n, Timeout timeout, Loc loc) {
  State& st = s();
  if (n > 0 && (st.shapes.empty() ? names_recorded() : as_primitive(st, true))) {
    if (st.shapes.empty()) dequeue_batch(st, n, false, timeout, "dequeue_many");  // TensorFlow's message
    check_graphable(st, true, "dequeue_many", loc);
    Tensors out = apply(Prim::queue_dequeue, make_attrs(graph_attrs(st, n, false, timeout)), {}, loc);
    return Element(out.begin(), out.end());
  }
  return dequeue_batch(st, n, false, timeout, "dequeue_many");
}

Element Queue::dequeue_up_to(int64_t n, Timeout timeout, Loc loc) {
  State& st = s();
  if (names_recorded()) {
    raise(ErrorCode::invalid_argument, (std::string(st.cls) + " '" + st.name + "' dequeue_up_to").c_str(),
          "cannot be recorded in a traced function or graph: its batch size is known only at run time (use "
          "dequeue_many)",
          loc);
  }
  return dequeue_batch(st, n, true, timeout, "dequeue_up_to");
}

// ---- inside graphs ----

std::vector<Tensor> Queue::State::graph_dequeue(int64_t n, int64_t timeout_ms) {
  Element e = n < 0 ? dequeue_impl(*this, 1, false, false, timeout_of(timeout_ms))[0]
                    : dequeue_batch(*this, n, false, timeout_of(timeout_ms), "dequeue_many");
  std::vector<Tensor> out;
  for (const Value& v : e) out.push_back(v.tensor());
  return out;
}

int64_t Queue::State::graph_enqueue(const std::vector<Tensor>& components, bool many, int64_t timeout_ms) {
  Element e(components.begin(), components.end());
  int64_t n = validate(*this, e, many, many ? "enqueue_many" : "enqueue", Loc());
  if (!many) {
    enqueue_impl(*this, 1, [&](int64_t) { return e; }, timeout_of(timeout_ms));
    return 1;
  }
  enqueue_impl(*this, n, [&](int64_t i) {
    Element out;
    out.reserve(e.size());
    for (const Value& v : e) out.push_back(slice(v, i));
    return out;
  }, timeout_of(timeout_ms));
  return n;
}

int64_t Queue::size() const {
  const State& st = s();
  std::lock_guard<std::mutex> lock(st.mu);
  return static_cast<int64_t>(st.items.size());
}

void Queue::close(bool cancel_pending_enqueues) {
  State& st = s();
  std::lock_guard<std::mutex> lock(st.mu);
  if (cancel_pending_enqueues) {
    st.closed = true;
    st.cancelled = true;
  } else {
    if (st.closed) throw Cancelled("Queue '" + st.name + "' is already closed.");
    st.closed = true;
  }
  for (Waiter* w : st.enq_line) w->cv.notify_one();
  for (Waiter* w : st.deq_line) w->cv.notify_one();
}

bool Queue::is_closed() const {
  const State& st = s();
  std::lock_guard<std::mutex> lock(st.mu);
  return st.closed;
}

const std::vector<ValueType>& Queue::dtypes() const { return s().dtypes; }
const std::vector<Shape>& Queue::shapes() const { return s().shapes; }
const std::string& Queue::name() const { return s().name; }
const char* Queue::class_name() const { return s().cls; }
int64_t Queue::capacity() const { return s().capacity; }
uint64_t Queue::id() const { return s().id; }

FIFOQueue::FIFOQueue(int64_t capacity, std::vector<ValueType> dtypes, std::vector<Shape> shapes, std::string name, Loc loc)
    : Queue(make_state(Kind::fifo, "FIFOQueue", capacity, std::move(dtypes), std::move(shapes), std::move(name), loc)) {}

RandomShuffleQueue::RandomShuffleQueue(int64_t capacity, int64_t min_after_dequeue, std::vector<ValueType> dtypes,
                                       std::vector<Shape> shapes, std::optional<uint64_t> seed, std::string name, Loc loc)
    : Queue(make_state(Kind::shuffle, "RandomShuffleQueue", capacity, std::move(dtypes), std::move(shapes), std::move(name),
                       loc)) {
  State& st = *state();
  if (min_after_dequeue < 0) {
    raise(ErrorCode::invalid_argument, "RandomShuffleQueue",
          "min_after_dequeue " + std::to_string(min_after_dequeue) + " must be >= 0", loc);
  }
  if (min_after_dequeue >= st.capacity) {
    raise(ErrorCode::invalid_argument, "RandomShuffleQueue",
          "min_after_dequeue " + std::to_string(min_after_dequeue) + " must be < capacity " + std::to_string(st.capacity), loc);
  }
  st.min_after_dequeue = min_after_dequeue;
  if (seed) {
    st.rng.seed(*seed);
  } else {
    std::random_device rd;
    st.rng.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
  }
}

int64_t RandomShuffleQueue::min_after_dequeue() const { return state()->min_after_dequeue; }

PaddingFIFOQueue::PaddingFIFOQueue(int64_t capacity, std::vector<ValueType> dtypes, std::vector<Shape> shapes,
                                   std::string name, Loc loc)
    : Queue(make_state(Kind::padding, "PaddingFIFOQueue", capacity, std::move(dtypes), std::move(shapes), std::move(name),
                       loc)) {
  if (state()->shapes.empty()) {
    raise(ErrorCode::invalid_argument, "PaddingFIFOQueue",
          "shapes must be given, one per component (-1 for a dimension to pad)", loc);
  }
}

}  // namespace xf
