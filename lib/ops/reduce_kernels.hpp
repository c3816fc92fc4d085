// Internal: the reductions' kernel over contiguous runs, shared by reduce_sum/prod/max/min's eval
// and by fused groups that end in a reduction (lib/exec/fusion.cpp), so both run the same
// machine code on the same values and give the same bits.
#pragma once
#include <cstdint>
#include <vector>

#include "ops/primitive.hpp"
#include "xflow/shape.hpp"

namespace xf {

// A reduction over `axes` of a contiguous tensor of `shape`, seen as (outer, red) rows of red
// contiguous elements (inner = true) or (red, outer) (inner = false) after merging axes; `direct`
// is false when the axes need a transpose first. reduce_sum/prod/max/min's eval uses the same view.
struct ReduceView {
  int64_t outer = 1, red = 1;
  bool inner = true;
  bool direct = true;
};
ReduceView reduce_view(const Shape& shape, const std::vector<int64_t>& axes);

// Whether `p` is one of reduce_sum, reduce_prod, reduce_max, reduce_min.
bool is_float_reduction(Prim p);

// y[i] = the reduction `p` (see is_float_reduction) of x[i * red, (i + 1) * red) for i < rows,
// float32 or float64 `d`, red >= 1. `whole`: the tensor's only run (rows == 1), whose blocks may
// be spread over threads (the result does not depend on it).
void reduce_runs(Prim p, DType d, const void* x, int64_t rows, int64_t red, void* y, bool whole);

}  // namespace xf
