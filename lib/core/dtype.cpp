#include "xflow/dtype.hpp"

#include <atomic>

#include "xflow/error.hpp"

namespace xf {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::bool_: return "bool";
    case DType::uint8: return "uint8";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::float32: return "float32";
    case DType::float64: return "float64";
  }
  return "?";
}

DType dtype_from_name(const std::string& s) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (s == dtype_name(static_cast<DType>(i))) return static_cast<DType>(i);
  throw InvalidArgument("[dtype] unknown dtype name '" + s + "'");
}

DType promote_types(DType a, DType b) { return static_cast<uint8_t>(a) >= static_cast<uint8_t>(b) ? a : b; }

namespace {
std::atomic<bool> g_strict{false};
// -1: no scope on this thread; 0/1: the innermost scope's setting.
thread_local int t_scope = -1;
}  // namespace

void set_strict_dtypes(bool on) { g_strict = on; }
bool strict_dtypes() { return t_scope >= 0 ? t_scope == 1 : g_strict.load(); }

StrictDTypeScope::StrictDTypeScope(bool on) : previous_(t_scope) { t_scope = on ? 1 : 0; }
StrictDTypeScope::~StrictDTypeScope() { t_scope = previous_; }

}  // namespace xf
