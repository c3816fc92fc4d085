// Dataset's sources and sequential transformations (the stages without threads).
#include "xflow/dataset.hpp"

#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "dataset/internal.hpp"

namespace xf::data {
namespace detail {

int64_t autotune_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int64_t>(n);
}

[[noreturn]] void rethrow_at(const char* op, int64_t index, std::exception_ptr error) {
  std::string prefix = std::string("[Dataset.") + op + "] element " + std::to_string(index) + ": ";
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    throw_error(e.code(), prefix + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(prefix + e.what());
  }
}

namespace {

// An iterator that keeps its dataset's description alive (iterators point into it).
class KeepAlive : public IteratorBase {
 public:
  explicit KeepAlive(std::shared_ptr<const DatasetBase> ds) : ds_(std::move(ds)), it_(ds_->make_iterator()) {}
  std::optional<Element> next() override { return it_->next(); }
  void cancel() override { it_->cancel(); }

 private:
  std::shared_ptr<const DatasetBase> ds_;  // declared first: destroyed after the iterator
  std::unique_ptr<IteratorBase> it_;
};

// A stage with one input and no threads of its own: cancel() passes on.
class UnaryIterator : public IteratorBase {
 public:
  explicit UnaryIterator(std::unique_ptr<IteratorBase> input) : input_(std::move(input)) {}
  void cancel() override {
    cancelled_ = true;
    input_->cancel();
  }

 protected:
  void check_cancelled() const {
    if (cancelled_) throw Cancelled("[Dataset] iterator cancelled");
  }
  std::unique_ptr<IteratorBase> input_;
  std::atomic<bool> cancelled_{false};
};

// ---- sources ----

class SlicesDataset : public DatasetBase {
 public:
  SlicesDataset(Element components, int64_t n) : components_(std::move(components)), n_(n) {}
  std::unique_ptr<IteratorBase> make_iterator() const override {
    struct It : IteratorBase {
      const SlicesDataset* ds;
      int64_t i = 0;
      std::optional<Element> next() override {
        if (i >= ds->n_) return std::nullopt;
        Element e;
        e.reserve(ds->components_.size());
        for (const Value& c : ds->components_) e.push_back(slice(c, i));
        ++i;
        return e;
      }
      void cancel() override {}
    };
    auto it = std::make_unique<It>();
    it->ds = this;
    return it;
  }
  // Component c's slice i along axis 0: a view for numeric tensors.
  static Value slice(const Value& c, int64_t i) {
    if (c.is_string()) return c.strings()[i];
    const Tensor& t = c.tensor();
    Shape shape(t.shape().begin() + 1, t.shape().end());
    Strides strides(t.strides().begin() + 1, t.strides().end());
    return Tensor::view(t.buffer(), t.dtype(), std::move(shape), std::move(strides), t.offset() + i * t.strides()[0]);
  }

 private:
  Element components_;
  int64_t n_;
};

class TensorsDataset : public DatasetBase {
 public:
  explicit TensorsDataset(Element components) : components_(std::move(components)) {}
  std::unique_ptr<IteratorBase> make_iterator() const override {
    struct It : IteratorBase {
      const Element* components;
      bool done = false;
      std::optional<Element> next() override {
        if (done) return std::nullopt;
        done = true;
        return *components;
      }
      void cancel() override {}
    };
    auto it = std::make_unique<It>();
    it->components = &components_;
    return it;
  }

 private:
  Element components_;
};

class RangeDataset : public DatasetBase {
 public:
  RangeDataset(int64_t start, int64_t stop, int64_t step) : start_(start), stop_(stop), step_(step) {}
  std::unique_ptr<IteratorBase> make_iterator() const override {
    struct It : IteratorBase {
      int64_t v, stop, step;
      std::optional<Element> next() override {
        if (step > 0 ? v >= stop : v <= stop) return std::nullopt;
        Element e{Tensor(v)};
        v += step;
        return e;
      }
      void cancel() override {}
    };
    auto it = std::make_unique<It>();
    it->v = start_;
    it->stop = stop_;
    it->step = step_;
    return it;
  }

 private:
  int64_t start_, stop_, step_;
};

// ---- transformations ----

// A stage's description: its input and the parameters of type P.
template <class Make>
class UnaryDataset : public DatasetBase {
 public:
  UnaryDataset(std::shared_ptr<const DatasetBase> input, Make make) : input_(std::move(input)), make_(std::move(make)) {}
  std::unique_ptr<IteratorBase> make_iterator() const override { return make_(input_->make_iterator()); }

 private:
  std::shared_ptr<const DatasetBase> input_;
  Make make_;
};
template <class Make>
Dataset unary(const Dataset& input, Make make) {
  return Dataset(std::make_shared<UnaryDataset<Make>>(input.impl(), std::move(make)));
}

class MapIterator : public UnaryIterator {
 public:
  MapIterator(std::unique_ptr<IteratorBase> input, MapFn fn) : UnaryIterator(std::move(input)), fn_(std::move(fn)) {}
  std::optional<Element> next() override {
    check_cancelled();
    std::optional<Element> e = input_->next();
    if (!e) return std::nullopt;
    int64_t index = index_++;
    try {
      return fn_(*e);
    } catch (...) {
      rethrow_at("map", index, std::current_exception());
    }
  }

 private:
  MapFn fn_;
  int64_t index_ = 0;
};

class FilterIterator : public UnaryIterator {
 public:
  FilterIterator(std::unique_ptr<IteratorBase> input, PredicateFn fn)
      : UnaryIterator(std::move(input)), fn_(std::move(fn)) {}
  std::optional<Element> next() override {
    for (;;) {
      check_cancelled();
      std::optional<Element> e = input_->next();
      if (!e) return std::nullopt;
      int64_t index = index_++;
      bool keep = false;
      try {
        keep = fn_(*e);
      } catch (...) {
        rethrow_at("filter", index, std::current_exception());
      }
      if (keep) return e;
    }
  }

 private:
  PredicateFn fn_;
  int64_t index_ = 0;
};

// The random numbers of shuffle: SplitMix64 (a 64-bit state advanced by a constant, then mixed),
// simple enough to restate in a test's Python simulation.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : state_(state) {}
  uint64_t operator()() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// tf.data's ShuffleDatasetOp: a ring buffer kept full from the input; each output is drawn
// uniformly from the buffered elements and its slot takes the oldest element's place.
class ShuffleIterator : public UnaryIterator {
 public:
  ShuffleIterator(std::unique_ptr<IteratorBase> input, int64_t buffer_size, uint64_t seed)
      : UnaryIterator(std::move(input)), size_(buffer_size), rng_(seed) {}
  std::optional<Element> next() override {
    check_cancelled();
    while (!end_of_input_ && end_ - start_ < size_) {
      std::optional<Element> e = input_->next();
      if (!e) {
        end_of_input_ = true;
        break;
      }
      if (static_cast<int64_t>(buffer_.size()) < size_) buffer_.push_back(std::move(*e));
      else buffer_[static_cast<size_t>(end_ % size_)] = std::move(*e);
      ++end_;
    }
    if (end_ == start_) return std::nullopt;
    int64_t offset = static_cast<int64_t>(rng_() % static_cast<uint64_t>(end_ - start_));
    size_t index = static_cast<size_t>((start_ + offset) % size_);
    Element out = std::move(buffer_[index]);
    std::swap(buffer_[index], buffer_[static_cast<size_t>(start_ % size_)]);
    ++start_;
    return out;
  }

 private:
  int64_t size_;
  SplitMix64 rng_;
  std::vector<Element> buffer_;
  int64_t start_ = 0, end_ = 0;  // elements [start_, end_) are buffered, element k at slot k % size_
  bool end_of_input_ = false;
};

class ShuffleDataset : public DatasetBase {
 public:
  ShuffleDataset(std::shared_ptr<const DatasetBase> input, int64_t buffer_size, uint64_t seed, bool reshuffle)
      : input_(std::move(input)), size_(buffer_size), seed_(seed), reshuffle_(reshuffle) {}
  std::unique_ptr<IteratorBase> make_iterator() const override {
    // Iteration k of a reshuffling dataset starts its generator at seed ^ (k * golden ratio).
    uint64_t k = reshuffle_ ? iterations_.fetch_add(1) : 0;
    return std::make_unique<ShuffleIterator>(input_->make_iterator(), size_, seed_ ^ (k * 0x9E3779B97F4A7C15ULL));
  }

 private:
  std::shared_ptr<const DatasetBase> input_;
  int64_t size_;
  uint64_t seed_;
  bool reshuffle_;
  mutable std::atomic<uint64_t> iterations_{0};
};

class BatchIterator : public UnaryIterator {
 public:
  BatchIterator(std::unique_ptr<IteratorBase> input, int64_t batch_size, bool drop_remainder, bool padded,
                std::vector<Shape> padded_shapes, std::vector<Value> padding_values)
      : UnaryIterator(std::move(input)), batch_size_(batch_size), drop_remainder_(drop_remainder), padded_(padded),
        padded_shapes_(std::move(padded_shapes)), padding_values_(std::move(padding_values)) {}
  std::optional<Element> next() override {
    check_cancelled();
    // One vector kept for every batch: a fresh one per batch is a large malloc request, which
    // makes glibc consolidate its free lists each time (a third of the pipeline's time).
    std::vector<Element>& elements = elements_;
    elements.clear();
    while (!end_ && static_cast<int64_t>(elements.size()) < batch_size_) {
      std::optional<Element> e = input_->next();
      if (!e) {
        end_ = true;
        break;
      }
      elements.push_back(std::move(*e));
    }
    if (elements.empty() || (drop_remainder_ && static_cast<int64_t>(elements.size()) < batch_size_)) {
      elements.clear();
      return std::nullopt;
    }
    Element out = stack_elements(elements, padded_, padded_shapes_, padding_values_);
    elements.clear();  // the elements go now, the capacity stays
    return out;
  }

 private:
  int64_t batch_size_;
  bool drop_remainder_, padded_;
  std::vector<Shape> padded_shapes_;
  std::vector<Value> padding_values_;
  std::vector<Element> elements_;
  bool end_ = false;
};

// Restarts its input at the end of each epoch; an epoch without elements ends it (tf.data).
class RepeatIterator : public IteratorBase {
 public:
  RepeatIterator(std::shared_ptr<const DatasetBase> input, int64_t count) : input_ds_(std::move(input)), count_(count) {}
  std::optional<Element> next() override {
    for (;;) {
      if (cancelled_) throw Cancelled("[Dataset] iterator cancelled");
      if (count_ >= 0 && epoch_ >= count_) return std::nullopt;
      if (!input_) {
        set_input(input_ds_->make_iterator());
        first_ = true;
      }
      std::optional<Element> e = input_->next();
      if (e) {
        first_ = false;
        return e;
      }
      if (first_) {  // an empty epoch: repeating would loop forever
        epoch_ = count_ >= 0 ? count_ : epoch_;
        set_input(nullptr);
        return std::nullopt;
      }
      ++epoch_;
      set_input(nullptr);
    }
  }
  void cancel() override {
    cancelled_ = true;
    std::lock_guard<std::mutex> lock(mu_);
    if (input_) input_->cancel();
  }

 private:
  void set_input(std::unique_ptr<IteratorBase> it) {
    std::unique_ptr<IteratorBase> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old = std::move(input_);
      input_ = std::move(it);
    }
    // `old` is destroyed outside the lock: a stage with threads joins them there.
  }
  std::shared_ptr<const DatasetBase> input_ds_;
  int64_t count_;
  int64_t epoch_ = 0;
  bool first_ = true;
  std::mutex mu_;  // guards input_ against cancel() from another thread
  std::unique_ptr<IteratorBase> input_;
  std::atomic<bool> cancelled_{false};
};

class RepeatDataset : public DatasetBase {
 public:
  RepeatDataset(std::shared_ptr<const DatasetBase> input, int64_t count) : input_(std::move(input)), count_(count) {}
  std::unique_ptr<IteratorBase> make_iterator() const override {
    return std::make_unique<RepeatIterator>(input_, count_);
  }

 private:
  std::shared_ptr<const DatasetBase> input_;
  int64_t count_;
};

class TakeIterator : public UnaryIterator {
 public:
  TakeIterator(std::unique_ptr<IteratorBase> input, int64_t count) : UnaryIterator(std::move(input)), left_(count) {}
  std::optional<Element> next() override {
    check_cancelled();
    if (left_ == 0) return std::nullopt;
    std::optional<Element> e = input_->next();
    if (!e) {
      left_ = 0;
      return std::nullopt;
    }
    if (left_ > 0) --left_;
    return e;
  }

 private:
  int64_t left_;  // -1: all
};

class SkipIterator : public UnaryIterator {
 public:
  SkipIterator(std::unique_ptr<IteratorBase> input, int64_t count) : UnaryIterator(std::move(input)), left_(count) {}
  std::optional<Element> next() override {
    for (;;) {
      check_cancelled();
      std::optional<Element> e = input_->next();
      if (!e) return std::nullopt;
      if (left_ == 0) return e;
      if (left_ > 0) --left_;
      // left_ < 0: skip everything
    }
  }

 private:
  int64_t left_;
};

// tf.data's InterleaveDatasetOp: cycle_length slots, each holding an iterator of fn(input
// element), opened when the cycle reaches an empty slot; block_length elements from a slot, then
// the next slot. With `prefetch`, every open slot reads ahead on its own thread.
class InterleaveIterator : public IteratorBase {
 public:
  InterleaveIterator(std::unique_ptr<IteratorBase> input, InterleaveFn fn, int64_t cycle_length, int64_t block_length,
                     int64_t prefetch)
      : input_(std::move(input)), fn_(std::move(fn)), block_length_(block_length), prefetch_(prefetch),
        slots_(static_cast<size_t>(cycle_length)) {}
  ~InterleaveIterator() override {
    cancel();
    // Slots (and their threads) go before the input.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : slots_) s.reset();
  }
  std::optional<Element> next() override {
    while (!end_of_input_ || open_ > 0) {
      if (cancelled_) throw Cancelled("[Dataset] iterator cancelled");
      auto& slot = slots_[cycle_index_];
      if (slot) {
        std::optional<Element> e = slot->next();
        if (e) {
          if (++block_index_ == block_length_) advance();
          return e;
        }
        set_slot(nullptr);
        --open_;
        advance();
      } else if (!end_of_input_) {
        std::optional<Element> arg = input_->next();
        if (!arg) {
          end_of_input_ = true;
          continue;
        }
        int64_t index = index_++;
        std::unique_ptr<IteratorBase> it;
        try {
          it = std::make_unique<KeepAlive>(fn_(*arg).impl());
        } catch (...) {
          rethrow_at("interleave", index, std::current_exception());
        }
        if (prefetch_ > 0) it = make_prefetch_iterator(std::move(it), prefetch_);
        set_slot(std::move(it));
        ++open_;
      } else {
        advance();
      }
    }
    return std::nullopt;
  }
  void cancel() override {
    cancelled_ = true;
    input_->cancel();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : slots_) {
      if (s) s->cancel();
    }
  }

 private:
  void advance() {
    block_index_ = 0;
    cycle_index_ = (cycle_index_ + 1) % slots_.size();
  }
  void set_slot(std::unique_ptr<IteratorBase> it) {
    std::unique_ptr<IteratorBase> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old = std::move(slots_[cycle_index_]);
      slots_[cycle_index_] = std::move(it);
    }
  }
  std::unique_ptr<IteratorBase> input_;
  InterleaveFn fn_;
  int64_t block_length_, prefetch_;
  std::mutex mu_;  // guards the slots' pointers against cancel() from another thread
  std::vector<std::unique_ptr<IteratorBase>> slots_;
  size_t cycle_index_ = 0;
  int64_t block_index_ = 0, open_ = 0, index_ = 0;
  bool end_of_input_ = false;
  std::atomic<bool> cancelled_{false};
};

void check_positive(const char* op, const char* what, int64_t v, Loc loc, bool autotune = false) {
  if (v > 0 || (autotune && v == AUTOTUNE)) return;
  raise(ErrorCode::invalid_argument, op,
        std::string(what) + " must be " + (autotune ? "positive or AUTOTUNE" : "positive") + ", got " +
            std::to_string(v),
        loc);
}

}  // namespace
}  // namespace detail

using namespace detail;

// ---- Iterator ----

std::optional<Element> Iterator::next() {
  if (!impl_) throw FailedPrecondition("[Iterator] next() on an iterator of no dataset");
  return impl_->next();
}

ElementIterator::ElementIterator(Iterator it) : it_(std::make_shared<Iterator>(std::move(it))) { current_ = it_->next(); }

ElementIterator& ElementIterator::operator++() {
  current_.reset();  // if next() throws, the iterator reads as ended
  current_ = it_->next();
  return *this;
}

Iterator Dataset::make_iterator() const { return Iterator(std::make_shared<KeepAlive>(impl_)); }

// ---- sources ----

Dataset Dataset::from_tensor_slices(Element components, Loc loc) {
  if (components.empty()) raise(ErrorCode::invalid_argument, "Dataset.from_tensor_slices", "no components", loc);
  int64_t n = -1;
  for (size_t i = 0; i < components.size(); ++i) {
    const Value& c = components[i];
    if (!c.is_string() && !c.tensor().defined()) {
      raise(ErrorCode::invalid_argument, "Dataset.from_tensor_slices",
            "component " + std::to_string(i) + " is an empty tensor handle", loc);
    }
    if (c.shape().empty()) {
      raise(ErrorCode::invalid_argument, "Dataset.from_tensor_slices",
            "component " + std::to_string(i) + " is a scalar; slicing needs rank >= 1", loc);
    }
    if (n >= 0 && c.shape()[0] != n) {
      raise(ErrorCode::invalid_argument, "Dataset.from_tensor_slices",
            "dimension 0 of component " + std::to_string(i) + " is " + std::to_string(c.shape()[0]) +
                ", component 0 has " + std::to_string(n),
            loc);
    }
    n = c.shape()[0];
  }
  return Dataset(std::make_shared<SlicesDataset>(std::move(components), n));
}

Dataset Dataset::from_tensor_slices(Tensor t, Loc loc) { return from_tensor_slices(Element{std::move(t)}, loc); }
Dataset Dataset::from_tensor_slices(StringTensor t, Loc loc) { return from_tensor_slices(Element{std::move(t)}, loc); }

Dataset Dataset::from_tensors(Element components) {
  return Dataset(std::make_shared<TensorsDataset>(std::move(components)));
}

Dataset Dataset::range(int64_t stop) { return range(0, stop, 1); }

Dataset Dataset::range(int64_t start, int64_t stop, int64_t step, Loc loc) {
  if (step == 0) raise(ErrorCode::invalid_argument, "Dataset.range", "step must not be 0", loc);
  return Dataset(std::make_shared<RangeDataset>(start, stop, step));
}

// ---- transformations ----

Dataset Dataset::map(MapFn fn, int64_t num_parallel_calls, Loc loc) const {
  check_positive("Dataset.map", "num_parallel_calls", num_parallel_calls, loc, true);
  if (!fn) raise(ErrorCode::invalid_argument, "Dataset.map", "no function", loc);
  int64_t threads = num_parallel_calls == AUTOTUNE ? autotune_threads() : num_parallel_calls;
  if (threads == 1) {
    return unary(*this, [fn](std::unique_ptr<IteratorBase> in) -> std::unique_ptr<IteratorBase> {
      return std::make_unique<MapIterator>(std::move(in), fn);
    });
  }
  return unary(*this, [fn, threads](std::unique_ptr<IteratorBase> in) {
    return make_parallel_map_iterator(std::move(in), fn, threads);
  });
}

Dataset Dataset::filter(PredicateFn predicate) const {
  if (!predicate) throw InvalidArgument("[Dataset.filter] no predicate");
  return unary(*this, [predicate](std::unique_ptr<IteratorBase> in) -> std::unique_ptr<IteratorBase> {
    return std::make_unique<FilterIterator>(std::move(in), predicate);
  });
}

Dataset Dataset::shuffle(int64_t buffer_size, std::optional<uint64_t> seed, bool reshuffle_each_iteration,
                         Loc loc) const {
  check_positive("Dataset.shuffle", "buffer_size", buffer_size, loc);
  uint64_t s = seed ? *seed : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  return Dataset(std::make_shared<ShuffleDataset>(impl_, buffer_size, s, reshuffle_each_iteration));
}

Dataset Dataset::batch(int64_t batch_size, bool drop_remainder, Loc loc) const {
  check_positive("Dataset.batch", "batch_size", batch_size, loc);
  return unary(*this, [=](std::unique_ptr<IteratorBase> in) -> std::unique_ptr<IteratorBase> {
    return std::make_unique<BatchIterator>(std::move(in), batch_size, drop_remainder, false, std::vector<Shape>{},
                                           std::vector<Value>{});
  });
}

Dataset Dataset::padded_batch(int64_t batch_size, std::vector<Shape> padded_shapes, std::vector<Value> padding_values,
                              bool drop_remainder, Loc loc) const {
  check_positive("Dataset.padded_batch", "batch_size", batch_size, loc);
  for (size_t i = 0; i < padding_values.size(); ++i) {
    if (padding_values[i].shape().size() != 0) {
      raise(ErrorCode::invalid_argument, "Dataset.padded_batch",
            "padding value " + std::to_string(i) + " must be a scalar, got " + padding_values[i].describe(), loc);
    }
  }
  for (const Shape& s : padded_shapes) {
    for (int64_t d : s) {
      if (d < -1) {
        raise(ErrorCode::invalid_argument, "Dataset.padded_batch",
              "padded shape " + shape_str(s) + " has a dimension below -1", loc);
      }
    }
  }
  return unary(*this, [=](std::unique_ptr<IteratorBase> in) -> std::unique_ptr<IteratorBase> {
    return std::make_unique<BatchIterator>(std::move(in), batch_size, drop_remainder, true, padded_shapes,
                                           padding_values);
  });
}

Dataset Dataset::repeat(int64_t count) const {
  if (count < -1) throw InvalidArgument("[Dataset.repeat] count must be >= -1, got " + std::to_string(count));
  return Dataset(std::make_shared<RepeatDataset>(impl_, count));
}

Dataset Dataset::take(int64_t count) const {
  if (count < -1) throw InvalidArgument("[Dataset.take] count must be >= -1, got " + std::to_string(count));
  return unary(*this, [count](std::unique_ptr<IteratorBase> in) -> std::unique_ptr<IteratorBase> {
    return std::make_unique<TakeIterator>(std::move(in), count);
  });
}

Dataset Dataset::skip(int64_t count) const {
  if (count < -1) throw InvalidArgument("[Dataset.skip] count must be >= -1, got " + std::to_string(count));
  return unary(*this, [count](std::unique_ptr<IteratorBase> in) -> std::unique_ptr<IteratorBase> {
    return std::make_unique<SkipIterator>(std::move(in), count);
  });
}

Dataset Dataset::interleave(InterleaveFn fn, int64_t cycle_length, int64_t block_length, int64_t num_parallel_calls,
                            Loc loc) const {
  if (!fn) raise(ErrorCode::invalid_argument, "Dataset.interleave", "no function", loc);
  check_positive("Dataset.interleave", "cycle_length", cycle_length, loc, true);
  check_positive("Dataset.interleave", "block_length", block_length, loc);
  check_positive("Dataset.interleave", "num_parallel_calls", num_parallel_calls, loc, true);
  int64_t cycle = cycle_length == AUTOTUNE ? autotune_threads() : cycle_length;
  // In parallel, each open dataset keeps up to two blocks ready.
  int64_t prefetch = num_parallel_calls == 1 ? 0 : 2 * block_length;
  return unary(*this, [=](std::unique_ptr<IteratorBase> in) -> std::unique_ptr<IteratorBase> {
    return std::make_unique<InterleaveIterator>(std::move(in), fn, cycle, block_length, prefetch);
  });
}

Dataset Dataset::prefetch(int64_t buffer_size, Loc loc) const {
  check_positive("Dataset.prefetch", "buffer_size", buffer_size, loc, true);
  int64_t n = buffer_size == AUTOTUNE ? 2 : buffer_size;
  return unary(*this, [n](std::unique_ptr<IteratorBase> in) { return make_prefetch_iterator(std::move(in), n); });
}

}  // namespace xf::data
