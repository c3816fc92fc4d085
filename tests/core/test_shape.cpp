// Dims (shapes and strides) and the SmallVector under it; the one-allocation small tensor.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xflow/xflow.hpp"

using namespace xf;

TEST_CASE("Dims reads and writes like std::vector<int64_t>", "[shape]") {
  Shape s{2, 3};
  CHECK(s.size() == 2);
  CHECK(s[0] == 2);
  CHECK(s.back() == 3);
  s.push_back(4);
  s.insert(s.begin(), 1);
  CHECK(s == Shape{1, 2, 3, 4});
  s.erase(s.begin() + 1);
  CHECK(s == Shape{1, 3, 4});
  s.erase(s.begin(), s.begin() + 2);
  CHECK(s == Shape{4});
  s.insert(s.end(), {5, 6});
  CHECK(s == Shape{4, 5, 6});
  s.resize(5);
  CHECK(s == Shape{4, 5, 6, 0, 0});
  s.resize(1);
  CHECK(s == Shape{4});
  CHECK(Shape(3, 1) == Shape{1, 1, 1});
  CHECK(Shape(2) == Shape{0, 0});
  CHECK(Shape{} .empty());
  CHECK(Shape{1, 2} != Shape{1, 3});
  CHECK(Shape{1, 2} < Shape{1, 3});
  int64_t sum = 0;
  for (int64_t d : Shape{1, 2, 3}) sum += d;
  CHECK(sum == 6);
  CHECK(std::vector<int64_t>(s.rbegin(), s.rend()) == std::vector<int64_t>{4});
  CHECK_THROWS_AS(s.at(1), std::out_of_range);
}

TEST_CASE("Dims converts from and to std::vector<int64_t>", "[shape]") {
  std::vector<int64_t> v{2, 3, 4};
  Shape s = v;
  CHECK(s == v);
  CHECK(v == s);
  std::vector<int64_t> back = s;
  CHECK(back == v);
  CHECK(s.vec() == v);
  s = std::vector<int64_t>{5};
  CHECK(s == Shape{5});
  CHECK(s != v);
  auto takes_vector = [](const std::vector<int64_t>& x) { return x.size(); };
  CHECK(takes_vector(s) == 1);
  // JSON round trip, as graph files and tests write shapes.
  nlohmann::json j = Shape{1, 2};
  CHECK(j.dump() == "[1,2]");
  CHECK(j.get<Shape>() == Shape{1, 2});
}

TEST_CASE("Dims keeps rank 6 inline and grows onto the heap beyond", "[shape]") {
  Shape s{1, 2, 3, 4, 5, 6};
  CHECK(s.capacity() == 6);
  const int64_t* inline_data = s.data();
  s.push_back(7);
  CHECK(s.capacity() > 6);
  CHECK(s.data() != inline_data);
  CHECK(s == Shape{1, 2, 3, 4, 5, 6, 7});
  Shape copy = s;
  CHECK(copy == s);
  Shape moved = std::move(copy);
  CHECK(moved == s);
  CHECK(copy.empty());  // NOLINT: a moved-from Dims is empty
  copy = moved;         // reuse after the move
  CHECK(copy == s);
  // Copies and moves between inline and heap storage in both directions.
  Shape small{9};
  small = s;
  CHECK(small == s);
  s = Shape{1};
  CHECK(s == Shape{1});
  Shape big(20, 7);
  big = std::move(s);
  CHECK(big == Shape{1});
  // Pushing an element of the vector itself while it grows.
  Shape self{1, 2, 3, 4, 5, 6};
  self.push_back(self[0]);
  CHECK(self.back() == 1);
  Tensor t = zeros({1, 1, 1, 1, 1, 1, 1, 2});
  CHECK(t.rank() == 8);
  CHECK(t.strides() == Strides{2, 2, 2, 2, 2, 2, 2, 1});
  CHECK(sum(t).item<float>() == 0);
}

TEST_CASE("a SmallVector of non-trivial elements constructs and destroys each once", "[shape]") {
  SmallVector<std::string, 2> v{"a", "b"};
  v.push_back("a long string that does not fit in the small string buffer");
  v.insert(v.begin(), "z");
  CHECK(v.size() == 4);
  CHECK(v[0] == "z");
  CHECK(v[3] == "a long string that does not fit in the small string buffer");
  v.erase(v.begin() + 1, v.begin() + 3);
  CHECK(v.size() == 2);
  CHECK(v[1] == "a long string that does not fit in the small string buffer");
  SmallVector<std::string, 2> w = v;
  SmallVector<std::string, 2> x = std::move(v);
  CHECK(w == x);
  x.clear();
  CHECK(x.empty());
}

TEST_CASE("a small tensor's buffer keeps its one allocation alive", "[shape][buffer]") {
  std::shared_ptr<Buffer> buf;
  Tensor view;
  {
    Tensor t = arange(6, DType::float32);  // 24 bytes: description, buffer and bytes in one block
    buf = t.buffer();
    view = reshape(t, {2, 3});
    CHECK(view.buffer() == t.buffer());
    CHECK(reinterpret_cast<uintptr_t>(buf->data()) % 64 == 0);
    CHECK(buf->size() == 24);
  }
  CHECK(view.to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4, 5});
  Tensor again = Tensor::view(buf, DType::float32, {3}, {2}, 1);
  CHECK(again.to_vector<float>() == std::vector<float>{1, 3, 5});
  // At the inline limit (64 bytes) and one element past it: same values either way.
  Tensor at = arange(16, DType::float32), past = arange(17, DType::float32);
  CHECK((at + at).to_vector<float>()[15] == 30);
  CHECK((past + past).to_vector<float>()[16] == 32);
}
