// Internal: run a generic lambda with the C++ element type of a dtype.
#pragma once
#include <cstdint>
#include <type_traits>

#include "xflow/dtype.hpp"
#include "xflow/error.hpp"

namespace xf::detail {

template <class T> struct Tag { using type = T; };

// f(Tag<T>{}) with T the element type of d (bool_ -> uint8_t).
template <class F>
decltype(auto) visit_dtype(DType d, F&& f) {
  switch (d) {
    case DType::bool_: return f(Tag<uint8_t>{});
    case DType::uint8: return f(Tag<uint8_t>{});
    case DType::int32: return f(Tag<int32_t>{});
    case DType::int64: return f(Tag<int64_t>{});
    case DType::float32: return f(Tag<float>{});
    case DType::float64: return f(Tag<double>{});
  }
  throw Internal("visit_dtype: bad dtype");
}

// Element-size dispatch for copies that do not depend on the value type.
template <class F>
decltype(auto) visit_size(int size, F&& f) {
  switch (size) {
    case 1: return f(Tag<uint8_t>{});
    case 4: return f(Tag<uint32_t>{});
    case 8: return f(Tag<uint64_t>{});
  }
  throw Internal("visit_size: bad element size");
}

}  // namespace xf::detail
