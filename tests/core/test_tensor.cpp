#include <catch2/catch.hpp>
#include <sstream>

#include "xflow/xflow.hpp"

using namespace xf;

TEST_CASE("tensors from scalars, nested lists and vectors", "[tensor]") {
  Tensor s(3);
  CHECK(s.dtype() == DType::int32);
  CHECK(s.rank() == 0);
  CHECK(s.size() == 1);
  CHECK(s.item<int>() == 3);
  CHECK(Tensor(2.5).dtype() == DType::float64);
  CHECK(Tensor(2.5f).dtype() == DType::float32);
  CHECK(Tensor(int64_t{7}).dtype() == DType::int64);
  CHECK(Tensor(true).dtype() == DType::bool_);

  Tensor m({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
  CHECK(m.shape() == Shape{2, 3});
  CHECK(m.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor c({{{1, 2}}, {{3, 4}}});
  CHECK(c.shape() == Shape{2, 1, 2});

  Tensor v = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2});
  CHECK(v.dtype() == DType::float64);
  CHECK(v.shape() == Shape{3, 2});
  CHECK(v.strides() == Strides{2, 1});
  CHECK_THROWS_AS(Tensor::from_vector(std::vector<float>{1, 2, 3}, {2, 2}), ShapeError);
  CHECK_THROWS_AS(Tensor::from_vector(std::vector<float>{}, {-1}), ShapeError);
  CHECK_THROWS_AS((Tensor({{1, 2}, {3}})), ShapeError);

  Tensor b({true, false, true});
  CHECK(b.dtype() == DType::bool_);
  CHECK(b.to_vector<int>() == std::vector<int>{1, 0, 1});
}

TEST_CASE("zero-size tensors and 0-d scalars", "[tensor]") {
  Tensor z = zeros({0, 3});
  CHECK(z.size() == 0);
  CHECK(z.shape() == Shape{0, 3});
  CHECK(z.str() == "Tensor([], shape=(0, 3), dtype=float32)");
  CHECK(sum(z).item<float>() == 0.0f);
  CHECK((z + 1.0f).shape() == Shape{0, 3});
  Tensor s = full({}, 4.5);
  CHECK(s.rank() == 0);
  CHECK(s.str() == "Tensor(4.5, shape=(), dtype=float32)");
}

TEST_CASE("factories", "[tensor]") {
  CHECK(ones({2, 2}, DType::int64).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 1, 1});
  CHECK(full({3}, 7).dtype() == DType::int32);
  CHECK(full({3}, 7.0, DType::float64).to_vector<double>() == std::vector<double>{7, 7, 7});
  CHECK(arange(5).to_vector<int>() == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(arange(1, 2, 0.25, DType::float32).to_vector<float>() == std::vector<float>{1, 1.25f, 1.5f, 1.75f});
  CHECK(arange(5, 0, -2).to_vector<int>() == std::vector<int>{5, 3, 1});
  CHECK_THROWS_AS(arange(0, 1, 0), InvalidArgument);
  CHECK(linspace(0, 1, 5).to_vector<float>() == std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1});
  CHECK(linspace(0, 1, 1).to_vector<float>() == std::vector<float>{0});
  CHECK_THROWS_AS(linspace(0, 1, -1), InvalidArgument);
  CHECK(eye(2, 3).to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0});
  Tensor t({{1, 2}, {3, 4}});
  CHECK(zeros_like(t).dtype() == DType::int32);
  CHECK(ones_like(t).to_vector<int>() == std::vector<int>{1, 1, 1, 1});
  CHECK(full_like(t, 9).to_vector<int>() == std::vector<int>{9, 9, 9, 9});
  CHECK(full({2}, 1e10, DType::int32).to_vector<int>() == std::vector<int>{2147483647, 2147483647});
}

TEST_CASE("printing", "[tensor]") {
  CHECK(Tensor({{1, 2}, {3, 4}}).str() == "Tensor([[1, 2], [3, 4]], shape=(2, 2), dtype=int32)");
  CHECK(Tensor({2, 4, 6}).str() == "Tensor([2, 4, 6], shape=(3,), dtype=int32)");
  CHECK(Tensor({1.5f, 2.0f}).str() == "Tensor([1.5, 2.], shape=(2,), dtype=float32)");
  CHECK(Tensor({0.1f}).str() == "Tensor([0.1], shape=(1,), dtype=float32)");
  CHECK(Tensor({true, false}).str() == "Tensor([true, false], shape=(2,), dtype=bool)");
  Tensor nan = Tensor({1.0, 0.0}) / Tensor({0.0, 0.0});
  CHECK(nan.str() == "Tensor([inf, nan], shape=(2,), dtype=float64)");
  std::ostringstream os;
  os << arange(3);
  CHECK(os.str() == "Tensor([0, 1, 2], shape=(3,), dtype=int32)");
  // Large tensors are summarized with "..." like NumPy.
  std::string big = arange(2000).str();
  CHECK(big == "Tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=(2000,), dtype=int32)");
  std::string big2 = reshape(arange(2000), {40, 50}).str();
  CHECK(big2.find("[[0, 1, 2, ..., 47, 48, 49], [50, 51, 52, ..., 97, 98, 99], [100, 101, 102, ..., 147, 148, 149], ..., ") == 7);
  CHECK(Tensor().str() == "Tensor(<empty handle>)");
}

TEST_CASE("item, to_vector, bool conversion", "[tensor]") {
  Tensor t({{1.5, 2.5}});
  CHECK(slice(t, {Slice{}, Slice{1, 2}}).item<double>() == 2.5);
  CHECK_THROWS_AS(t.item<double>(), InvalidArgument);
  try {
    (void)t.item<float>();
  } catch (const InvalidArgument& e) {
    std::string m = e.what();
    CHECK(m.rfind("[item]", 0) == 0);
    CHECK(m.find("(1, 2) float64") != std::string::npos);
    CHECK(m.find("test_tensor.cpp:") != std::string::npos);
  }
  CHECK(static_cast<bool>(Tensor(1)));
  CHECK_FALSE(static_cast<bool>(Tensor(0.0)));
  CHECK_THROWS_AS(static_cast<bool>(Tensor({1, 2})), InvalidArgument);
  CHECK(Tensor(int64_t{9007199254740993}).item<int64_t>() == 9007199254740993);
  // to_vector of a strided view reads in logical order.
  Tensor m({{1, 2, 3}, {4, 5, 6}});
  CHECK(transpose(m).to_vector<int>() == std::vector<int>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("views share the buffer; contiguous copies only when needed", "[tensor]") {
  Tensor m = reshape(arange(12, DType::float32), {3, 4});
  Tensor t = transpose(m);
  CHECK(t.buffer() == m.buffer());
  CHECK_FALSE(t.is_contiguous());
  Tensor tc = t.contiguous();
  CHECK(tc.is_contiguous());
  CHECK(tc.buffer() != m.buffer());
  CHECK(tc.to_vector<float>() == t.to_vector<float>());
  Tensor r = reshape(m, {2, 6});
  CHECK(r.buffer() == m.buffer());
  Tensor s = slice(m, {Slice{1, 3}, Slice{std::nullopt, std::nullopt, -1}});
  CHECK(s.buffer() == m.buffer());
  CHECK(s.to_vector<float>() == std::vector<float>{7, 6, 5, 4, 11, 10, 9, 8});
  Tensor rt = reshape(t, {12});  // not contiguous: copies
  CHECK(rt.buffer() != m.buffer());
  CHECK(rt.to_vector<float>() == std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  CHECK(m.contiguous().buffer() == m.buffer());
  // Broadcast views (stride 0) copy out row by row: a stretched last axis, a stretched first one.
  Tensor col = broadcast_to(reshape(Tensor({1.5f, -2.0f, 3.0f}), {3, 1}), {3, 4});
  CHECK(col.strides().back() == 0);
  CHECK(col.contiguous().to_vector<float>() == std::vector<float>{1.5f, 1.5f, 1.5f, 1.5f, -2, -2, -2, -2, 3, 3, 3, 3});
  Tensor row = broadcast_to(Tensor({1, 2, 3}), {2, 3});
  CHECK(row.contiguous().to_vector<int>() == std::vector<int>{1, 2, 3, 1, 2, 3});
  Tensor both = broadcast_to(Tensor(7.0), {2, 3});
  CHECK(both.contiguous().to_vector<double>() == std::vector<double>(6, 7.0));
}

TEST_CASE("every tensor has a distinct id", "[tensor]") {
  Tensor a({1}), b({1});
  CHECK(a.id() != b.id());
  Tensor c = a;
  CHECK(c.id() == a.id());
}

TEST_CASE("empty handles raise FailedPrecondition", "[tensor]") {
  Tensor e;
  CHECK_FALSE(e.defined());
  CHECK_THROWS_AS(e.shape(), FailedPrecondition);
  CHECK_THROWS_AS(e.dtype(), FailedPrecondition);
  CHECK_THROWS_AS(add(e, e), InvalidArgument);
}

TEST_CASE("allclose and bitwise_equal", "[tensor]") {
  Tensor a({1.0f, 2.0f, 3.0f});
  CHECK(allclose(a, a + 1e-7f));
  CHECK_FALSE(allclose(a, a + 1e-2f));
  CHECK(allclose(a, Tensor({1.0, 2.0, 3.0})));
  CHECK(allclose(Tensor({{1.0f}, {1.0f}}), Tensor({1.0f, 1.0f})));  // broadcasting
  Tensor n({std::nanf(""), 1.0f});
  CHECK_FALSE(allclose(n, n));
  CHECK(allclose(n, n, 1e-5, 1e-8, true));
  CHECK(bitwise_equal(a, Tensor({1.0f, 2.0f, 3.0f})));
  CHECK_FALSE(bitwise_equal(a, Tensor({1.0, 2.0, 3.0})));
  CHECK_FALSE(bitwise_equal(a, reshape(a, {3, 1})));
  CHECK_THROWS_AS(allclose(a, Tensor({1.0f, 2.0f})), ShapeError);
}
