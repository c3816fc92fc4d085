// TensorFlow 1's reading pipeline (tf.train's input functions, docs/tf1-pipeline.md):
// string_input_producer fills a queue of file names, a TFRecordReader reads records from the files
// it dequeues, and batch / shuffle_batch assemble examples into batches through a queue filled by
// QueueRunner threads. Every function registers its QueueRunner with add_queue_runner, so
// start_queue_runners(coord) starts the whole pipeline, as in TensorFlow 1:
//
//   xf::train::Coordinator coord;
//   xf::Queue files = xf::train::string_input_producer(names, /*num_epochs=*/2);
//   xf::train::TFRecordReader reader;
//   xf::train::Batcher batches = xf::train::shuffle_batch([&] {
//     auto parsed = xf::io::parse_single_example(reader.read(files).second, features);
//     return xf::Element{parsed.at("x"), parsed.at("y")};
//   }, /*batch_size=*/64, /*capacity=*/1000, /*min_after_dequeue=*/500);
//   auto threads = xf::train::start_queue_runners(coord);
//   try { while (!coord.should_stop()) train_step(batches.next()); }
//   catch (const xf::OutOfRange&) {}  // num_epochs done
//   coord.request_stop();
//   coord.join(threads);              // re-raises a reader's DataLoss, for one
//
// TensorFlow's graph tensors are functions here: a producer function stands for the tensors given
// to batch() (each call yields one element, or throws OutOfRange when its input is exhausted), and
// Batcher::next() is the batch queue's dequeue.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xflow/queue.hpp"
#include "xflow/tfrecord.hpp"
#include "xflow/value.hpp"

namespace xf::train {

// A FIFOQueue (capacity `capacity`, one string component of shape ()) of the strings of the 1-D
// `filenames`, filled by a QueueRunner registered with add_queue_runner: each run of its enqueue
// op enqueues every name once, in a new random order per epoch when `shuffle` (reproducible for a
// `seed`). After `num_epochs` epochs (unbounded when none) the runner stops and closes the queue,
// so that readers end in OutOfRange. InvalidArgument for an empty or non-1-D `filenames`,
// num_epochs <= 0 or capacity <= 0.
Queue string_input_producer(StringTensor filenames, std::optional<int64_t> num_epochs = {}, bool shuffle = true,
                            std::optional<uint64_t> seed = {}, int64_t capacity = 32, Loc loc = Loc::current());

// TensorFlow's TFRecordReader: reads the records of the files it dequeues, one file at a time, from
// a queue of file names (a queue with one string component of one element). A handle: copies share
// the reader (its current file and counters); every call is thread-safe (calls run one at a time).
class TFRecordReader {
 public:
  explicit TFRecordReader(io::Compression compression = io::Compression::none);

  // The next record as (key, value); key is "<file name>:<byte offset of the record>", TensorFlow's
  // key (the offset in the uncompressed stream). Dequeues the next file name when there is no
  // current file or it has no more records (blocking, as the queue's dequeue does); OutOfRange when
  // the queue is closed and empty. A damaged file raises its DataLoss (the file stays current).
  std::pair<std::string, std::string> read(Queue& filename_queue);
  // Up to `n` records (n >= 1) of one file, as 1-D tensors of keys and values: fewer than n at the
  // end of a file, as TensorFlow's ReadUpTo.
  std::pair<StringTensor, StringTensor> read_up_to(Queue& filename_queue, int64_t n);

  // Records returned so far.
  int64_t num_records_produced() const;
  // Files read to their end so far.
  int64_t num_work_units_completed() const;
  // Forgets the current file and the counters.
  void reset();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

struct BatchOptions {
  int num_threads = 1;       // threads running the producer (the QueueRunner's enqueue ops)
  int64_t capacity = 32;     // of the batch queue
  bool enqueue_many = false; // each producer call yields many examples (components batched on axis 0)
  // One shape per component (of one example). Empty: the shapes of the first element produced (with
  // dynamic_pad: every dimension padded).
  std::vector<Shape> shapes;
  bool dynamic_pad = false;  // a PaddingFIFOQueue: dimensions -1 are padded to the batch's longest
  bool allow_smaller_final_batch = false;  // next() is dequeue_up_to: a last smaller batch
  std::string name = "batch";
};

struct ShuffleBatchOptions {
  int num_threads = 1;
  std::optional<uint64_t> seed;  // of the RandomShuffleQueue: one thread and a seed give one order
  bool enqueue_many = false;
  std::vector<Shape> shapes;
  bool allow_smaller_final_batch = false;
  std::string name = "shuffle_batch";
};

// The result of batch / shuffle_batch: its batch queue's dequeue. A handle (copies share the queue).
// The queue is made when the first element arrives: its component types (and shapes, unless given)
// are those of that element, as TensorFlow takes them from the input tensors.
class Batcher {
 public:
  // One batch: components of shape (batch_size, ...example shape). OutOfRange once the producer is
  // exhausted and fewer than batch_size examples remain (every example that remains, when
  // allow_smaller_final_batch, as one last batch); DeadlineExceeded when `timeout` expires.
  Element next(std::optional<std::chrono::milliseconds> timeout = {});
  // Examples waiting in the batch queue (0 before the first one arrives).
  int64_t size() const;
  // The batch queue once made (its dtypes, shapes and name), else none.
  std::optional<Queue> queue() const;

  struct State;
  explicit Batcher(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

// Batches of `batch_size` of the producer's elements through a FIFOQueue (a PaddingFIFOQueue with
// dynamic_pad) filled by opts.num_threads threads. InvalidArgument for batch_size < 1,
// num_threads < 1, capacity < 1 or a shape count that differs from the element's.
Batcher batch(std::function<Element()> producer, int64_t batch_size, BatchOptions opts = {},
              Loc loc = Loc::current());

// Batches in random order through a RandomShuffleQueue(capacity, min_after_dequeue, seed).
// InvalidArgument "capacity C must be bigger than min_after_dequeue M." as TensorFlow.
Batcher shuffle_batch(std::function<Element()> producer, int64_t batch_size, int64_t capacity,
                      int64_t min_after_dequeue, ShuffleBatchOptions opts = {}, Loc loc = Loc::current());

}  // namespace xf::train
