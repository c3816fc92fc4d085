// Internal: assigning a result its caller computed and gives up (assign_add, assign_sub, the
// optimizers' updates).
#pragma once
#include "xflow/variable.hpp"

namespace xf {

// var.assign(x), except that when no observer records the thread's ops, the numerics check is
// off and `x` is the only handle on its buffer (a fresh result no one else can read or write),
// `x` becomes the variable's value without the copy (docs/decisions.md, 160 and 178). Pass the
// result with std::move: a second handle makes it a plain assign.
Tensor assign_fresh(const Variable& var, Tensor x, Loc loc);

}  // namespace xf
