// The sort and scan family: the kernels of cumsum, cumprod, sort, topk, searchsorted,
// take_along_axis and scatter_add_along_axis, and the public ops of the family (the composites
// isclose, flip, roll, repeat, and the host ops unique and where(cond), whose output shapes
// depend on the values). Gradients are in gradients.cpp; semantics in docs/ops.md.
//
// Every kernel works lane by lane: a tensor is seen as (outer, n, inner) around the axis, and
// each of the outer * inner lanes of n elements is processed alone, in a fixed order, so results
// do not depend on how many threads ran the lanes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "core/dispatch.hpp"
#include "core/observer.hpp"
#include "core/parallel.hpp"
#include "ops/prims.hpp"
#include "xflow/ops.hpp"

namespace xf {
namespace {

using detail::visit_dtype;

struct Lanes {
  int64_t outer = 1, n = 1, inner = 1;
};
Lanes lanes_of(const Shape& s, int64_t axis) {
  Lanes l;
  for (int64_t i = 0; i < axis; ++i) l.outer *= s[i];
  l.n = s[axis];
  for (size_t i = axis + 1; i < s.size(); ++i) l.inner *= s[i];
  return l;
}

// Lanes per parallel task: about kChunk elements of work each.
int64_t lanes_per_task(int64_t n) { return std::max<int64_t>(1, detail::kChunk / std::max<int64_t>(n, 1)); }

void check_axis(const Specs& in, int64_t axis, const char* const* names = nullptr) {
  int64_t r = static_cast<int64_t>(in[0].shape.size());
  if (axis < 0 || axis >= r)
    infer_fail(ErrorCode::axis, "axis " + std::to_string(axis) + " out of range: " + specs_str(in, names));
}

// NaN-aware orders: NaN counts as the largest value (NumPy sorts it last).
template <class T> bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return v != v;
  else return false;
}
template <class T> bool nan_less(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return (a < b) || (b != b && a == a);
  else return a < b;
}

// Integer arithmetic wraps (computed in the unsigned type: no UB), as NumPy's.
template <class T> T wrap_add(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a + b;
  else {
    using U = std::make_unsigned_t<std::conditional_t<sizeof(T) < 4, uint32_t, T>>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  }
}
template <class T> T wrap_mul(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a * b;
  else {
    using U = std::make_unsigned_t<std::conditional_t<sizeof(T) < 4, uint32_t, T>>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  }
}

// ---- cumsum, cumprod ----

Specs scan_infer(const ScanAttrs& a, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  check_axis(in, a.axis);
  if (in[0].dtype == DType::bool_)
    infer_fail(ErrorCode::dtype, "needs a numeric dtype (the public op casts bool): " + specs_str(in));
  return {in[0]};
}

// Row i of a lane accumulates row i - 1 (i + 1 when reversed): each lane runs in order, vectorised
// over the inner axis.
template <bool Prod>
void scan_eval(const ScanAttrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  Lanes l = lanes_of(x.shape(), a.axis);
  if (l.n == 0) return;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* py = out[0].data<T>();
    const T identity = Prod ? T(1) : T(0);
    const int64_t n = l.n, inner = l.inner;
    detail::parallel_for(l.outer, lanes_per_task(n * inner), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* xo = px + o * n * inner;
        T* yo = py + o * n * inner;
        if (inner == 1) {  // a contiguous lane: one running value (the same order as below)
          T acc = identity;
          for (int64_t step = 0; step < n; ++step) {
            int64_t i = a.reverse ? n - 1 - step : step;
            T next = Prod ? wrap_mul(acc, xo[i]) : wrap_add(acc, xo[i]);
            yo[i] = a.exclusive ? acc : next;
            acc = next;
          }
          continue;
        }
        for (int64_t step = 0; step < n; ++step) {
          int64_t i = a.reverse ? n - 1 - step : step;
          int64_t prev = a.reverse ? i + 1 : i - 1;
          T* yr = yo + i * inner;
          if (step == 0) {
            const T* xr = xo + i * inner;
            for (int64_t j = 0; j < inner; ++j) yr[j] = a.exclusive ? identity : xr[j];
            continue;
          }
          const T* yp = yo + prev * inner;
          // Exclusive: y[i] = y[prev] op x[prev]; inclusive: y[i] = y[prev] op x[i].
          const T* xr = xo + (a.exclusive ? prev : i) * inner;
          for (int64_t j = 0; j < inner; ++j) yr[j] = Prod ? wrap_mul(yp[j], xr[j]) : wrap_add(yp[j], xr[j]);
        }
      }
    });
  });
}

// ---- sort ----

Specs sort_infer(const SortAttrs& a, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  check_axis(in, a.axis);
  return {in[0], TensorSpec{DType::int64, in[0].shape}};
}

template <class T> struct Keyed {
  T v;
  int64_t i;
};
// Orders by value (NaN the largest), ties by the lower index: std::sort with it is a stable sort.
template <class T> bool before_asc(const Keyed<T>& a, const Keyed<T>& b) {
  if (nan_less(a.v, b.v)) return true;
  if (nan_less(b.v, a.v)) return false;
  return a.i < b.i;
}
template <class T> bool before_desc(const Keyed<T>& a, const Keyed<T>& b) {
  if (nan_less(b.v, a.v)) return true;
  if (nan_less(a.v, b.v)) return false;
  return a.i < b.i;
}

void sort_eval(const SortAttrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  Lanes l = lanes_of(x.shape(), a.axis);
  if (l.n == 0) return;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* pv = out[0].data<T>();
    int64_t* pi = out[1].data<int64_t>();
    const int64_t n = l.n, inner = l.inner;
    detail::parallel_for(l.outer * inner, lanes_per_task(n * 4), [&](int64_t b, int64_t e) {
      std::vector<Keyed<T>> buf(static_cast<size_t>(n));
      for (int64_t lane = b; lane < e; ++lane) {
        int64_t base = (lane / inner) * n * inner + lane % inner;
        for (int64_t i = 0; i < n; ++i) buf[i] = Keyed<T>{px[base + i * inner], i};
        if (a.descending) std::sort(buf.begin(), buf.end(), before_desc<T>);
        else std::sort(buf.begin(), buf.end(), before_asc<T>);
        for (int64_t i = 0; i < n; ++i) {
          pv[base + i * inner] = buf[i].v;
          pi[base + i * inner] = buf[i].i;
        }
      }
    });
  });
}

// ---- topk ----

Specs topk_infer(const TopKAttrs& a, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  const Shape& s = in[0].shape;
  if (s.empty()) infer_fail(ErrorCode::invalid_argument, "input must have at least one axis: " + specs_str(in));
  if (a.k < 0) infer_fail(ErrorCode::invalid_argument, "k must be >= 0, got " + std::to_string(a.k) + ": " + specs_str(in));
  if (a.k > s.back())
    infer_fail(ErrorCode::invalid_argument, "k = " + std::to_string(a.k) + " is larger than the last axis (" +
                                                std::to_string(s.back()) + "): " + specs_str(in));
  Shape o = s;
  o.back() = a.k;
  return {TensorSpec{in[0].dtype, o}, TensorSpec{DType::int64, o}};
}

void topk_eval(const TopKAttrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  const int64_t n = x.shape().back(), k = a.k;
  const int64_t rows = n == 0 ? 0 : x.size() / n;
  if (k == 0) return;
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* pv = out[0].data<T>();
    int64_t* pi = out[1].data<int64_t>();
    detail::parallel_for(rows, lanes_per_task(n * 2), [&](int64_t b, int64_t e) {
      std::vector<Keyed<T>> buf;
      buf.reserve(static_cast<size_t>(k));
      for (int64_t r = b; r < e; ++r) {
        const T* row = px + r * n;
        // A heap of the best k so far whose front is the worst of them: most elements are
        // rejected by one comparison with it. Later indices lose ties, as they should.
        buf.clear();
        for (int64_t i = 0; i < n; ++i) {
          Keyed<T> c{row[i], i};
          if (static_cast<int64_t>(buf.size()) < k) {
            buf.push_back(c);
            std::push_heap(buf.begin(), buf.end(), before_desc<T>);
          } else if (!(c.v < buf.front().v) && before_desc(c, buf.front())) {  // a smaller value loses at once
            std::pop_heap(buf.begin(), buf.end(), before_desc<T>);
            buf.back() = c;
            std::push_heap(buf.begin(), buf.end(), before_desc<T>);
          }
        }
        std::sort_heap(buf.begin(), buf.end(), before_desc<T>);
        if (!a.sorted) std::sort(buf.begin(), buf.begin() + k, [](const Keyed<T>& p, const Keyed<T>& q) { return p.i < q.i; });
        for (int64_t i = 0; i < k; ++i) {
          pv[r * k + i] = buf[i].v;
          pi[r * k + i] = buf[i].i;
        }
      }
    });
  });
}

// ---- searchsorted ----

const char* const kSearchNames[] = {"sorted_seq", "values"};

Specs search_infer(const SearchAttrs& a, const Specs& in) {
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects sorted_seq and values");
  if (a.side != "left" && a.side != "right")
    infer_fail(ErrorCode::invalid_argument, "side must be \"left\" or \"right\", got \"" + a.side + "\"");
  const Shape &s = in[0].shape, &v = in[1].shape;
  if (in[0].dtype != in[1].dtype)
    infer_fail(ErrorCode::dtype, "sorted_seq and values need one dtype (the public op promotes): " +
                                     specs_str(in, kSearchNames));
  if (s.empty()) infer_fail(ErrorCode::shape, "sorted_seq must have at least one axis: " + specs_str(in, kSearchNames));
  if (s.size() > 1) {
    // TensorFlow's batched form: one sorted row per row of values.
    bool ok = v.size() == s.size() && std::equal(s.begin(), s.end() - 1, v.begin());
    if (!ok)
      infer_fail(ErrorCode::shape, "a batched sorted_seq (..., n) needs values (..., m) with the same leading axes: " +
                                       specs_str(in, kSearchNames));
  }
  return {TensorSpec{DType::int64, v}};
}

void search_eval(const SearchAttrs& a, const Tensors& in, Tensors& out) {
  Tensor s = in[0].contiguous();
  Tensor v = in[1].contiguous();
  const bool right = a.side == "right";
  const int64_t n = s.shape().back();
  const bool batched = s.rank() > 1;
  const int64_t m = batched ? v.shape().back() : v.size();
  const int64_t total = v.size();
  if (total == 0) return;
  visit_dtype(s.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* ps = s.data<T>();
    const T* pv = v.data<T>();
    int64_t* py = out[0].data<int64_t>();
    detail::parallel_for(total, detail::kChunk / 8, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        const T* row = ps + (batched && m > 0 ? (t / m) * n : 0);
        const T* pos = right ? std::upper_bound(row, row + n, pv[t], nan_less<T>)
                             : std::lower_bound(row, row + n, pv[t], nan_less<T>);
        py[t] = pos - row;
      }
    });
  });
}

// ---- take_along_axis, scatter_add_along_axis ----

const char* const kTakeNames[] = {"x", "indices"};
const char* const kScatterNames[] = {"updates", "indices"};

bool index_dtype(DType d) { return d == DType::int32 || d == DType::int64; }

// Reads the indices as int64 in [0, size), or throws OutOfRange (negative ones count from the end).
std::vector<int64_t> read_indices(const Tensor& idx, int64_t size, const Specs& specs, const char* const* names) {
  std::vector<int64_t> out(static_cast<size_t>(idx.size()));
  Tensor c = idx.contiguous();
  visit_dtype(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c.data<T>();
    for (size_t i = 0; i < out.size(); ++i) {
      int64_t v = static_cast<int64_t>(p[i]);
      if (v < -size || v >= size)
        throw OutOfRange("index " + std::to_string(v) + " is out of range for an axis of size " + std::to_string(size) +
                         ": " + specs_str(specs, names));
      out[i] = v < 0 ? v + size : v;
    }
  });
  return out;
}

Specs take_infer(const AxisAttrs& a, const Specs& in) {
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects x and indices");
  check_axis(in, a.axis, kTakeNames);
  if (!index_dtype(in[1].dtype)) infer_fail(ErrorCode::dtype, "indices must be int32 or int64: " + specs_str(in, kTakeNames));
  const Shape &s = in[0].shape, &is = in[1].shape;
  bool ok = is.size() == s.size();
  for (size_t i = 0; ok && i < s.size(); ++i) ok = static_cast<int64_t>(i) == a.axis || s[i] == is[i];
  if (!ok)
    infer_fail(ErrorCode::shape, "indices need x's rank and x's size on every axis but " + std::to_string(a.axis) +
                                     ": " + specs_str(in, kTakeNames));
  if (s[a.axis] == 0 && numel(is) > 0)
    infer_fail(ErrorCode::out_of_range, "cannot take from an empty axis: " + specs_str(in, kTakeNames));
  return {TensorSpec{in[0].dtype, is}};
}

void take_eval(const AxisAttrs& a, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  Specs specs{{x.dtype(), x.shape()}, {in[1].dtype(), in[1].shape()}};
  Lanes lx = lanes_of(x.shape(), a.axis);
  Lanes li = lanes_of(in[1].shape(), a.axis);
  std::vector<int64_t> idx = read_indices(in[1], lx.n, specs, kTakeNames);
  detail::visit_size(static_cast<int>(dtype_size(x.dtype())), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(out[0].raw_data());
    for (int64_t o = 0; o < li.outer; ++o)
      for (int64_t i = 0; i < li.n; ++i)
        for (int64_t j = 0; j < li.inner; ++j) {
          int64_t t = (o * li.n + i) * li.inner + j;
          py[t] = px[(o * lx.n + idx[t]) * lx.inner + j];
        }
  });
}

Specs scatter_infer(const ScatterAttrs& a, const Specs& in) {
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects updates and indices");
  check_axis(in, a.axis, kScatterNames);
  if (!index_dtype(in[1].dtype))
    infer_fail(ErrorCode::dtype, "indices must be int32 or int64: " + specs_str(in, kScatterNames));
  if (in[0].dtype == DType::bool_)
    infer_fail(ErrorCode::dtype, "needs numeric updates: " + specs_str(in, kScatterNames));
  if (in[0].shape != in[1].shape)
    infer_fail(ErrorCode::shape, "updates and indices need one shape: " + specs_str(in, kScatterNames));
  if (a.size < 0) infer_fail(ErrorCode::invalid_argument, "size must be >= 0, got " + std::to_string(a.size));
  Shape o = in[0].shape;
  o[a.axis] = a.size;
  return {TensorSpec{in[0].dtype, o}};
}

void scatter_eval(const ScatterAttrs& a, const Tensors& in, Tensors& out) {
  Tensor u = in[0].contiguous();
  Specs specs{{u.dtype(), u.shape()}, {in[1].dtype(), in[1].shape()}};
  Lanes lu = lanes_of(u.shape(), a.axis);
  std::vector<int64_t> idx = read_indices(in[1], a.size, specs, kScatterNames);
  visit_dtype(u.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pu = u.data<T>();
    T* py = out[0].data<T>();
    std::fill(py, py + out[0].size(), T(0));
    // Repeated indices add up in the order of the updates along the axis.
    for (int64_t o = 0; o < lu.outer; ++o)
      for (int64_t i = 0; i < lu.n; ++i)
        for (int64_t j = 0; j < lu.inner; ++j) {
          int64_t t = (o * lu.n + i) * lu.inner + j;
          T& dst = py[(o * a.size + idx[t]) * lu.inner + j];
          dst = wrap_add(dst, pu[t]);
        }
  });
}

}  // namespace

Specs CumSum::infer(const Attrs& a, const Specs& in) { return scan_infer(a, in); }
void CumSum::eval(const Attrs& a, const Tensors& in, Tensors& out) { scan_eval<false>(a, in, out); }
Specs CumProd::infer(const Attrs& a, const Specs& in) { return scan_infer(a, in); }
void CumProd::eval(const Attrs& a, const Tensors& in, Tensors& out) { scan_eval<true>(a, in, out); }
Specs Sort::infer(const Attrs& a, const Specs& in) { return sort_infer(a, in); }
void Sort::eval(const Attrs& a, const Tensors& in, Tensors& out) { sort_eval(a, in, out); }
Specs TopK::infer(const Attrs& a, const Specs& in) { return topk_infer(a, in); }
void TopK::eval(const Attrs& a, const Tensors& in, Tensors& out) { topk_eval(a, in, out); }
Specs SearchSorted::infer(const Attrs& a, const Specs& in) { return search_infer(a, in); }
void SearchSorted::eval(const Attrs& a, const Tensors& in, Tensors& out) { search_eval(a, in, out); }
Specs TakeAlongAxis::infer(const Attrs& a, const Specs& in) { return take_infer(a, in); }
void TakeAlongAxis::eval(const Attrs& a, const Tensors& in, Tensors& out) { take_eval(a, in, out); }
Specs ScatterAddAlongAxis::infer(const Attrs& a, const Specs& in) { return scatter_infer(a, in); }
void ScatterAddAlongAxis::eval(const Attrs& a, const Tensors& in, Tensors& out) { scatter_eval(a, in, out); }

// ---- the public ops ----

namespace {

std::string spec_of(const Tensor& x) { return spec_str({x.dtype(), x.shape()}); }

void check_defined(const char* op, std::initializer_list<const Tensor*> ts, Loc loc) {
  for (const Tensor* t : ts)
    if (!t->defined()) raise(ErrorCode::invalid_argument, op, "an input is an empty Tensor handle", loc);
}

Tensor scan(Prim p, const char* op, const Tensor& x, std::optional<int64_t> axis, bool exclusive, bool reverse,
            Loc loc) {
  check_defined(op, {&x}, loc);
  Tensor in = x;
  int64_t a = 0;
  if (axis) a = normalize_axis(*axis, x.rank(), op, loc);
  else in = reshape(x, {x.size()}, loc);  // NumPy: no axis scans the flattened tensor
  // bool and uint8 accumulate in int32, as sum and prod do (docs/dtypes.md).
  if (in.dtype() == DType::bool_ || in.dtype() == DType::uint8) in = cast(in, DType::int32, loc);
  return apply1(p, make_attrs(ScanAttrs{a, exclusive, reverse}), {in}, loc);
}

// The values of x on the host: a read the tracer turns into a guard, as item() (docs/tracing.md).
Tensor host_values(const Tensor& x, Loc loc) {
  notify_host_read(x, loc);
  return x.contiguous();
}

}  // namespace

Tensor cumsum(const Tensor& x, std::optional<int64_t> axis, bool exclusive, bool reverse, Loc loc) {
  return scan(Prim::cumsum, "cumsum", x, axis, exclusive, reverse, loc);
}
Tensor cumprod(const Tensor& x, std::optional<int64_t> axis, bool exclusive, bool reverse, Loc loc) {
  return scan(Prim::cumprod, "cumprod", x, axis, exclusive, reverse, loc);
}

Tensor sort(const Tensor& x, int64_t axis, bool descending, Loc loc) {
  check_defined("sort", {&x}, loc);
  int64_t a = normalize_axis(axis, x.rank(), "sort", loc);
  return apply(Prim::sort, make_attrs(SortAttrs{a, descending}), {x}, loc)[0];
}

Tensor argsort(const Tensor& x, int64_t axis, bool descending, Loc loc) {
  check_defined("argsort", {&x}, loc);
  int64_t a = normalize_axis(axis, x.rank(), "argsort", loc);
  return apply(Prim::sort, make_attrs(SortAttrs{a, descending}), {x}, loc)[1];
}

TopKResult topk(const Tensor& x, int64_t k, bool sorted, Loc loc) {
  check_defined("topk", {&x}, loc);
  Tensors r = apply(Prim::topk, make_attrs(TopKAttrs{k, sorted}), {x}, loc);
  return TopKResult{r[0], r[1]};
}

Tensor searchsorted(const Tensor& sorted_seq, const Tensor& values, const std::string& side, Loc loc) {
  check_defined("searchsorted", {&sorted_seq, &values}, loc);
  DType d = promote_types(sorted_seq.dtype(), values.dtype());
  if (d != sorted_seq.dtype() || d != values.dtype()) {
    if (strict_dtypes())
      raise(ErrorCode::dtype, "searchsorted", "implicit dtype promotion in strict mode: sorted_seq is " +
                                                  spec_of(sorted_seq) + ", values is " + spec_of(values), loc);
  }
  return apply1(Prim::searchsorted, make_attrs(SearchAttrs{side}), {cast(sorted_seq, d, loc), cast(values, d, loc)},
                loc);
}

Tensor take_along_axis(const Tensor& x, const Tensor& indices, int64_t axis, Loc loc) {
  check_defined("take_along_axis", {&x, &indices}, loc);
  int64_t a = normalize_axis(axis, x.rank(), "take_along_axis", loc);
  Tensor idx = indices;
  if (idx.dtype() == DType::uint8 || idx.dtype() == DType::bool_) idx = cast(idx, DType::int32, loc);
  return apply1(Prim::take_along_axis, make_attrs(AxisAttrs{a}), {x, idx}, loc);
}

Tensor scatter_add_along_axis(const Tensor& updates, const Tensor& indices, int64_t size, int64_t axis, Loc loc) {
  check_defined("scatter_add_along_axis", {&updates, &indices}, loc);
  int64_t a = normalize_axis(axis, updates.rank(), "scatter_add_along_axis", loc);
  Tensor idx = indices;
  if (idx.dtype() == DType::uint8 || idx.dtype() == DType::bool_) idx = cast(idx, DType::int32, loc);
  return apply1(Prim::scatter_add_along_axis, make_attrs(ScatterAttrs{a, size}), {updates, idx}, loc);
}

// ---- composites ----

Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan, Loc loc) {
  check_defined("isclose", {&a, &b}, loc);
  // Integers and bools compare as float64, as NumPy's isclose (exact up to 2^53).
  DType d = promote_types(a.dtype(), b.dtype());
  if (!is_floating(d)) d = DType::float64;
  if ((a.dtype() != d || b.dtype() != d) && is_floating(promote_types(a.dtype(), b.dtype())) && strict_dtypes())
    raise(ErrorCode::dtype, "isclose", "implicit dtype promotion in strict mode: a is " + spec_of(a) + ", b is " +
                                           spec_of(b), loc);
  Tensor x = cast(a, d, loc), y = cast(b, d, loc);
  Tensor finite = logical_and(isfinite(x, loc), isfinite(y, loc), loc);
  Tensor near = less_equal(abs(sub(x, y, loc), loc), add(mul(abs(y, loc), rtol, loc), atol, loc), loc);
  // Infinities are close only to themselves; a NaN to nothing unless equal_nan.
  Tensor r = where(finite, near, equal(x, y, loc), loc);
  if (equal_nan) r = logical_or(r, logical_and(isnan(x, loc), isnan(y, loc), loc), loc);
  return r;
}

Tensor flip(const Tensor& x, OptAxes axes, Loc loc) {
  check_defined("flip", {&x}, loc);
  std::vector<bool> rev(static_cast<size_t>(x.rank()), !axes.has_value());
  if (axes)
    for (int64_t a : *axes) {
      int64_t n = normalize_axis(a, x.rank(), "flip", loc);
      if (rev[n]) raise(ErrorCode::invalid_argument, "flip", "repeated axis " + std::to_string(a) + ": x is " + spec_of(x), loc);
      rev[n] = true;
    }
  std::vector<Slice> sl;
  for (bool r : rev) sl.push_back(r ? Slice{std::nullopt, std::nullopt, -1} : Slice{});
  return slice(x, sl, loc);
}

Tensor roll(const Tensor& x, int64_t shift, std::optional<int64_t> axis, Loc loc) {
  check_defined("roll", {&x}, loc);
  if (!axis) return reshape(roll(reshape(x, {x.size()}, loc), shift, 0, loc), x.shape(), loc);
  int64_t a = normalize_axis(*axis, x.rank(), "roll", loc);
  int64_t n = x.shape()[a];
  if (n == 0) return x;
  int64_t s = ((shift % n) + n) % n;
  if (s == 0) return x;
  std::vector<Slice> head(static_cast<size_t>(a), Slice{}), tail(static_cast<size_t>(a), Slice{});
  head.push_back(Slice{n - s, std::nullopt});
  tail.push_back(Slice{std::nullopt, n - s});
  return concat({slice(x, head, loc), slice(x, tail, loc)}, a, loc);
}

Tensor repeat(const Tensor& x, int64_t repeats, std::optional<int64_t> axis, Loc loc) {
  check_defined("repeat", {&x}, loc);
  if (repeats < 0)
    raise(ErrorCode::invalid_argument, "repeat", "repeats must be >= 0, got " + std::to_string(repeats) + ": x is " +
                                                     spec_of(x), loc);
  Tensor in = axis ? x : reshape(x, {x.size()}, loc);
  int64_t a = normalize_axis(axis ? *axis : 0, in.rank(), "repeat", loc);
  // (.., n, ..) -> (.., n, 1, ..) -> broadcast (.., n, repeats, ..) -> (.., n * repeats, ..).
  Shape bs = in.shape(), out = in.shape();
  bs.insert(bs.begin() + a + 1, repeats);
  out[a] *= repeats;
  return reshape(broadcast_to(expand_dims(in, a + 1, loc), bs, loc), out, loc);
}

Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats, std::optional<int64_t> axis, Loc loc) {
  check_defined("repeat", {&x}, loc);
  Tensor in = axis ? x : reshape(x, {x.size()}, loc);
  int64_t a = normalize_axis(axis ? *axis : 0, in.rank(), "repeat", loc);
  int64_t n = in.shape()[a];
  if (repeats.size() == 1) return repeat(in, repeats[0], a, loc);
  if (static_cast<int64_t>(repeats.size()) != n)
    raise(ErrorCode::invalid_argument, "repeat", std::to_string(repeats.size()) + " repeats for an axis of size " +
                                                     std::to_string(n) + ": x is " + spec_of(x), loc);
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; ++i) {
    if (repeats[i] < 0)
      raise(ErrorCode::invalid_argument, "repeat", "repeats must be >= 0, got " + std::to_string(repeats[i]) +
                                                       ": x is " + spec_of(x), loc);
    idx.insert(idx.end(), static_cast<size_t>(repeats[i]), i);
  }
  return gather(in, Tensor::from_vector(idx, {static_cast<int64_t>(idx.size())}, loc), a, loc);
}

// ---- host ops ----

UniqueResult unique(const Tensor& x, Loc loc) {
  check_defined("unique", {&x}, loc);
  Tensor c = host_values(x, loc);
  const int64_t n = c.size();
  UniqueResult r;
  visit_dtype(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c.data<T>();
    std::vector<Keyed<T>> buf(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) buf[i] = Keyed<T>{p[i], i};
    std::sort(buf.begin(), buf.end(), before_asc<T>);
    std::vector<T> values;
    std::vector<int64_t> inverse(static_cast<size_t>(n)), counts;
    for (int64_t i = 0; i < n; ++i) {
      // Equal values (and all NaNs, as NumPy's equal_nan) are one value.
      bool same = i > 0 && !nan_less(buf[i - 1].v, buf[i].v);
      if (!same) {
        values.push_back(buf[i].v);
        counts.push_back(0);
      }
      ++counts.back();
      inverse[buf[i].i] = static_cast<int64_t>(values.size()) - 1;
    }
    int64_t u = static_cast<int64_t>(values.size());
    r.values = Tensor::from_bytes(values.data(), values.size(), c.dtype(), {u}, loc);
    r.inverse = Tensor::from_vector(inverse, x.shape(), loc);
    r.counts = Tensor::from_vector(counts, {u}, loc);
  });
  return r;
}

Tensor where(const Tensor& cond, Loc loc) {
  check_defined("where", {&cond}, loc);
  Tensor c = host_values(cond, loc);
  const int64_t rank = c.rank();
  std::vector<int64_t> coords;
  visit_dtype(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c.data<T>();
    std::vector<int64_t> at(static_cast<size_t>(rank), 0);
    for (int64_t i = 0; i < c.size(); ++i) {
      if (p[i] != T(0)) coords.insert(coords.end(), at.begin(), at.end());  // NaN is nonzero: true
      for (int64_t d = rank - 1; d >= 0; --d) {  // row-major increment
        if (++at[d] < c.shape()[d]) break;
        at[d] = 0;
      }
    }
  });
  int64_t found = 0;
  if (rank > 0) {
    found = static_cast<int64_t>(coords.size()) / rank;
  } else {
    // np.argwhere of a 0-d array: shape (1, 0) when true, (0, 0) when false.
    visit_dtype(c.dtype(), [&](auto tag) { found = c.data<typename decltype(tag)::type>()[0] != 0 ? 1 : 0; });
  }
  return Tensor::from_vector(coords, {found, rank}, loc);
}

}  // namespace xf
