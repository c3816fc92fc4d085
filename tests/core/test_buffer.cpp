#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "xflow/xflow.hpp"

using namespace xf;

TEST_CASE("the caching allocator reuses freed blocks", "[buffer]") {
  { Tensor warm = zeros({1 << 20}); }
  AllocatorStats before = allocator_stats();
  for (int i = 0; i < 10; ++i) {
    Tensor t = zeros({1 << 20});
    CHECK(t.size() == (1 << 20));
  }
  AllocatorStats after = allocator_stats();
  CHECK(after.allocations - before.allocations == 10);
  CHECK(after.system_allocations == before.system_allocations);
}

TEST_CASE("live and peak bytes are tracked", "[buffer]") {
  reset_peak_bytes();
  AllocatorStats s0 = allocator_stats();
  {
    Tensor a = zeros({1000}, DType::float64);  // 8000 bytes -> 8192-byte class
    AllocatorStats s1 = allocator_stats();
    CHECK(s1.live_bytes - s0.live_bytes == 8192);
    CHECK(s1.peak_bytes >= s1.live_bytes);
  }
  AllocatorStats s2 = allocator_stats();
  CHECK(s2.live_bytes == s0.live_bytes);
  CHECK(s2.peak_bytes - s0.live_bytes >= 8192);
  empty_cache();
  CHECK(allocator_stats().cached_bytes == 0);
}

TEST_CASE("buffers are 64-byte aligned, also for tiny and empty tensors", "[buffer]") {
  for (int64_t n : {0, 1, 3, 17, 1000}) {
    Tensor t = zeros({n}, DType::uint8);
    CHECK(reinterpret_cast<uintptr_t>(t.buffer()->data()) % 64 == 0);
  }
}

TEST_CASE("adopted memory stays alive with its owner", "[buffer]") {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3});
  auto buf = Buffer::adopt(owner->data(), 3 * sizeof(float), owner);
  Tensor t = Tensor::view(buf, DType::float32, {3}, {1}, 0);
  owner.reset();
  CHECK(t.to_vector<float>() == std::vector<float>{1, 2, 3});
}

TEST_CASE("allocation from several threads is safe", "[buffer]") {
  // Catch's assertions are not thread-safe: the threads count, the main thread checks.
  std::atomic<int> wrong{0};
  auto work = [&] {
    for (int i = 0; i < 200; ++i) {
      Tensor t = ones({64 + i});
      if (t.to_vector<float>()[0] != 1.0f) ++wrong;
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("tensors made on several threads have distinct ids; tiny eager ops on shared inputs agree", "[buffer]") {
  // Each thread draws ids from blocks of its own (core/tensor.cpp); the inputs' reference counts
  // are shared by every thread's ops. Catch's assertions are not thread-safe: the threads record,
  // the main thread checks.
  Tensor a({1.5f}), b({2.25f});
  constexpr int kThreads = 4, kPerThread = 3000;
  std::vector<std::vector<uint64_t>> ids(kThreads);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k)
    threads.emplace_back([&, k] {
      for (int i = 0; i < kPerThread; ++i) {
        Tensor c = (i % 2) ? a + b : exp(a) * b;
        if ((i % 2) && c.data<float>()[0] != 3.75f) ++wrong;
        ids[k].push_back(c.id());
      }
    });
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
  std::vector<uint64_t> all;
  for (const auto& v : ids) all.insert(all.end(), v.begin(), v.end());
  all.push_back(a.id());
  all.push_back(b.id());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(all.front() != 0);
}
