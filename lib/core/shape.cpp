#include "xflow/shape.hpp"

#include <algorithm>

namespace xf {

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

Strides contiguous_strides(const Shape& s) {
  Strides st(s.size());
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op, Loc loc) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else
      raise(ErrorCode::shape, op, "shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast", loc);
  }
  return out;
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* op, Loc loc) {
  if (axis < -rank || axis >= rank || rank == 0)
    raise(ErrorCode::axis, op,
          "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank), loc);
  return axis < 0 ? axis + rank : axis;
}

}  // namespace xf
