#include <catch2/catch.hpp>
#include <xtensor/xview.hpp>

#include "xflow/xflow.hpp"
#include "xflow/xtensor.hpp"

using namespace xf;

TEST_CASE("from_xarray adopts the memory without copying", "[xtensor]") {
  xt::xarray<float> a = {{1, 2, 3}, {4, 5, 6}};
  const float* p = a.data();
  Tensor t = from_xarray(std::move(a));
  CHECK(t.data<float>() == p);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.dtype() == DType::float32);
  CHECK((t * 2.0f).to_vector<float>() == std::vector<float>{2, 4, 6, 8, 10, 12});
}

TEST_CASE("as_xtensor views a tensor, strides included", "[xtensor]") {
  Tensor m = reshape(arange(6, DType::float64), {2, 3});
  auto v = as_xtensor<double>(m);
  CHECK(v(1, 2) == 5.0);
  Tensor t = transpose(m);
  auto vt = as_xtensor<double>(t);
  CHECK(vt(2, 1) == 5.0);
  CHECK(vt(0, 1) == 3.0);
  xt::xarray<double> copy = to_xarray<double>(t);
  CHECK(copy.shape()[0] == 3);
  CHECK(copy(2, 0) == 2.0);
  Tensor rev = slice(m, {Slice{}, Slice{std::nullopt, std::nullopt, -1}});
  CHECK(to_xarray<double>(rev)(0, 0) == 2.0);
}

TEST_CASE("asking for the wrong element type raises DTypeError", "[xtensor]") {
  Tensor m = ones({2}, DType::int32);
  CHECK_THROWS_AS(as_xtensor<float>(m), DTypeError);
}

TEST_CASE("from_xexpression evaluates an xtensor expression into a tensor", "[xtensor]") {
  xt::xarray<int> a = {1, 2, 3};
  Tensor t = from_xexpression(a * 2 + 1);
  CHECK(t.dtype() == DType::int32);
  CHECK(t.to_vector<int>() == std::vector<int>{3, 5, 7});
}
