// Datasets: tf.data's input pipelines, eager. A Dataset is a cheap, immutable description of a
// pipeline (a source and its transformations); iterating it creates a fresh iterator that runs
// the pipeline, on background threads where a transformation asks for them (map and interleave
// with num_parallel_calls > 1, prefetch). Elements are xf::Element: tuples of numeric Tensors
// and StringTensors. docs/dataset.md.
//
//   auto ds = xf::data::Dataset::TFRecordDataset({"train.tfrecord"})
//                 .map(parse, xf::data::AUTOTUNE)
//                 .shuffle(1000, 42)
//                 .batch(32)
//                 .prefetch(1);
//   for (const xf::Element& batch : ds) train_step(batch[0].tensor(), batch[1].tensor());
#pragma once
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/shape.hpp"
#include "xflow/tensor.hpp"
#include "xflow/value.hpp"

namespace xf::data {

using xf::Element;

// num_parallel_calls / buffer_size chosen by the library (tf.data.AUTOTUNE): the number of
// hardware threads for parallel calls, 2 for prefetch buffers.
inline constexpr int64_t AUTOTUNE = -1;

namespace detail {
// One running pipeline stage. next() gives the next element, or nothing at the end; it is called
// from one thread at a time. cancel() may be called from any thread, also while next() runs: it
// makes pending and later next() calls of stages with threads throw Cancelled, and passes on to
// the stage's inputs. Destroying a stage stops and joins its threads.
class IteratorBase {
 public:
  virtual ~IteratorBase() = default;
  virtual std::optional<Element> next() = 0;
  virtual void cancel() = 0;
};
// One stage's description; make_iterator() starts a fresh run of it.
class DatasetBase {
 public:
  virtual ~DatasetBase() = default;
  virtual std::unique_ptr<IteratorBase> make_iterator() const = 0;
};
}  // namespace detail

class Dataset;

// A running pipeline. Copies share the same run (as copies of an input iterator). Destroying the
// last copy stops the pipeline's threads, also in the middle of an epoch.
class Iterator {
 public:
  Iterator() = default;
  explicit Iterator(std::shared_ptr<detail::IteratorBase> impl) : impl_(std::move(impl)) {}
  // The next element, or std::nullopt at the end (and at every later call). An error inside a
  // transformation is raised here, by the call that would have returned its element.
  std::optional<Element> next();

 private:
  std::shared_ptr<detail::IteratorBase> impl_;
};

// The range-for iterator: `for (const xf::Element& e : ds)` (a fresh run of the pipeline).
class ElementIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Element;
  using difference_type = std::ptrdiff_t;
  using pointer = const Element*;
  using reference = const Element&;
  struct Sentinel {};

  ElementIterator() = default;
  explicit ElementIterator(Iterator it);
  const Element& operator*() const { return *current_; }
  const Element* operator->() const { return &*current_; }
  ElementIterator& operator++();
  bool operator==(Sentinel) const { return !current_.has_value(); }
  bool operator!=(Sentinel) const { return current_.has_value(); }

 private:
  std::shared_ptr<Iterator> it_;
  std::optional<Element> current_;
};

using MapFn = std::function<Element(const Element&)>;
using PredicateFn = std::function<bool(const Element&)>;
using InterleaveFn = std::function<Dataset(const Element&)>;

class Dataset {
 public:
  // ---- sources ----
  // One element per slice along axis 0 of every component (all with the same first dimension).
  static Dataset from_tensor_slices(Element components, Loc loc = Loc::current());
  static Dataset from_tensor_slices(Tensor t, Loc loc = Loc::current());
  static Dataset from_tensor_slices(StringTensor t, Loc loc = Loc::current());
  // One element: the components as they are.
  static Dataset from_tensors(Element components);
  // int64 scalars start, start + step, ... before stop (Python's range); step 0 is InvalidArgument.
  static Dataset range(int64_t stop);
  static Dataset range(int64_t start, int64_t stop, int64_t step = 1, Loc loc = Loc::current());
  // The records of TFRecord files, each a scalar StringTensor. compression: "", "ZLIB" or "GZIP".
  // buffer_size: bytes of read buffer (-1: the reader's default). num_parallel_reads > 1 reads
  // that many files at once and interleaves their records as tf.data does (one record of each
  // open file in turn, a finished file replaced by the next one); 1 reads the files one after
  // the other.
  static Dataset TFRecordDataset(std::vector<std::string> filenames, const std::string& compression = "",
                                 int64_t buffer_size = -1, int64_t num_parallel_reads = 1,
                                 Loc loc = Loc::current());

  // ---- transformations (each returns a new Dataset; this one is unchanged) ----
  // fn on every element. num_parallel_calls > 1 (or AUTOTUNE) calls fn on that many threads; the
  // output keeps the input's order. An exception from fn reaches the consumer as the same class,
  // its message prefixed "[Dataset.map] element N: " (N counts the map's input from 0).
  Dataset map(MapFn fn, int64_t num_parallel_calls = 1, Loc loc = Loc::current()) const;
  // The elements for which predicate is true.
  Dataset filter(PredicateFn predicate) const;
  // tf.data's shuffle: a buffer of buffer_size elements, each output drawn at random from it and
  // its slot refilled from the input. The same seed gives the same order; without a seed, a
  // random one. reshuffle_each_iteration: every new iterator of this dataset (every epoch under
  // repeat) draws another order (still determined by the seed).
  Dataset shuffle(int64_t buffer_size, std::optional<uint64_t> seed = std::nullopt,
                  bool reshuffle_each_iteration = true, Loc loc = Loc::current()) const;
  // Consecutive elements stacked along a new axis 0; the last batch may be smaller unless
  // drop_remainder. Components must agree in dtype and shape across a batch.
  Dataset batch(int64_t batch_size, bool drop_remainder = false, Loc loc = Loc::current()) const;
  // As batch, each component padded first: padded_shapes[i] gives component i's shape, -1 for
  // "the largest in the batch" (empty: -1 everywhere); padding_values[i] is a scalar of the
  // component's type (empty: 0 and "").
  Dataset padded_batch(int64_t batch_size, std::vector<Shape> padded_shapes = {},
                       std::vector<Value> padding_values = {}, bool drop_remainder = false,
                       Loc loc = Loc::current()) const;
  // The elements count times (-1: forever); an epoch that yields nothing ends the repetition.
  Dataset repeat(int64_t count = -1) const;
  // The first count elements (-1: all).
  Dataset take(int64_t count) const;
  // All but the first count elements (-1: none).
  Dataset skip(int64_t count) const;
  // fn maps each input element to a dataset; cycle_length of them are open at once and
  // block_length consecutive elements are taken from each in turn (tf.data's interleave order).
  // cycle_length AUTOTUNE: the number of hardware threads. num_parallel_calls > 1 reads ahead of
  // every open dataset on its own thread; the order stays the same.
  Dataset interleave(InterleaveFn fn, int64_t cycle_length = AUTOTUNE, int64_t block_length = 1,
                     int64_t num_parallel_calls = 1, Loc loc = Loc::current()) const;
  // Up to buffer_size elements produced ahead on a background thread (AUTOTUNE: 2).
  Dataset prefetch(int64_t buffer_size, Loc loc = Loc::current()) const;

  // ---- iteration ----
  Iterator make_iterator() const;
  ElementIterator begin() const { return ElementIterator(make_iterator()); }
  ElementIterator::Sentinel end() const { return {}; }

  explicit Dataset(std::shared_ptr<const detail::DatasetBase> impl) : impl_(std::move(impl)) {}
  const std::shared_ptr<const detail::DatasetBase>& impl() const { return impl_; }

 private:
  std::shared_ptr<const detail::DatasetBase> impl_;
};

}  // namespace xf::data
