// Internal: splitting large kernels across cores (oneTBB), in fixed chunks so that results never
// depend on the thread count.
#pragma once
#include <cstdint>
#include <functional>

namespace xf::detail {

// Elements per chunk for elementwise kernels: a multiple of every SIMD batch size.
inline constexpr int64_t kChunk = 1 << 15;

// Calls f(begin, end) over [0, n) in chunks of `chunk` (the last may be shorter), in parallel when
// there are at least two chunks and more than one thread is allowed.
void parallel_for(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& f);

}  // namespace xf::detail
