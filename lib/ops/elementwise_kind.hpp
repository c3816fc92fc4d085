// Internal: what an elementwise functor (ops/elementwise_fns.hpp) says about itself, in a header
// without xsimd, so the primitive table, the public ops and the generated kernels can all read it.
//
// A functor declares its `domain` (the dtypes its kernel accepts) and its `result` (what dtype an
// input of another kind turns into). The public op's promotion rule is derived from the two
// (promotion_of); nothing else names an op's promotion kind.
#pragma once

namespace xf::ew {

// The input dtypes the kernel accepts.
enum class Domain {
  floating,  // float32, float64
  numeric,   // every dtype but bool
  any,       // every dtype
  truth,     // every dtype, read as "nonzero" (logical ops)
};

// The result dtype.
enum class Result {
  same,      // the (promoted) input dtype; with a float domain, an integer input is returned as it is
  floating,  // a float: integer and bool inputs become float32 first
  boolean,   // bool (the functor has `pred`, not `batch`)
};

// How the public op prepares its inputs (docs/dtypes.md, "Op-specific rules").
enum class Promotion {
  float_fn,   // integer and bool inputs become float32 (exp, div, atan2, hypot, ...)
  numeric,    // promote to the common dtype; bool raises DTypeError (add, neg, ...)
  rounding,   // an integer input is returned unchanged (floor, ceil, round)
  compare,    // promote to the common dtype, bool result (equal, isnan, ...)
  logical,    // inputs read as bool, no promotion (logical_and, ...)
  invalid,    // a combination no rule covers: elementwise.cpp refuses it at compile time
};

constexpr Promotion promotion_of(Domain d, Result r) {
  if (r == Result::boolean) {
    if (d == Domain::truth) return Promotion::logical;
    if (d == Domain::any) return Promotion::compare;
    return Promotion::invalid;
  }
  if (d == Domain::floating) return r == Result::floating ? Promotion::float_fn : Promotion::rounding;
  if (d == Domain::numeric && r == Result::same) return Promotion::numeric;
  return Promotion::invalid;
}

}  // namespace xf::ew
