// Internal: fused elementwise kernels. A group of elementwise nodes with one output shape and one
// float dtype becomes a small program run tile by tile: each instruction calls the same loop over
// SIMD batches (ops/elementwise_loops.hpp) as the eager kernel, so results are bitwise equal.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "graph/node.hpp"
#include "xflow/plan.hpp"

namespace xf {

// Whether node `n` can join a fused group (float dtype, elementwise, with a batch function).
bool fusible(const Graph& g, const GraphNode& n);
// Whether node `n` can end a fused group whose elements it reduces: reduce_sum/prod/max/min of a
// float value over its trailing axes (after merging size-1 axes) that include the last axis, with
// at most kMaxFusedRun elements per output element (the per-task buffer stays small) and at least
// one element.
inline constexpr int64_t kMaxFusedRun = 1 << 16;
bool fusible_reduction(const Graph& g, const GraphNode& n);

// How an input of shape `in` is read by a fused group whose output has shape `out`: the same
// shape, one element, varying along the last axis only (a bias row: element e reads in[e % cols]),
// constant along the last axis (a column: element e reads in[e / cols]), or not fusible.
enum class FusedRead { full, scalar, row, column, none };
FusedRead fused_read(const Shape& in, const Shape& out);

struct Plan::Fused {
  DType dtype = DType::float32;
  int64_t size = 0;              // elements of the output shape
  int64_t cols = 0;              // the output's last axis when an input is a row or a column, else 0:
                                 // then runs split at row ends and index those inputs by row
  std::vector<int> ext_values;   // external inputs (value ids), read as their operands say; a
                                 // broadcast_to view is replaced by its input where that reads
  std::vector<FusedRead> ext_reads;  // how each external input is read (its operands' read)
  std::vector<int> out_values;   // materialized outputs (value ids)
  // A group may end in a reduction over the trailing axes of its elementwise shape
  // (reduce_sum/prod/max/min, decision 182): the program (interpreted or generated) then writes
  // the reduced value as one more output, `out[out_values.size()]`, into a per-task buffer of
  // whole runs of `red` elements, and the shared reduction kernel (ops/reduce_kernels.hpp)
  // reduces them into `reduce_value` (not in out_values; passed to run() after them).
  // Prim::count_: no reduction.
  Prim reduce = Prim::count_;
  int64_t red = 0;
  int reduce_value = -1;
  // Outputs the program writes: out_values, and the reduced value's buffer when reducing.
  size_t program_outputs() const { return out_values.size() + (reduce != Prim::count_ ? 1 : 0); }
  struct Operand {
    enum Kind { ext, temp, out } kind = temp;
    int index = 0;
    int64_t stride = 1;          // 0: a one-element external input broadcast over the tile
    FusedRead read = FusedRead::full;  // for external inputs: row and column index by `cols`
  };
  struct Instr {
    const void* fn = nullptr;    // tile function for `dtype`
    const char* functor = "";    // the functor's name in xf::ew (for generated code)
    bool unary = false;
    Operand a, b, y;
  };
  std::vector<Instr> program;
  int temps = 0;
  // A compiled kernel for this program (codegen.cpp), or null: then the tile interpreter runs.
  using Kernel = void (*)(const void* const* ext, void* const* out, int64_t begin, int64_t end);
  Kernel kernel = nullptr;
  std::string kernel_hash;  // the kernel cache's key of `kernel` (its file is fused_<key>.so); empty when interpreted

  // Builds the program for `nodes` (in execution order) whose materialized outputs are `outputs`.
  static std::shared_ptr<Fused> build(const Graph& g, const std::vector<int>& nodes, const std::vector<int>& outputs);
  // Runs it: ext[i] points to the data of ext_values[i], out[i] to the (contiguous) buffer of
  // out_values[i], then (when reducing) out[out_values.size()] to reduce_value's.
  void run(const std::vector<const void*>& ext, const std::vector<void*>& out) const;
};
// C++ source of a kernel equivalent to `f`'s program (one loop over SIMD batches calling the same
// functors), and a compiled, cached, loaded kernel for it; null when no compiler is usable. `key`,
// when given, receives the kernel's cache key when a kernel is returned.
std::string kernel_source(const Plan::Fused& f);
Plan::Fused::Kernel compile_kernel(const Plan::Fused& f, std::string* key = nullptr);

}  // namespace xf
