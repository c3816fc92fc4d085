// Shapes, strides and broadcasting.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <type_traits>
#include <string>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/small_vector.hpp"

namespace xf {

// The extents or strides of a tensor: a vector of int64_t that keeps rank <= 6 inline, so a
// tensor's description needs no allocation of its own. It reads and writes like
// std::vector<int64_t> (brace initialization, size, [], iterators, push_back, insert, erase,
// ==) and converts to and from it implicitly, so code written against std::vector<int64_t>
// shapes keeps compiling.
class Dims : public SmallVector<int64_t, 6> {
  using Base = SmallVector<int64_t, 6>;

 public:
  Dims() noexcept = default;
  explicit Dims(size_t n) : Base(n) {}
  Dims(size_t n, int64_t v) : Base(n, v) {}
  template <class It, std::enable_if_t<!std::is_integral_v<It>, int> = 0>
  Dims(It first, It last) : Base(first, last) {}
  Dims(std::initializer_list<int64_t> il) : Base(il) {}
  Dims(const std::vector<int64_t>& v) : Base(v.begin(), v.end()) {}  // NOLINT: implicit on purpose
  Dims& operator=(std::initializer_list<int64_t> il) {
    assign(il.begin(), il.end());
    return *this;
  }
  Dims& operator=(const std::vector<int64_t>& v) {
    assign(v.begin(), v.end());
    return *this;
  }
  operator std::vector<int64_t>() const { return std::vector<int64_t>(begin(), end()); }  // NOLINT
  // The same values as a std::vector<int64_t> (for calls that need exactly that type).
  std::vector<int64_t> vec() const { return std::vector<int64_t>(begin(), end()); }
};

// A plain loop: shapes are short, and std::equal on int64_t becomes a memcmp call.
inline bool operator==(const Dims& a, const Dims& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}
inline bool operator!=(const Dims& a, const Dims& b) { return !(a == b); }
inline bool operator==(const Dims& a, const std::vector<int64_t>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
inline bool operator==(const std::vector<int64_t>& a, const Dims& b) { return b == a; }
inline bool operator!=(const Dims& a, const std::vector<int64_t>& b) { return !(a == b); }
inline bool operator!=(const std::vector<int64_t>& a, const Dims& b) { return !(b == a); }
inline bool operator<(const Dims& a, const Dims& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

using Shape = Dims;
using Strides = Dims;  // in elements, may be 0 (broadcast) or negative

inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}
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
