// Shapes, strides and broadcasting.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "xflow/error.hpp"

namespace xf {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;  // in elements, may be 0 (broadcast) or negative

int64_t numel(const Shape& s);
// "(2, 3)", "()" for a scalar, "(4,)" for rank 1.
std::string shape_str(const Shape& s);
// Row-major strides of a contiguous tensor of shape s.
Strides contiguous_strides(const Shape& s);
// NumPy broadcasting of two shapes; throws ShapeError naming `op` and `loc`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast_shapes",
                       Loc loc = Loc::current());
// Maps a possibly negative axis into [0, rank); throws AxisError (an InvalidArgument) naming `op`.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* op, Loc loc = Loc::current());

}  // namespace xf
