// Every error path of the public ops: the exception class (exactly, not a base), and a message that
// starts with "[op] ", names the inputs' shapes and dtypes, and ends with the caller's location
// "(test_op_errors.cpp:LINE)" (DESIGN.md, "Errors").
#include <catch2/catch.hpp>

#include <string>
#include <functional>
#include <typeinfo>
#include <utility>
#include <vector>

#include "ops/prims.hpp"  // apply(): padding strings only the primitive level can get wrong
#include "xflow/xflow.hpp"

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Runs f, which must throw exactly E with "[op] ... (test_op_errors.cpp:line)" containing `parts`.
template <class E, class F>
void check_raises(F&& f, const std::string& op, int line, std::initializer_list<const char*> parts) {
  std::string loc = "(test_op_errors.cpp:" + std::to_string(line) + ")";
  try {
    f();
  } catch (const E& e) {
    std::string msg = e.what();
    INFO("message: " << msg);
    CHECK(typeid(e) == typeid(E));
    CHECK(starts_with(msg, "[" + op + "] "));
    CHECK(ends_with(msg, loc));
    for (const char* p : parts) {
      INFO("expected part: " << p);
      CHECK(msg.find(p) != std::string::npos);
    }
    return;
  } catch (const std::exception& e) {
    FAIL_CHECK("expected " << typeid(E).name() << " from [" << op << "] at line " << line << ", got "
                           << typeid(e).name() << ": " << e.what());
    return;
  }
  FAIL_CHECK("expected " << typeid(E).name() << " from [" << op << "] at line " << line << ", nothing was thrown");
}

// The expression must be on the line of the macro: that line is the caller location xflow reports.
#define CHECK_RAISES(E, op, expr, ...) check_raises<xf::E>([&] { (void)(expr); }, op, __LINE__, {__VA_ARGS__})

using xf::DType;
using xf::Tensor;

Tensor f32(const xf::Shape& s) { return xf::zeros(s, DType::float32); }
Tensor of(const xf::Shape& s, DType d) { return xf::zeros(s, d); }

}  // namespace

TEST_CASE("errors: an empty Tensor handle", "[errors]") {
  Tensor none;
  Tensor x = f32({2, 3});
  CHECK_RAISES(InvalidArgument, "neg", xf::neg(none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "add", xf::add(x, none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "add", xf::add(none, 1), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "where", xf::where(none, x, x), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "cast", xf::cast(none, DType::int32), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "sum", xf::sum(none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "max", xf::max(none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "mean", xf::mean(none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "argmax", xf::argmax(none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "matmul", xf::matmul(x, none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "transpose", xf::transpose(none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "reshape", xf::reshape(none, {6}), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "concat", xf::concat({x, none}), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "gather", xf::gather(x, none), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "conv2d", xf::conv2d(none, x), "empty Tensor handle");
  CHECK_RAISES(InvalidArgument, "softmax", xf::softmax(none), "empty Tensor handle");
}

TEST_CASE("errors: unary ops", "[errors]") {
  Tensor b = of({2, 3}, DType::bool_);
  CHECK_RAISES(DTypeError, "neg", xf::neg(b), "needs a numeric (non-bool) dtype", "x is (2, 3) bool");
  CHECK_RAISES(DTypeError, "abs", xf::abs(b), "x is (2, 3) bool");
  CHECK_RAISES(DTypeError, "sign", xf::sign(b), "x is (2, 3) bool");
  CHECK_RAISES(DTypeError, "square", xf::square(b), "x is (2, 3) bool");
  CHECK_RAISES(DTypeError, "relu", xf::relu(b), "x is (2, 3) bool");
  CHECK_RAISES(DTypeError, "neg", -b, "x is (2, 3) bool");
  // floor, ceil and round follow the same rule as neg, abs and sign (they used to return bool).
  CHECK_RAISES(DTypeError, "floor", xf::floor(b), "needs a numeric (non-bool) dtype", "x is (2, 3) bool");
  CHECK_RAISES(DTypeError, "ceil", xf::ceil(b), "x is (2, 3) bool");
  CHECK_RAISES(DTypeError, "round", xf::round(b), "x is (2, 3) bool");
  CHECK(xf::floor(of({3}, DType::int32)).dtype() == DType::int32);
  // avg_pool2d of integers averages in float32 instead of truncating the window means.
  Tensor ints = Tensor::from_vector(std::vector<int32_t>{1, 2, 3, 5}, {1, 2, 2, 1});
  Tensor avg = xf::avg_pool2d(ints, {2, 2}, {2, 2});
  CHECK(avg.dtype() == DType::float32);
  CHECK(avg.item<float>() == 2.75f);
  xf::StrictDTypeScope strict;
  CHECK_RAISES(DTypeError, "avg_pool2d", xf::avg_pool2d(ints, {2, 2}, {2, 2}), "strict mode");
  Tensor i = of({4}, DType::int32);
  CHECK_RAISES(DTypeError, "exp", xf::exp(i), "strict mode", "x is (4,) int32 would become float32");
  CHECK_RAISES(DTypeError, "sqrt", xf::sqrt(b), "strict mode", "x is (2, 3) bool");
}

TEST_CASE("errors: binary ops", "[errors]") {
  Tensor a = f32({2, 3});
  CHECK_RAISES(ShapeError, "add", xf::add(a, f32({4})), "cannot be broadcast", "a is (2, 3) float32, b is (4,) float32");
  CHECK_RAISES(ShapeError, "mul", xf::mul(f32({3, 2}), a), "a is (3, 2) float32, b is (2, 3) float32");
  CHECK_RAISES(ShapeError, "less", xf::less(of({0, 3}, DType::int64), of({2, 3}, DType::int64)),
               "a is (0, 3) int64, b is (2, 3) int64");
  CHECK_RAISES(ShapeError, "logical_and", xf::logical_and(of({2}, DType::bool_), of({3}, DType::bool_)),
               "a is (2,) bool, b is (3,) bool");
  // the promoted operands are named: int32 with float32 computes in float32
  CHECK_RAISES(ShapeError, "sub", xf::sub(of({5}, DType::int32), a), "a is (5,) float32, b is (2, 3) float32");
  CHECK_RAISES(ShapeError, "atan2", xf::atan2(f32({2}), f32({3})), "a is (2,) float32, b is (3,) float32");

  Tensor b = of({2, 3}, DType::bool_);
  for (auto fn : {+[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::add(x, y, l); },
                  +[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::sub(x, y, l); },
                  +[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::mul(x, y, l); },
                  +[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::floor_div(x, y, l); },
                  +[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::mod(x, y, l); },
                  +[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::pow(x, y, l); },
                  +[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::maximum(x, y, l); },
                  +[](const Tensor& x, const Tensor& y, xf::Loc l) { return xf::minimum(x, y, l); }}) {
    xf::Loc here = xf::Loc::current();
    try {
      fn(b, b, here);
      FAIL_CHECK("bool arithmetic did not raise");
    } catch (const xf::DTypeError& e) {
      std::string msg = e.what();
      INFO(msg);
      CHECK(typeid(e) == typeid(xf::DTypeError));
      CHECK(starts_with(msg, "["));
      CHECK(msg.find("] needs a numeric (non-bool) dtype: a is (2, 3) bool, b is (2, 3) bool") != std::string::npos);
      CHECK(ends_with(msg, "(test_op_errors.cpp:" + std::to_string(here.line) + ")"));
    }
  }
  CHECK_RAISES(DTypeError, "add", xf::add(b, true), "a is (2, 3) bool, b is () bool");
  CHECK_RAISES(DTypeError, "mul", xf::mul(false, b), "a is () bool, b is (2, 3) bool");
  CHECK_RAISES(DTypeError, "add", b + b, "a is (2, 3) bool, b is (2, 3) bool");

  xf::StrictDTypeScope strict;
  CHECK_RAISES(DTypeError, "add", xf::add(a, of({2, 3}, DType::float64)), "strict mode",
               "a is (2, 3) float32, b is (2, 3) float64");
  CHECK_RAISES(DTypeError, "div", xf::div(of({3}, DType::int32), of({3}, DType::int32)), "strict mode",
               "a is (3,) int32, b is (3,) int32 would become float32");
  CHECK_RAISES(DTypeError, "mul", xf::mul(of({3}, DType::int32), 2.5), "strict mode",
               "x is (3,) int32 with a float scalar would become float32");
  CHECK_RAISES(DTypeError, "equal", xf::equal(of({3}, DType::uint8), of({3}, DType::int64)), "strict mode",
               "a is (3,) uint8, b is (3,) int64");
}

TEST_CASE("errors: where, clip", "[errors]") {
  Tensor c = of({2, 3}, DType::bool_);
  CHECK_RAISES(ShapeError, "where", xf::where(c, f32({3, 2}), f32({3, 2})), "cannot be broadcast",
               "cond is (2, 3) bool, a is (3, 2) float32, b is (3, 2) float32");
  CHECK_RAISES(ShapeError, "where", xf::where(of({4}, DType::int32), f32({2, 3}), 0.0),
               "cond is (4,) bool, a is (2, 3) float32, b is () float32");
  CHECK_RAISES(ShapeError, "where", xf::where(c, 1, f32({5})), "cond is (2, 3) bool, a is () float32, b is (5,) float32");
  // clip is maximum then minimum: the failing step names itself
  CHECK_RAISES(DTypeError, "maximum", xf::clip(c, false, true), "a is (2, 3) bool, b is () bool");
  CHECK_RAISES(ShapeError, "maximum", xf::clip(f32({2, 3}), f32({4}), f32({1})), "a is (2, 3) float32, b is (4,) float32");
  CHECK_RAISES(ShapeError, "minimum", xf::clip(f32({2, 3}), f32({1}), f32({2})), "a is (2, 3) float32, b is (2,) float32");
  xf::StrictDTypeScope strict;
  CHECK_RAISES(DTypeError, "where", xf::where(c, f32({2, 3}), of({2, 3}, DType::float64)), "strict mode",
               "a is (2, 3) float32, b is (2, 3) float64");
  CHECK_RAISES(DTypeError, "where", xf::where(c, of({2, 3}, DType::int32), 0.5), "strict mode",
               "x is (2, 3) int32 with a scalar would become float32");
}

TEST_CASE("errors: reductions", "[errors]") {
  Tensor x = f32({2, 3});
  CHECK_RAISES(AxisError, "sum", xf::sum(x, xf::Axes{2}), "axis 2 is out of range", "x is (2, 3) float32");
  CHECK_RAISES(AxisError, "sum", xf::sum(x, xf::Axes{-3}), "axis -3", "x is (2, 3) float32");
  CHECK_RAISES(InvalidArgument, "sum", xf::sum(x, xf::Axes{0, -2}), "repeated axis", "x is (2, 3) float32");
  CHECK_RAISES(AxisError, "prod", xf::prod(of({4}, DType::uint8), xf::Axes{1}), "x is (4,) uint8");
  CHECK_RAISES(AxisError, "max", xf::max(x, xf::Axes{5}), "x is (2, 3) float32");
  CHECK_RAISES(AxisError, "min", xf::min(x, xf::Axes{5}), "x is (2, 3) float32");
  CHECK_RAISES(AxisError, "all", xf::all(of({2}, DType::bool_), xf::Axes{1}), "x is (2,) bool");
  CHECK_RAISES(AxisError, "any", xf::any(of({2}, DType::bool_), xf::Axes{1}), "x is (2,) bool");
  CHECK_RAISES(AxisError, "mean", xf::mean(of({2, 3}, DType::int64), xf::Axes{2}), "x is (2, 3) int64");
  CHECK_RAISES(AxisError, "logsumexp", xf::logsumexp(x, xf::Axes{2}), "x is (2, 3) float32");
  CHECK_RAISES(AxisError, "variance", xf::variance(x, xf::Axes{2}), "x is (2, 3) float32");
  CHECK_RAISES(InvalidArgument, "variance", xf::variance(x, xf::Axes{1, 1}), "repeated axis");
  // stddev is sqrt(variance): the message names variance
  CHECK_RAISES(AxisError, "variance", xf::stddev(x, xf::Axes{2}), "x is (2, 3) float32");
  Tensor e = f32({0, 3});
  // max and min of an empty axis have no identity; the message names the primitive
  CHECK_RAISES(InvalidArgument, "reduce_max", xf::max(e), "zero-size reduction", "x is (0, 3) float32");
  CHECK_RAISES(InvalidArgument, "reduce_min", xf::min(e, xf::Axes{0}), "x is (0, 3) float32");
  CHECK_RAISES(AxisError, "argmax", xf::argmax(x, 2), "axis 2 is out of range for rank 2");
  CHECK_RAISES(AxisError, "argmin", xf::argmin(x, -3), "axis -3 is out of range for rank 2");
  CHECK_RAISES(AxisError, "argmax", xf::argmax(Tensor(1.0f), 0), "rank 0");
  CHECK_RAISES(InvalidArgument, "argmax", xf::argmax(e, 0), "empty axis", "x is (0, 3) float32");
  CHECK_RAISES(InvalidArgument, "argmin", xf::argmin(e), "empty axis", "x is (0,) float32");
  xf::StrictDTypeScope strict;
  CHECK_RAISES(DTypeError, "mean", xf::mean(of({3}, DType::int32)), "strict mode", "x is (3,) int32");
  CHECK_RAISES(DTypeError, "logsumexp", xf::logsumexp(of({3}, DType::uint8)), "strict mode", "x is (3,) uint8");
}

TEST_CASE("errors: matmul, transpose, tensordot", "[errors]") {
  CHECK_RAISES(ShapeError, "matmul", xf::matmul(f32({2, 3}), f32({4, 5})), "inner dimensions differ",
               "a is (2, 3) float32, b is (4, 5) float32");
  CHECK_RAISES(ShapeError, "matmul", xf::matmul(f32({3}), f32({4})), "a is (3,) float32, b is (4,) float32");
  CHECK_RAISES(ShapeError, "matmul", xf::matmul(f32({2, 3}), f32({2})), "a is (2, 3) float32, b is (2,) float32");
  CHECK_RAISES(ShapeError, "matmul", xf::matmul(f32({2}), f32({3, 4})), "a is (2,) float32, b is (3, 4) float32");
  CHECK_RAISES(ShapeError, "matmul", xf::matmul(Tensor(1.0f), f32({3})), "must not be scalars", "a is () float32");
  CHECK_RAISES(ShapeError, "matmul", xf::matmul(f32({2, 3, 4}), f32({3, 4, 5})), "batch dimensions cannot be broadcast",
               "a is (2, 3, 4) float32, b is (3, 4, 5) float32");
  CHECK_RAISES(DTypeError, "matmul", xf::matmul(of({2, 2}, DType::bool_), of({2, 2}, DType::bool_)), "bool",
               "a is (2, 2) bool, b is (2, 2) bool");
  CHECK_RAISES(InvalidArgument, "transpose", xf::transpose(f32({2, 3}), xf::Axes{0, 2}), "perm (0, 2)", "x is (2, 3) float32");
  // a perm of the wrong length or with repeats is refused by the permute primitive
  CHECK_RAISES(InvalidArgument, "permute", xf::transpose(f32({2, 3}), xf::Axes{0}), "x is (2, 3) float32");
  CHECK_RAISES(InvalidArgument, "permute", xf::transpose(f32({2, 3}), xf::Axes{1, -1}), "not a permutation", "x is (2, 3) float32");
  CHECK_RAISES(ShapeError, "tensordot", xf::tensordot(f32({2, 3}), f32({4, 5}), 1), "contracted dimensions differ",
               "a is (2, 3) float32, b is (4, 5) float32");
  CHECK_RAISES(InvalidArgument, "tensordot", xf::tensordot(f32({2, 3}), f32({3}), 2), "cannot contract 2 axes",
               "a is (2, 3) float32, b is (3,) float32");
  CHECK_RAISES(InvalidArgument, "tensordot", xf::tensordot(f32({2}), f32({2}), -1), "a is (2,) float32");
  CHECK_RAISES(InvalidArgument, "tensordot", xf::tensordot(f32({2, 3}), f32({3, 2}), {1, 0}, {0}), "differ in length",
               "a is (2, 3) float32, b is (3, 2) float32");
  // (xf::Axes spelled out: a braced {2}, {0} would pick the int overload with {0} as its Loc)
  CHECK_RAISES(AxisError, "tensordot", xf::tensordot(f32({2, 3}), f32({3, 2}), xf::Axes{2}, xf::Axes{0}),
               "axis 2 is out of range");
  CHECK_RAISES(ShapeError, "tensordot", xf::tensordot(f32({2, 3}), f32({3, 2}), xf::Axes{0}, xf::Axes{0}),
               "a is (2, 3) float32");
  // tensordot is reshapes around matmul: a bool contraction fails in matmul
  CHECK_RAISES(DTypeError, "matmul", xf::tensordot(of({2, 3}, DType::bool_), of({3, 2}, DType::bool_), 1), "bool");
  xf::StrictDTypeScope strict;
  CHECK_RAISES(DTypeError, "matmul", xf::matmul(f32({2, 2}), of({2, 2}, DType::float64)), "strict mode",
               "a is (2, 2) float32, b is (2, 2) float64");
}

TEST_CASE("errors: reshape, expand_dims, squeeze, broadcast_to", "[errors]") {
  Tensor x = f32({2, 3});
  CHECK_RAISES(ShapeError, "reshape", xf::reshape(x, {4, 2}), "cannot reshape (2, 3) float32 into (4, 2)");
  CHECK_RAISES(ShapeError, "reshape", xf::reshape(x, {-1, 4}), "cannot reshape x (2, 3) float32 into (-1, 4)");
  CHECK_RAISES(ShapeError, "reshape", xf::reshape(x, {-1, -1}), "only one dimension can be -1", "x is (2, 3) float32");
  CHECK_RAISES(ShapeError, "reshape", xf::reshape(x, {-2, -3}), "negative dimension in (-2, -3)", "x is (2, 3) float32");
  CHECK_RAISES(ShapeError, "reshape", xf::reshape(f32({0, 3}), {0, -1}), "cannot reshape x (0, 3) float32");
  CHECK_RAISES(AxisError, "expand_dims", xf::expand_dims(x, 3), "axis 3 is out of range for rank 3");
  CHECK_RAISES(AxisError, "expand_dims", xf::expand_dims(x, -4), "axis -4");
  CHECK_RAISES(ShapeError, "squeeze", xf::squeeze(f32({1, 3}), xf::Axes{1}), "axis 1 has size 3, not 1",
               "x is (1, 3) float32");
  CHECK_RAISES(AxisError, "squeeze", xf::squeeze(f32({1, 3}), xf::Axes{2}), "axis 2 is out of range for rank 2");
  CHECK_RAISES(ShapeError, "broadcast_to", xf::broadcast_to(x, {3, 3}), "cannot broadcast (2, 3) float32 to (3, 3)");
  CHECK_RAISES(ShapeError, "broadcast_to", xf::broadcast_to(x, {3}), "cannot broadcast (2, 3) float32 to (3,)");
  CHECK_RAISES(ShapeError, "broadcast_to", xf::broadcast_to(f32({3}), {-1, 3}), "negative dimension", "x is (3,) float32");
}

TEST_CASE("errors: concat, stack, split", "[errors]") {
  Tensor x = f32({2, 3});
  CHECK_RAISES(InvalidArgument, "concat", xf::concat({}), "at least one tensor");
  CHECK_RAISES(ShapeError, "concat", xf::concat({x, f32({2, 4})}, 0), "shapes differ outside the concat axis",
               "a is (2, 3) float32, b is (2, 4) float32");
  CHECK_RAISES(ShapeError, "concat", xf::concat({x, f32({3})}), "a is (2, 3) float32, b is (3,) float32");
  CHECK_RAISES(ShapeError, "concat", xf::concat({x, f32({2, 3}), f32({2, 2})}, 0), "c is (2, 2) float32");
  CHECK_RAISES(ShapeError, "concat", xf::concat({Tensor(1.0f), Tensor(2.0f)}), "cannot concatenate scalars");
  CHECK_RAISES(AxisError, "concat", xf::concat({x, x}, 2), "axis 2 is out of range for rank 2");
  CHECK_RAISES(InvalidArgument, "stack", xf::stack({}), "at least one tensor");
  CHECK_RAISES(ShapeError, "stack", xf::stack({x, f32({3, 2})}), "all tensors need one shape",
               "(2, 3) float32 and (3, 2) float32");
  CHECK_RAISES(AxisError, "stack", xf::stack({x, x}, 3), "axis 3 is out of range for rank 3");
  CHECK_RAISES(InvalidArgument, "split", xf::split(f32({5, 2}), 2), "does not split into 2 equal parts",
               "x (5, 2) float32");
  CHECK_RAISES(InvalidArgument, "split", xf::split(x, 0, 1), "into 0 equal parts");
  CHECK_RAISES(AxisError, "split", xf::split(x, 2, 2), "axis 2 is out of range for rank 2");
  CHECK_RAISES(AxisError, "split", xf::split(x, std::vector<int64_t>{1}, -3), "axis -3");
  xf::StrictDTypeScope strict;
  CHECK_RAISES(DTypeError, "concat", xf::concat({x, of({1, 3}, DType::int32)}), "strict mode", "int32 input joins float32");
}

TEST_CASE("errors: slice, strided_slice, gather", "[errors]") {
  Tensor x = f32({4, 5});
  CHECK_RAISES(InvalidArgument, "slice", xf::slice(x, {xf::Slice(0, 3, 0)}), "step of axis 0 is 0", "x is (4, 5) float32");
  CHECK_RAISES(InvalidArgument, "slice", xf::slice(x, {xf::all_, xf::all_, xf::all_}), "3 slices for x (4, 5) float32");
  CHECK_RAISES(InvalidArgument, "strided_slice", xf::strided_slice(x, {0, 0}, {4, 5}, {1, 0}), "step of axis 1 is 0",
               "x is (4, 5) float32");
  CHECK_RAISES(InvalidArgument, "strided_slice", xf::strided_slice(x, {0}, {4, 5}, {1, 1}), "one entry per axis",
               "x is (4, 5) float32");
  Tensor i = Tensor({0, 4});
  CHECK_RAISES(OutOfRange, "gather", xf::gather(x, i, 0), "index 4 is out of range for axis 0 of size 4",
               "x is (4, 5) float32, indices is (2,) int32");
  CHECK_RAISES(OutOfRange, "gather", xf::gather(x, Tensor({int64_t{-6}}), 1), "index -6", "indices is (1,) int64");
  CHECK_RAISES(DTypeError, "gather", xf::gather(x, Tensor({1.0f}), 0), "indices must be int32 or int64",
               "x is (4, 5) float32, indices is (1,) float32");
  CHECK_RAISES(AxisError, "gather", xf::gather(x, i, 2), "axis 2 is out of range for rank 2");
  CHECK_RAISES(AxisError, "gather", xf::gather(Tensor(1.0f), i, 0), "rank 0");
}

TEST_CASE("errors: pad, tile, one_hot", "[errors]") {
  Tensor x = f32({2, 3});
  CHECK_RAISES(InvalidArgument, "pad", xf::pad(x, {{1, 1}}), "1 (before, after) pairs for x (2, 3) float32");
  CHECK_RAISES(InvalidArgument, "pad", xf::pad(x, {{1, 1}, {0, -1}}), "negative padding on axis 1", "x is (2, 3) float32");
  CHECK_RAISES(InvalidArgument, "tile", xf::tile(x, {2, -1}), "negative repetition in (2, -1)", "x is (2, 3) float32");
  CHECK_RAISES(DTypeError, "one_hot", xf::one_hot(f32({3}), 4), "indices must be integers", "indices is (3,) float32");
  CHECK_RAISES(DTypeError, "one_hot", xf::one_hot(of({3}, DType::bool_), 4), "indices is (3,) bool");
  CHECK_RAISES(InvalidArgument, "one_hot", xf::one_hot(of({3}, DType::int32), -1), "depth must be >= 0",
               "indices is (3,) int32");
}

TEST_CASE("errors: softmax, conv2d, pooling", "[errors]") {
  CHECK_RAISES(AxisError, "softmax", xf::softmax(f32({2, 3}), 2), "axis 2 is out of range for rank 2");
  CHECK_RAISES(AxisError, "log_softmax", xf::log_softmax(f32({2, 3}), -3), "axis -3");
  CHECK_RAISES(AxisError, "softmax", xf::softmax(Tensor(1.0f)), "rank 0");
  {
    xf::StrictDTypeScope strict;
    CHECK_RAISES(DTypeError, "softmax", xf::softmax(of({2, 3}, DType::int32)), "strict mode", "x is (2, 3) int32");
    CHECK_RAISES(DTypeError, "log_softmax", xf::log_softmax(of({3}, DType::uint8)), "strict mode", "x is (3,) uint8");
  }

  Tensor in = f32({1, 5, 5, 2});
  CHECK_RAISES(ShapeError, "conv2d", xf::conv2d(f32({5, 5, 2}), f32({3, 3, 2, 1})), "NHWC",
               "input is (5, 5, 2) float32, filter is (3, 3, 2, 1) float32");
  CHECK_RAISES(ShapeError, "conv2d", xf::conv2d(in, f32({3, 3, 2})), "filter is (3, 3, 2) float32");
  CHECK_RAISES(ShapeError, "conv2d", xf::conv2d(in, f32({3, 3, 3, 1})), "input channels differ",
               "input is (1, 5, 5, 2) float32, filter is (3, 3, 3, 1) float32");
  CHECK_RAISES(DTypeError, "conv2d", xf::conv2d(of({1, 5, 5, 2}, DType::int32), of({3, 3, 2, 1}, DType::int32)),
               "one float dtype", "input is (1, 5, 5, 2) int32, filter is (3, 3, 2, 1) int32");
  CHECK_RAISES(DTypeError, "conv2d", xf::conv2d(in, of({3, 3, 2, 1}, DType::float64)), "one float dtype",
               "filter is (3, 3, 2, 1) float64");
  CHECK_RAISES(InvalidArgument, "conv2d", xf::conv2d(in, f32({3, 3, 2, 1}), {0, 1}), "strides must be two positive numbers",
               "input is (1, 5, 5, 2) float32, filter is (3, 3, 2, 1) float32");
  CHECK_RAISES(ShapeError, "conv2d", xf::conv2d(in, f32({0, 3, 2, 1})), "empty filter window", "filter is (0, 3, 2, 1) float32");

  CHECK_RAISES(ShapeError, "max_pool2d", xf::max_pool2d(f32({5, 5, 2}), {2, 2}, {2, 2}), "NHWC", "x is (5, 5, 2) float32");
  CHECK_RAISES(ShapeError, "avg_pool2d", xf::avg_pool2d(f32({5, 5, 2}), {2, 2}, {2, 2}), "x is (5, 5, 2) float32");
  CHECK_RAISES(DTypeError, "max_pool2d", xf::max_pool2d(of({1, 4, 4, 1}, DType::bool_), {2, 2}, {2, 2}), "numeric dtype",
               "x is (1, 4, 4, 1) bool");
  CHECK_RAISES(DTypeError, "avg_pool2d", xf::avg_pool2d(of({1, 4, 4, 1}, DType::bool_), {2, 2}, {2, 2}), "x is (1, 4, 4, 1) bool");
  CHECK_RAISES(InvalidArgument, "max_pool2d", xf::max_pool2d(in, {0, 2}, {1, 1}), "window must be two positive numbers",
               "x is (1, 5, 5, 2) float32");
  CHECK_RAISES(InvalidArgument, "avg_pool2d", xf::avg_pool2d(in, {2, 2}, {1, -1}), "strides must be two positive numbers",
               "x is (1, 5, 5, 2) float32");

  // Padding strings arrive only through the primitive (attributes read from a graph's JSON).
  xf::Loc here = xf::Loc::current();
  auto check_padding = [&](xf::Prim p, xf::AttrsPtr attrs, std::vector<Tensor> ins, const std::string& op,
                           const std::string& part) {
    try {
      xf::apply(p, std::move(attrs), std::move(ins), here);
      FAIL_CHECK("padding 'same' was accepted by " << op);
    } catch (const xf::InvalidArgument& e) {
      std::string msg = e.what();
      INFO(msg);
      CHECK(typeid(e) == typeid(xf::InvalidArgument));
      CHECK(starts_with(msg, "[" + op + "] padding must be SAME or VALID, got 'same': "));
      CHECK(msg.find(part) != std::string::npos);
      CHECK(ends_with(msg, "(test_op_errors.cpp:" + std::to_string(here.line) + ")"));
    }
  };
  check_padding(xf::Prim::conv2d, xf::make_attrs(xf::ConvAttrs{{1, 1}, "same"}), {in, f32({3, 3, 2, 1})}, "conv2d",
                "input is (1, 5, 5, 2) float32, filter is (3, 3, 2, 1) float32");
  check_padding(xf::Prim::max_pool2d, xf::make_attrs(xf::PoolAttrs{{2, 2}, {1, 1}, "same"}), {in}, "max_pool2d",
                "x is (1, 5, 5, 2) float32");
  check_padding(xf::Prim::avg_pool2d, xf::make_attrs(xf::PoolAttrs{{2, 2}, {1, 1}, "same"}), {in}, "avg_pool2d",
                "x is (1, 5, 5, 2) float32");
}

TEST_CASE("errors: random ops and threads", "[errors]") {
  CHECK_RAISES(ShapeError, "random_uniform", xf::random_uniform({2, -1}), "negative dimension in shape (2, -1)");
  CHECK_RAISES(ShapeError, "random_normal", xf::random_normal({-3}), "negative dimension in shape (-3,)");
  CHECK_RAISES(ShapeError, "truncated_normal", xf::truncated_normal({-1, 2}), "negative dimension");
  CHECK_RAISES(InvalidArgument, "random_uniform", xf::random_uniform({2}, 1.0, 1.0), "minval < maxval");
  CHECK_RAISES(InvalidArgument, "random_uniform", xf::random_uniform({2}, 2.0, 1.0), "minval < maxval");
  CHECK_RAISES(InvalidArgument, "random_normal", xf::random_normal({2}, 0.0, -1.0), "stddev must be >= 0");
  CHECK_RAISES(InvalidArgument, "truncated_normal", xf::truncated_normal({2}, 0.0, -0.5), "stddev must be >= 0");
  CHECK_RAISES(DTypeError, "random_uniform", xf::random_uniform({2}, 0, 1, DType::int32), "needs a float dtype, got int32");
  CHECK_RAISES(DTypeError, "random_normal", xf::random_normal({2}, 0, 1, DType::bool_), "got bool");
  // set_num_threads has no caller location to report
  try {
    xf::set_num_threads(-1);
    FAIL_CHECK("set_num_threads(-1) was accepted");
  } catch (const xf::InvalidArgument& e) {
    CHECK(typeid(e) == typeid(xf::InvalidArgument));
    CHECK(starts_with(e.what(), "[set_num_threads] "));
  }
}

TEST_CASE("a bad axis is an InvalidArgument for every op that takes an axis, as in TensorFlow", "[errors]") {
  Tensor x = f32({2, 3});
  std::vector<std::pair<const char*, std::function<void()>>> calls = {
      {"sum", [&] { xf::sum(x, xf::Axes{2}); }},
      {"mean", [&] { xf::mean(x, xf::Axes{-3}); }},
      {"max", [&] { xf::max(x, xf::Axes{7}); }},
      {"argmax", [&] { xf::argmax(x, 2); }},
      {"argmin", [&] { xf::argmin(x, -3); }},
      {"logsumexp", [&] { xf::logsumexp(x, xf::Axes{2}); }},
      {"softmax", [&] { xf::softmax(x, 2); }},
      {"log_softmax", [&] { xf::log_softmax(x, -3); }},
      {"concat", [&] { xf::concat({x, x}, 2); }},
      {"stack", [&] { xf::stack({x, x}, 3); }},
      {"split", [&] { xf::split(x, 2, 2); }},
      {"expand_dims", [&] { xf::expand_dims(x, 3); }},
      {"squeeze", [&] { xf::squeeze(x, xf::Axes{2}); }},
      {"gather", [&] { xf::gather(x, Tensor({int64_t{0}}), 2); }},
      {"tensordot", [&] { xf::tensordot(x, f32({3, 2}), xf::Axes{2}, xf::Axes{0}); }},
  };
  for (auto& [name, call] : calls) {
    INFO(name);
    CHECK_THROWS_AS(call(), xf::InvalidArgument);
    CHECK_THROWS_AS(call(), xf::AxisError);
  }
}
