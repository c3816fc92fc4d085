// The bridge between xflow Tensors and xtensor. Include it only where you need xtensor: it pulls
// in xtensor's headers, which compile slowly.
#pragma once
#include <memory>
#include <utility>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include "xflow/tensor.hpp"

namespace xf {

namespace detail {
template <class T> void check_bridge_dtype(const Tensor& t, const char* op, Loc loc) {
  using E = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;
  DType want = std::is_same_v<T, bool> ? DType::bool_ : dtype_of<E>();
  bool ok = t.dtype() == want || (std::is_same_v<E, uint8_t> && t.dtype() == DType::bool_);
  if (!ok)
    raise(ErrorCode::dtype, op,
          std::string("tensor is ") + shape_str(t.shape()) + " " + dtype_name(t.dtype()) +
              ", asked for " + dtype_name(want),
          loc);
}
}  // namespace detail

// An xtensor expression viewing the tensor's memory (no copy; strides and offset respected).
// T must be the tensor's element type (uint8_t for bool). The view is valid while `t` lives.
template <class T>
auto as_xtensor(const Tensor& t, Loc loc = Loc::current()) {
  detail::check_bridge_dtype<T>(t, "as_xtensor", loc);
  std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<std::ptrdiff_t> strides(t.strides().begin(), t.strides().end());
  return xt::adapt(t.data<T>(), static_cast<std::size_t>(t.size()), xt::no_ownership(), shape, strides);
}

// A copy as an xt::xarray.
template <class T>
xt::xarray<T> to_xarray(const Tensor& t, Loc loc = Loc::current()) {
  return xt::xarray<T>(as_xtensor<T>(t, loc));
}

// Adopts an xarray's memory without copying: the tensor keeps the array alive.
template <class T>
Tensor from_xarray(xt::xarray<T>&& a) {
  auto holder = std::make_shared<xt::xarray<T>>(std::move(a));
  Shape shape(holder->shape().begin(), holder->shape().end());
  Strides strides = contiguous_strides(shape);
  if (holder->layout() != xt::layout_type::row_major) {
    xt::xarray<T> row = *holder;  // row-major copy (xarray's default layout)
    holder = std::make_shared<xt::xarray<T>>(std::move(row));
  }
  auto buf = Buffer::adopt(holder->data(), holder->size() * sizeof(T), holder);
  return Tensor::view(std::move(buf), dtype_of<T>(), std::move(shape), std::move(strides), 0);
}

// A copy of any xtensor expression.
template <class E>
Tensor from_xexpression(const E& e) {
  using T = typename E::value_type;
  xt::xarray<T> a = e;
  return from_xarray(std::move(a));
}

}  // namespace xf
