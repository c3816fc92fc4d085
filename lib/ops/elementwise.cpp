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

bool domain_accepts(ew::Domain d, DType t) {
  switch (d) {
    case ew::Domain::floating: return is_floating(t);
    case ew::Domain::numeric: return t != DType::bool_;
    case ew::Domain::any: return true;
  }
  return false;
}
const char* domain_name(ew::Domain d) {
  switch (d) {
    case ew::Domain::floating: return "a float dtype";
    case ew::Domain::numeric: return "a numeric (non-bool) dtype";
    case ew::Domain::any: return "any dtype";
  }
  return "";
}

template <class T> constexpr bool kFloat = std::is_floating_point_v<T>;

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
  Tensor x = in[0].contiguous();
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
  Tensor a = in[0].contiguous(), b = in[1].contiguous();
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
        for (int64_t i = 0; i < n; ++i) o[i] = Fn::pred(x0[i * inner[0]], x1[i * inner[1]]);
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

}  // namespace

// ---- the primitives ----

#define XFLOW_UNARY_PRIM(S, Fn)                                                    \
  Specs S::infer(const Attrs&, const Specs& in) { return unary_infer<ew::Fn>(in); } \
  void S::eval(const Attrs&, const Tensors& in, Tensors& out) { unary_eval<ew::Fn>(in, out); }
XFLOW_UNARY_PRIM(Neg, NegFn)
XFLOW_UNARY_PRIM(Abs, AbsFn)
XFLOW_UNARY_PRIM(Sign, SignFn)
XFLOW_UNARY_PRIM(Exp, ExpFn)
XFLOW_UNARY_PRIM(Expm1, Expm1Fn)
XFLOW_UNARY_PRIM(Log, LogFn)
XFLOW_UNARY_PRIM(Log1p, Log1pFn)
XFLOW_UNARY_PRIM(Sqrt, SqrtFn)
XFLOW_UNARY_PRIM(Rsqrt, RsqrtFn)
XFLOW_UNARY_PRIM(Square, SquareFn)
XFLOW_UNARY_PRIM(Reciprocal, ReciprocalFn)
XFLOW_UNARY_PRIM(Sin, SinFn)
XFLOW_UNARY_PRIM(Cos, CosFn)
XFLOW_UNARY_PRIM(Tan, TanFn)
XFLOW_UNARY_PRIM(Tanh, TanhFn)
XFLOW_UNARY_PRIM(Sigmoid, SigmoidFn)
XFLOW_UNARY_PRIM(Relu, ReluFn)
XFLOW_UNARY_PRIM(Erf, ErfFn)
XFLOW_UNARY_PRIM(Floor, FloorFn)
XFLOW_UNARY_PRIM(Ceil, CeilFn)
XFLOW_UNARY_PRIM(Round, RoundFn)
XFLOW_UNARY_PRIM(LogicalNot, LogicalNotFn)
XFLOW_UNARY_PRIM(IsNan, IsNanFn)
XFLOW_UNARY_PRIM(IsInf, IsInfFn)
XFLOW_UNARY_PRIM(IsFinite, IsFiniteFn)
#undef XFLOW_UNARY_PRIM

#define XFLOW_BINARY_PRIM(S, Fn)                                                    \
  Specs S::infer(const Attrs&, const Specs& in) { return binary_infer<ew::Fn>(in); } \
  void S::eval(const Attrs&, const Tensors& in, Tensors& out) { binary_eval<ew::Fn>(in, out); }
XFLOW_BINARY_PRIM(Add, AddFn)
XFLOW_BINARY_PRIM(Sub, SubFn)
XFLOW_BINARY_PRIM(Mul, MulFn)
XFLOW_BINARY_PRIM(Div, DivFn)
XFLOW_BINARY_PRIM(FloorDiv, FloorDivFn)
XFLOW_BINARY_PRIM(Mod, ModFn)
XFLOW_BINARY_PRIM(Pow, PowFn)
XFLOW_BINARY_PRIM(Maximum, MaximumFn)
XFLOW_BINARY_PRIM(Minimum, MinimumFn)
XFLOW_BINARY_PRIM(Atan2, Atan2Fn)
XFLOW_BINARY_PRIM(Equal, EqualFn)
XFLOW_BINARY_PRIM(NotEqual, NotEqualFn)
XFLOW_BINARY_PRIM(Less, LessFn)
XFLOW_BINARY_PRIM(LessEqual, LessEqualFn)
XFLOW_BINARY_PRIM(Greater, GreaterFn)
XFLOW_BINARY_PRIM(GreaterEqual, GreaterEqualFn)
XFLOW_BINARY_PRIM(LogicalAnd, LogicalAndFn)
XFLOW_BINARY_PRIM(LogicalOr, LogicalOrFn)
XFLOW_BINARY_PRIM(LogicalXor, LogicalXorFn)
#undef XFLOW_BINARY_PRIM

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
      for (int64_t i = 0; i < n; ++i)
        o[i] = pc[off[0] + i * inner[0]] ? pa[off[1] + i * inner[1]] : pb[off[2] + i * inner[2]];
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
