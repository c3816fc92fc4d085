// Numerics checking: a mode in which every op whose float output holds a NaN or an Inf stops the
// program with InvalidArgument naming the op, its inputs and the caller (docs/debugging.md).
//
// The mode is on while a CheckNumericsScope lives (on any thread: the mode is process-wide, as
// tf.debugging.enable_check_numerics is), or for the whole process when the environment variable
// XFLOW_CHECK_NUMERICS is 1. Eager ops, Graph::run, plan replays (traced functions) and
// Session::run check in this mode; off, the cost is one relaxed atomic load per op or run.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "xflow/tensor.hpp"

namespace xf::debug {

namespace detail {
// -1: XFLOW_CHECK_NUMERICS not read yet; else (variable is 1) + 2 * (live scopes).
extern std::atomic<int> g_numerics_state;
int numerics_state_slow();
}  // namespace detail

// Whether the numerics-checking mode is on.
inline bool check_numerics_enabled() {
  int s = detail::g_numerics_state.load(std::memory_order_relaxed);
  if (s < 0) s = detail::numerics_state_slow();
  return s != 0;
}

// Turns the numerics-checking mode on for its lifetime (nestable).
class CheckNumericsScope {
 public:
  CheckNumericsScope();
  ~CheckNumericsScope();
  CheckNumericsScope(const CheckNumericsScope&) = delete;
  CheckNumericsScope& operator=(const CheckNumericsScope&) = delete;
};

// Summary values of a tensor: NaN and Inf counts, and min/max/mean over its finite elements (all
// elements for integer and bool tensors; `finite` is 0 when there is none, and min/max/mean are
// then 0).
struct ValueSummary {
  int64_t count = 0;
  int64_t nan = 0;
  int64_t pos_inf = 0;
  int64_t neg_inf = 0;
  int64_t finite = 0;
  double min = 0, max = 0, mean = 0;
  int64_t inf() const { return pos_inf + neg_inf; }
  bool bad() const { return nan + pos_inf + neg_inf > 0; }
};
ValueSummary summarize(const Tensor& t);

// "(2, 3) float32 min -1 max 2.5 NaN 1 Inf 0" (the summary of one tensor, for messages).
std::string summary_str(const Tensor& t);

// TensorFlow's CheckNumerics status word for a tensor with bad values: "NaN", "Inf" or
// "Inf and NaN"; "" when every element is finite.
std::string bad_values_word(const ValueSummary& s);

// The check of the numerics-checking mode: throws InvalidArgument
//   "[op] numerics check: output k (2, 3) float32 has NaN values (1 NaN, 0 Inf of 6); inputs:
//    a (2, 3) float32 min .. max .. NaN 0 Inf 0, ... (file.cpp:12)"
// for the first float output holding a NaN or an Inf. `where` (e.g. "node 3 'dense1/div'") goes
// after the op's name when not empty.
void check_outputs(const char* op, const std::string& where, const std::vector<Tensor>& inputs,
                   const std::vector<Tensor>& outputs, Loc loc);

}  // namespace xf::debug
