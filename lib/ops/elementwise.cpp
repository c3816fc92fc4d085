// Kernels of the elementwise primitives: unary, binary (broadcasting), where, cast.
//
// Float kernels run xflow's own loop over SIMD batches; a tail shorter than a batch is copied
// into a padded batch, so every element goes through the same batch function (DESIGN.md,
// "Bitwise equality"). Integer and bool kernels are exact and use scalar loops.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/dispatch.hpp"
#include "core/parallel.hpp"
#include "ops/elementwise_fns.hpp"
#include "ops/elementwise_loops.hpp"
#include "ops/prims.hpp"

namespace xf {
namespace {

using ew::binary_batches;
using ew::unary_batches;
using detail::Tag;
using detail::visit_dtype;

using ew::Batch;

const char* domain_name(ew::Domain d) {
  switch (d) {
    case ew::Domain::floating: return "a float dtype";
    case ew::Domain::numeric: return "a numeric (non-bool) dtype";
    case ew::Domain::any:
    case ew::Domain::truth: return "any dtype";
  }
  return "";
}

template <class T> constexpr bool kFloat = std::is_floating_point_v<T>;

// `t` itself when contiguous from its buffer's start, else a contiguous copy kept in `keep`:
// the common case copies no handle (two atomic reference-count updates fewer per input).
const Tensor& contiguous_ref(const Tensor& t, Tensor& keep) {
  if (t.offset() == 0 && t.is_contiguous()) return t;
  keep = t.contiguous();
  return keep;
}

// ---- unary ----

template <class Fn>
Specs unary_infer(const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input, got " + std::to_string(in.size()));
  if (!domain_accepts(Fn::domain, in[0].dtype))
    infer_fail(ErrorCode::dtype, std::string("needs ") + domain_name(Fn::domain) + ": " + specs_str(in));
  DType out = ew::is_predicate<Fn>::value ? DType::bool_ : in[0].dtype;
  return {TensorSpec{out, in[0].shape}};
}


// y = Fn(x) over n contiguous elements of T: eval's kernel, and the fast path's (flat_kernel).
template <class Fn, class T>
void unary_flat(const T* px, void* out, int64_t n) {
  if constexpr (ew::is_predicate<Fn>::value) {
    uint8_t* py = static_cast<uint8_t*>(out);
    detail::parallel_for(n, detail::kChunk, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) py[i] = Fn::pred(px[i]);
    });
  } else if constexpr (kFloat<T>) {
    T* py = static_cast<T*>(out);
    detail::parallel_for(n, detail::kChunk, [&](int64_t b, int64_t e) { unary_batches<Fn>(px + b, py + b, e - b); });
  } else if constexpr (Fn::domain != ew::Domain::floating) {
    T* py = static_cast<T*>(out);
    detail::parallel_for(n, detail::kChunk, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) py[i] = Fn::scalar(px[i]);
    });
  } else {
    throw Internal("unary kernel reached with an integer dtype");
  }
}

template <class Fn>
void unary_eval(const Tensors& in, Tensors& out) {
  Tensor keep;
  const Tensor& x = contiguous_ref(in[0], keep);
  int64_t n = x.size();
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    unary_flat<Fn, T>(x.data<T>(), out[0].raw_data(), n);
  });
}

// ---- broadcasting iteration ----

// Output shape and each input's strides (0 on broadcast axes), with adjacent axes merged where
// every operand allows it. Inputs are contiguous, so the innermost stride is 0 or 1.
struct Broadcast {
  Shape shape;
  std::vector<Strides> strides;
};

Broadcast plan_broadcast(const Shape& out, const std::vector<const Tensor*>& ins) {
  size_t r = out.size();
  std::vector<Strides> st(ins.size(), Strides(r, 0));
  for (size_t k = 0; k < ins.size(); ++k) {
    const Shape& s = ins[k]->shape();
    Strides cs = contiguous_strides(s);
    size_t lead = r - s.size();
    for (size_t i = 0; i < s.size(); ++i) st[k][lead + i] = s[i] == 1 ? 0 : cs[i];
  }
  Broadcast b;
  b.strides.assign(ins.size(), {});
  for (size_t i = 0; i < r; ++i) {
    if (out[i] == 1) continue;  // size-1 axes carry nothing
    bool merge = !b.shape.empty();
    if (merge)
      for (size_t k = 0; k < ins.size(); ++k)
        if (b.strides[k].back() != st[k][i] * out[i]) merge = false;
    if (merge) {
      b.shape.back() *= out[i];
      for (size_t k = 0; k < ins.size(); ++k) b.strides[k].back() = st[k][i];
    } else {
      b.shape.push_back(out[i]);
      for (size_t k = 0; k < ins.size(); ++k) b.strides[k].push_back(st[k][i]);
    }
  }
  if (b.shape.empty()) {
    b.shape.push_back(1);
    for (auto& s : b.strides) s.push_back(0);
  }
  return b;
}

// Calls f(s0, ..., sK-1) with each inner stride as a compile-time constant, 0 or 1 (the only
// values contiguous inputs give): the loops of predicates and `where` then have fixed strides,
// which the compiler vectorizes (a comparison or a select is exact, so the result is the same).
template <size_t K, class F, class... S>
void with_fixed_strides(const std::array<int64_t, K>& inner, F&& f, S... fixed) {
  constexpr size_t i = sizeof...(S);
  if constexpr (i == K) {
    f(fixed...);
  } else if (inner[i] == 0) {
    with_fixed_strides<K>(inner, f, fixed..., std::integral_constant<int64_t, 0>{});
  } else {
    with_fixed_strides<K>(inner, f, fixed..., std::integral_constant<int64_t, 1>{});
  }
}

// The loops of predicates and `where` over one row. The pointers are restrict: the output is
// bytes (which may alias anything), so without it a store could change a broadcast operand and
// nothing would be vectorized.
template <class Fn, class T, class S0, class S1>
void predicate_row(const T* __restrict x0, S0 s0, const T* __restrict x1, S1 s1, uint8_t* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = Fn::pred(x0[i * s0], x1[i * s1]);
}
template <class T, class SC, class SA, class SB>
void where_row(const uint8_t* __restrict c, SC sc, const T* __restrict a, SA sa, const T* __restrict b, SB sb,
               T* __restrict o, int64_t n) {
  // T is an unsigned integer of the element's size: a select by mask, which vectorizes where the
  // conditional does not (mixed widths), moves the same bits.
  for (int64_t i = 0; i < n; ++i) {
    T m = static_cast<T>(T(0) - static_cast<T>(c[i * sc] != 0));
    o[i] = static_cast<T>((a[i * sa] & m) | (b[i * sb] & static_cast<T>(~m)));
  }
}

// Calls row(row_index, offsets[k], inner_stride[k], len) for every innermost row, in parallel
// for large outputs. The output row starts at row_index * len.
template <size_t K, class Row>
void for_each_row(const Broadcast& b, Row&& row) {
  size_t r = b.shape.size();
  int64_t len = b.shape.back();
  int64_t rows = numel(b.shape) / std::max<int64_t>(len, 1);
  if (len == 0 || rows == 0) return;
  std::array<int64_t, K> inner{};
  for (size_t k = 0; k < K; ++k) inner[k] = b.strides[k].back();
  auto offsets_of = [&](int64_t row_index, std::array<int64_t, K>& off) {
    off.fill(0);
    int64_t rem = row_index;
    // The outermost axis takes what is left (row_index < rows): a [rows, len] plan, as a bias
    // add's, divides nothing.
    for (size_t d = r - 1; d-- > 0;) {
      int64_t i = rem;
      if (d > 0) {
        i = rem % b.shape[d];
        rem /= b.shape[d];
      }
      for (size_t k = 0; k < K; ++k) off[k] += i * b.strides[k][d];
    }
  };
  if (rows == 1) {
    // One long row: split it into chunks.
    detail::parallel_for(len, detail::kChunk, [&](int64_t s, int64_t e) {
      std::array<int64_t, K> off{};
      for (size_t k = 0; k < K; ++k) off[k] = s * inner[k];
      row(int64_t{0}, s, off, inner, e - s);
    });
    return;
  }
  int64_t rows_per_task = std::max<int64_t>(1, detail::kChunk / len);
  detail::parallel_for(rows, rows_per_task, [&](int64_t rb, int64_t re) {
    std::array<int64_t, K> off{};
    for (int64_t ri = rb; ri < re; ++ri) {
      offsets_of(ri, off);
      row(ri, int64_t{0}, off, inner, len);
    }
  });
}

// ---- binary ----

// One run of n output elements of Fn(a, b): operand k steps by its inner stride (0 or 1).
template <class Fn, class T, class O>
void binary_run(const T* x0, int64_t s0, const T* x1, int64_t s1, O* o, int64_t n) {
  if constexpr (ew::is_predicate<Fn>::value) {
    with_fixed_strides<2>({s0, s1}, [&](auto f0, auto f1) { predicate_row<Fn>(x0, f0, x1, f1, o, n); });
  } else if constexpr (Fn::domain == ew::Domain::floating && !kFloat<T>) {
    throw Internal("binary kernel reached with an integer dtype");
  } else if constexpr (kFloat<T>) {
    binary_batches<Fn>(x0, s0, x1, s1, o, n);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = Fn::scalar(x0[i * s0], x1[i * s1]);
  }
}

// n output elements from contiguous operands, each of n elements (stride 1) or one (stride 0),
// in the chunks for_each_row gives a single row: eval's same-shape and one-row cases, and the
// fast path's kernel (flat_kernel), so both give the same bits.
template <class Fn, class T>
void binary_flat(const T* pa, int64_t sa, const T* pb, int64_t sb, void* out, int64_t n) {
  using O = std::conditional_t<ew::is_predicate<Fn>::value, uint8_t, T>;
  O* py = static_cast<O*>(out);
  detail::parallel_for(n, detail::kChunk, [&](int64_t s, int64_t e) {
    binary_run<Fn, T, O>(pa + s * sa, sa, pb + s * sb, sb, py + s, e - s);
  });
}

template <class Fn>
Specs binary_infer(const Specs& in) {
  if (in.size() != 2) infer_fail(ErrorCode::invalid_argument, "expects 2 inputs, got " + std::to_string(in.size()));
  if (in[0].dtype != in[1].dtype)
    infer_fail(ErrorCode::dtype, "operands must have one dtype (the public op promotes): " + specs_str(in));
  if (!domain_accepts(Fn::domain, in[0].dtype))
    infer_fail(ErrorCode::dtype, std::string("needs ") + domain_name(Fn::domain) + ": " + specs_str(in));
  Shape s = infer_broadcast(in);
  return {TensorSpec{ew::is_predicate<Fn>::value ? DType::bool_ : in[0].dtype, s}};
}


// A [rows, len] result from a contiguous operand of that shape and one row of len broadcast down
// the rows (a bias add, a row scale): the row's batches are loaded once, and each output row is
// len / N batches plus one zero-padded batch for the tail, as binary_batches computes them (every
// element goes through Fn::batch in both, so the bits are the same). The broadcast row is the
// second operand when RowIsB, else the first. For rows of a few batches this saves binary_run's
// per-row setup, which costs more than the row's arithmetic (decision 181).
constexpr int64_t kRowBatches = 8;  // the most batches of the broadcast row rows_with_row preloads

template <class Fn, class T, bool RowIsB>
void rows_with_row(const T* x, const T* v, T* y, int64_t rows, int64_t len) {
  using B = ew::Batch<T>;
  constexpr int64_t N = static_cast<int64_t>(B::size);
  const int64_t nb = len / N, tail = len - nb * N;
  auto f = [](const B& xb, const B& vb) { return RowIsB ? Fn::batch(xb, vb) : Fn::batch(vb, xb); };
  B vb[kRowBatches];
  for (int64_t q = 0; q < nb; ++q) vb[q] = B::load_unaligned(v + q * N);
  alignas(64) T vt[N] = {};
  if (tail) std::memcpy(vt, v + nb * N, static_cast<size_t>(tail) * sizeof(T));
  const B vtail = B::load_aligned(vt);
  detail::parallel_for(rows, std::max<int64_t>(1, detail::kChunk / len), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const T* xr = x + r * len;
      T* yr = y + r * len;
      for (int64_t q = 0; q < nb; ++q) f(B::load_unaligned(xr + q * N), vb[q]).store_unaligned(yr + q * N);
      if (tail) {
        alignas(64) T t[N] = {};
        std::memcpy(t, xr + nb * N, static_cast<size_t>(tail) * sizeof(T));
        f(B::load_aligned(t), vtail).store_aligned(t);
        std::memcpy(yr + nb * N, t, static_cast<size_t>(tail) * sizeof(T));
      }
    }
  });
}

// For a plan [rows, len] with one operand contiguous and the other one row broadcast down the
// rows, len within rows_with_row's preloaded batches: the operand that is the row (0 or 1).
// Otherwise -1.
template <class T>
int row_broadcast_operand(const Broadcast& plan) {
  if (plan.shape.size() != 2) return -1;
  const int64_t len = plan.shape[1];
  if (len <= 0 || plan.shape[0] <= 0 || len > kRowBatches * static_cast<int64_t>(ew::Batch<T>::size)) return -1;
  const Strides &s0 = plan.strides[0], &s1 = plan.strides[1];
  if (s0[1] != 1 || s1[1] != 1) return -1;
  if (s0[0] == len && s1[0] == 0) return 1;
  if (s0[0] == 0 && s1[0] == len) return 0;
  return -1;
}

template <class Fn>
void binary_eval(const Tensors& in, Tensors& out) {
  Tensor keep_a, keep_b;
  const Tensor& a = contiguous_ref(in[0], keep_a);
  const Tensor& b = contiguous_ref(in[1], keep_b);
  Tensor& y = out[0];
  visit_dtype(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    using O = std::conditional_t<ew::is_predicate<Fn>::value, uint8_t, T>;
    O* py = y.data<O>();
    if (a.shape() == y.shape() && b.shape() == y.shape()) {
      // Same shapes: one flat run, chunked exactly as for_each_row chunks a single row.
      binary_flat<Fn, T>(pa, 1, pb, 1, py, y.size());
      return;
    }
    Broadcast plan = plan_broadcast(y.shape(), {&a, &b});
    if constexpr (kFloat<T> && !ew::is_predicate<Fn>::value) {
      const int row = row_broadcast_operand<T>(plan);
      if (row == 1) return rows_with_row<Fn, T, true>(pa, pb, py, plan.shape[0], plan.shape[1]);
      if (row == 0) return rows_with_row<Fn, T, false>(pb, pa, py, plan.shape[0], plan.shape[1]);
    }
    for_each_row<2>(plan, [&](int64_t ri, int64_t s, const std::array<int64_t, 2>& off,
                              const std::array<int64_t, 2>& inner, int64_t n) {
      binary_run<Fn, T, O>(pa + off[0], inner[0], pb + off[1], inner[1], py + ri * plan.shape.back() + s, n);
    });
  });
}

// Every functor is checked against its entry in the list, so an entry whose functor lacks a part
// (or declares a combination no promotion rule covers) does not compile.
template <class Fn, int Arity>
constexpr bool check_functor() {
  using F = Batch<float>;
  using D = Batch<double>;
  constexpr bool pred = ew::is_predicate<Fn>::value;
  constexpr ew::Promotion promotion = ew::promotion_of(Fn::domain, Fn::result);
  static_assert(Arity == 1 || Arity == 2, "an elementwise primitive takes 1 or 2 inputs");
  static_assert(pred == (Fn::result == ew::Result::boolean), "a functor has pred exactly when its result is bool");
  static_assert(promotion != ew::Promotion::invalid, "no promotion rule for this domain and result");
  static_assert(Arity == 1 || promotion != ew::Promotion::rounding, "a binary op cannot pass integers through");
  static_assert(Arity == 2 || !ew::is_commutative<Fn>::value, "a unary functor cannot be commutative");
  if constexpr (!pred) {
    if constexpr (Arity == 1) {
      static_assert(std::is_same_v<decltype(Fn::batch(F())), F> && std::is_same_v<decltype(Fn::batch(D())), D>,
                    "the functor needs batch(x) for float and double batches");
      if constexpr (Fn::domain == ew::Domain::numeric)
        static_assert(std::is_same_v<decltype(Fn::scalar(int32_t())), int32_t>, "a numeric functor needs scalar(x)");
    } else {
      static_assert(std::is_same_v<decltype(Fn::batch(F(), F())), F> && std::is_same_v<decltype(Fn::batch(D(), D())), D>,
                    "the functor needs batch(a, b) for float and double batches");
      if constexpr (Fn::domain == ew::Domain::numeric)
        static_assert(std::is_same_v<decltype(Fn::scalar(int32_t(), int32_t())), int32_t>,
                      "a numeric functor needs scalar(a, b)");
    }
  } else if constexpr (Arity == 1) {
    static_assert(std::is_same_v<decltype(Fn::pred(int32_t())), bool>, "the functor needs pred(x)");
  } else {
    static_assert(std::is_same_v<decltype(Fn::pred(int32_t(), int32_t())), bool>, "the functor needs pred(a, b)");
  }
  return true;
}

template <class Fn>
constexpr Traits traits_of() {
  constexpr bool real = Fn::result != ew::Result::boolean;  // differentiable, may run in place
  return Traits{true, ew::is_commutative<Fn>::value, real, real, false, false};
}

template <class Fn, int Arity>
Specs elementwise_infer(const Specs& in) {
  if constexpr (Arity == 1) return unary_infer<Fn>(in);
  else return binary_infer<Fn>(in);
}
template <class Fn, int Arity>
void elementwise_eval(const Tensors& in, Tensors& out) {
  if constexpr (Arity == 1) unary_eval<Fn>(in, out);
  else binary_eval<Fn>(in, out);
}

// ElementwiseInfo::flat: the kernel on raw contiguous operands of dtype d (see primitive.hpp).
template <class Fn, int Arity>
void flat_kernel(DType d, const void* const* in, const int64_t* steps, void* out, int64_t n) {
  visit_dtype(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (Arity == 1) {
      (void)steps;
      unary_flat<Fn, T>(static_cast<const T*>(in[0]), out, n);
    } else {
      binary_flat<Fn, T>(static_cast<const T*>(in[0]), steps[0], static_cast<const T*>(in[1]), steps[1], out, n);
    }
  });
}

}  // namespace

// ---- the primitives, from the list ----

#define XFLOW_DEFINE_ELEMENTWISE(id, S, Fn, arity)                                                      \
  static_assert(check_functor<ew::Fn, arity>());                                                        \
  const Traits S::traits = traits_of<ew::Fn>();                                                         \
  const ElementwiseInfo S::elementwise = {arity, ew::Fn::domain, ew::Fn::result,                        \
                                          ew::promotion_of(ew::Fn::domain, ew::Fn::result), #Fn,        \
                                          &flat_kernel<ew::Fn, arity>};                                 \
  Specs S::infer(const Attrs&, const Specs& in) { return elementwise_infer<ew::Fn, arity>(in); }        \
  void S::eval(const Attrs&, const Tensors& in, Tensors& out) { elementwise_eval<ew::Fn, arity>(in, out); }
XFLOW_ELEMENTWISE_PRIMITIVES(XFLOW_DEFINE_ELEMENTWISE)
#undef XFLOW_DEFINE_ELEMENTWISE

// where(cond, a, b)
Specs Where::infer(const Attrs&, const Specs& in) {
  static const char* const names[] = {"cond", "a", "b"};
  if (in.size() != 3) infer_fail(ErrorCode::invalid_argument, "expects 3 inputs");
  if (in[0].dtype != DType::bool_) infer_fail(ErrorCode::dtype, "cond must be bool: " + specs_str(in, names));
  if (in[1].dtype != in[2].dtype)
    infer_fail(ErrorCode::dtype, "a and b must have one dtype: " + specs_str(in, names));
  Shape s;
  try {
    s = infer_broadcast(in);
  } catch (const ShapeError&) {  // name the operands cond, a, b (not a, b, c)
    infer_fail(ErrorCode::shape, "shapes cannot be broadcast: " + specs_str(in, names));
  }
  return {TensorSpec{in[1].dtype, s}};
}

void Where::eval(const Attrs&, const Tensors& in, Tensors& out) {
  Tensor c = in[0].contiguous(), a = in[1].contiguous(), b = in[2].contiguous();
  Broadcast plan = plan_broadcast(out[0].shape(), {&c, &a, &b});
  detail::visit_size(dtype_size(a.dtype()), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const uint8_t* pc = c.data<uint8_t>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* py = out[0].data<T>();
    for_each_row<3>(plan, [&](int64_t ri, int64_t s, const std::array<int64_t, 3>& off,
                              const std::array<int64_t, 3>& inner, int64_t n) {
      T* o = py + ri * plan.shape.back() + s;
      const uint8_t* c0 = pc + off[0];
      const T* a0 = pa + off[1];
      const T* b0 = pb + off[2];
      with_fixed_strides<3>(inner, [&](auto sc, auto sa, auto sb) { where_row(c0, sc, a0, sa, b0, sb, o, n); });
    });
  });
}

// cast
Specs Cast::infer(const Attrs& attrs, const Specs& in) {
  if (in.size() != 1) infer_fail(ErrorCode::invalid_argument, "expects 1 input");
  return {TensorSpec{attrs.dtype, in[0].shape}};
}

namespace {
template <class To, class From>
To convert(From v, bool to_bool) {
  if (to_bool) return static_cast<To>(v != From(0));
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (std::isnan(v)) return 0;
    if (v <= static_cast<From>(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (v >= static_cast<From>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}
}  // namespace

void Cast::eval(const Attrs& attrs, const Tensors& in, Tensors& out) {
  Tensor x = in[0].contiguous();
  int64_t n = x.size();
  bool to_bool = attrs.dtype == DType::bool_;
  visit_dtype(x.dtype(), [&](auto from_tag) {
    using F = typename decltype(from_tag)::type;
    visit_dtype(attrs.dtype, [&](auto to_tag) {
      using T = typename decltype(to_tag)::type;
      const F* px = x.data<F>();
      T* py = out[0].data<T>();
      detail::parallel_for(n, detail::kChunk, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) py[i] = convert<T>(px[i], to_bool);
      });
    });
  });
}

}  // namespace xf
