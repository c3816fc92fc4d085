// Kernels of the reductions. The input is viewed as (outer, reduced) or (reduced, outer) after
// merging axes; other axis patterns are transposed into (outer, reduced) first. A long reduced
// run is cut into fixed blocks whose partial results are combined in order, so the result does
// not depend on how many threads ran the blocks.
#include <algorithm>
#include <limits>

#include "core/dispatch.hpp"
#include "core/parallel.hpp"
#include "core/tensor_impl.hpp"
#include "ops/elementwise_fns.hpp"
#include "ops/prims.hpp"
#include "ops/reduce_kernels.hpp"

namespace xf {
namespace {

using detail::visit_dtype;

constexpr int64_t kBlock = 1 << 14;

enum class RKind { sum, prod, max, min, all, any };

Shape reduced_shape(const Shape& in, const std::vector<int64_t>& axes, bool keepdims) {
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    bool red = std::find(axes.begin(), axes.end(), static_cast<int64_t>(i)) != axes.end();
    if (!red) out.push_back(in[i]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

Specs reduce_infer(RKind kind, const ReduceAttrs& a, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  const Shape& s = in[0].shape;
  int64_t prev = -1;
  int64_t count = 1;
  for (int64_t ax : a.axes) {
    if (ax < 0 || ax >= static_cast<int64_t>(s.size()) || ax <= prev)
      infer_fail(ErrorCode::axis, "axes must be sorted, distinct and in [0, rank): " + specs_str(in));
    prev = ax;
    count *= s[ax];
  }
  if ((kind == RKind::max || kind == RKind::min) && count == 0 && numel(s) == 0)
    infer_fail(ErrorCode::invalid_argument, "zero-size reduction has no identity: " + specs_str(in));
  if ((kind == RKind::sum || kind == RKind::prod) && in[0].dtype == DType::bool_)
    infer_fail(ErrorCode::dtype, "needs a numeric dtype (the public op casts bool): " + specs_str(in));
  DType out = (kind == RKind::all || kind == RKind::any) ? DType::bool_ : in[0].dtype;
  return {TensorSpec{out, reduced_shape(s, a.axes, a.keepdims)}};
}

// The reduction as (outer, red) [inner = true] or (red, outer) [inner = false] over a contiguous
// tensor.
struct Layout {
  Tensor data;
  int64_t outer = 1, red = 1;
  bool inner = true;
};

}  // namespace

ReduceView reduce_view(const Shape& s, const std::vector<int64_t>& axes) {
  std::vector<bool> red(s.size(), false);
  for (int64_t a : axes) red[static_cast<size_t>(a)] = true;
  // Groups of consecutive axes with the same role, skipping size-1 axes.
  std::vector<std::pair<bool, int64_t>> groups;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 1) continue;
    if (!groups.empty() && groups.back().first == red[i]) groups.back().second *= s[i];
    else groups.push_back({red[i], s[i]});
  }
  if (groups.empty()) return ReduceView{1, 1, true, true};
  if (groups.size() == 1) {
    if (groups[0].first) return ReduceView{1, groups[0].second, true, true};
    return ReduceView{groups[0].second, 1, true, true};
  }
  if (groups.size() == 2) {
    if (!groups[0].first) return ReduceView{groups[0].second, groups[1].second, true, true};
    return ReduceView{groups[1].second, groups[0].second, false, true};
  }
  ReduceView v;
  v.direct = false;
  v.outer = 1;
  v.red = 1;
  for (size_t i = 0; i < s.size(); ++i) (red[i] ? v.red : v.outer) *= s[i];
  return v;
}

namespace {

Layout layout_for(const Tensor& x0, const std::vector<int64_t>& axes) {
  Tensor x = x0.contiguous();
  const Shape& s = x.shape();
  ReduceView view = reduce_view(s, axes);
  if (view.direct) return Layout{x, view.outer, view.red, view.inner};
  std::vector<bool> red(s.size(), false);
  for (int64_t a : axes) red[static_cast<size_t>(a)] = true;
  // Move reduced axes last and copy.
  std::vector<int64_t> perm;
  int64_t outer = 1, rn = 1;
  for (size_t i = 0; i < s.size(); ++i)
    if (!red[i]) { perm.push_back(static_cast<int64_t>(i)); outer *= s[i]; }
  for (size_t i = 0; i < s.size(); ++i)
    if (red[i]) { perm.push_back(static_cast<int64_t>(i)); rn *= s[i]; }
  Shape ps;
  Strides pst;
  for (int64_t p : perm) {
    ps.push_back(s[p]);
    pst.push_back(x.strides()[p]);
  }
  Tensor t = Tensor::view(x.buffer(), x.dtype(), ps, pst, x.offset()).contiguous();
  return Layout{t, outer, rn, true};
}

// ---- combining functions ----
template <RKind K, class T> T identity() {
  if constexpr (K == RKind::sum) return T(0);
  else if constexpr (K == RKind::prod) return T(1);
  else if constexpr (K == RKind::max) return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  else return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
}
template <RKind K, class T> T combine(T a, T b) {
  if constexpr (K == RKind::sum) {
    if constexpr (std::is_floating_point_v<T>) return a + b;
    else return ew::AddFn::scalar(a, b);
  } else if constexpr (K == RKind::prod) {
    if constexpr (std::is_floating_point_v<T>) return a * b;
    else return ew::MulFn::scalar(a, b);
  }
  else if constexpr (K == RKind::max) return (a >= b || a != a) ? a : b;
  else return (a <= b || a != a) ? a : b;
}
template <RKind K, class B> B combine_batch(const B& a, const B& b) {
  if constexpr (K == RKind::sum) return a + b;
  else if constexpr (K == RKind::prod) return a * b;
  else if constexpr (K == RKind::max) return ew::MaximumFn::batch(a, b);
  else return ew::MinimumFn::batch(a, b);
}

// One block of a contiguous run, in a fixed order: four batch accumulators, their lanes, then
// the tail.
template <RKind K, class T>
T reduce_block(const T* x, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    using B = ew::Batch<T>;
    constexpr int64_t N = static_cast<int64_t>(B::size);
    B acc[4] = {B(identity<K, T>()), B(identity<K, T>()), B(identity<K, T>()), B(identity<K, T>())};
    int64_t i = 0;
    for (; i + 4 * N <= n; i += 4 * N)
      for (int j = 0; j < 4; ++j) acc[j] = combine_batch<K>(acc[j], B::load_unaligned(x + i + j * N));
    B a = combine_batch<K>(combine_batch<K>(acc[0], acc[1]), combine_batch<K>(acc[2], acc[3]));
    alignas(64) T lanes[N];
    a.store_aligned(lanes);
    T r = lanes[0];
    for (int64_t j = 1; j < N; ++j) r = combine<K>(r, lanes[j]);
    for (; i < n; ++i) r = combine<K>(r, x[i]);
    return r;
  } else {
    T r = identity<K, T>();
    for (int64_t i = 0; i < n; ++i) r = combine<K>(r, x[i]);
    return r;
  }
}

template <RKind K, class T>
T reduce_run(const T* x, int64_t n, bool parallel) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  if (blocks <= 1) return reduce_block<K>(x, n);
  std::vector<T> partial(static_cast<size_t>(blocks));
  auto work = [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) partial[k] = reduce_block<K>(x + k * kBlock, std::min(kBlock, n - k * kBlock));
  };
  if (parallel) detail::parallel_for(blocks, 1, work);
  else work(0, blocks);
  T r = partial[0];
  for (int64_t k = 1; k < blocks; ++k) r = combine<K>(r, partial[k]);
  return r;
}

// Columns [j, j + NB * N) of a (red, outer) reduction with the accumulators in registers: each
// column combines the identity and rows 0, 1, ..., red - 1 in order, as the row-by-row loop does
// (from the identity, as a contiguous run is reduced and as NumPy does: a sum of -0s is +0).
template <RKind K, class T, int NB>
void column_group(const T* x, int64_t outer, int64_t red, int64_t j, T* y) {
  using B = ew::Batch<T>;
  constexpr int64_t N = static_cast<int64_t>(B::size);
  B acc[NB];
  for (int q = 0; q < NB; ++q) acc[q] = combine_batch<K>(B(identity<K, T>()), B::load_unaligned(x + j + q * N));
  for (int64_t r = 1; r < red; ++r) {
    const T* row = x + r * outer + j;
    for (int q = 0; q < NB; ++q) acc[q] = combine_batch<K>(acc[q], B::load_unaligned(row + q * N));
  }
  for (int q = 0; q < NB; ++q) acc[q].store_unaligned(y + j + q * N);
}

// Columns [b, e) of a (red, outer) reduction: batches of columns as the row-by-row loop splits
// them (from b in steps of N), four at a time in registers, then the tail columns one by one.
// The same combines in the same order per column, so the same bits, without the store and reload
// of every accumulator per row that the row-by-row loop pays (a bias gradient: thousands of rows
// of 10 to 32 columns; decision 181).
template <RKind K, class T>
void column_groups(const T* x, int64_t outer, int64_t red, int64_t b, int64_t e, T* y) {
  constexpr int64_t N = static_cast<int64_t>(ew::Batch<T>::size);
  int64_t j = b;
  for (; j + 4 * N <= e; j += 4 * N) column_group<K, T, 4>(x, outer, red, j, y);
  switch ((e - j) / N) {
    case 3: column_group<K, T, 3>(x, outer, red, j, y); j += 3 * N; break;
    case 2: column_group<K, T, 2>(x, outer, red, j, y); j += 2 * N; break;
    case 1: column_group<K, T, 1>(x, outer, red, j, y); j += N; break;
    default: break;
  }
  if (j == e) return;
  for (int64_t c = j; c < e; ++c) y[c] = combine<K>(identity<K, T>(), x[c]);
  for (int64_t r = 1; r < red; ++r)
    for (int64_t c = j; c < e; ++c) y[c] = combine<K>(y[c], x[r * outer + c]);
}

// Rows of contiguous runs: the one loop both reduce_eval and fused groups run for floats (through
// reduce_runs), kept out of line so that both execute the same code (decision 182).
template <RKind K, class T>
[[gnu::noinline]] void float_runs(const T* x, int64_t rows, int64_t red, T* y, bool whole) {
  if (whole) {
    y[0] = reduce_run<K>(x, red, true);
    return;
  }
  for (int64_t o = 0; o < rows; ++o) y[o] = reduce_run<K>(x + o * red, red, false);
}

// Up to this many columns per task go through column_groups (each group of 4 batches reads its
// strip of every row; beyond this the row-by-row loop streams the rows once).
constexpr int64_t kRegisterColumns = 256;

template <RKind K>
void reduce_eval(const ReduceAttrs& a, const Tensors& in, Tensors& out) {
  Layout l = layout_for(in[0], a.axes);
  visit_dtype(l.data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = l.data.data<T>();
    T* y = out[0].data<T>();
    if (l.red == 0) {
      for (int64_t o = 0; o < l.outer; ++o) y[o] = identity<K, T>();
      return;
    }
    if (l.inner) {
      if constexpr (std::is_floating_point_v<T>) {
        if (l.outer == 1) return float_runs<K>(x, 1, l.red, y, true);
        int64_t per_task = std::max<int64_t>(1, detail::kChunk / l.red);
        detail::parallel_for(l.outer, per_task,
                             [&](int64_t b, int64_t e) { float_runs<K>(x + b * l.red, e - b, l.red, y + b, false); });
        return;
      }
      if (l.outer == 1) {
        y[0] = reduce_run<K>(x, l.red, true);
      } else {
        int64_t per_task = std::max<int64_t>(1, detail::kChunk / l.red);
        detail::parallel_for(l.outer, per_task, [&](int64_t b, int64_t e) {
          for (int64_t o = b; o < e; ++o) y[o] = reduce_run<K>(x + o * l.red, l.red, false);
        });
      }
    } else {
      // (red, outer): accumulate rows in order, vectorised over the outer axis.
      int64_t per_task = std::max<int64_t>(64, detail::kChunk / std::max<int64_t>(l.red, 1));
      detail::parallel_for(l.outer, per_task, [&](int64_t b, int64_t e) {
        if constexpr (std::is_floating_point_v<T>) {
          if (e - b <= kRegisterColumns) return column_groups<K>(x, l.outer, l.red, b, e, y);
        }
        for (int64_t j = b; j < e; ++j) y[j] = combine<K>(identity<K, T>(), x[j]);
        for (int64_t r = 1; r < l.red; ++r) {
          const T* row = x + r * l.outer;
          if constexpr (std::is_floating_point_v<T>) {
            using B = ew::Batch<T>;
            constexpr int64_t N = static_cast<int64_t>(B::size);
            int64_t j = b;
            for (; j + N <= e; j += N)
              combine_batch<K>(B::load_unaligned(y + j), B::load_unaligned(row + j)).store_unaligned(y + j);
            for (; j < e; ++j) y[j] = combine<K>(y[j], row[j]);
          } else {
            for (int64_t j = b; j < e; ++j) y[j] = combine<K>(y[j], row[j]);
          }
        }
      });
    }
  });
}

template <bool Any>
void bool_reduce_eval(const ReduceAttrs& a, const Tensors& in, Tensors& out) {
  Layout l = layout_for(in[0], a.axes);
  uint8_t* y = out[0].data<uint8_t>();
  visit_dtype(l.data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = l.data.data<T>();
    for (int64_t o = 0; o < l.outer; ++o) y[o] = Any ? 0 : 1;
    for (int64_t o = 0; o < l.outer; ++o)
      for (int64_t r = 0; r < l.red; ++r) {
        bool v = (l.inner ? x[o * l.red + r] : x[r * l.outer + o]) != T(0);
        if (v == Any) {
          y[o] = Any ? 1 : 0;
          break;
        }
      }
  });
}

Specs arg_infer(const ArgAttrs& a, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  const Shape& s = in[0].shape;
  if (a.axis < 0 || a.axis >= static_cast<int64_t>(s.size()))
    infer_fail(ErrorCode::axis, "axis " + std::to_string(a.axis) + " out of range: " + specs_str(in));
  if (s[a.axis] == 0) infer_fail(ErrorCode::invalid_argument, "attempt to get an arg extremum of an empty axis: " + specs_str(in));
  return {TensorSpec{DType::int64, reduced_shape(s, {a.axis}, a.keepdims)}};
}

template <bool Max>
void arg_eval(const ArgAttrs& a, const Tensors& in, Tensors& out) {
  Layout l = layout_for(in[0], {a.axis});
  int64_t* y = out[0].data<int64_t>();
  visit_dtype(l.data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = l.data.data<T>();
    for (int64_t o = 0; o < l.outer; ++o) {
      auto at = [&](int64_t r) { return l.inner ? x[o * l.red + r] : x[r * l.outer + o]; };
      int64_t best = 0;
      T bv = at(0);
      if (bv == bv) {  // NaN at 0 wins at once
        for (int64_t r = 1; r < l.red; ++r) {
          T v = at(r);
          if (v != v) {
            best = r;
            break;
          }
          if (Max ? v > bv : v < bv) {
            bv = v;
            best = r;
          }
        }
      }
      y[o] = best;
    }
  });
}

}  // namespace

Specs ReduceSum::infer(const Attrs& a, const Specs& in) { return reduce_infer(RKind::sum, a, in); }
void ReduceSum::eval(const Attrs& a, const Tensors& in, Tensors& out) { reduce_eval<RKind::sum>(a, in, out); }
Specs ReduceProd::infer(const Attrs& a, const Specs& in) { return reduce_infer(RKind::prod, a, in); }
void ReduceProd::eval(const Attrs& a, const Tensors& in, Tensors& out) { reduce_eval<RKind::prod>(a, in, out); }
Specs ReduceMax::infer(const Attrs& a, const Specs& in) { return reduce_infer(RKind::max, a, in); }
void ReduceMax::eval(const Attrs& a, const Tensors& in, Tensors& out) { reduce_eval<RKind::max>(a, in, out); }
Specs ReduceMin::infer(const Attrs& a, const Specs& in) { return reduce_infer(RKind::min, a, in); }
void ReduceMin::eval(const Attrs& a, const Tensors& in, Tensors& out) { reduce_eval<RKind::min>(a, in, out); }
Specs ReduceAll::infer(const Attrs& a, const Specs& in) { return reduce_infer(RKind::all, a, in); }
void ReduceAll::eval(const Attrs& a, const Tensors& in, Tensors& out) { bool_reduce_eval<false>(a, in, out); }
Specs ReduceAny::infer(const Attrs& a, const Specs& in) { return reduce_infer(RKind::any, a, in); }
void ReduceAny::eval(const Attrs& a, const Tensors& in, Tensors& out) { bool_reduce_eval<true>(a, in, out); }
Specs ArgMax::infer(const Attrs& a, const Specs& in) { return arg_infer(a, in); }
void ArgMax::eval(const Attrs& a, const Tensors& in, Tensors& out) { arg_eval<true>(a, in, out); }
Specs ArgMin::infer(const Attrs& a, const Specs& in) { return arg_infer(a, in); }
void ArgMin::eval(const Attrs& a, const Tensors& in, Tensors& out) { arg_eval<false>(a, in, out); }

bool is_float_reduction(Prim p) {
  return p == Prim::reduce_sum || p == Prim::reduce_prod || p == Prim::reduce_max || p == Prim::reduce_min;
}

void reduce_runs(Prim p, DType d, const void* x, int64_t rows, int64_t red, void* y, bool whole) {
  auto go = [&](auto kind) {
    constexpr RKind K = decltype(kind)::value;
    if (d == DType::float32) float_runs<K>(static_cast<const float*>(x), rows, red, static_cast<float*>(y), whole);
    else if (d == DType::float64) float_runs<K>(static_cast<const double*>(x), rows, red, static_cast<double*>(y), whole);
    else throw Internal(std::string("[reduce] reduce_runs on ") + dtype_name(d));
  };
  switch (p) {
    case Prim::reduce_sum: return go(std::integral_constant<RKind, RKind::sum>{});
    case Prim::reduce_prod: return go(std::integral_constant<RKind, RKind::prod>{});
    case Prim::reduce_max: return go(std::integral_constant<RKind, RKind::max>{});
    case Prim::reduce_min: return go(std::integral_constant<RKind, RKind::min>{});
    default: throw Internal(std::string("[reduce] reduce_runs on ") + op_def(p).name);
  }
}

}  // namespace xf
