// TensorFlow 1's input functions (tensorflow/python/training/input.py) and its TFRecordReader
// (core/kernels/tf_record_reader_op.cc over core/framework/reader_base.cc), on xflow's queues and
// QueueRunners (docs/tf1-pipeline.md).
#include "xflow/input_pipeline.hpp"

#include <condition_variable>
#include <mutex>
#include <random>

#include "xflow/coordinator.hpp"

namespace xf::train {

namespace {

// A uniform draw in [0, n) from the generator's 64-bit outputs (rejection of the biased tail), so
// that a seed gives the same file order with any standard library.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do {
    r = rng();
  } while (r >= limit);
  return r % n;
}

// Fisher-Yates, as random_shuffle's kernel.
void shuffle_strings(std::vector<std::string>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(uniform_below(rng, i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

// ---- string_input_producer ----

Queue string_input_producer(StringTensor filenames, std::optional<int64_t> num_epochs, bool shuffle,
                            std::optional<uint64_t> seed, int64_t capacity, Loc loc) {
  if (filenames.size() == 0) {
    raise(ErrorCode::invalid_argument, "string_input_producer", "string_input_producer requires a non-null input tensor",
          loc);
  }
  if (filenames.rank() != 1) {
    raise(ErrorCode::invalid_argument, "string_input_producer",
          "filenames must be 1-D, not of shape " + shape_str(filenames.shape()), loc);
  }
  if (num_epochs && *num_epochs <= 0) {
    raise(ErrorCode::invalid_argument, "string_input_producer",
          "num_epochs must be > 0 not " + std::to_string(*num_epochs) + ".", loc);
  }
  if (capacity <= 0) {
    raise(ErrorCode::invalid_argument, "string_input_producer",
          "capacity must be > 0, not " + std::to_string(capacity), loc);
  }
  FIFOQueue queue(capacity, {string_type}, {Shape{}}, "input_producer", loc);

  // The enqueue op of TensorFlow's input_producer: random_shuffle, then limit_epochs' count_up_to
  // (OutOfRange "Reached limit of N" once num_epochs epochs went in, which ends the QueueRunner and
  // closes the queue), then enqueue_many. Its state lives in the op, as the shuffle's seed stream
  // and the `epochs` local variable live in TensorFlow's graph.
  struct Epochs {
    std::mutex mu;
    std::vector<std::string> names;
    std::mt19937_64 rng;
    int64_t done = 0;
  };
  auto state = std::make_shared<Epochs>();
  state->names = filenames.values();
  state->rng.seed(seed ? *seed : std::random_device{}());
  std::function<void()> enqueue_epoch = [state, queue, num_epochs, shuffle]() mutable {
    std::vector<std::string> order;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (num_epochs && state->done >= *num_epochs) {
        throw OutOfRange("[string_input_producer] Reached limit of " + std::to_string(*num_epochs));
      }
      ++state->done;
      order = state->names;
      if (shuffle) shuffle_strings(order, state->rng);
    }
    queue.enqueue_many(Element{StringTensor::vector(std::move(order))});
  };
  add_queue_runner(QueueRunner(queue, {enqueue_epoch}));
  return queue;
}

// ---- TFRecordReader ----

struct TFRecordReader::Impl {
  io::Compression compression;
  mutable std::mutex mu;
  std::string work;                             // the current file ("" when none)
  std::unique_ptr<io::TFRecordReader> reader;   // open while `work` is
  int64_t produced = 0, started = 0, finished = 0;

  // ReaderBase::GetNextWorkLocked: one string of one element from the queue.
  void next_work(Queue& queue) {
    Element e = queue.dequeue();
    if (e.size() != 1) throw InvalidArgument("[TFRecordReader] Expected single component queue");
    if (!e[0].is_string()) throw InvalidArgument("[TFRecordReader] Expected queue with single string component");
    if (e[0].strings().size() != 1) {
      throw InvalidArgument("[TFRecordReader] Expected to dequeue a one-element string tensor");
    }
    std::string name = e[0].strings().values()[0];
    reader = std::make_unique<io::TFRecordReader>(name, compression);  // NotFound etc. propagate
    work = std::move(name);
    ++started;
  }
  void finish_work() {
    reader.reset();
    work.clear();
    finished = started;
  }
};

TFRecordReader::TFRecordReader(io::Compression compression) : impl_(std::make_shared<Impl>()) {
  impl_->compression = compression;
}

std::pair<std::string, std::string> TFRecordReader::read(Queue& filename_queue) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.mu);
  for (;;) {
    if (!s.reader) s.next_work(filename_queue);
    uint64_t offset = s.reader->offset();
    std::string record;
    if (s.reader->read(record)) {
      ++s.produced;
      return {s.work + ":" + std::to_string(offset), std::move(record)};
    }
    s.finish_work();
  }
}

std::pair<StringTensor, StringTensor> TFRecordReader::read_up_to(Queue& filename_queue, int64_t n) {
  if (n < 1) throw InvalidArgument("[TFRecordReader.read_up_to] num_records must be >= 1, not " + std::to_string(n));
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.mu);
  std::vector<std::string> keys, values;
  for (;;) {
    if (!s.reader) s.next_work(filename_queue);
    // Records of the current file only: ReadUpTo returns at the end of a file that gave some.
    while (static_cast<int64_t>(values.size()) < n) {
      uint64_t offset = s.reader->offset();
      std::string record;
      bool got;
      try {
        got = s.reader->read(record);
      } catch (...) {
        if (values.empty()) throw;
        // TensorFlow fails the call; the records before the damage are not lost here: they are
        // returned, and the next call raises the error again (the file stays current).
        s.produced += static_cast<int64_t>(values.size());
        return {StringTensor::vector(std::move(keys)), StringTensor::vector(std::move(values))};
      }
      if (!got) break;
      keys.push_back(s.work + ":" + std::to_string(offset));
      values.push_back(std::move(record));
    }
    if (static_cast<int64_t>(values.size()) < n) s.finish_work();
    if (!values.empty()) {
      s.produced += static_cast<int64_t>(values.size());
      return {StringTensor::vector(std::move(keys)), StringTensor::vector(std::move(values))};
    }
  }
}

int64_t TFRecordReader::num_records_produced() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->produced;
}

int64_t TFRecordReader::num_work_units_completed() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->finished;
}

void TFRecordReader::reset() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->reader.reset();
  impl_->work.clear();
  impl_->produced = impl_->started = impl_->finished = 0;
}

// ---- batch, shuffle_batch ----

struct Batcher::State {
  enum class Kind { fifo, padding, shuffle };
  Kind kind = Kind::fifo;
  std::function<Element()> producer;
  int64_t batch_size = 1;
  int64_t capacity = 32;
  int64_t min_after_dequeue = 0;
  std::optional<uint64_t> seed;
  bool enqueue_many = false;
  bool allow_smaller_final_batch = false;
  std::vector<Shape> shapes;
  std::string name;

  mutable std::mutex mu;
  std::condition_variable cv;
  Queue queue;          // made by the first element (defined() from then on)
  bool closed = false;  // closed before any element arrived

  // The batch queue, made from the first element's types and shapes.
  Queue queue_for(const Element& e) {
    std::lock_guard<std::mutex> lock(mu);
    if (queue.defined()) return queue;
    if (closed) throw Cancelled("[" + name + "] the batch queue is closed.");
    std::vector<ValueType> dtypes;
    std::vector<Shape> example_shapes;
    for (const Value& v : e) {
      dtypes.push_back(v.type());
      Shape s = v.shape();
      if (enqueue_many) {
        if (s.empty()) throw InvalidArgument("[" + name + "] enqueue_many needs components of rank >= 1, got " + v.describe());
        s.erase(s.begin());
      }
      if (kind == Kind::padding) s.assign(s.size(), -1);  // dynamic_pad without shapes: pad every dimension
      example_shapes.push_back(std::move(s));
    }
    if (!shapes.empty()) {
      if (shapes.size() != e.size()) {
        throw InvalidArgument("[" + name + "] " + std::to_string(shapes.size()) + " shapes given for elements of " +
                              std::to_string(e.size()) + " components");
      }
      example_shapes = shapes;
    }
    switch (kind) {
      case Kind::fifo: queue = FIFOQueue(capacity, dtypes, example_shapes, name + "/fifo_queue"); break;
      case Kind::padding: queue = PaddingFIFOQueue(capacity, dtypes, example_shapes, name + "/padding_fifo_queue"); break;
      case Kind::shuffle:
        queue = RandomShuffleQueue(capacity, min_after_dequeue, dtypes, example_shapes, seed,
                                   name + "/random_shuffle_queue");
        break;
    }
    cv.notify_all();
    return queue;
  }

  // The QueueRunner's close op (every enqueue thread ended in OutOfRange) and cancel op (the
  // coordinator stopped): close the queue, or remember that it is closed before it exists.
  void close(bool cancel) {
    Queue q;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!queue.defined()) {
        closed = true;
        cv.notify_all();
        return;
      }
      q = queue;
    }
    try {
      q.close(cancel);
    } catch (const Cancelled&) {
      // Already closed by the other op (TensorFlow's QueueRunner ignores its close op's errors).
    }
  }
};

namespace {

Batcher start_batcher(std::shared_ptr<Batcher::State> st, int num_threads) {
  // The enqueue op: one call of the producer (the input tensors), one enqueue into the batch queue.
  std::function<void()> enqueue = [st]() {
    Element e = st->producer();
    Queue q = st->queue_for(e);
    if (st->enqueue_many) q.enqueue_many(e);
    else q.enqueue(e);
  };
  std::vector<std::function<void()>> ops(static_cast<size_t>(num_threads), enqueue);
  std::function<void()> close_op = [st]() { st->close(false); };
  std::function<void()> cancel_op = [st]() { st->close(true); };
  // The runner needs a queue handle before the batch queue exists (decision 69): a one-slot queue
  // named after the batch stands in for it; it only names the runner's threads, since the close and
  // cancel ops act on the batch queue.
  FIFOQueue stand_in(1, {string_type}, {}, st->name);
  add_queue_runner(QueueRunner(stand_in, std::move(ops), std::move(close_op), std::move(cancel_op)));
  return Batcher(std::move(st));
}

void check_common(const char* op, int64_t batch_size, int num_threads, int64_t capacity, Loc loc) {
  if (batch_size < 1) raise(ErrorCode::invalid_argument, op, "batch_size must be >= 1, not " + std::to_string(batch_size), loc);
  if (num_threads < 1) raise(ErrorCode::invalid_argument, op, "num_threads must be >= 1, not " + std::to_string(num_threads), loc);
  if (capacity < 1) raise(ErrorCode::invalid_argument, op, "capacity must be >= 1, not " + std::to_string(capacity), loc);
}

}  // namespace

Batcher batch(std::function<Element()> producer, int64_t batch_size, BatchOptions opts, Loc loc) {
  check_common("batch", batch_size, opts.num_threads, opts.capacity, loc);
  if (!producer) raise(ErrorCode::invalid_argument, "batch", "no producer function", loc);
  auto st = std::make_shared<Batcher::State>();
  st->kind = opts.dynamic_pad ? Batcher::State::Kind::padding : Batcher::State::Kind::fifo;
  st->producer = std::move(producer);
  st->batch_size = batch_size;
  st->capacity = opts.capacity;
  st->enqueue_many = opts.enqueue_many;
  st->allow_smaller_final_batch = opts.allow_smaller_final_batch;
  st->shapes = std::move(opts.shapes);
  st->name = opts.name;
  return start_batcher(std::move(st), opts.num_threads);
}

Batcher shuffle_batch(std::function<Element()> producer, int64_t batch_size, int64_t capacity, int64_t min_after_dequeue,
                      ShuffleBatchOptions opts, Loc loc) {
  check_common("shuffle_batch", batch_size, opts.num_threads, capacity, loc);
  if (!producer) raise(ErrorCode::invalid_argument, "shuffle_batch", "no producer function", loc);
  if (capacity <= min_after_dequeue) {
    raise(ErrorCode::invalid_argument, "shuffle_batch",
          "capacity " + std::to_string(capacity) + " must be bigger than min_after_dequeue " +
              std::to_string(min_after_dequeue) + ".",
          loc);
  }
  if (min_after_dequeue < 0) {
    raise(ErrorCode::invalid_argument, "shuffle_batch",
          "min_after_dequeue must be >= 0, not " + std::to_string(min_after_dequeue), loc);
  }
  auto st = std::make_shared<Batcher::State>();
  st->kind = Batcher::State::Kind::shuffle;
  st->producer = std::move(producer);
  st->batch_size = batch_size;
  st->capacity = capacity;
  st->min_after_dequeue = min_after_dequeue;
  st->seed = opts.seed;
  st->enqueue_many = opts.enqueue_many;
  st->allow_smaller_final_batch = opts.allow_smaller_final_batch;
  st->shapes = std::move(opts.shapes);
  st->name = opts.name;
  return start_batcher(std::move(st), opts.num_threads);
}

Element Batcher::next(std::optional<std::chrono::milliseconds> timeout) {
  State& s = *state_;
  Queue q;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    auto ready = [&] { return s.queue.defined() || s.closed; };
    if (timeout) {
      if (!s.cv.wait_for(lock, *timeout, ready)) {
        throw DeadlineExceeded("[" + s.name + "] Timed out waiting for notification");
      }
    } else {
      s.cv.wait(lock, ready);
    }
    if (!s.queue.defined()) {
      // Closed before any element arrived: TensorFlow's message for the empty, closed queue.
      throw OutOfRange("[" + s.name + "] the batch queue is closed and has insufficient elements (requested " +
                       std::to_string(s.batch_size) + ", current size 0)");
    }
    q = s.queue;
  }
  return s.allow_smaller_final_batch ? q.dequeue_up_to(s.batch_size, timeout) : q.dequeue_many(s.batch_size, timeout);
}

int64_t Batcher::size() const {
  std::optional<Queue> q = queue();
  return q ? q->size() : 0;
}

std::optional<Queue> Batcher::queue() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (!state_->queue.defined()) return std::nullopt;
  return state_->queue;
}

}  // namespace xf::train
