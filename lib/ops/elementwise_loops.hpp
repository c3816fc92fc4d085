// Internal: the loops that run an elementwise functor's batch function over contiguous runs.
// Eager kernels (elementwise.cpp) and fused kernels (lib/exec/fusion.cpp) both call these, so every
// element goes through the same batch function either way: fused replay is bitwise equal to eager.
#pragma once
#include <cstdint>
#include <cstring>

#include "ops/elementwise_fns.hpp"

namespace xf::ew {

// y[i] = Fn(x[i]) for i < n. A tail shorter than a batch runs as one zero-padded batch.
template <class Fn, class T>
inline void unary_batches(const T* x, T* y, int64_t n) {
  using B = ew::Batch<T>;
  constexpr int64_t N = static_cast<int64_t>(B::size);
  int64_t i = 0;
  for (; i + N <= n; i += N) Fn::batch(B::load_unaligned(x + i)).store_unaligned(y + i);
  if (i < n) {
    alignas(64) T tmp[N] = {};
    std::memcpy(tmp, x + i, static_cast<size_t>(n - i) * sizeof(T));
    Fn::batch(B::load_aligned(tmp)).store_aligned(tmp);
    std::memcpy(y + i, tmp, static_cast<size_t>(n - i) * sizeof(T));
  }
}

// y[i] = Fn(a[i * sa], b[i * sb]) for i < n, with sa and sb 0 (broadcast) or 1.
template <class Fn, class T>
inline void binary_batches(const T* a, int64_t sa, const T* b, int64_t sb, T* y, int64_t n) {
  using B = ew::Batch<T>;
  constexpr int64_t N = static_cast<int64_t>(B::size);
  int64_t i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + N <= n; i += N) Fn::batch(B::load_unaligned(a + i), B::load_unaligned(b + i)).store_unaligned(y + i);
  } else if (sa == 1) {
    B vb(b[0]);
    for (; i + N <= n; i += N) Fn::batch(B::load_unaligned(a + i), vb).store_unaligned(y + i);
  } else if (sb == 1) {
    B va(a[0]);
    for (; i + N <= n; i += N) Fn::batch(va, B::load_unaligned(b + i)).store_unaligned(y + i);
  } else {
    B r = Fn::batch(B(a[0]), B(b[0]));
    alignas(64) T tmp[N];
    r.store_aligned(tmp);
    for (; i < n; ++i) y[i] = tmp[0];
    return;
  }
  if (i < n) {
    alignas(64) T ta[N] = {}, tb[N] = {};
    for (int64_t j = i; j < n; ++j) {
      ta[j - i] = a[j * sa];
      tb[j - i] = b[j * sb];
    }
    Fn::batch(B::load_aligned(ta), B::load_aligned(tb)).store_aligned(ta);
    std::memcpy(y + i, ta, static_cast<size_t>(n - i) * sizeof(T));
  }
}

}  // namespace xf::ew
