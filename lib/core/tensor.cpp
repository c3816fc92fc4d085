#include "xflow/tensor.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <new>
#include <cmath>
#include <limits>
#include <ostream>

#include "core/dispatch.hpp"
#include "core/observer.hpp"
#include "core/tensor_impl.hpp"

namespace xf {
namespace {

std::atomic<uint64_t> g_next_id{1};

// Ids are unique, not ordered: each thread takes a block of them from the global counter, so a
// new tensor costs no atomic read-modify-write (one of the few left on a tiny op's path).
constexpr uint64_t kIdBlock = 1024;
thread_local uint64_t t_next_id = 0;  // trivially destructible: usable during thread exit
thread_local uint64_t t_end_id = 0;
uint64_t next_id() {
  if (t_next_id == t_end_id) {
    t_next_id = g_next_id.fetch_add(kIdBlock, std::memory_order_relaxed);
    t_end_id = t_next_id + kIdBlock;
  }
  return t_next_id++;
}

// Row-major and dense (size-1 axes may have any stride; an empty tensor is dense).
bool dense(const Shape& s, const Strides& st) {
  int64_t expect = 1;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] == 1) continue;
    if (s[i] == 0) return true;
    if (st[i] != expect) return false;
    expect *= s[i];
  }
  return true;
}

std::shared_ptr<Tensor::Impl> make_impl(DType d, Shape shape, Strides strides, int64_t offset,
                                        std::shared_ptr<Buffer> buffer) {
  auto impl = std::make_shared<Tensor::Impl>();
  impl->dtype = d;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->buf = buffer.get();
  impl->buffer = std::move(buffer);
  impl->id = next_id();
  impl->contiguous = dense(impl->shape, impl->strides);
  return impl;
}

// Row-major strides of `shape` written into `st` (no temporary).
void set_contiguous_strides(const Shape& shape, Strides& st) {
  size_t r = shape.size();
  st.resize(r);
  int64_t acc = 1;
  for (size_t i = r; i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
}

// A small tensor in one allocation: the description, its Buffer and the bytes. The bytes start
// at the first 64-byte boundary inside `bytes` (16-aligned, as operator new aligns the block, so
// at most 48 bytes are skipped), so they are aligned
// and padded like a block of the caching allocator's smallest class.
struct InlineTensor : Tensor::Impl {
  alignas(Buffer) unsigned char buffer_storage[sizeof(Buffer)];
  alignas(__STDCPP_DEFAULT_NEW_ALIGNMENT__) unsigned char bytes[detail::kInlineBytes + 64 - __STDCPP_DEFAULT_NEW_ALIGNMENT__];
  InlineTensor() {}  // user-provided: make_shared must not zero the bytes (an allocator block is not)
  InlineTensor(const InlineTensor&) = delete;
  InlineTensor& operator=(const InlineTensor&) = delete;
  ~InlineTensor() {
    if (buf) buf->~Buffer();
  }
  void* aligned_bytes() {
    auto p = reinterpret_cast<uintptr_t>(bytes);
    return reinterpret_cast<void*>((p + 63) & ~uintptr_t{63});
  }
};

// The blocks of inline tensors (control block and InlineTensor, one size) are recycled through a
// free list per thread: a tiny op's one allocation then costs a pop and its release a push, not a
// trip through malloc and free. A block freed on another thread than the one that made it joins
// the freeing thread's list; each list keeps at most kPoolBlocks, the rest go back to the system,
// so memory never piles up on a thread that only frees. After the thread's list is destroyed
// (tensors released by thread-exit destructors), blocks go straight to the system.
constexpr size_t kPoolBlocks = 64;
struct FreeBlock {
  FreeBlock* next;
};
thread_local bool t_pool_gone = false;  // trivially destructible: readable during thread exit
struct BlockPool {
  FreeBlock* head = nullptr;
  size_t count = 0;
  ~BlockPool() {
    t_pool_gone = true;
    while (head) {
      FreeBlock* next = head->next;
      ::operator delete(head);
      head = next;
    }
  }
};
thread_local BlockPool t_pool;

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U> PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) {
    static_assert(sizeof(T) >= sizeof(FreeBlock) && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    if (n == 1 && !t_pool_gone) {
      BlockPool& pool = t_pool;
      if (FreeBlock* b = pool.head) {
        pool.head = b->next;
        --pool.count;
        return reinterpret_cast<T*>(b);
      }
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (n == 1 && !t_pool_gone) {
      BlockPool& pool = t_pool;
      if (pool.count < kPoolBlocks) {
        auto* b = reinterpret_cast<FreeBlock*>(p);
        b->next = pool.head;
        pool.head = b;
        ++pool.count;
        return;
      }
    }
    ::operator delete(p);
  }
  template <class U> bool operator==(const PoolAllocator<U>&) const { return true; }
  template <class U> bool operator!=(const PoolAllocator<U>&) const { return false; }
};

void check_shape(const Shape& shape, const char* op, Loc loc) {
  for (int64_t d : shape)
    if (d < 0) raise(ErrorCode::shape, op, "negative dimension in shape " + shape_str(shape), loc);
}

}  // namespace

// ---- construction ----

namespace detail {

// Buffer's constructor is private; the inline tensor builds its Buffer in place through this.
struct BufferAccess {
  static Buffer* construct(void* where, void* data, size_t bytes) {
    Buffer* b = new (where) Buffer;
    b->data_ = data;
    b->bytes_ = bytes;  // capacity_ stays 0: the destructor leaves the bytes alone
    return b;
  }
};

// An inline tensor of `shape` (copied or moved in), whose bytes fit in kInlineBytes.
template <class S>
Tensor inline_tensor(S&& shape, DType d, size_t bytes) {
  auto block = std::allocate_shared<InlineTensor>(PoolAllocator<InlineTensor>());
  InlineTensor& im = *block;
  im.dtype = d;
  im.shape = std::forward<S>(shape);
  set_contiguous_strides(im.shape, im.strides);
  im.buf = BufferAccess::construct(block->buffer_storage, block->aligned_bytes(), bytes);
  im.id = next_id();
  return Tensor(std::shared_ptr<const Tensor::Impl>(std::move(block)));
}

// Tensor::empty taking its shape by value, so apply() can move the inferred shape in.
Tensor empty_tensor(Shape shape, DType d) {
  check_shape(shape, "empty", Loc{});
  size_t bytes = static_cast<size_t>(numel(shape)) * dtype_size(d);
  if (bytes <= kInlineBytes) return inline_tensor(std::move(shape), d, bytes);
  auto buf = Buffer::allocate(bytes);
  Strides strides = contiguous_strides(shape);
  return Tensor(make_impl(d, std::move(shape), std::move(strides), 0, std::move(buf)));
}

// A contiguous tensor of the shape of an existing tensor (valid: no check).
Tensor empty_of_shape(const Shape& shape, DType d) {
  size_t bytes = static_cast<size_t>(numel(shape)) * dtype_size(d);
  if (bytes <= kInlineBytes) return inline_tensor(shape, d, bytes);
  return empty_tensor(shape, d);
}
}  // namespace detail

Tensor Tensor::empty(const Shape& shape, DType d) { return detail::empty_tensor(shape, d); }

Tensor Tensor::view(std::shared_ptr<Buffer> buffer, DType d, Shape shape, Strides strides, int64_t offset) {
  return Tensor(make_impl(d, std::move(shape), std::move(strides), offset, std::move(buffer)));
}

Tensor Tensor::from_bytes(const void* data, size_t count, DType d, const Shape& shape, Loc loc) {
  check_shape(shape, "Tensor", loc);
  if (static_cast<int64_t>(count) != numel(shape))
    raise(ErrorCode::shape, "Tensor",
          std::to_string(count) + " values do not fill shape " + shape_str(shape) + " (" +
              std::to_string(numel(shape)) + " elements)",
          loc);
  Tensor t = empty(shape, d);
  if (count) std::memcpy(t.raw_data(), data, count * dtype_size(d));
  if (d == DType::bool_) {
    auto* p = t.data<uint8_t>();
    for (size_t i = 0; i < count; ++i) p[i] = p[i] != 0;
  }
  return t;
}

// ---- accessors ----

void Tensor::throw_undefined(const char* what) {
  throw FailedPrecondition(std::string("[Tensor] ") + what + " of an empty Tensor handle");
}
std::shared_ptr<Buffer> Tensor::buffer() const {
  check_defined("buffer");
  if (impl_->buffer || !impl_->buf) return impl_->buffer;
  return std::shared_ptr<Buffer>(impl_, impl_->buf);  // shares the inline tensor's allocation
}

int64_t Tensor::dim(int64_t axis) const { return shape()[normalize_axis(axis, rank(), "dim")]; }




namespace detail {

void copy_to_contiguous(const Tensor& src, void* dst) {
  visit_size(dtype_size(src.dtype()), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* s = static_cast<const T*>(src.raw_data());
    T* d = static_cast<T*>(dst);
    const Shape& shape = src.shape();
    const Strides& st = src.strides();
    if (shape.empty()) {
      if (numel(shape)) d[0] = s[0];
      return;
    }
    // Walk the outer index, copy the innermost axis as a run.
    int64_t inner = shape.back();
    int64_t inner_stride = st.back();
    Shape outer(shape.begin(), shape.end() - 1);
    Strides outer_st(st.begin(), st.end() - 1);
    for_each_offset(outer, outer_st, [&](int64_t i, int64_t off) {
      T* out = d + i * inner;
      const T* in = s + off;
      if (inner_stride == 1) std::memcpy(out, in, inner * sizeof(T));
      else if (inner_stride == 0) std::fill_n(out, inner, *in);  // a broadcast row (broadcast_to)
      else
        for (int64_t j = 0; j < inner; ++j) out[j] = in[j * inner_stride];
    });
  });
}

double element_as_double(const Tensor& t, int64_t off) {
  return visit_dtype(t.dtype(), [&](auto tag) -> double {
    using T = typename decltype(tag)::type;
    return static_cast<double>(static_cast<const T*>(t.raw_data())[off]);
  });
}

}  // namespace detail

Tensor Tensor::contiguous() const {
  // Reads the description once (every kernel calls this on every input).
  check_defined("shape");
  const Impl& im = *impl_;
  bool is_dense = dense(im.shape, im.strides);
  if (is_dense && im.offset == 0 && im.buf) return *this;
  if (is_dense) return Tensor::view(buffer(), im.dtype, im.shape, contiguous_strides(im.shape), im.offset);
  Tensor out = empty(shape(), dtype());
  detail::copy_to_contiguous(*this, out.raw_data());
  return out;
}

double Tensor::item_as_double(Loc loc) const {
  check_defined("item");
  notify_host_read(*this, loc);
  if (size() != 1)
    raise(ErrorCode::invalid_argument, "item",
          "needs a tensor with one element, got shape " + shape_str(shape()) + " " + dtype_name(dtype()), loc);
  return detail::element_as_double(*this, 0);
}

int64_t Tensor::item_as_int(Loc loc) const {
  check_defined("item");
  notify_host_read(*this, loc);
  if (size() != 1)
    raise(ErrorCode::invalid_argument, "item",
          "needs a tensor with one element, got shape " + shape_str(shape()) + " " + dtype_name(dtype()), loc);
  return detail::visit_dtype(dtype(), [&](auto tag) -> int64_t {
    using T = typename decltype(tag)::type;
    return static_cast<int64_t>(*static_cast<const T*>(raw_data()));
  });
}

Tensor::operator bool() const {
  check_defined("bool conversion");
  if (size() != 1)
    throw InvalidArgument("[bool] the truth value of a tensor of shape " + shape_str(shape()) +
                          " is ambiguous; use all() or any()");
  return item_as_double(Loc{}) != 0;
}

template <class T>
std::vector<T> Tensor::to_vector(Loc loc) const {
  check_defined("to_vector");
  notify_host_read(*this, loc);
  std::vector<T> out(static_cast<size_t>(size()));
  detail::visit_dtype(dtype(), [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S* p = static_cast<const S*>(raw_data());
    detail::for_each_offset(shape(), strides(), [&](int64_t i, int64_t off) { out[i] = static_cast<T>(p[off]); });
  });
  return out;
}
template std::vector<bool> Tensor::to_vector<bool>(Loc) const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>(Loc) const;
template std::vector<int32_t> Tensor::to_vector<int32_t>(Loc) const;
template std::vector<int64_t> Tensor::to_vector<int64_t>(Loc) const;
template std::vector<float> Tensor::to_vector<float>(Loc) const;
template std::vector<double> Tensor::to_vector<double>(Loc) const;

// ---- printing ----
namespace {

constexpr int64_t kSummaryThreshold = 1000;
constexpr int64_t kEdgeItems = 3;

template <class T>
std::string format_value(T v, DType d) {
  if (d == DType::bool_) return v ? "true" : "false";
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos) s += ".";
    return s;
  } else {
    return std::to_string(static_cast<int64_t>(v));
  }
}

template <class T>
void format_axis(std::string& out, const T* base, const Tensor& t, size_t axis, int64_t off, bool summarize) {
  const Shape& s = t.shape();
  if (axis == s.size()) {
    out += format_value(base[off], t.dtype());
    return;
  }
  out += "[";
  int64_t n = s[axis];
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      out += "..., ";
      i = n - kEdgeItems;
    }
    format_axis(out, base, t, axis + 1, off + i * t.strides()[axis], summarize);
    if (i + 1 < n) out += ", ";
  }
  out += "]";
}

}  // namespace

std::string Tensor::str() const {
  if (!impl_) return "Tensor(<empty handle>)";
  notify_host_read(*this, Loc{});
  std::string out = "Tensor(";
  bool summarize = size() > kSummaryThreshold;
  detail::visit_dtype(dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    format_axis(out, static_cast<const T*>(raw_data()), *this, 0, 0, summarize);
  });
  return out + ", shape=" + shape_str(shape()) + ", dtype=" + dtype_name(dtype()) + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---- Scalar ----

DType Scalar::weak_result(DType d) const {
  switch (kind) {
    case Kind::boolean: return d;
    case Kind::integer: return d == DType::bool_ ? DType::int32 : d;
    case Kind::floating: return is_floating(d) ? d : DType::float32;
  }
  return d;
}

DType Scalar::default_dtype() const {
  switch (kind) {
    case Kind::boolean: return DType::bool_;
    case Kind::integer: return DType::int32;
    case Kind::floating: return DType::float32;
  }
  return DType::float32;
}

// ---- factories ----
namespace {

template <class T>
T saturate_cast(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

void fill(Tensor& t, Scalar value) {
  detail::visit_dtype(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v;
    if (t.dtype() == DType::bool_) v = static_cast<T>(value.as_double() != 0);
    else if (value.kind == Scalar::Kind::integer && !std::is_floating_point_v<T>) v = static_cast<T>(value.i);
    else v = saturate_cast<T>(value.as_double());
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.size(); i < n; ++i) p[i] = v;
  });
}

}  // namespace

Tensor full(const Shape& shape, Scalar value, DType d, Loc loc) {
  check_shape(shape, "full", loc);
  Tensor t = Tensor::empty(shape, d);
  fill(t, value);
  return t;
}
Tensor full(const Shape& shape, Scalar value, Loc loc) { return full(shape, value, value.default_dtype(), loc); }
Tensor zeros(const Shape& shape, DType d) { return full(shape, 0, d); }
Tensor ones(const Shape& shape, DType d) { return full(shape, 1, d); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor full_like(const Tensor& t, Scalar value, Loc loc) { return full(t.shape(), value, t.dtype(), loc); }

Tensor arange(double start, double stop, double step, DType d, Loc loc) {
  if (step == 0 || !std::isfinite(step) || !std::isfinite(start) || !std::isfinite(stop))
    raise(ErrorCode::invalid_argument, "arange", "start, stop and step must be finite and step nonzero", loc);
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((stop - start) / step)));
  Tensor t = Tensor::empty({n}, d);
  detail::visit_dtype(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = saturate_cast<T>(start + static_cast<double>(i) * step);
  });
  return t;
}
Tensor arange(int64_t stop, DType d, Loc loc) { return arange(0, static_cast<double>(stop), 1, d, loc); }

Tensor linspace(double start, double stop, int64_t num, DType d, Loc loc) {
  if (num < 0) raise(ErrorCode::invalid_argument, "linspace", "num must be >= 0, got " + std::to_string(num), loc);
  Tensor t = Tensor::empty({num}, d);
  double step = num > 1 ? (stop - start) / static_cast<double>(num - 1) : 0;
  detail::visit_dtype(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (int64_t i = 0; i < num; ++i)
      p[i] = saturate_cast<T>(i == num - 1 && num > 1 ? stop : start + static_cast<double>(i) * step);
  });
  return t;
}

Tensor eye(int64_t n, int64_t m, DType d, Loc loc) {
  if (m < 0) m = n;
  if (n < 0) raise(ErrorCode::invalid_argument, "eye", "n must be >= 0, got " + std::to_string(n), loc);
  Tensor t = zeros({n, m}, d);
  detail::visit_dtype(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = 1;
  });
  return t;
}

// ---- comparison ----

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan, Loc loc) {
  Shape s = broadcast_shapes(a.shape(), b.shape(), "allclose", loc);
  auto bstrides = [&](const Tensor& t) {
    Strides st(s.size(), 0);
    size_t lead = s.size() - t.shape().size();
    for (size_t i = 0; i < t.shape().size(); ++i) st[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
    return st;
  };
  Strides sa = bstrides(a), sb = bstrides(b);
  std::vector<int64_t> offa, offb;
  detail::for_each_offset(s, sa, [&](int64_t, int64_t off) { offa.push_back(off); });
  detail::for_each_offset(s, sb, [&](int64_t, int64_t off) { offb.push_back(off); });
  for (size_t i = 0; i < offa.size(); ++i) {
    double x = detail::element_as_double(a, offa[i]);
    double y = detail::element_as_double(b, offb[i]);
    if (std::isnan(x) || std::isnan(y)) {
      if (!(equal_nan && std::isnan(x) && std::isnan(y))) return false;
      continue;
    }
    if (x == y) continue;  // equal infinities
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) return false;
  }
  return true;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.raw_data(), cb.raw_data(), static_cast<size_t>(a.size()) * dtype_size(a.dtype())) == 0;
}

}  // namespace xf
