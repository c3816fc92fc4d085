// Tensor: a cheap handle to an immutable description of an n-dimensional array.
#pragma once
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "xflow/dtype.hpp"
#include "xflow/error.hpp"
#include "xflow/shape.hpp"

namespace xf {

namespace detail {
struct BufferAccess;  // core: places a Buffer inside a tensor's own allocation
}  // namespace detail

// A block of bytes. Buffers from the caching allocator return to its free lists when the last
// handle goes; a Buffer can also adopt memory owned by something else (an xt::xarray).
class Buffer {
 public:
  // `bytes` rounded up by the allocator; memory is 64-byte aligned and not zeroed.
  static std::shared_ptr<Buffer> allocate(size_t bytes);
  // Adopts memory kept alive by `owner`.
  static std::shared_ptr<Buffer> adopt(void* data, size_t bytes, std::shared_ptr<void> owner);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return bytes_; }

 private:
  friend struct detail::BufferAccess;
  Buffer() = default;
  void* data_ = nullptr;
  size_t bytes_ = 0;       // usable bytes
  size_t capacity_ = 0;    // bytes of the allocator block (0 when adopted)
  std::shared_ptr<void> owner_;
};

// Statistics of the caching allocator.
struct AllocatorStats {
  int64_t live_bytes = 0;       // bytes handed out and not yet returned
  int64_t peak_bytes = 0;       // maximum of live_bytes since the last reset
  int64_t cached_bytes = 0;     // bytes kept on free lists
  int64_t allocations = 0;      // requests served
  int64_t system_allocations = 0;  // requests that went to the system
};
AllocatorStats allocator_stats();
void reset_peak_bytes();
// Returns every cached block to the system.
void empty_cache();

// A scalar from C++. Tensor-with-scalar ops treat it as "weak": it takes the tensor's dtype
// unless its kind is higher (int32 tensor + 2.0 -> float32, float32 tensor + 2 -> float32).
struct Scalar {
  enum class Kind { boolean, integer, floating };
  Kind kind;
  double f = 0;
  int64_t i = 0;
  Scalar(bool v) : kind(Kind::boolean), i(v) {}
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Scalar(T v) : kind(Kind::integer), f(static_cast<double>(v)), i(static_cast<int64_t>(v)) {}
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T v) : kind(Kind::floating), f(static_cast<double>(v)), i(0) {}
  double as_double() const { return kind == Kind::floating ? f : static_cast<double>(i); }
  // The dtype a tensor of `d` gets when combined with this scalar.
  DType weak_result(DType d) const;
  // The dtype of this scalar on its own: bool_, int32 or float32.
  DType default_dtype() const;
};

// Nested initializer lists: Tensor({{1, 2}, {3, 4}}).
template <class T> using List1 = std::initializer_list<T>;
template <class T> using List2 = std::initializer_list<List1<T>>;
template <class T> using List3 = std::initializer_list<List2<T>>;
template <class T> using List4 = std::initializer_list<List3<T>>;

class Tensor {
 public:
  // An empty handle; most operations on it throw FailedPrecondition.
  Tensor() = default;

  // 0-d tensors from scalars: bool -> bool_, int -> int32, int64_t -> int64, float -> float32,
  // double -> float64.
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  explicit Tensor(T v) : Tensor(from_values(&v, 1, {})) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Tensor(List1<T> v) : Tensor(from_values(v.begin(), v.size(), {static_cast<int64_t>(v.size())})) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Tensor(List2<T> v) : Tensor(from_nested<T>(v)) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Tensor(List3<T> v) : Tensor(from_nested<T>(v)) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Tensor(List4<T> v) : Tensor(from_nested<T>(v)) {}

  // Copies `data` (row-major) into a new tensor of `shape`; throws ShapeError if sizes differ.
  template <class T>
  static Tensor from_vector(const std::vector<T>& data, const Shape& shape, Loc loc = Loc::current()) {
    std::vector<elem_t<T>> tmp(data.begin(), data.end());
    return from_bytes(tmp.data(), tmp.size(), dtype_of<storage_t<T>>(), shape, loc);
  }
  // Copies `count` elements of dtype `d` from `data`.
  static Tensor from_bytes(const void* data, size_t count, DType d, const Shape& shape,
                           Loc loc = Loc::current());
  // An uninitialized contiguous tensor.
  static Tensor empty(const Shape& shape, DType d);
  // A tensor viewing `buffer` (no copy).
  static Tensor view(std::shared_ptr<Buffer> buffer, DType d, Shape shape, Strides strides, int64_t offset);

  bool defined() const { return impl_ != nullptr; }
  // The accessors are inline (every op reads them); on an empty handle they throw
  // FailedPrecondition.
  DType dtype() const;
  const Shape& shape() const;
  const Strides& strides() const;
  int64_t offset() const;  // in elements, into the buffer
  int64_t rank() const { return static_cast<int64_t>(shape().size()); }
  int64_t size() const;    // number of elements
  int64_t dim(int64_t axis) const;  // negative axes count from the end
  bool is_contiguous() const;       // row-major and dense (computed when the tensor is made)
  // The buffer; the handle keeps it alive (a small tensor's buffer lives in the same allocation
  // as its description, and the handle returned shares that allocation's ownership).
  std::shared_ptr<Buffer> buffer() const;
  // The tensor's unique id (tracers map it to graph values).
  uint64_t id() const;
  // Pointer to element 0 (respecting the offset).
  void* raw_data() const;
  template <class T> T* data() const { return static_cast<T*>(raw_data()); }

  // A contiguous tensor with the same values (itself if already contiguous).
  Tensor contiguous() const;

  // The value of a one-element tensor, converted to T. Throws InvalidArgument otherwise.
  template <class T> T item(Loc loc = Loc::current()) const {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(item_as_int(loc));
    else return static_cast<T>(item_as_double(loc));
  }
  // All elements in row-major order, converted to T.
  template <class T> std::vector<T> to_vector(Loc loc = Loc::current()) const;
  // Truth value of a one-element tensor (`if (t)`); throws InvalidArgument for other sizes.
  explicit operator bool() const;

  std::string str() const;  // "Tensor([1, 2], shape=(2,), dtype=int32)"

  // The tensor's description is immutable; the handle is cheap to copy.
  struct Impl;
  explicit Tensor(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  const std::shared_ptr<const Impl>& impl() const { return impl_; }

 private:
  template <class T> using storage_t = std::conditional_t<std::is_same_v<T, bool>, bool,
      std::conditional_t<std::is_floating_point_v<T>, std::conditional_t<sizeof(T) == 4, float, double>,
      std::conditional_t<std::is_same_v<T, uint8_t>, uint8_t,
      std::conditional_t<(sizeof(T) <= 4), int32_t, int64_t>>>>;
  // The in-memory element type (bool is one byte).
  template <class T> using elem_t = std::conditional_t<std::is_same_v<T, bool>, uint8_t, storage_t<T>>;
  template <class T> static Tensor from_values(const T* p, size_t n, const Shape& s) {
    std::vector<elem_t<T>> tmp(n);
    for (size_t i = 0; i < n; ++i) tmp[i] = static_cast<elem_t<T>>(p[i]);
    return from_bytes(tmp.data(), n, dtype_of<storage_t<T>>(), s);
  }
  template <class L> static void flatten_into(const L& l, std::vector<double>& out, Shape& shape, size_t depth);
  template <class T, class L> static Tensor from_nested(const L& l);
  double item_as_double(Loc loc) const;
  int64_t item_as_int(Loc loc) const;
  void check_defined(const char* what) const {
    if (!impl_) throw_undefined(what);
  }
  [[noreturn]] static void throw_undefined(const char* what);

  std::shared_ptr<const Impl> impl_;
};

// The immutable description a handle points to. A tensor whose bytes fit in
// detail::kInlineBytes keeps its description, its Buffer and its bytes in one allocation
// (core/tensor.cpp); `buffer` is then null (it would own its own allocation, a cycle) and `buf`
// points at the Buffer inside it. Visible here so the accessors are inline; code outside the core
// reads it through the accessors.
struct Tensor::Impl {
  DType dtype = DType::float32;
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  std::shared_ptr<Buffer> buffer;  // null when the buffer lives in this allocation
  Buffer* buf = nullptr;           // the buffer, always
  uint64_t id = 0;
  bool contiguous = true;          // row-major and dense: what is_contiguous() returns
};

inline DType Tensor::dtype() const {
  check_defined("dtype");
  return impl_->dtype;
}
inline const Shape& Tensor::shape() const {
  check_defined("shape");
  return impl_->shape;
}
inline const Strides& Tensor::strides() const {
  check_defined("strides");
  return impl_->strides;
}
inline int64_t Tensor::offset() const {
  check_defined("offset");
  return impl_->offset;
}
inline int64_t Tensor::size() const { return numel(shape()); }
inline bool Tensor::is_contiguous() const {
  check_defined("shape");
  return impl_->contiguous;
}
inline uint64_t Tensor::id() const {
  check_defined("id");
  return impl_->id;
}
inline void* Tensor::raw_data() const {
  check_defined("data");
  return static_cast<char*>(impl_->buf->data()) + impl_->offset * dtype_size(impl_->dtype);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Factories.
Tensor zeros(const Shape& shape, DType d = DType::float32);
Tensor ones(const Shape& shape, DType d = DType::float32);
Tensor full(const Shape& shape, Scalar value, DType d, Loc loc = Loc::current());
Tensor full(const Shape& shape, Scalar value, Loc loc = Loc::current());  // dtype from the scalar
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, Scalar value, Loc loc = Loc::current());
// [start, stop) by step, NumPy's length rule; dtype int32 unless given.
Tensor arange(double start, double stop, double step = 1.0, DType d = DType::int32, Loc loc = Loc::current());
Tensor arange(int64_t stop, DType d = DType::int32, Loc loc = Loc::current());
Tensor linspace(double start, double stop, int64_t num, DType d = DType::float32, Loc loc = Loc::current());
Tensor eye(int64_t n, int64_t m = -1, DType d = DType::float32, Loc loc = Loc::current());

// |a - b| <= atol + rtol * |b| elementwise (after broadcasting), NaNs equal if equal_nan.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false, Loc loc = Loc::current());
// Same dtype, shape and bytes (NaNs with equal bits are equal).
bool bitwise_equal(const Tensor& a, const Tensor& b);

// ---- template implementations ----

template <class L>
void Tensor::flatten_into(const L& l, std::vector<double>& out, Shape& shape, size_t depth) {
  if (shape.size() <= depth) shape.push_back(static_cast<int64_t>(l.size()));
  else if (shape[depth] != static_cast<int64_t>(l.size()))
    throw ShapeError("[Tensor] ragged nested list: rows of different lengths");
  for (const auto& e : l) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(e)>>) out.push_back(static_cast<double>(e));
    else flatten_into(e, out, shape, depth + 1);
  }
}

template <class T, class L>
Tensor Tensor::from_nested(const L& l) {
  std::vector<double> flat;
  Shape shape;
  flatten_into(l, flat, shape, 0);
  std::vector<elem_t<T>> tmp(flat.size());
  for (size_t i = 0; i < flat.size(); ++i) tmp[i] = static_cast<elem_t<T>>(flat[i]);
  return from_bytes(tmp.data(), tmp.size(), dtype_of<storage_t<T>>(), shape);
}

}  // namespace xf
