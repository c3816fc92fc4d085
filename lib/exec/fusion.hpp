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
  std::vector<int> out_values;   // materialized outputs (value ids)
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
  // Runs it: ext[i] points to the data of ext_values[i], out[i] to the (contiguous) buffer of out_values[i].
  void run(const std::vector<const void*>& ext, const std::vector<void*>& out) const;
};
// C++ source of a kernel equivalent to `f`'s program (one loop over SIMD batches calling the same
// functors), and a compiled, cached, loaded kernel for it; null when no compiler is usable. `key`,
// when given, receives the kernel's cache key when a kernel is returned.
std::string kernel_source(const Plan::Fused& f);
Plan::Fused::Kernel compile_kernel(const Plan::Fused& f, std::string* key = nullptr);

}  // namespace xf
