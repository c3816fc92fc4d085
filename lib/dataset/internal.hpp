// The dataset layer's internals: the stages with threads (parallel map, prefetch), batching, and
// the error wrapping shared by the stages.
#pragma once
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xflow/dataset.hpp"

namespace xf::data::detail {

// An element or the exception that took its place.
struct Result {
  std::optional<Element> value;
  std::exception_ptr error;
  bool from_input = false;  // the error came from the stage's input, not from its own function
};

// Rethrows `error` with its message prefixed "[Dataset.<op>] element <index>: ", as the same
// class for xflow's errors (std::runtime_error for other std::exceptions, unchanged otherwise).
[[noreturn]] void rethrow_at(const char* op, int64_t index, std::exception_ptr error);

// The number of threads AUTOTUNE stands for.
int64_t autotune_threads();

// fn on `threads` std::threads; the output keeps the input's order. At most `window` elements
// are pulled ahead of the consumer.
std::unique_ptr<IteratorBase> make_parallel_map_iterator(std::unique_ptr<IteratorBase> input, MapFn fn,
                                                         int64_t threads);
// Up to `buffer_size` elements of `input` produced ahead on one std::thread.
std::unique_ptr<IteratorBase> make_prefetch_iterator(std::unique_ptr<IteratorBase> input, int64_t buffer_size);

// The batch of `elements` (components stacked along a new axis 0). padded_shapes / padding_values
// as Dataset::padded_batch (`padded` false: plain stacking, shapes must match).
Element stack_elements(const std::vector<Element>& elements, bool padded, const std::vector<Shape>& padded_shapes,
                       const std::vector<Value>& padding_values);

}  // namespace xf::data::detail
