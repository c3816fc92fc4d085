// Coordinator and QueueRunner against TensorFlow's coordinator.py and queue_runner_impl.py:
// stop requests, the first exception re-raised by join, OutOfRange as a clean stop, the grace
// period, and queue runners feeding queues end to end.
#include <atomic>
#include <chrono>
#include <thread>

#include "testing.hpp"
#include "xflow/coordinator.hpp"
#include "xflow/queue.hpp"
#include "expect.hpp"

#include <catch2/catch.hpp>

using namespace xf;
using namespace xf::train;
using namespace std::chrono_literals;

namespace {

using xf::testing::message_of;

}  // namespace

TEST_CASE("Coordinator: stop requests and wait_for_stop") {
  Coordinator coord;
  CHECK_FALSE(coord.should_stop());
  CHECK_FALSE(coord.wait_for_stop(5ms));
  std::thread t([&] { coord.request_stop(); });
  CHECK(coord.wait_for_stop());
  t.join();
  CHECK(coord.should_stop());
  coord.clear_stop();
  CHECK_FALSE(coord.should_stop());
}

TEST_CASE("Coordinator: join re-raises the first exception; OutOfRange is a clean stop") {
  SECTION("first real exception") {
    Coordinator coord;
    std::vector<std::thread> threads;
    threads.emplace_back([&] { coord.stop_on_exception([] { throw InvalidArgument("first"); }); });
    threads.front().join();
    threads.clear();
    threads.emplace_back([&] {
      coord.wait_for_stop();
      coord.stop_on_exception([] { throw DataLoss("second"); });  // after the stop: ignored
    });
    threads.emplace_back([&] {
      while (!coord.should_stop()) std::this_thread::sleep_for(1ms);
    });
    CHECK(message_of<InvalidArgument>([&] { coord.join(threads); }) == "first");
    for (auto& t : threads) CHECK_FALSE(t.joinable());
    // after join, reporting an exception raises it in the reporter (TensorFlow does too)
    CHECK_THROWS_AS(coord.request_stop(std::make_exception_ptr(Internal("late"))), Internal);
    coord.clear_stop();
    CHECK_NOTHROW(coord.raise_requested_exception());
  }
  SECTION("OutOfRange") {
    Coordinator coord;
    std::vector<std::thread> threads;
    threads.emplace_back([&] { coord.stop_on_exception([] { throw OutOfRange("done"); }); });
    threads.emplace_back([&] { coord.wait_for_stop(); });
    CHECK_NOTHROW(coord.join(threads));
    CHECK(coord.should_stop());
  }
  SECTION("threads that end without a stop request") {
    Coordinator coord;
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) threads.emplace_back([] { std::this_thread::sleep_for(2ms); });
    CHECK_NOTHROW(coord.join(threads));
    CHECK_FALSE(coord.should_stop());
  }
}

TEST_CASE("Coordinator: threads still running after the grace period are named") {
  Coordinator coord;
  std::atomic<bool> release{false}, named{false};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    pthread_setname_np(pthread_self(), "stubborn");
    named = true;
    while (!release) std::this_thread::sleep_for(1ms);
  });
  threads.emplace_back([&] { coord.wait_for_stop(); });
  while (!named) std::this_thread::sleep_for(1ms);
  coord.request_stop();
  std::string m = message_of<DeadlineExceeded>([&] { coord.join(threads, 0.02); });
  CHECK(m == "Coordinator stopped with threads still running: stubborn");
  CHECK(threads[0].joinable());   // still the caller's to join
  CHECK_FALSE(threads[1].joinable());
  release = true;
  threads[0].join();
}

TEST_CASE("Coordinator: registered threads are joined") {
  Coordinator coord;
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i) {
    coord.register_thread(std::thread([&] {
      coord.wait_for_stop();
      ++ran;
    }));
  }
  coord.register_thread(std::thread([&] { coord.stop_on_exception([] { throw Unavailable("boom"); }); }));
  CHECK(message_of<Unavailable>([&] { coord.join(); }) == "boom");
  CHECK(ran == 3);
}

TEST_CASE("QueueRunner: producers until OutOfRange, the last closes the queue") {
  FIFOQueue q(5, {DType::int32}, {{}}, "qr");
  std::atomic<int> next{0};
  auto op = [&] {
    int i = next++;
    if (i >= 100) throw OutOfRange("input exhausted");
    q.enqueue({Tensor(i)});
  };
  QueueRunner qr(q, {op, op, op});
  CHECK(qr.num_threads() == 3);
  Coordinator coord;
  std::vector<std::thread> threads = qr.create_threads(coord);
  CHECK(threads.size() == 4);  // three enqueue threads and the one that cancels on a stop
  CHECK(qr.create_threads(coord).empty());  // already running
  int64_t sum = 0, count = 0;
  try {
    while (true) {
      sum += q.dequeue()[0].tensor().item<int>();
      ++count;
    }
  } catch (const OutOfRange& e) {
    CHECK(std::string(e.what()) == "FIFOQueue 'qr' is closed and has insufficient elements (requested 1, current size 0)");
    coord.request_stop(std::current_exception());
  }
  coord.join(threads);
  CHECK(count == 100);
  CHECK(sum == 99 * 100 / 2);
  CHECK(q.is_closed());
  CHECK(qr.exceptions_raised().empty());
}

TEST_CASE("QueueRunner: an exception in an op stops everything and join re-raises it") {
  FIFOQueue q(2, {DType::int32}, {{}}, "err");
  std::atomic<int> n{0};
  auto good = [&] { q.enqueue({Tensor(1)}); };  // blocks once the queue is full
  auto bad = [&] {
    if (++n == 5) throw DataLoss("corrupted record at 12");
    std::this_thread::sleep_for(1ms);
  };
  QueueRunner qr(q, {good, good, bad});
  Coordinator coord;
  auto threads = qr.create_threads(coord);
  // the blocked enqueues are cancelled by the runner's cancel thread
  CHECK(message_of<DataLoss>([&] { coord.join(threads, 10); }) == "corrupted record at 12");
  CHECK(q.is_closed());
  REQUIRE(qr.exceptions_raised().size() >= 1);
}

TEST_CASE("QueueRunner: a stop request from the consumer cancels blocked producers") {
  FIFOQueue q(3, {DType::int32}, {{}});
  QueueRunner qr(q, {[&] { q.enqueue({Tensor(7)}); }, [&] { q.enqueue({Tensor(8)}); }});
  Coordinator coord;
  auto threads = qr.create_threads(coord);
  for (int i = 0; i < 20; ++i) q.dequeue();
  coord.request_stop();
  CHECK_NOTHROW(coord.join(threads, 10));
  CHECK(q.is_closed());
}

TEST_CASE("QueueRunner: custom close and cancel ops; bad arguments") {
  FIFOQueue q(3, {DType::int32}, {{}});
  std::atomic<int> closes{0}, cancels{0};
  QueueRunner qr(q, {[] { throw OutOfRange("empty"); }}, [&] { ++closes; }, [&] { ++cancels; });
  Coordinator coord;
  auto threads = qr.create_threads(coord);
  while (closes == 0) std::this_thread::sleep_for(1ms);
  coord.request_stop();
  coord.join(threads);
  CHECK(closes == 1);
  CHECK(cancels == 1);
  CHECK_FALSE(q.is_closed());
  CHECK_THROWS_AS(QueueRunner(q, {}), InvalidArgument);
  CHECK_THROWS_AS(QueueRunner(Queue(), {[] {}}), InvalidArgument);
  CHECK_THROWS_AS(qr.create_threads(coord, false), InvalidArgument);
}

TEST_CASE("start_queue_runners: the process-wide collection, two stages end to end") {
  clear_queue_runners();
  // stage 1 feeds numbers 0..199 into `raw`; stage 2 squares them into a shuffling queue
  FIFOQueue raw(8, {DType::int64}, {{}}, "raw");
  RandomShuffleQueue mixed(32, 8, {DType::int64}, {{}}, uint64_t{5}, "mixed");
  std::atomic<int64_t> next{0};
  auto feed = [&] {
    int64_t i = next++;
    if (i >= 200) throw OutOfRange("done");
    raw.enqueue({Tensor(i)});
  };
  auto square = [&] {
    int64_t v = raw.dequeue()[0].tensor().item<int64_t>();  // OutOfRange once raw is drained
    mixed.enqueue({Tensor(v * v)});
  };
  add_queue_runner(QueueRunner(raw, {feed, feed}));
  add_queue_runner(QueueRunner(mixed, {square, square, square}));
  CHECK(queue_runners().size() == 2);
  Coordinator coord;
  auto threads = start_queue_runners(coord);
  CHECK(threads.size() == 3 + 4);
  int64_t sum = 0, count = 0;
  try {
    while (true) {
      Element b = mixed.dequeue_up_to(16);
      for (int64_t v : b[0].tensor().to_vector<int64_t>()) {
        sum += v;
        ++count;
      }
    }
  } catch (const OutOfRange&) {
    coord.request_stop();
  }
  coord.join(threads);
  CHECK(count == 200);
  int64_t want = 0;
  for (int64_t i = 0; i < 200; ++i) want += i * i;
  CHECK(sum == want);
  clear_queue_runners();
}
