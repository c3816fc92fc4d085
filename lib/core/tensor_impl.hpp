// Internal: the inline-tensor threshold and strided helpers (Tensor::Impl is in xflow/tensor.hpp).
#pragma once
#include <memory>

#include "xflow/tensor.hpp"

namespace xf {

// Tensor::Impl is defined in xflow/tensor.hpp (the accessors are inline).

namespace detail {
// Tensors of at most this many bytes live in one allocation with their description.
inline constexpr size_t kInlineBytes = 64;
}  // namespace detail

namespace detail {

// Copies the elements of `src` (any strides) into contiguous memory at `dst`.
void copy_to_contiguous(const Tensor& src, void* dst);
// Calls f(flat_index, element_offset) for every element of shape/strides in row-major order.
template <class F>
void for_each_offset(const Shape& shape, const Strides& strides, F&& f) {
  int64_t n = numel(shape);
  if (n == 0) return;
  size_t r = shape.size();
  Dims idx(r, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, off);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}
// Reads element i (row-major position) of any tensor as double / int64.
double element_as_double(const Tensor& t, int64_t element_offset);

}  // namespace detail
}  // namespace xf
