// Element types and the promotion lattice.
#pragma once
#include <cstdint>
#include <string>

namespace xf {

// The element types of a Tensor. `bool_` is stored as one byte holding 0 or 1.
enum class DType : uint8_t { bool_, uint8, int32, int64, float32, float64 };

inline constexpr int kNumDTypes = 6;

const char* dtype_name(DType d);            // "float32", ...
DType dtype_from_name(const std::string& s);  // throws InvalidArgument for an unknown name
// Bytes per element (inline: every tensor access reads it).
inline int dtype_size(DType d) {
  switch (d) {
    case DType::bool_:
    case DType::uint8: return 1;
    case DType::int32:
    case DType::float32: return 4;
    case DType::int64:
    case DType::float64: return 8;
  }
  return 0;
}
inline bool is_floating(DType d) { return d == DType::float32 || d == DType::float64; }
inline bool is_integral(DType d) { return d == DType::uint8 || d == DType::int32 || d == DType::int64; }

// Tensor-with-tensor promotion: bool < uint8 < int32 < int64 < float32 < float64, the result
// is the larger of the two (JAX's lattice restricted to xflow's dtypes; see docs/dtypes.md).
DType promote_types(DType a, DType b);

// The C++ type of each dtype's elements.
template <DType D> struct dtype_traits;
template <> struct dtype_traits<DType::bool_> { using type = uint8_t; };
template <> struct dtype_traits<DType::uint8> { using type = uint8_t; };
template <> struct dtype_traits<DType::int32> { using type = int32_t; };
template <> struct dtype_traits<DType::int64> { using type = int64_t; };
template <> struct dtype_traits<DType::float32> { using type = float; };
template <> struct dtype_traits<DType::float64> { using type = double; };

// The dtype of a C++ element type (bool maps to bool_).
template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::bool_; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::uint8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::int64; }
template <> constexpr DType dtype_of<float>() { return DType::float32; }
template <> constexpr DType dtype_of<double>() { return DType::float64; }

// Strict mode: any implicit promotion (tensors of different dtypes, or a scalar that would change
// a tensor's dtype) raises DTypeError instead, as TensorFlow does. Off by default.
void set_strict_dtypes(bool on);
bool strict_dtypes();

// Turns strict mode on (or off) for the lifetime of the scope, on this thread.
class StrictDTypeScope {
 public:
  explicit StrictDTypeScope(bool on = true);
  ~StrictDTypeScope();
  StrictDTypeScope(const StrictDTypeScope&) = delete;
  StrictDTypeScope& operator=(const StrictDTypeScope&) = delete;

 private:
  int previous_;
};

}  // namespace xf
