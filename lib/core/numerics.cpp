// The numerics-checking mode's switch, tensor summaries and the check itself.
#include "xflow/numerics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <type_traits>

#include "core/dispatch.hpp"
#include "xflow/error.hpp"

namespace xf::debug {

namespace detail {
std::atomic<int> g_numerics_state{-1};

int numerics_state_slow() {
  const char* v = std::getenv("XFLOW_CHECK_NUMERICS");
  int env = (v && std::strcmp(v, "1") == 0) ? 1 : 0;
  int expected = -1;
  // Another thread (or a scope) may have resolved it first; its value wins.
  g_numerics_state.compare_exchange_strong(expected, env, std::memory_order_relaxed);
  return g_numerics_state.load(std::memory_order_relaxed);
}
}  // namespace detail

CheckNumericsScope::CheckNumericsScope() {
  if (detail::g_numerics_state.load(std::memory_order_relaxed) < 0) detail::numerics_state_slow();
  detail::g_numerics_state.fetch_add(2, std::memory_order_relaxed);
}

CheckNumericsScope::~CheckNumericsScope() { detail::g_numerics_state.fetch_sub(2, std::memory_order_relaxed); }

ValueSummary summarize(const Tensor& t) {
  ValueSummary s;
  if (!t.defined()) return s;
  Tensor c = t.contiguous();
  s.count = c.size();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  xf::detail::visit_dtype(c.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c.data<T>();
    for (int64_t i = 0; i < s.count; ++i) {
      double x = static_cast<double>(p[i]);
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(p[i])) {
          ++s.nan;
          continue;
        }
        if (std::isinf(p[i])) {
          ++(p[i] > 0 ? s.pos_inf : s.neg_inf);
          continue;
        }
      }
      ++s.finite;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      sum += x;
    }
  });
  if (s.finite > 0) {
    s.min = lo;
    s.max = hi;
    s.mean = sum / static_cast<double>(s.finite);
  }
  return s;
}

namespace {
std::string num(double x) {
  std::ostringstream os;
  os.precision(6);
  os << x;
  return os.str();
}
}  // namespace

std::string summary_str(const Tensor& t) {
  if (!t.defined()) return "an empty handle";
  ValueSummary s = summarize(t);
  std::string out = shape_str(t.shape()) + " " + dtype_name(t.dtype());
  if (s.finite > 0) out += " min " + num(s.min) + " max " + num(s.max);
  else if (s.count > 0) out += " (no finite value)";
  if (is_floating(t.dtype())) out += " NaN " + std::to_string(s.nan) + " Inf " + std::to_string(s.inf());
  return out;
}

std::string bad_values_word(const ValueSummary& s) {
  if (s.inf() > 0 && s.nan > 0) return "Inf and NaN";
  if (s.inf() > 0) return "Inf";
  if (s.nan > 0) return "NaN";
  return "";
}

void check_outputs(const char* op, const std::string& where, const std::vector<Tensor>& inputs,
                   const std::vector<Tensor>& outputs, Loc loc) {
  for (size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& y = outputs[k];
    if (!y.defined() || !is_floating(y.dtype())) continue;
    ValueSummary s = summarize(y);
    if (!s.bad()) continue;
    static const char* const kNames[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    std::string ins;
    for (size_t i = 0; i < inputs.size(); ++i) {
      ins += i ? ", " : "";
      ins += inputs.size() == 1 ? std::string("x") : i < 8 ? std::string(kNames[i]) : "input " + std::to_string(i);
      ins += " " + summary_str(inputs[i]);
    }
    std::string msg = std::string(where.empty() ? "" : where + ": ") + "numerics check: output " + std::to_string(k) +
                      " " + shape_str(y.shape()) + " " + dtype_name(y.dtype()) + " has " + bad_values_word(s) +
                      " values (" + std::to_string(s.nan) + " NaN, " + std::to_string(s.inf()) + " Inf of " +
                      std::to_string(s.count) + ")" + (inputs.empty() ? std::string("; no inputs") : "; inputs: " + ins);
    raise(ErrorCode::invalid_argument, op, msg, loc);
  }
}

}  // namespace xf::debug
