// Internal: the per-element functions of the elementwise primitives.
//
// Each functor has:
//   domain, result        which input dtypes the kernel accepts and what the result dtype is
//                         (ops/elementwise_kind.hpp); the public op's promotion follows from them
//   commutative           (optional, default false) f(a, b) == f(b, a): CSE may swap operands
//   batch(x...)           for float32/float64: one SIMD batch (xsimd). Eager kernels and fused
//                         kernels both call it, so fused results are bitwise equal to eager.
//   scalar(x...)          for integer dtypes (and, for `lanewise` ops, floats lane by lane)
//   pred(x...)            for ops with a bool result (exact, so scalar for every dtype)
// Integer arithmetic wraps around as NumPy's does (computed in unsigned types: no UB).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "ops/elementwise_kind.hpp"

namespace xf::ew {

template <class T> using Batch = xsimd::batch<T>;

template <class T> T wrap_add(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <class T> T wrap_sub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <class T> T wrap_mul(T a, T b) {
  using U = std::conditional_t<sizeof(T) < sizeof(unsigned), unsigned, std::make_unsigned_t<T>>;
  return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}

// xsimd's exp (and expm1, and pow through exp) leaves the type's range early: float exp is inf
// from x = 88.38 (ln(FLT_MAX) = 88.72) and 0 below -87.3 (subnormal results down to -103.97),
// double exp inf from 709.09 (709.78) and 0 below -708.4 (-745.13). Lanes in `bad` are computed
// again, lane by lane, in a wider type (double for float, long double for double) and rounded
// back: a true overflow stays inf, a finite result comes back finite. When no lane is bad this
// costs the mask's compares; eager and fused kernels both call it, so they stay bitwise equal.
template <class T> using Wider = std::conditional_t<std::is_same_v<T, float>, double, long double>;
template <class B, class M, class F>
inline B redo_lanes(const B& r, const M& bad, const B& a, const B& b, F wide) {
  using T = typename B::value_type;
  if (!xsimd::any(bad)) return r;
  alignas(64) T rv[B::size], av[B::size], bv[B::size];
  alignas(64) bool mv[B::size];
  r.store_aligned(rv);
  a.store_aligned(av);
  b.store_aligned(bv);
  bad.store_aligned(mv);
  for (std::size_t i = 0; i < B::size; ++i) {
    if (mv[i]) rv[i] = static_cast<T>(wide(static_cast<Wider<T>>(av[i]), static_cast<Wider<T>>(bv[i])));
  }
  return B::load_aligned(rv);
}
// exp-like functions: inf from a finite x, or 0 where the true result is still a subnormal.
template <class B, class F>
inline B exp_range(const B& r, const B& x, F wide) {
  using T = typename B::value_type;
  const B lowest(std::is_same_v<T, float> ? T(-103.98) : T(-745.2));
  return redo_lanes(r, (xsimd::isinf(r) && xsimd::isfinite(x)) || ((r == B(T(0))) && (x > lowest)), x, x, wide);
}

// ---- unary, same dtype out ----
struct NegFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T x) { return wrap_sub<T>(0, x); }
  template <class B> static B batch(const B& x) { return -x; }
};
struct AbsFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T x) {
    if constexpr (std::is_signed_v<T>) return x < 0 ? wrap_sub<T>(0, x) : x;
    else return x;
  }
  template <class B> static B batch(const B& x) { return xsimd::abs(x); }
};
struct SignFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T x) { return static_cast<T>((x > 0) - (x < 0)); }
  template <class B> static B batch(const B& x) {
    return xsimd::select(x > B(0), B(1), xsimd::select(x < B(0), B(-1), x));
  }
};
struct SquareFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T x) { return wrap_mul(x, x); }
  template <class B> static B batch(const B& x) { return x * x; }
};
struct ReluFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T x) { return x < 0 ? T(0) : x; }
  template <class B> static B batch(const B& x) { return xsimd::select(x < B(0), B(0), x); }
};
#define XFLOW_FLOAT_UNARY(Name, expr)                          \
  struct Name {                                                \
    static constexpr Domain domain = Domain::floating;         \
    static constexpr Result result = Result::floating;         \
    template <class B> static B batch(const B& x) { return expr; } \
  };
// Rounding: float kernels; an integer input is already whole and is returned as it is.
#define XFLOW_ROUNDING_UNARY(Name, expr)                       \
  struct Name {                                                \
    static constexpr Domain domain = Domain::floating;         \
    static constexpr Result result = Result::same;             \
    template <class B> static B batch(const B& x) { return expr; } \
  };
XFLOW_FLOAT_UNARY(ExpFn, exp_range(xsimd::exp(x), x, [](auto v, auto) { return std::exp(v); }))
XFLOW_FLOAT_UNARY(Expm1Fn, exp_range(xsimd::expm1(x), x, [](auto v, auto) { return std::expm1(v); }))
XFLOW_FLOAT_UNARY(LogFn, xsimd::log(x))
XFLOW_FLOAT_UNARY(Log1pFn, xsimd::log1p(x))
XFLOW_FLOAT_UNARY(SqrtFn, xsimd::sqrt(x))
XFLOW_FLOAT_UNARY(RsqrtFn, B(1) / xsimd::sqrt(x))
XFLOW_FLOAT_UNARY(ReciprocalFn, B(1) / x)
XFLOW_FLOAT_UNARY(SinFn, xsimd::sin(x))
XFLOW_FLOAT_UNARY(CosFn, xsimd::cos(x))
XFLOW_FLOAT_UNARY(TanFn, xsimd::tan(x))
XFLOW_FLOAT_UNARY(TanhFn, xsimd::tanh(x))
XFLOW_FLOAT_UNARY(SigmoidFn, B(1) / (B(1) + xsimd::exp(-x)))
XFLOW_FLOAT_UNARY(ErfFn, xsimd::erf(x))
XFLOW_ROUNDING_UNARY(FloorFn, xsimd::floor(x))
XFLOW_ROUNDING_UNARY(CeilFn, xsimd::ceil(x))
XFLOW_ROUNDING_UNARY(RoundFn, xsimd::nearbyint(x))  // half to even, as NumPy
#undef XFLOW_FLOAT_UNARY
#undef XFLOW_ROUNDING_UNARY

// ---- unary, bool out ----
struct LogicalNotFn {
  static constexpr Domain domain = Domain::truth;
  static constexpr Result result = Result::boolean;
  template <class T> static bool pred(T x) { return x == T(0); }
};
struct IsNanFn {
  static constexpr Domain domain = Domain::any;
  static constexpr Result result = Result::boolean;
  template <class T> static bool pred(T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(x);
    else return false;
  }
};
struct IsInfFn {
  static constexpr Domain domain = Domain::any;
  static constexpr Result result = Result::boolean;
  template <class T> static bool pred(T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isinf(x);
    else return false;
  }
};
struct IsFiniteFn {
  static constexpr Domain domain = Domain::any;
  static constexpr Result result = Result::boolean;
  template <class T> static bool pred(T x) {
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(x);
    else return true;
  }
};

// ---- binary, same dtype out ----
struct AddFn {
  static constexpr bool commutative = true;
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T a, T b) { return wrap_add(a, b); }
  template <class B> static B batch(const B& a, const B& b) { return a + b; }
};
struct SubFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T a, T b) { return wrap_sub(a, b); }
  template <class B> static B batch(const B& a, const B& b) { return a - b; }
};
struct MulFn {
  static constexpr bool commutative = true;
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T a, T b) { return wrap_mul(a, b); }
  template <class B> static B batch(const B& a, const B& b) { return a * b; }
};
struct DivFn {
  static constexpr Domain domain = Domain::floating;
  static constexpr Result result = Result::floating;
  template <class B> static B batch(const B& a, const B& b) { return a / b; }
};
// NumPy's divmod, so results match np.floor_divide / np.mod bit for bit. Lane by lane: the C
// library's fmod is exact, xsimd's is not.
template <class T> T float_mod(T a, T b) {
  T mod = std::fmod(a, b);
  if (b == 0) return mod;
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(T(0), b);
  }
  return mod;
}
template <class T> T float_floor_div(T a, T b) {
  if (b == 0) return a / b;
  T mod = std::fmod(a, b);
  T div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= T(1);
  if (div != 0) {
    T fl = std::floor(div);
    if (div - fl > T(0.5)) fl += T(1);
    return fl;
  }
  return std::copysign(T(0), a / b);
}
template <class F, class B> B lanewise(const B& a, const B& b, F f) {
  using T = typename B::value_type;
  alignas(64) T x[B::size], y[B::size];
  a.store_aligned(x);
  b.store_aligned(y);
  for (std::size_t i = 0; i < B::size; ++i) x[i] = f(x[i], y[i]);
  return B::load_aligned(x);
}
struct FloorDivFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return float_floor_div(a, b);
    } else {
      if (b == 0) return 0;  // NumPy returns 0 (with a warning)
      if constexpr (std::is_signed_v<T>)
        if (b == -1) return wrap_sub<T>(0, a);
      T q = static_cast<T>(a / b);
      if constexpr (std::is_signed_v<T>)
        if (a % b != 0 && ((a < 0) != (b < 0))) --q;
      return q;
    }
  }
  template <class B> static B batch(const B& a, const B& b) {
    return lanewise(a, b, [](auto x, auto y) { return float_floor_div(x, y); });
  }
};
struct ModFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return float_mod(a, b);
    } else {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>)
        if (b == -1) return 0;
      T r = static_cast<T>(a % b);
      if constexpr (std::is_signed_v<T>)
        if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      return r;
    }
  }
  template <class B> static B batch(const B& a, const B& b) {
    return lanewise(a, b, [](auto x, auto y) { return float_mod(x, y); });
  }
};
struct PowFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  // Integer powers by squaring; a negative exponent gives 1 / a^-e truncated (0 unless |a| = 1).
  template <class T> static T scalar(T a, T e) {
    if constexpr (std::is_signed_v<T>) {
      if (e < 0) {
        if (a == 1) return 1;
        if (a == -1) return (e % 2) ? T(-1) : T(1);
        return 0;
      }
    }
    T acc = 1;
    T base = a;
    while (e > 0) {
      if (e & 1) acc = wrap_mul(acc, base);
      base = wrap_mul(base, base);
      e = static_cast<T>(e >> 1);
    }
    return acc;
  }
  // xsimd's pow is exp(b * log|a|) with a sign fix; the cases where that formula fails get C99's
  // (Annex F) values, as NumPy's pow has: a^0 = 1 and 1^b = 1 (even for NaN), (-1)^inf = 1,
  // (+-0)^b = +-inf for b < 0, (-inf)^b for non-integer b, and the sign for even integers b
  // beyond 2^24 (xsimd's is_odd(b) computes b - 1, which rounds back to b there).
  template <class B> static B batch(const B& a, const B& b) {
    using T = typename B::value_type;
    const B zero(T(0)), one(T(1)), inf(std::numeric_limits<T>::infinity());
    B z = xsimd::pow(a, b);
    auto b_int = xsimd::is_flint(b);
    auto b_odd = b_int && !xsimd::is_flint(b * B(T(0.5)));
    z = xsimd::select((a < zero) && b_int, xsimd::select(b_odd, -xsimd::abs(z), xsimd::abs(z)), z);
    B zero_pow = xsimd::select(b < zero, inf, xsimd::select(b > zero, zero, b));  // NaN b stays NaN
    z = xsimd::select(a == zero, xsimd::select(b_odd, xsimd::copysign(zero_pow, a), zero_pow), z);
    z = xsimd::select((a == -inf) && !xsimd::isnan(b) && !b_int, xsimd::select(b > zero, inf, zero), z);
    z = xsimd::select((b == zero) || (a == one) || ((a == -one) && xsimd::isinf(b)), one, z);
    // Overflow before the range's end (exp inside xsimd's pow): pow(10.f, 38.5f), pow(2.f, 127.5f).
    return redo_lanes(z, xsimd::isinf(z) && xsimd::isfinite(a) && xsimd::isfinite(b), a, b,
                      [](auto x, auto y) { return std::pow(x, y); });
  }
};
// NumPy's maximum/minimum: NaN propagates from either side.
struct MaximumFn {
  static constexpr bool commutative = true;
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T a, T b) { return a >= b ? a : b; }
  // (xsimd's `a != a` is an ordered compare, false for NaN: isnan is the unordered one.)
  template <class B> static B batch(const B& a, const B& b) { return xsimd::select((a >= b) || xsimd::isnan(a), a, b); }
};
struct MinimumFn {
  static constexpr bool commutative = true;
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T a, T b) { return a <= b ? a : b; }
  template <class B> static B batch(const B& a, const B& b) { return xsimd::select((a <= b) || xsimd::isnan(a), a, b); }
};
// TensorFlow's ReluGrad(gradients, features): the gradient where features > 0, else 0 (a NaN
// feature gives 0). One pass, where relu's gradient written as where(x > 0, g, 0) takes two and a
// bool tensor (decision 180).
struct ReluGradFn {
  static constexpr Domain domain = Domain::numeric;
  static constexpr Result result = Result::same;
  template <class T> static T scalar(T g, T x) { return x > T(0) ? g : T(0); }
  template <class B> static B batch(const B& g, const B& x) { return xsimd::select(x > B(0), g, B(0)); }
};
struct Atan2Fn {
  static constexpr Domain domain = Domain::floating;
  static constexpr Result result = Result::floating;
  // xsimd's atan2 divides a by b first, so (+-0, +-0) and (+-inf, +-inf) become NaN; C99 gives
  // +-0 or +-pi, and +-pi/4 or +-3pi/4 (the sign of a, the quadrant from b's sign).
  template <class B> static B batch(const B& a, const B& b) {
    using T = typename B::value_type;
    B z = xsimd::atan2(a, b);
    auto b_neg = xsimd::copysign(B(T(1)), b) < B(T(0));
    auto zeros = (a == B(T(0))) && (b == B(T(0)));
    auto infs = xsimd::isinf(a) && xsimd::isinf(b);
    B fix = xsimd::select(zeros, xsimd::select(b_neg, B(T(3.141592653589793)), B(T(0))),
                          xsimd::select(b_neg, B(T(2.356194490192345)), B(T(0.7853981633974483))));
    return xsimd::select(zeros || infs, xsimd::copysign(fix, a), z);
  }
};

// NumPy's hypot (C99's): sqrt(a^2 + b^2) without overflow or underflow in between, as
// big * sqrt(1 + (small/big)^2). hypot(+-inf, anything) = inf, NaN included; otherwise a NaN gives
// NaN; hypot(0, 0) = 0. (xsimd 8.1's hypot is sqrt(fma(a, a, b * b)): it overflows for |a| > 1e154
// in float64 and turns (inf, NaN) into NaN.)
struct HypotFn {
  static constexpr Domain domain = Domain::floating;
  static constexpr Result result = Result::floating;
  static constexpr bool commutative = true;
  template <class B> static B batch(const B& a, const B& b) {
    using T = typename B::value_type;
    const B zero(T(0)), one(T(1));
    B x = xsimd::abs(a), y = xsimd::abs(b);
    B big = xsimd::select(x > y, x, y), small = xsimd::select(x > y, y, x);
    B r = small / xsimd::select(big == zero, one, big);
    B z = big * xsimd::sqrt(one + r * r);
    z = xsimd::select(big == zero, zero, z);
    z = xsimd::select(xsimd::isnan(a) || xsimd::isnan(b), a + b, z);
    return xsimd::select(xsimd::isinf(a) || xsimd::isinf(b), B(std::numeric_limits<T>::infinity()), z);
  }
};
// NumPy's logaddexp: log(exp(a) + exp(b)) as max(a, b) + log1p(exp(-|a - b|)); a == b gives
// a + log(2) (so equal infinities stay infinite instead of inf - inf = NaN); a NaN gives NaN.
struct LogAddExpFn {
  static constexpr Domain domain = Domain::floating;
  static constexpr Result result = Result::floating;
  static constexpr bool commutative = true;
  template <class B> static B batch(const B& a, const B& b) {
    using T = typename B::value_type;
    B d = a - b;
    B m = xsimd::select(a > b, a, b);
    B z = m + xsimd::log1p(xsimd::exp(-xsimd::abs(d)));
    z = xsimd::select(xsimd::isnan(d), d, z);
    return xsimd::select(a == b, a + B(T(0.693147180559945309417232121458176568)), z);
  }
};

// ---- binary, bool out ----
#define XFLOW_PRED2(Name, dom, comm, expr)                        \
  struct Name {                                                   \
    static constexpr Domain domain = Domain::dom;                 \
    static constexpr Result result = Result::boolean;             \
    static constexpr bool commutative = comm;                     \
    template <class T> static bool pred(T a, T b) { return expr; } \
  };
XFLOW_PRED2(EqualFn, any, true, a == b)
XFLOW_PRED2(NotEqualFn, any, true, a != b)
XFLOW_PRED2(LessFn, any, false, a < b)
XFLOW_PRED2(LessEqualFn, any, false, a <= b)
XFLOW_PRED2(GreaterFn, any, false, a > b)
XFLOW_PRED2(GreaterEqualFn, any, false, a >= b)
XFLOW_PRED2(LogicalAndFn, truth, true, (a != T(0)) && (b != T(0)))
XFLOW_PRED2(LogicalOrFn, truth, true, (a != T(0)) || (b != T(0)))
XFLOW_PRED2(LogicalXorFn, truth, true, (a != T(0)) != (b != T(0)))
#undef XFLOW_PRED2

template <class Fn, class = void> struct is_commutative : std::false_type {};
template <class Fn> struct is_commutative<Fn, std::void_t<decltype(Fn::commutative)>>
    : std::integral_constant<bool, Fn::commutative> {};

template <class Fn, class = void> struct is_predicate : std::false_type {};
template <class Fn> struct is_predicate<Fn, std::void_t<decltype(&Fn::template pred<float>)>> : std::true_type {};

}  // namespace xf::ew
