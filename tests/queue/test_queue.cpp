// Queues: FIFOQueue, RandomShuffleQueue and PaddingFIFOQueue against TensorFlow's semantics and
// messages (data_flow_ops.py, queue_base.cc, fifo_queue.cc, random_shuffle_queue_op.cc,
// padding_fifo_queue.cc), blocking, timeouts, closing, and a stress test under contention.
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "testing.hpp"
#include "xflow/queue.hpp"
#include "expect.hpp"

#include <catch2/catch.hpp>

using namespace xf;
using namespace std::chrono_literals;

namespace {

Tensor i32(int v) { return Tensor(v); }
int as_int(const Value& v) { return v.tensor().item<int>(); }

using xf::testing::message_of;

}  // namespace

TEST_CASE("FIFOQueue: enqueue, dequeue, size, order") {
  FIFOQueue q(10, {DType::int32, DType::float32}, {}, "q");
  CHECK(q.size() == 0);
  CHECK(q.capacity() == 10);
  CHECK(q.name() == "q");
  CHECK(std::string(q.class_name()) == "FIFOQueue");
  for (int i = 0; i < 5; ++i) q.enqueue({i32(i), Tensor(static_cast<float>(i) * 0.5f)});
  CHECK(q.size() == 5);
  for (int i = 0; i < 5; ++i) {
    Element e = q.dequeue();
    REQUIRE(e.size() == 2);
    CHECK(as_int(e[0]) == i);
    CHECK(e[1].tensor().item<float>() == static_cast<float>(i) * 0.5f);
  }
  CHECK(q.size() == 0);
}

TEST_CASE("FIFOQueue: a copy of the handle is the same queue") {
  FIFOQueue q(3, {DType::int32});
  Queue h = q;
  h.enqueue({i32(7)});
  CHECK(q.size() == 1);
  CHECK(h == q);
  CHECK(as_int(q.dequeue()[0]) == 7);
  Queue empty;
  CHECK_FALSE(empty.defined());
  CHECK_THROWS_AS(empty.size(), FailedPrecondition);
}

TEST_CASE("FIFOQueue: strings and tensors of any shape without shapes") {
  FIFOQueue q(4, {string_type, DType::float64});
  q.enqueue({StringTensor("a\0b"), zeros({2, 3}, DType::float64)});
  q.enqueue({StringTensor{"x", "y"}, zeros({0}, DType::float64)});
  Element a = q.dequeue();
  CHECK(a[0].strings().item() == std::string("a\0b"));
  CHECK(a[1].shape() == Shape{2, 3});
  Element b = q.dequeue();
  CHECK(b[0].strings() == StringTensor{"x", "y"});
  // dequeue_many needs shapes (TensorFlow's message)
  CHECK(message_of<InvalidArgument>([&] { q.dequeue_many(1); }) ==
        "FIFOQueue's DequeueMany and DequeueUpTo require the components to have specified shapes.");
}

TEST_CASE("FIFOQueue: validation names the component, the expected and the actual") {
  FIFOQueue q(4, {DType::int32, DType::float32}, {{}, {2}}, "v");
  std::string m = message_of<InvalidArgument>([&] { q.enqueue({i32(1)}); });
  CHECK_THAT(m, Catch::Contains("Wrong number of components in tuple. Expected 2, got 1"));
  m = message_of<InvalidArgument>([&] { q.enqueue({i32(1), Tensor(1)}); });
  CHECK_THAT(m, Catch::Contains("Type mismatch in tuple component 1. Expected float32, got int32"));
  m = message_of<InvalidArgument>([&] { q.enqueue({i32(1), zeros({3})}); });
  CHECK_THAT(m, Catch::Contains("Shape mismatch in tuple component 1. Expected [2], got [3]"));
  CHECK_THAT(m, Catch::Contains("FIFOQueue 'v' enqueue"));
  m = message_of<InvalidArgument>([&] { q.enqueue({StringTensor("s"), zeros({2})}); });
  CHECK_THAT(m, Catch::Contains("Type mismatch in tuple component 0. Expected int32, got string"));
  // enqueue_many: [batch] + shape, and equal batch sizes
  m = message_of<InvalidArgument>([&] { q.enqueue_many({Tensor({1, 2}), zeros({2, 3})}); });
  CHECK_THAT(m, Catch::Contains("Shape mismatch in tuple component 1. Expected [2,2], got [2,3]"));
  FIFOQueue u(4, {DType::int32, DType::int32});
  m = message_of<InvalidArgument>([&] { u.enqueue_many({Tensor({1, 2}), Tensor({1, 2, 3})}); });
  CHECK_THAT(m, Catch::Contains("All input tensors must have the same size in the 0th dimension. Component 1 has 3, "
                                "and should have 2"));
  m = message_of<InvalidArgument>([&] { u.enqueue_many({i32(1), i32(2)}); });
  CHECK_THAT(m, Catch::Contains("enqueue_many needs a batch along axis 0"));
  CHECK(q.size() == 0);
  CHECK(u.size() == 0);
}

TEST_CASE("queues: bad construction") {
  CHECK_THROWS_AS(FIFOQueue(0, {DType::int32}), InvalidArgument);
  CHECK_THROWS_AS(FIFOQueue(2, {}), InvalidArgument);
  CHECK_THROWS_AS(FIFOQueue(2, {DType::int32}, {{1}, {2}}), InvalidArgument);
  CHECK_THROWS_AS(FIFOQueue(2, {DType::int32}, {{-1}}), InvalidArgument);
  CHECK_THROWS_AS(PaddingFIFOQueue(2, {DType::int32}, {}), InvalidArgument);
  CHECK_THAT(message_of<InvalidArgument>([] { RandomShuffleQueue(5, 5, {DType::int32}); }),
             Catch::Contains("min_after_dequeue 5 must be < capacity 5"));
  CHECK_THAT(message_of<InvalidArgument>([] { RandomShuffleQueue(5, -1, {DType::int32}); }),
             Catch::Contains("min_after_dequeue -1 must be >= 0"));
  FIFOQueue unbounded(-1, {DType::int32});
  for (int i = 0; i < 1000; ++i) unbounded.enqueue({i32(i)});
  CHECK(unbounded.size() == 1000);
}

TEST_CASE("FIFOQueue: enqueue_many and dequeue_many stack along axis 0") {
  FIFOQueue q(10, {DType::int32, DType::float32}, {{}, {2}});
  q.enqueue_many({Tensor({1, 2, 3}), Tensor({{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}})});
  CHECK(q.size() == 3);
  Element e = q.dequeue();
  CHECK(as_int(e[0]) == 1);
  CHECK(e[1].tensor().to_vector<float>() == std::vector<float>{1, 2});
  q.enqueue({i32(4), Tensor({7.f, 8.f})});
  Element b = q.dequeue_many(3);
  CHECK(b[0].shape() == Shape{3});
  CHECK(b[0].tensor().to_vector<int>() == std::vector<int>{2, 3, 4});
  CHECK(b[1].shape() == Shape{3, 2});
  CHECK(b[1].tensor().to_vector<float>() == std::vector<float>{3, 4, 5, 6, 7, 8});
  // n = 0: empty batches of the component shapes
  Element z = q.dequeue_many(0);
  CHECK(z[0].shape() == Shape{0});
  CHECK(z[1].shape() == Shape{0, 2});
  CHECK_THROWS_AS(q.dequeue_many(-1), InvalidArgument);
  // a non-contiguous batch slices correctly
  Tensor t = Tensor({{1, 2}, {3, 4}, {5, 6}});
  FIFOQueue s(10, {DType::int32}, {{2}});
  s.enqueue_many({Tensor::view(t.buffer(), t.dtype(), {3, 2}, {2, 1}, 0)});
  CHECK(s.dequeue_many(3)[0].tensor().to_vector<int>() == std::vector<int>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("FIFOQueue: string components in dequeue_many") {
  FIFOQueue q(10, {string_type}, {{2}});
  q.enqueue_many({StringTensor({"a", "b", "c", "d"}, {2, 2})});
  q.enqueue({StringTensor{"e", ""}});
  Element b = q.dequeue_many(3);
  CHECK(b[0].strings() == StringTensor({"a", "b", "c", "d", "e", ""}, {3, 2}));
}

TEST_CASE("FIFOQueue: close, drain, then TensorFlow's OutOfRange") {
  FIFOQueue q(10, {DType::int32}, {{}}, "fq");
  q.enqueue_many({Tensor({1, 2, 3})});
  CHECK_FALSE(q.is_closed());
  q.close();
  CHECK(q.is_closed());
  CHECK(message_of<Cancelled>([&] { q.enqueue({i32(4)}); }) == "FIFOQueue 'fq' is closed.");
  CHECK(message_of<Cancelled>([&] { q.enqueue_many({Tensor({4})}); }) == "FIFOQueue 'fq' is closed.");
  CHECK(message_of<OutOfRange>([&] { q.dequeue_many(5); }) ==
        "FIFOQueue 'fq' is closed and has insufficient elements (requested 5, current size 3)");
  CHECK(q.size() == 3);  // a failed dequeue_many takes nothing
  CHECK(q.dequeue_up_to(2)[0].tensor().to_vector<int>() == std::vector<int>{1, 2});
  CHECK(q.dequeue_up_to(5)[0].tensor().to_vector<int>() == std::vector<int>{3});
  CHECK(message_of<OutOfRange>([&] { q.dequeue(); }) ==
        "FIFOQueue 'fq' is closed and has insufficient elements (requested 1, current size 0)");
  CHECK(message_of<OutOfRange>([&] { q.dequeue_up_to(4); }) ==
        "FIFOQueue 'fq' is closed and has insufficient elements (requested 4, current size 0)");
  // closing again: TensorFlow's Cancelled; with cancel_pending_enqueues it is accepted
  CHECK(message_of<Cancelled>([&] { q.close(); }) == "Queue 'fq' is already closed.");
  q.close(true);
}

TEST_CASE("FIFOQueue: timeouts") {
  FIFOQueue q(1, {DType::int32}, {{}}, "t");
  CHECK_THAT(message_of<DeadlineExceeded>([&] { q.dequeue(20ms); }), Catch::Contains("dequeue timed out after 20 ms"));
  q.enqueue({i32(1)});
  CHECK_THAT(message_of<DeadlineExceeded>([&] { q.enqueue({i32(2)}, 20ms); }), Catch::Contains("enqueue timed out"));
  // a dequeue_many that timed out puts back what it had gathered, in order
  CHECK_THROWS_AS(q.dequeue_many(2, 20ms), DeadlineExceeded);
  CHECK(q.size() == 1);
  // an enqueue_many that times out keeps what went in
  CHECK_THAT(message_of<DeadlineExceeded>([&] { q.enqueue_many({Tensor({5, 6})}, 20ms); }),
             Catch::Contains("(0 of 2 elements enqueued)"));
  CHECK(as_int(q.dequeue(0ms)[0]) == 1);
  CHECK_THROWS_AS(q.dequeue(0ms), DeadlineExceeded);
}

TEST_CASE("FIFOQueue: a blocked dequeue wakes on enqueue and on close") {
  FIFOQueue q(2, {DType::int32}, {{}}, "w");
  std::atomic<int> got{-1};
  std::thread t([&] { got = as_int(q.dequeue()[0]); });
  q.enqueue({i32(42)});
  t.join();
  CHECK(got == 42);
  std::string msg;
  std::thread t2([&] {
    try {
      q.dequeue_many(2);
    } catch (const OutOfRange& e) {
      msg = e.what();
    }
  });
  q.enqueue({i32(1)});
  q.close();
  t2.join();
  CHECK(msg == "FIFOQueue 'w' is closed and has insufficient elements (requested 2, current size 1)");
  CHECK(q.size() == 1);
}

TEST_CASE("FIFOQueue: an enqueue_many larger than the capacity completes as consumers take") {
  FIFOQueue q(3, {DType::int32}, {{}});
  std::thread producer([&] { q.enqueue_many({arange(10)}); });
  std::vector<int> seen;
  for (int i = 0; i < 5; ++i) {
    auto v = q.dequeue_many(2)[0].tensor().to_vector<int>();
    seen.insert(seen.end(), v.begin(), v.end());
  }
  producer.join();
  CHECK(seen == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // and a dequeue_many larger than the capacity gathers as producers add
  std::thread p2([&] {
    for (int i = 0; i < 7; ++i) q.enqueue({i32(i)});
  });
  CHECK(q.dequeue_many(7)[0].tensor().to_vector<int>() == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  p2.join();
}

TEST_CASE("FIFOQueue: close lets waiting enqueues finish; close(true) cancels them") {
  SECTION("close") {
    FIFOQueue q(1, {DType::int32}, {{}}, "c");
    q.enqueue({i32(1)});
    std::atomic<bool> started{false};
    std::atomic<int> outcome{0};  // 1: enqueued, 2: refused (it came after the close)
    std::thread t([&] {
      started = true;
      try {
        q.enqueue({i32(2)});  // blocks: full
        outcome = 1;
      } catch (const Cancelled&) {
        outcome = 2;
      }
    });
    while (!started) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);  // almost always blocked by now; both orders are checked
    q.close();
    // a pending enqueue completes once there is room: both elements come out
    CHECK(as_int(q.dequeue()[0]) == 1);
    t.join();
    REQUIRE(outcome != 0);
    if (outcome == 1) CHECK(as_int(q.dequeue()[0]) == 2);
    CHECK_THROWS_AS(q.dequeue(), OutOfRange);
  }
  SECTION("close(cancel_pending_enqueues)") {
    FIFOQueue q(1, {DType::int32}, {{}}, "c");
    q.enqueue({i32(1)});
    std::string msg;
    std::atomic<bool> started{false};
    std::thread t([&] {
      started = true;
      try {
        q.enqueue({i32(2)});
      } catch (const Cancelled& e) {
        msg = e.what();
      }
    });
    while (!started) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(10ms);
    q.close(true);
    t.join();
    // either the enqueue was waiting (cancelled) or it came after the close (refused)
    CHECK((msg == "Enqueue operation was cancelled" || msg == "FIFOQueue 'c' is closed."));
    CHECK(q.size() == 1);
    CHECK(as_int(q.dequeue()[0]) == 1);
    CHECK_THROWS_AS(q.dequeue(), OutOfRange);
  }
}

TEST_CASE("RandomShuffleQueue: a permutation, deterministic for a seed") {
  auto run = [](uint64_t seed) {
    RandomShuffleQueue q(100, 0, {DType::int32}, {{}}, seed);
    q.enqueue_many({arange(50)});
    std::vector<int> out;
    for (int i = 0; i < 50; ++i) out.push_back(as_int(q.dequeue()[0]));
    return out;
  };
  auto a = run(7), b = run(7), c = run(8);
  CHECK(a == b);
  CHECK(a != c);
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int> want(50);
  for (int i = 0; i < 50; ++i) want[static_cast<size_t>(i)] = i;
  CHECK(sorted == want);
  CHECK(a != want);  // shuffled
  // dequeue_many from the same seed gives the same batches
  RandomShuffleQueue q1(100, 0, {DType::int32}, {{}}, 7), q2(100, 0, {DType::int32}, {{}}, 7);
  q1.enqueue_many({arange(50)});
  q2.enqueue_many({arange(50)});
  CHECK(q1.dequeue_many(20)[0].tensor().to_vector<int>() == q2.dequeue_many(20)[0].tensor().to_vector<int>());
}

TEST_CASE("RandomShuffleQueue: min_after_dequeue holds elements back until closed") {
  RandomShuffleQueue q(10, 3, {DType::int32}, {{}}, uint64_t{1}, "rs");
  CHECK(q.min_after_dequeue() == 3);
  q.enqueue_many({Tensor({1, 2, 3})});
  CHECK_THROWS_AS(q.dequeue(10ms), DeadlineExceeded);  // size 3 is not > min_after_dequeue
  q.enqueue({i32(4)});
  q.dequeue(1000ms);  // size 4 > 3: one may go
  CHECK(q.size() == 3);
  CHECK_THROWS_AS(q.dequeue_many(2, 10ms), DeadlineExceeded);
  CHECK(q.size() == 3);
  q.close();
  CHECK(message_of<Cancelled>([&] { q.enqueue({i32(5)}); }) == "RandomShuffleQueue 'rs' is closed.");
  CHECK(message_of<OutOfRange>([&] { q.dequeue_many(4); }) ==
        "RandomShuffleQueue 'rs' is closed and has insufficient elements (requested 4, current size 3)");
  CHECK(q.dequeue_many(2)[0].shape() == Shape{2});  // closed: min_after_dequeue no longer applies
  CHECK(q.dequeue_up_to(5)[0].shape() == Shape{1});
  CHECK(message_of<OutOfRange>([&] { q.dequeue(); }) ==
        "RandomShuffleQueue 'rs' is closed and has insufficient elements (requested 1, current size 0)");
  RandomShuffleQueue n(10, 0, {DType::int32});
  CHECK(message_of<InvalidArgument>([&] { n.dequeue_many(1); }) ==
        "RandomShuffleQueue's DequeueMany and DequeueUpTo require the components to have specified shapes.");
}

TEST_CASE("PaddingFIFOQueue: -1 dimensions pad to the batch's largest") {
  PaddingFIFOQueue q(10, {DType::int32, string_type}, {{-1}, {-1, 2}}, "pq");
  CHECK(std::string(q.class_name()) == "PaddingFIFOQueue");
  q.enqueue({Tensor({1, 2, 3}), StringTensor({"a", "b"}, {1, 2})});
  q.enqueue({Tensor({4}), StringTensor({"c", "d", "e", "f", "g", "h"}, {3, 2})});
  q.enqueue({zeros({0}, DType::int32), StringTensor(std::vector<std::string>{}, {0, 2})});
  CHECK_THAT(message_of<InvalidArgument>([&] { q.enqueue({Tensor({1}), StringTensor({"a", "b", "c"}, {1, 3})}); }),
             Catch::Contains("Shape mismatch in tuple component 1. Expected [?,2], got [1,3]"));
  CHECK_THAT(message_of<InvalidArgument>([&] { q.enqueue({Tensor({{1}}), StringTensor({"a", "b"}, {1, 2})}); }),
             Catch::Contains("Shape mismatch in tuple component 0. Expected [?], got [1,1]"));
  Element b = q.dequeue_many(3);
  CHECK(b[0].shape() == Shape{3, 3});
  CHECK(b[0].tensor().to_vector<int>() == std::vector<int>{1, 2, 3, 4, 0, 0, 0, 0, 0});
  CHECK(b[1].strings() == StringTensor({"a", "b", "", "", "", "", "c", "d", "e", "f", "g", "h", "", "", "", "", "", ""},
                                       {3, 3, 2}));
  // a single dequeue returns the element unpadded
  q.enqueue({Tensor({9, 8}), StringTensor(std::vector<std::string>{}, {0, 2})});
  Element one = q.dequeue();
  CHECK(one[0].shape() == Shape{2});
  // n = 0: unknown dimensions are 0
  Element z = q.dequeue_many(0);
  CHECK(z[0].shape() == Shape{0, 0});
  CHECK(z[1].shape() == Shape{0, 0, 2});
  // TensorFlow's messages: enqueue and dequeue are FIFOQueue's, dequeue_many PaddingFIFOQueue's
  q.close();
  CHECK(message_of<Cancelled>([&] { q.enqueue({Tensor({1}), StringTensor({"a", "b"}, {1, 2})}); }) ==
        "FIFOQueue 'pq' is closed.");
  CHECK(message_of<OutOfRange>([&] { q.dequeue_many(1); }) ==
        "PaddingFIFOQueue 'pq' is closed and has insufficient elements (requested 1, current size 0)");
  CHECK(message_of<OutOfRange>([&] { q.dequeue(); }) ==
        "FIFOQueue 'pq' is closed and has insufficient elements (requested 1, current size 0)");
}

TEST_CASE("PaddingFIFOQueue: rank-3 padding and enqueue_many") {
  PaddingFIFOQueue q(10, {DType::float32}, {{-1, 2, -1}});
  q.enqueue({Tensor({{{1.f}, {2.f}}})});                           // (1, 2, 1)
  q.enqueue_many({Tensor({{{{3.f, 4.f}, {5.f, 6.f}}, {{7.f, 8.f}, {9.f, 10.f}}}})});  // (1, 2, 2, 2): one (2, 2, 2)
  q.close();
  Element b = q.dequeue_up_to(5);  // closed: the two that are there
  CHECK(b[0].shape() == Shape{2, 2, 2, 2});
  CHECK(b[0].tensor().to_vector<float>() ==
        std::vector<float>{1, 0, 2, 0, 0, 0, 0, 0, 3, 4, 5, 6, 7, 8, 9, 10});
}

TEST_CASE("queues: concurrent dequeue_many calls get consecutive elements") {
  FIFOQueue q(1000, {DType::int32}, {{}});
  std::vector<std::vector<int>> batches(4);
  std::vector<std::thread> consumers;
  for (int c = 0; c < 4; ++c) {
    consumers.emplace_back([&, c] { batches[static_cast<size_t>(c)] = q.dequeue_many(25)[0].tensor().to_vector<int>(); });
  }
  for (int i = 0; i < 100; ++i) q.enqueue({i32(i)});
  for (auto& t : consumers) t.join();
  for (const auto& b : batches) {
    REQUIRE(b.size() == 25);
    for (size_t k = 1; k < b.size(); ++k) CHECK(b[k] == b[k - 1] + 1);
    CHECK(b[0] % 25 == 0);
  }
}

// Several producers and consumers on small queues: every element arrives exactly once.
TEST_CASE("queues: stress, no element lost or duplicated") {
  const int producers = 4, consumers = 3, per_producer = 2000;
  for (int kind = 0; kind < 3; ++kind) {
    Queue q = kind == 0   ? Queue(FIFOQueue(7, {DType::int64, DType::int32}, {{}, {2}}, "stress"))
              : kind == 1 ? Queue(RandomShuffleQueue(16, 5, {DType::int64, DType::int32}, {{}, {2}}, uint64_t{3}))
                          : Queue(PaddingFIFOQueue(7, {DType::int64, DType::int32}, {{}, {-1}}));
    std::atomic<int> producers_left{producers};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        for (int i = 0; i < per_producer; ++i) {
          int64_t id = int64_t{p} * per_producer + i;
          if (i % 3 == 0 && i + 2 < per_producer) {  // some enqueue_many
            std::vector<int64_t> ids{id, id + 1, id + 2};
            std::vector<int32_t> check;
            for (int64_t x : ids) {
              check.push_back(static_cast<int32_t>(x % 1000));
              check.push_back(static_cast<int32_t>(x / 1000));
            }
            q.enqueue_many({Tensor::from_vector(ids, {3}), Tensor::from_vector(check, {3, 2})});
            i += 2;
          } else {
            q.enqueue({Tensor(id), Tensor({static_cast<int32_t>(id % 1000), static_cast<int32_t>(id / 1000)})});
          }
        }
        if (--producers_left == 0) q.close();
      });
    }
    std::vector<std::vector<int64_t>> got(consumers);
    std::atomic<int64_t> bad{0};
    for (int c = 0; c < consumers; ++c) {
      threads.emplace_back([&, c] {
        auto& mine = got[static_cast<size_t>(c)];
        try {
          for (int round = 0;; ++round) {
            Element e = (round % 2 == 0) ? q.dequeue() : q.dequeue_up_to(5);
            auto ids = e[0].tensor().to_vector<int64_t>();
            auto chk = e[1].tensor().to_vector<int32_t>();
            if (chk.size() != ids.size() * 2) ++bad;
            for (size_t k = 0; k < ids.size() && 2 * k + 1 < chk.size(); ++k) {
              if (chk[2 * k] != ids[k] % 1000 || chk[2 * k + 1] != ids[k] / 1000) ++bad;
              mine.push_back(ids[k]);
            }
          }
        } catch (const OutOfRange&) {
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(bad == 0);
    std::vector<int64_t> all;
    int64_t sum = 0;
    for (auto& g : got) {
      all.insert(all.end(), g.begin(), g.end());
      for (int64_t x : g) sum += x;
    }
    const int64_t n = int64_t{producers} * per_producer;
    CHECK(static_cast<int64_t>(all.size()) == n);
    CHECK(sum == n * (n - 1) / 2);
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    CHECK(q.size() == 0);
  }
}
