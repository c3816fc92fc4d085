// The caching allocator: freed blocks go to per-size free lists and are reused, so eager ops on
// large tensors do not pay the system allocator's page faults on every result.
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "xflow/tensor.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define XF_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define XF_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define XF_POISON(p, n) ((void)(p), (void)(n))
#define XF_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace xf {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kSmallLimit = 4096;                 // below: classes every 64 bytes
constexpr size_t kSmallClasses = kSmallLimit / kAlign;
constexpr size_t kNumClasses = kSmallClasses + 48;   // above: one class per power of two
constexpr size_t kCacheLimit = size_t{4} << 30;      // never keep more than this cached

size_t class_of(size_t bytes, size_t* capacity) {
  if (bytes <= kSmallLimit) {
    size_t c = (bytes + kAlign - 1) / kAlign;
    if (c == 0) c = 1;
    *capacity = c * kAlign;
    return c - 1;
  }
  size_t cap = kSmallLimit;
  size_t k = 0;
  while (cap < bytes) {
    cap <<= 1;
    ++k;
  }
  *capacity = cap;
  return kSmallClasses - 1 + k;
}

struct Cache {
  std::mutex mu;
  std::vector<void*> free_lists[kNumClasses];
  AllocatorStats stats;
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: buffers may outlive static destruction order
  return *c;
}

// A Buffer and its shared_ptr control block in one allocation (one malloc/free pair per result
// fewer than shared_ptr<Buffer>(new Buffer)): the holder comes from make_shared, the Buffer is
// constructed inside it by Buffer's own factories (its constructor is private), and the handle
// they return aliases the holder.
struct BufferHolder {
  alignas(Buffer) unsigned char storage[sizeof(Buffer)];
  Buffer* buffer = nullptr;
  BufferHolder() = default;
  BufferHolder(const BufferHolder&) = delete;
  BufferHolder& operator=(const BufferHolder&) = delete;
  ~BufferHolder() {
    if (buffer) buffer->~Buffer();
  }
};

}  // namespace

std::shared_ptr<Buffer> Buffer::allocate(size_t bytes) {
  auto holder = std::make_shared<BufferHolder>();
  size_t capacity = 0;
  size_t cls = class_of(bytes, &capacity);
  void* p = nullptr;
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto& list = c.free_lists[cls];
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
      c.stats.cached_bytes -= static_cast<int64_t>(capacity);
    } else {
      ++c.stats.system_allocations;
    }
    ++c.stats.allocations;
    c.stats.live_bytes += static_cast<int64_t>(capacity);
    if (c.stats.live_bytes > c.stats.peak_bytes) c.stats.peak_bytes = c.stats.live_bytes;
  }
  if (p == nullptr) {
    p = std::aligned_alloc(kAlign, capacity);
    if (p == nullptr) {
      std::lock_guard<std::mutex> lock(c.mu);
      c.stats.live_bytes -= static_cast<int64_t>(capacity);
      throw std::bad_alloc();
    }
  } else {
    XF_UNPOISON(p, capacity);
  }
  Buffer* b = new (holder->storage) Buffer;
  holder->buffer = b;
  b->data_ = p;
  b->bytes_ = bytes;
  b->capacity_ = capacity;
  return std::shared_ptr<Buffer>(std::move(holder), b);
}

std::shared_ptr<Buffer> Buffer::adopt(void* data, size_t bytes, std::shared_ptr<void> owner) {
  auto holder = std::make_shared<BufferHolder>();
  Buffer* b = new (holder->storage) Buffer;
  holder->buffer = b;
  b->data_ = data;
  b->bytes_ = bytes;
  b->owner_ = std::move(owner);
  return std::shared_ptr<Buffer>(std::move(holder), b);
}

Buffer::~Buffer() {
  if (capacity_ == 0) return;  // adopted memory: the owner frees it
  size_t capacity = 0;
  size_t cls = class_of(bytes_, &capacity);
  Cache& c = cache();
  bool keep;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.live_bytes -= static_cast<int64_t>(capacity_);
    keep = c.stats.cached_bytes + static_cast<int64_t>(capacity_) <= static_cast<int64_t>(kCacheLimit);
    if (keep) {
      XF_POISON(data_, capacity_);
      c.free_lists[cls].push_back(data_);
      c.stats.cached_bytes += static_cast<int64_t>(capacity_);
    }
  }
  if (!keep) std::free(data_);
}

AllocatorStats allocator_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.stats;
}

void reset_peak_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.peak_bytes = c.stats.live_bytes;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (size_t cls = 0; cls < kNumClasses; ++cls) {
    size_t capacity = cls < kSmallClasses ? (cls + 1) * kAlign : kSmallLimit << (cls + 1 - kSmallClasses);
    for (void* p : c.free_lists[cls]) {
      XF_UNPOISON(p, capacity);
      std::free(p);
    }
    c.free_lists[cls].clear();
  }
  c.stats.cached_bytes = 0;
}

}  // namespace xf
