#include <catch2/catch.hpp>

#include "xflow/xflow.hpp"

using namespace xf;

TEST_CASE("the hierarchy follows TensorFlow's status codes", "[error]") {
  CHECK_THROWS_AS(throw_error(ErrorCode::shape, "x"), InvalidArgument);
  CHECK_THROWS_AS(throw_error(ErrorCode::dtype, "x"), InvalidArgument);
  CHECK_THROWS_AS(throw_error(ErrorCode::shape, "x"), ShapeError);
  CHECK_THROWS_AS(throw_error(ErrorCode::dtype, "x"), DTypeError);
  CHECK_THROWS_AS(throw_error(ErrorCode::out_of_range, "x"), OutOfRange);
  CHECK_THROWS_AS(throw_error(ErrorCode::not_found, "x"), NotFound);
  CHECK_THROWS_AS(throw_error(ErrorCode::data_loss, "x"), DataLoss);
  CHECK_THROWS_AS(throw_error(ErrorCode::failed_precondition, "x"), FailedPrecondition);
  CHECK_THROWS_AS(throw_error(ErrorCode::unimplemented, "x"), Unimplemented);
  CHECK_THROWS_AS(throw_error(ErrorCode::internal, "x"), Internal);
  CHECK_THROWS_AS(throw_error(ErrorCode::cancelled, "x"), Cancelled);
  CHECK_THROWS_AS(throw_error(ErrorCode::deadline_exceeded, "x"), DeadlineExceeded);
  CHECK_THROWS_AS(throw_error(ErrorCode::unavailable, "x"), Unavailable);
  CHECK_THROWS_AS(throw_error(ErrorCode::resource_exhausted, "x"), ResourceExhausted);
  CHECK_THROWS_AS(throw_error(ErrorCode::aborted, "x"), Aborted);
  CHECK_THROWS_AS(throw_error(ErrorCode::already_exists, "x"), AlreadyExists);
  try {
    throw_error(ErrorCode::out_of_range, "m");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::out_of_range);
    CHECK(std::string(e.what()) == "m");
  }
}

TEST_CASE("messages start with the op and end with the caller's file and line", "[error]") {
  const int call_line = __LINE__ + 2;
  try {
    matmul(ones({2, 3}), ones({4, 5}));
    FAIL("no exception");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()) == "[matmul] inner dimensions differ: a is (2, 3) float32, b is (4, 5) float32 (test_error.cpp:" +
                                       std::to_string(call_line) + ")");
  }
  Tensor a = ones({2, 3});
  Tensor b = ones({4, 3});
  int line = __LINE__ + 2;
  try {
    Tensor c = a + b;
    FAIL("no exception");
  } catch (const ShapeError& e) {
    std::string m = e.what();
    CHECK(m.rfind("[add] ", 0) == 0);
    CHECK(m.find("a is (2, 3) float32, b is (4, 3) float32") != std::string::npos);
    CHECK(m.find("(test_error.cpp:" + std::to_string(line) + ")") != std::string::npos);
  }
}

TEST_CASE("raise formats [op] message (file:line)", "[error]") {
  try {
    raise(ErrorCode::not_found, "load", "no such file", Loc::at("/a/b/train.cpp", 42));
  } catch (const NotFound& e) {
    CHECK(std::string(e.what()) == "[load] no such file (train.cpp:42)");
  }
  CHECK(Loc{}.str().empty());
}
