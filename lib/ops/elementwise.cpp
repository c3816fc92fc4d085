// Kernels of the elementwise primitives: unary, binary (broadcasting), where, cast.
//
// Float kernels run xflow's own loop over SIMD batches; a tail shorter than a batch is copied
// into a padded batch, so every element goes through the same batch function (DESIGN.md,
// "Bitwise equality"). Integer and bool kernels are exact and use scalar loops.
#include <cstring>
#include <limits>

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

bool domain_accepts(ew::Domain d, DType t) {
  switch (d) {
    case ew::Domain::floating: return is_floating(t);
    case ew::Domain::numeric: return t != DType::bool_;
    case ew::Domain::any:
    case ew::Domain::truth: return true;
  }
  return false;
}
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


template <class Fn>
void unary_eval(const Tensors& in, Tensors& out) {
  Tensor keep;
  const Tensor& x = contiguous_ref(in[0], keep);
  int64_t n = x.size();
  visit_dtype(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    if constexpr (ew::is_predicate<Fn>::value) {
      uint8_t* py = out[0].data<uint8_t>();
      detail::parallel_for(n, detail::kChunk, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) py[i] = Fn::pred(px[i]);
      });
    } else if constexpr (kFloat<T>) {
      T* py = out[0].data<T>();
      detail::parallel_for(n, detail::kChunk, [&](int64_t b, int64_t e) { unary_batches<Fn>(px + b, py + b, e - b); });
    } else if constexpr (Fn::domain != ew::Domain::floating) {
      T* py = out[0].data<T>();
      detail::parallel_for(n, detail::kChunk, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) py[i] = Fn::scalar(px[i]);
      });
    } else {
      throw Internal("unary kernel reached with an integer dtype");
    }
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
    for (size_t d = r - 1; d-- > 0;) {
      int64_t i = rem % b.shape[d];
      rem /= b.shape[d];
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
    // One run of n output elements; operand k starts at offset off[k] and steps by inner[k] (0 or 1).
    auto row = [&](auto* o, const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& inner, int64_t n) {
      const T* x0 = pa + off[0];
      const T* x1 = pb + off[1];
      if constexpr (ew::is_predicate<Fn>::value) {
        // Unit and zero steps spelled out, so the compiler vectorizes the common cases (a tensor
        // against a scalar, as relu's gradient compares x > 0).
        if (inner[0] == 1 && inner[1] == 0) {
          const T s1 = x1[0];
          for (int64_t i = 0; i < n; ++i) o[i] = Fn::pred(x0[i], s1);
        } else if (inner[0] == 1 && inner[1] == 1) {
          for (int64_t i = 0; i < n; ++i) o[i] = Fn::pred(x0[i], x1[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) o[i] = Fn::pred(x0[i * inner[0]], x1[i * inner[1]]);
        }
      } else if constexpr (Fn::domain == ew::Domain::floating && !kFloat<T>) {
        throw Internal("binary kernel reached with an integer dtype");
      } else if constexpr (kFloat<T>) {
        binary_batches<Fn>(x0, inner[0], x1, inner[1], o, n);
      } else {
        for (int64_t i = 0; i < n; ++i) o[i] = Fn::scalar(x0[i * inner[0]], x1[i * inner[1]]);
      }
    };
    using O = std::conditional_t<ew::is_predicate<Fn>::value, uint8_t, T>;
    O* py = y.data<O>();
    if (a.shape() == y.shape() && b.shape() == y.shape()) {
      // Same shapes: one flat run, chunked exactly as for_each_row chunks a single row.
      detail::parallel_for(y.size(), detail::kChunk, [&](int64_t s, int64_t e) {
        row(py + s, {s, s}, {1, 1}, e - s);
      });
      return;
    }
    Broadcast plan = plan_broadcast(y.shape(), {&a, &b});
    for_each_row<2>(plan, [&](int64_t ri, int64_t s, const std::array<int64_t, 2>& off,
                              const std::array<int64_t, 2>& inner, int64_t n) {
      row(py + ri * plan.shape.back() + s, off, inner, n);
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

}  // namespace

// ---- the primitives, from the list ----

#define XFLOW_DEFINE_ELEMENTWISE(id, S, Fn, arity)                                                      \
  static_assert(check_functor<ew::Fn, arity>());                                                        \
  const Traits S::traits = traits_of<ew::Fn>();                                                         \
  const ElementwiseInfo S::elementwise = {arity, ew::Fn::domain, ew::Fn::result,                        \
                                          ew::promotion_of(ew::Fn::domain, ew::Fn::result), #Fn};       \
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
      const uint8_t* rc = pc + off[0];
      const T* ra = pa + off[1];
      const T* rb = pb + off[2];
      if (inner[0] == 1 && inner[1] == 1 && inner[2] == 0) {  // where(cond, x, scalar): relu's gradient
        const T zb = rb[0];
        for (int64_t i = 0; i < n; ++i) o[i] = rc[i] ? ra[i] : zb;
      } else if (inner[0] == 1 && inner[1] == 1 && inner[2] == 1) {
        for (int64_t i = 0; i < n; ++i) o[i] = rc[i] ? ra[i] : rb[i];
      } else {
        for (int64_t i = 0; i < n; ++i) o[i] = rc[i * inner[0]] ? ra[i * inner[1]] : rb[i * inner[2]];
      }
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
