// Internal: the immutable description a Tensor handle points to, and strided helpers.
#pragma once
#include <memory>

#include "xflow/tensor.hpp"

namespace xf {

// A tensor whose bytes fit in kInlineBytes keeps its description, its Buffer and its bytes in
// one allocation (see empty_tensor in tensor.cpp); `buffer` is then null (it would own its own
// allocation, a cycle) and `buf` points at the Buffer inside it.
struct Tensor::Impl {
  DType dtype = DType::float32;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  std::shared_ptr<Buffer> buffer;  // null when the buffer lives in this allocation
  Buffer* buf = nullptr;           // the buffer, always
  uint64_t id = 0;
};

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
