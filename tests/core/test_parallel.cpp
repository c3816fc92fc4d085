// Threaded code: kernels split over oneTBB, eager ops from several threads. Also run under
// ThreadSanitizer by ./dev.sh test.
#include <catch2/catch.hpp>
#include <thread>

#include "xflow/xflow.hpp"

using namespace xf;

namespace {
Tensor big_input(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(((i * 37) % 1000) * 0.006 - 3.0);
  return Tensor::from_vector(v, {n});
}
struct ThreadsGuard {
  ~ThreadsGuard() { set_num_threads(0); }
};
}  // namespace

TEST_CASE("large kernels give bitwise-equal results on 1 and 2 threads", "[parallel]") {
  ThreadsGuard guard;
  Tensor x = big_input(1 << 20);
  set_num_threads(1);
  CHECK(num_threads() == 1);
  Tensor e1 = exp(x), s1 = sum(x), m1 = max(reshape(x, {1024, 1024}), Axes{0}), r1 = random_normal({1 << 18});
  Tensor w1 = reshape(x, {1024, 1024}) * Tensor({2.0f}) + reshape(x, {1024, 1024});
  set_num_threads(2);
  CHECK(num_threads() == 2);
  manual_seed(0x5EED);
  Tensor e2 = exp(x), s2 = sum(x), m2 = max(reshape(x, {1024, 1024}), Axes{0});
  Tensor w2 = reshape(x, {1024, 1024}) * Tensor({2.0f}) + reshape(x, {1024, 1024});
  CHECK(bitwise_equal(e1, e2));
  CHECK(bitwise_equal(s1, s2));
  CHECK(bitwise_equal(m1, m2));
  CHECK(bitwise_equal(w1, w2));
  manual_seed(7);
  Tensor ra = random_normal({1 << 18});
  set_num_threads(1);
  manual_seed(7);
  Tensor rb = random_normal({1 << 18});
  CHECK(bitwise_equal(ra, rb));
}

TEST_CASE("eager ops run concurrently on several threads", "[parallel]") {
  ThreadsGuard guard;
  set_num_threads(2);
  Tensor x = big_input(1 << 17);
  Tensor expected = sum(tanh(x) * 2.0f);
  std::vector<Tensor> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] { results[t] = sum(tanh(x) * 2.0f); });
  for (auto& th : threads) th.join();
  for (const Tensor& r : results) CHECK(bitwise_equal(r, expected));
}

TEST_CASE("random draws from several threads never share counters", "[parallel]") {
  manual_seed(1);
  std::vector<Tensor> results(2);
  std::thread a([&] { results[0] = random_uniform({1000}); });
  std::thread b([&] { results[1] = random_uniform({1000}); });
  a.join();
  b.join();
  CHECK_FALSE(bitwise_equal(results[0], results[1]));
}
