// Internal: splitting large kernels across cores (oneTBB), in fixed chunks so that results never
// depend on the thread count.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>

namespace xf::detail {

// Elements per chunk for elementwise kernels: a multiple of every SIMD batch size.
inline constexpr int64_t kChunk = 1 << 15;

// Calls f(begin, end) over [0, n) in chunks of `chunk` (the last may be shorter), in parallel when
// there are at least two chunks and more than one thread is allowed.
void parallel_for_chunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& f);
template <class F>
void parallel_for(int64_t n, int64_t chunk, F&& f) {
  if (n <= 0) return;
  if (n <= chunk) {
    f(int64_t{0}, n);  // one chunk: no std::function, no scheduler
    return;
  }
  parallel_for_chunks(n, chunk, std::function<void(int64_t, int64_t)>(std::forward<F>(f)));
}

}  // namespace xf::detail
