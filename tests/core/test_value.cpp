#include <catch2/catch.hpp>

#include "xflow/value.hpp"

using namespace xf;

TEST_CASE("StringTensor holds shaped byte strings") {
  StringTensor s({"a", std::string("b\0c", 3), "", "dd", "e", "f"}, {2, 3});
  CHECK(s.shape() == Shape{2, 3});
  CHECK(s.size() == 6);
  CHECK(s.at(1).size() == 3);
  CHECK(s.at(1)[1] == '\0');
  StringTensor row = s[1];
  CHECK(row.shape() == Shape{3});
  CHECK(row.values() == std::vector<std::string>{"dd", "e", "f"});
  CHECK(StringTensor("x").shape().empty());
  CHECK(StringTensor("x").item() == "x");
  CHECK(StringTensor{"p", "q"}.shape() == Shape{2});
  CHECK(StringTensor::vector({"p", "q"}) == StringTensor{"p", "q"});
  CHECK_THROWS_AS(StringTensor({"a", "b"}, {3}), ShapeError);
  CHECK_THROWS_AS(StringTensor({}, {-1}), ShapeError);
  CHECK_THROWS_AS(s.at(6), OutOfRange);
  CHECK_THROWS_AS(s[2], OutOfRange);
  CHECK_THROWS_AS(StringTensor("x")[0], InvalidArgument);
  CHECK_THROWS_AS(s.item(), InvalidArgument);
}

TEST_CASE("Value is a numeric tensor or a string tensor, and says which") {
  Value n = Tensor({1.0f, 2.0f});
  Value s = StringTensor{"a", "b", "c"};
  CHECK(!n.is_string());
  CHECK(s.is_string());
  CHECK(n.type() == ValueType(DType::float32));
  CHECK(s.type() == string_type);
  CHECK(n.type() != s.type());
  CHECK(s.shape() == Shape{3});
  CHECK(n.describe() == "float32 (2,)");
  CHECK(s.describe() == "string (3,)");
  CHECK(string_type.name() == "string");
  CHECK(ValueType(DType::int64).name() == "int64");
  CHECK_THROWS_AS(string_type.dtype(), DTypeError);
  CHECK_THROWS_WITH(n.strings(), Catch::Contains("expected a string tensor, got float32 (2,)"));
  CHECK_THROWS_WITH(s.tensor(), Catch::Contains("expected a numeric tensor, got string (3,)"));
  CHECK(s.strings().at(2) == "c");
  CHECK(n.tensor().size() == 2);
}
