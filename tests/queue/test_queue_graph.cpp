// Queues inside graphs: a traced step that dequeues replays with fresh elements every call, the
// passes never fold, merge, reorder or drop queue nodes, and a Session graph with an enqueue node
// runs from several threads.
#include <atomic>
#include <thread>

#include "testing.hpp"
#include "xflow/queue.hpp"
#include "xflow/session.hpp"
#include "xflow/trace.hpp"

#include <catch2/catch.hpp>

using namespace xf;

namespace {
int count_ops(const Graph& g, const std::string& op) {
  int n = 0;
  for (const GraphNode& node : g.nodes) n += std::string(node.op.name()) == op;
  return n;
}
}  // namespace

TEST_CASE("queue graphs: a traced step dequeues fresh elements on every replay") {
  FIFOQueue q(100, {DType::float32, DType::int32}, {{2}, {}}, "data");
  for (int i = 0; i < 40; ++i) q.enqueue({Tensor({static_cast<float>(i), 1.0f}), Tensor(i)});
  Tensor scale = Tensor(2.0f);
  auto step = trace([&](const std::vector<Tensor>& in) {
    Element b = q.dequeue_many(4);
    Tensor x = b[0].tensor();
    return std::vector<Tensor>{sum(x * scale) + in[0], b[1].tensor()};
  });
  for (int call = 0; call < 10; ++call) {
    auto out = step({Tensor(0.5f)});
    // batch `call` holds rows 4c..4c+3: sum of 2 * (i + 1)
    float want = 0.5f;
    for (int i = 4 * call; i < 4 * call + 4; ++i) want += 2.0f * (static_cast<float>(i) + 1.0f);
    CHECK(out[0].item<float>() == want);
    CHECK(out[1].to_vector<int>() == std::vector<int>{4 * call, 4 * call + 1, 4 * call + 2, 4 * call + 3});
  }
  CHECK(step.stats().replays >= 9);
  CHECK(q.size() == 0);
  // once closed and drained, a replay raises OutOfRange with TensorFlow's message inside
  q.close();
  try {
    step({Tensor(0.5f)});
    FAIL("no OutOfRange");
  } catch (const OutOfRange& e) {
    CHECK_THAT(e.what(), Catch::Contains("FIFOQueue 'data' is closed and has insufficient elements (requested 4, current size 0)"));
  }
}

TEST_CASE("queue graphs: two dequeues are neither merged nor folded, and enqueue/dequeue keep order") {
  FIFOQueue q(10, {DType::float32}, {{}}, "order");
  auto fn = [&](const std::vector<Tensor>& in) {
    q.enqueue({in[0]});
    q.enqueue({in[0] + 1.0f});
    Tensor a = q.dequeue()[0].tensor();
    Tensor b = q.dequeue()[0].tensor();
    return std::vector<Tensor>{a * 10.0f + b};
  };
  Graph g = trace_graph(fn, {Tensor(1.0f)});
  CHECK(count_ops(g, "queue_dequeue") == 2);
  CHECK(count_ops(g, "queue_enqueue") == 2);
  for (const PlanOptions& o : testing::all_plan_options()) {
    Plan plan(g, o);
    CHECK(plan.run({Tensor(3.0f)})[0].item<float>() == 34.0f);
    CHECK(q.size() == 0);
  }
  auto step = trace(fn);
  for (int i = 0; i < 5; ++i) CHECK(step({Tensor(static_cast<float>(i))})[0].item<float>() == 11.0f * i + 1.0f);
  CHECK(q.size() == 0);
}

TEST_CASE("queue graphs: a Session graph with an enqueue node, run from several threads") {
  FIFOQueue q(1000, {DType::int64, DType::float32}, {{}, {3}}, "feed");
  GraphBuilder b;
  Tensor id = b.placeholder(DType::int64, {}, "id");
  Tensor v = b.placeholder(DType::float32, {3}, "v");
  q.enqueue({id, v * 2.0f});
  Graph g = b.finish({});
  CHECK(q.size() == 0);  // building recorded the enqueue but did not run it
  REQUIRE(count_ops(g, "queue_enqueue") == 1);
  int enq = -1;
  for (const GraphNode& n : g.nodes) {
    if (std::string(n.op.name()) == "queue_enqueue") enq = n.outputs[0];
  }
  Session sess(g);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};  // Catch2's assertions are not thread-safe: threads count, main checks
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int64_t k = t * 50 + i;
        auto r = sess.run({enq}, {{b.value_of(id), Tensor(k)},
                                  {b.value_of(v), Tensor({static_cast<float>(k), 0.f, 1.f})}});
        if (r[0].item<int64_t>() != 1) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
  REQUIRE(q.size() == 200);
  Element all = q.dequeue_many(200);
  auto ids = all[0].tensor().to_vector<int64_t>();
  auto vals = all[1].tensor().to_vector<float>();
  std::vector<int> seen(200, 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    ++seen[static_cast<size_t>(ids[i])];
    CHECK(vals[3 * i] == 2.0f * static_cast<float>(ids[i]));
  }
  for (int s : seen) CHECK(s == 1);
}

TEST_CASE("queue graphs: a Session dequeue node takes a fresh batch per run") {
  FIFOQueue q(100, {DType::float32}, {{2}}, "src");
  GraphBuilder b;
  Tensor batch = q.dequeue_many(3)[0].tensor();
  Tensor total = sum(batch);
  Graph g = b.finish({total});
  Session sess(g);
  q.enqueue_many({reshape(arange(0, 12, 1, DType::float32), {6, 2})});
  CHECK(sess.run({b.value_of(total)})[0].item<float>() == 15.0f);
  CHECK(sess.run({b.value_of(total)})[0].item<float>() == 51.0f);
  CHECK(q.size() == 0);
}

TEST_CASE("queue graphs: what cannot be a node is refused with a clear error") {
  FIFOQueue strings(4, {string_type}, {{}}, "names");
  FIFOQueue noshape(4, {DType::float32}, {}, "free");
  PaddingFIFOQueue padded(4, {DType::float32}, {{-1}}, "pad");
  strings.enqueue({StringTensor("a")});
  auto run = [](std::function<void()> f) {
    try {
      trace_graph([&](const std::vector<Tensor>& in) {
        f();
        return in;
      }, {Tensor(1.0f)});
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(run([&] { strings.dequeue(); }), Catch::Contains("FIFOQueue 'names' dequeue] cannot be recorded in a traced "
                                                              "function or graph: component 0 is a string"));
  CHECK_THAT(run([&] { noshape.dequeue(); }), Catch::Contains("the queue has no shapes"));
  CHECK_THAT(run([&] { padded.dequeue_many(2); }), Catch::Contains("padded (-1) dimension"));
  CHECK_THAT(run([&] { noshape.dequeue_up_to(2); }), Catch::Contains("use dequeue_many"));
  CHECK(strings.size() == 1);
}
