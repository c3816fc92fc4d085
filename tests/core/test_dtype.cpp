#include <catch2/catch.hpp>

#include "xflow/xflow.hpp"

using namespace xf;

TEST_CASE("dtype names round-trip and sizes are right", "[dtype]") {
  for (DType d : {DType::bool_, DType::uint8, DType::int32, DType::int64, DType::float32, DType::float64})
    CHECK(dtype_from_name(dtype_name(d)) == d);
  CHECK(dtype_size(DType::bool_) == 1);
  CHECK(dtype_size(DType::int32) == 4);
  CHECK(dtype_size(DType::float64) == 8);
  CHECK_THROWS_AS(dtype_from_name("float16"), InvalidArgument);
}

TEST_CASE("promotion follows the lattice bool < uint8 < int32 < int64 < float32 < float64", "[dtype]") {
  CHECK(promote_types(DType::bool_, DType::uint8) == DType::uint8);
  CHECK(promote_types(DType::uint8, DType::int32) == DType::int32);
  CHECK(promote_types(DType::int32, DType::int64) == DType::int64);
  CHECK(promote_types(DType::int64, DType::float32) == DType::float32);
  CHECK(promote_types(DType::float32, DType::float64) == DType::float64);
  CHECK(promote_types(DType::float64, DType::bool_) == DType::float64);
}

TEST_CASE("weak scalars keep the tensor's dtype unless their kind is higher", "[dtype]") {
  Tensor i = Tensor({1, 2});
  Tensor f = Tensor({1.0f, 2.0f});
  CHECK((i + 2).dtype() == DType::int32);
  CHECK((i + 2.0).dtype() == DType::float32);
  CHECK((f + 2).dtype() == DType::float32);
  CHECK((f + 2.0).dtype() == DType::float32);
  CHECK((Tensor({true, false}) + 1).dtype() == DType::int32);
  CHECK((Tensor(std::initializer_list<uint8_t>{1, 2}) + 300).dtype() == DType::uint8);
}

TEST_CASE("strict mode raises DTypeError on implicit promotion, globally and scoped", "[dtype]") {
  Tensor i = Tensor({1, 2});
  Tensor f = Tensor({1.0f, 2.0f});
  {
    StrictDTypeScope strict;
    CHECK(strict_dtypes());
    CHECK_THROWS_AS(i + f, DTypeError);
    CHECK_THROWS_AS(i + 2.5, DTypeError);
    CHECK_THROWS_AS(exp(i), DTypeError);
    CHECK_NOTHROW(f + 2);
    CHECK_NOTHROW(i + 2);
    {
      StrictDTypeScope off(false);
      CHECK_NOTHROW(i + f);
    }
    CHECK_THROWS_AS(i * f, DTypeError);
  }
  CHECK_FALSE(strict_dtypes());
  CHECK_NOTHROW(i + f);
  set_strict_dtypes(true);
  CHECK_THROWS_AS(i - f, DTypeError);
  set_strict_dtypes(false);
  CHECK_NOTHROW(i - f);
}

TEST_CASE("strict mode messages name the op, the inputs and the caller", "[dtype]") {
  StrictDTypeScope strict;
  Tensor i = Tensor({1, 2});
  Tensor f = Tensor({1.0f, 2.0f});
  try {
    add(i, f);
    FAIL("no exception");
  } catch (const DTypeError& e) {
    std::string m = e.what();
    CHECK(m.rfind("[add]", 0) == 0);
    CHECK(m.find("(2,) int32") != std::string::npos);
    CHECK(m.find("(2,) float32") != std::string::npos);
    CHECK(m.find("test_dtype.cpp:") != std::string::npos);
  }
}
