// TensorFlow 1's reading pipeline end to end on real TFRecord files: string_input_producer ->
// TFRecordReader -> parse_single_example -> batch / shuffle_batch, with a Coordinator and the
// QueueRunners that start_queue_runners starts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "xflow/coordinator.hpp"
#include "xflow/example.hpp"
#include "xflow/input_pipeline.hpp"
#include "xflow/queue.hpp"
#include "xflow/tfrecord.hpp"
#include "xflow/xflow.hpp"
#include "temp_files.hpp"

namespace {

namespace fs = std::filesystem;
using xf::Element;
using xf::Queue;
using xf::StringTensor;
using xf::Tensor;
using xf::train::Coordinator;

// A temporary directory, removed at the end of the test case.
struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("input") {}
};

// Every test case builds its own pipeline: the queue runners of earlier test cases (the process-wide
// collection, TensorFlow's graph collection) are dropped first.
void fresh_graph() { xf::train::clear_queue_runners(); }

// `n` Examples {"id": int64 first_id + i, "x": float [2] (id, -id)} in one file.
void write_examples(const std::string& path, int64_t first_id, int64_t n) {
  xf::io::TFRecordWriter w(path);
  for (int64_t i = 0; i < n; ++i) {
    xf::io::Example ex;
    int64_t id = first_id + i;
    ex.set_int64s("id", {id});
    ex.set_floats("x", {static_cast<float>(id), -static_cast<float>(id)});
    w.write(ex.serialize());
  }
  w.close();
}

const xf::io::FeatureMap& features() {
  static const xf::io::FeatureMap f = {
      {"id", xf::io::FixedLenFeature{{}, xf::DType::int64, std::nullopt}},
      {"x", xf::io::FixedLenFeature{{2}, xf::DType::float32, std::nullopt}},
  };
  return f;
}

// The producer of the TF1 pipeline: one record read and parsed into (id, x).
std::function<Element()> parse_records(xf::train::TFRecordReader reader, Queue filenames) {
  return [reader, filenames]() mutable {
    auto [key, value] = reader.read(filenames);
    xf::io::ParsedFeatures p = xf::io::parse_single_example(value, features());
    return Element{p.at("id"), p.at("x")};
  };
}

// Drains `b` until OutOfRange; returns the ids in batch order and checks each batch's shapes and
// that x matches id.
std::vector<int64_t> drain(xf::train::Batcher& b, std::vector<int64_t>* batch_sizes = nullptr) {
  std::vector<int64_t> ids;
  for (;;) {
    Element e;
    try {
      e = b.next();
    } catch (const xf::OutOfRange&) {
      break;
    }
    REQUIRE(e.size() == 2);
    const Tensor& id = e[0].tensor();
    const Tensor& x = e[1].tensor();
    REQUIRE(id.shape().size() == 1);
    REQUIRE(x.shape() == xf::Shape{id.shape()[0], 2});
    std::vector<int64_t> iv = id.to_vector<int64_t>();
    std::vector<float> xv = x.to_vector<float>();
    for (size_t i = 0; i < iv.size(); ++i) {
      CHECK(xv[2 * i] == static_cast<float>(iv[i]));
      CHECK(xv[2 * i + 1] == -static_cast<float>(iv[i]));
    }
    if (batch_sizes) batch_sizes->push_back(id.shape()[0]);
    ids.insert(ids.end(), iv.begin(), iv.end());
  }
  return ids;
}

std::vector<std::string> dequeue_all(Queue q) {
  std::vector<std::string> out;
  for (;;) {
    try {
      out.push_back(q.dequeue()[0].strings().item());
    } catch (const xf::OutOfRange&) {
      return out;
    }
  }
}

}  // namespace

TEST_CASE("string_input_producer: every name once per epoch, then the queue closes", "[input]") {
  fresh_graph();
  StringTensor names = StringTensor::vector({"a", "b", "c", "d", "e"});
  SECTION("in order without shuffle") {
    Queue q = xf::train::string_input_producer(names, 3, /*shuffle=*/false);
    Coordinator coord;
    auto threads = xf::train::start_queue_runners(coord);
    std::vector<std::string> got = dequeue_all(q);
    std::vector<std::string> want;
    for (int e = 0; e < 3; ++e) want.insert(want.end(), names.values().begin(), names.values().end());
    CHECK(got == want);
    CHECK(q.is_closed());
    coord.request_stop();
    CHECK_NOTHROW(coord.join(threads));
  }
  SECTION("shuffled per epoch, the same order for the same seed") {
    Queue q1 = xf::train::string_input_producer(names, 4, true, 7);
    Queue q2 = xf::train::string_input_producer(names, 4, true, 7);
    Queue q3 = xf::train::string_input_producer(names, 4, true, 8);
    Coordinator coord;
    auto threads = xf::train::start_queue_runners(coord);
    std::vector<std::string> a = dequeue_all(q1), b = dequeue_all(q2), c = dequeue_all(q3);
    coord.request_stop();
    CHECK_NOTHROW(coord.join(threads));
    REQUIRE(a.size() == 20);
    CHECK(a == b);
    CHECK(a != c);
    std::set<std::vector<std::string>> orders;
    for (int e = 0; e < 4; ++e) {
      std::vector<std::string> epoch(a.begin() + 5 * e, a.begin() + 5 * (e + 1));
      orders.insert(epoch);
      std::sort(epoch.begin(), epoch.end());
      CHECK(epoch == names.values());  // each epoch is a permutation
    }
    CHECK(orders.size() > 1);  // reshuffled between epochs
  }
}

TEST_CASE("string_input_producer refuses what TensorFlow refuses", "[input]") {
  fresh_graph();
  CHECK_THROWS_WITH(xf::train::string_input_producer(StringTensor::vector({})),
                    Catch::Contains("string_input_producer requires a non-null input tensor"));
  CHECK_THROWS_WITH(xf::train::string_input_producer(StringTensor::vector({"a"}), 0),
                    Catch::Contains("num_epochs must be > 0 not 0."));
  CHECK_THROWS_AS(xf::train::string_input_producer(StringTensor::vector({"a"}), {}, true, {}, 0), xf::InvalidArgument);
  CHECK_THROWS_AS(xf::train::string_input_producer(StringTensor(std::vector<std::string>{"a", "b"}, {1, 2})),
                  xf::InvalidArgument);
}

TEST_CASE("TFRecordReader reads the files of a queue with TensorFlow's keys", "[input]") {
  fresh_graph();
  TempDir dir;
  const std::string f1 = dir / "one.tfrecord", f2 = dir / "two.tfrecord", f3 = dir / "empty.tfrecord";
  {
    xf::io::TFRecordWriter w(f1);
    w.write("alpha");
    w.write("");
    w.write("gamma!");
    w.close();
    xf::io::TFRecordWriter w2(f2);
    w2.write("delta");
    w2.close();
    xf::io::TFRecordWriter w3(f3);
    w3.close();
  }
  xf::FIFOQueue files(10, {xf::string_type});
  for (const auto& f : {f1, f3, f2}) files.enqueue({StringTensor(f)});
  files.close();

  xf::train::TFRecordReader reader;
  // Each record is framed by 16 bytes: the key holds the byte offset of its frame.
  std::vector<std::pair<std::string, std::string>> want = {
      {f1 + ":0", "alpha"}, {f1 + ":21", ""}, {f1 + ":37", "gamma!"}, {f2 + ":0", "delta"}};
  for (const auto& w : want) CHECK(reader.read(files) == w);
  CHECK_THROWS_AS(reader.read(files), xf::OutOfRange);
  CHECK(reader.num_records_produced() == 4);
  CHECK(reader.num_work_units_completed() == 3);

  SECTION("read_up_to returns records of one file at a time") {
    xf::FIFOQueue again(10, {xf::string_type});
    for (const auto& f : {f1, f3, f2}) again.enqueue({StringTensor(f)});
    again.close();
    reader.reset();
    auto [k1, v1] = reader.read_up_to(again, 2);
    CHECK(v1 == StringTensor::vector({"alpha", ""}));
    CHECK(k1 == StringTensor::vector({f1 + ":0", f1 + ":21"}));
    auto [k2, v2] = reader.read_up_to(again, 2);  // the rest of the first file, not the next one
    CHECK(v2 == StringTensor::vector({"gamma!"}));
    auto [k3, v3] = reader.read_up_to(again, 5);  // the empty file is skipped
    CHECK(v3 == StringTensor::vector({"delta"}));
    CHECK(k3 == StringTensor::vector({f2 + ":0"}));
    CHECK_THROWS_AS(reader.read_up_to(again, 1), xf::OutOfRange);
    CHECK(reader.num_records_produced() == 4);
  }
  SECTION("compressed files: offsets in the uncompressed stream") {
    const std::string gz = dir / "one.tfrecord.gz";
    xf::io::TFRecordOptions opts;
    opts.compression = xf::io::Compression::gzip;
    xf::io::TFRecordWriter w(gz, opts);
    w.write("alpha");
    w.write("");
    w.close();
    xf::FIFOQueue q(2, {xf::string_type});
    q.enqueue({StringTensor(gz)});
    q.close();
    xf::train::TFRecordReader gzip_reader(xf::io::Compression::gzip);
    CHECK(gzip_reader.read(q) == std::make_pair(gz + ":0", std::string("alpha")));
    CHECK(gzip_reader.read(q) == std::make_pair(gz + ":21", std::string()));
    CHECK_THROWS_AS(gzip_reader.read(q), xf::OutOfRange);
  }
  SECTION("a damaged record: the records before it, then its DataLoss on every later call") {
    const std::string bad = dir / "bad.tfrecord";
    write_examples(bad, 0, 4);
    {
      std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      size_t frame = bytes.size() / 4, at = 2 * frame + 13;  // inside the third record's data
      f.seekp(static_cast<std::streamoff>(at));
      f.put(static_cast<char>(bytes[at] ^ 0x01));
    }
    xf::FIFOQueue q(2, {xf::string_type});
    q.enqueue({StringTensor(bad)});
    q.close();
    xf::train::TFRecordReader r;
    auto [keys, values] = r.read_up_to(q, 10);
    CHECK(values.size() == 2);
    CHECK_THROWS_WITH(r.read_up_to(q, 10), Catch::Contains("corrupted record at"));
    CHECK_THROWS_AS(r.read(q), xf::DataLoss);
    CHECK(r.num_records_produced() == 2);
  }
  SECTION("a missing file, a queue that does not hold file names") {
    xf::FIFOQueue missing(2, {xf::string_type});
    missing.enqueue({StringTensor(dir / "nope.tfrecord")});
    CHECK_THROWS_AS(reader.read(missing), xf::NotFound);
    xf::FIFOQueue numbers(2, {xf::DType::int64});
    numbers.enqueue({Tensor::from_vector(std::vector<int64_t>{1}, {})});
    CHECK_THROWS_WITH(reader.read(numbers), Catch::Contains("Expected queue with single string component"));
  }
}

TEST_CASE("the TF1 pipeline: files -> reader -> parse -> shuffle_batch, two epochs, then OutOfRange",
          "[input][threads]") {
  fresh_graph();
  TempDir dir;
  std::vector<std::string> names;
  for (int f = 0; f < 3; ++f) {
    names.push_back(dir / ("part-" + std::to_string(f) + ".tfrecord"));
    write_examples(names.back(), 100 * f, 10);
  }
  Coordinator coord;
  Queue files = xf::train::string_input_producer(StringTensor::vector(names), /*num_epochs=*/2, true, 1);
  xf::train::TFRecordReader reader;
  xf::train::ShuffleBatchOptions opts;
  opts.num_threads = 3;
  xf::train::Batcher batches = xf::train::shuffle_batch(parse_records(reader, files), 4, 16, 6, opts);
  auto threads = xf::train::start_queue_runners(coord);
  std::vector<int64_t> sizes;
  std::vector<int64_t> ids = drain(batches, &sizes);
  coord.request_stop();
  CHECK_NOTHROW(coord.join(threads));
  // 60 records in batches of 4: every record twice, every batch full.
  REQUIRE(ids.size() == 60);
  CHECK(std::all_of(sizes.begin(), sizes.end(), [](int64_t s) { return s == 4; }));
  std::map<int64_t, int> seen;
  for (int64_t id : ids) ++seen[id];
  CHECK(seen.size() == 30);
  for (const auto& [id, n] : seen) {
    INFO("id " << id);
    CHECK(n == 2);
    CHECK(id % 100 < 10);
  }
  CHECK(reader.num_records_produced() == 60);
  CHECK(reader.num_work_units_completed() == 6);
  CHECK_THROWS_AS(batches.next(), xf::OutOfRange);  // and it stays at the end
}

TEST_CASE("allow_smaller_final_batch gives the remainder as a last batch", "[input][threads]") {
  fresh_graph();
  TempDir dir;
  std::vector<std::string> names;
  for (int f = 0; f < 3; ++f) {
    names.push_back(dir / ("p" + std::to_string(f)));
    write_examples(names.back(), 100 * f, 7);
  }
  for (bool smaller : {true, false}) {
    for (bool shuffled : {true, false}) {
      INFO("allow_smaller_final_batch " << smaller << ", shuffle_batch " << shuffled);
      fresh_graph();
      Coordinator coord;
      Queue files = xf::train::string_input_producer(StringTensor::vector(names), 1, false);
      xf::train::TFRecordReader reader;
      xf::train::Batcher b = [&] {
        if (shuffled) {
          xf::train::ShuffleBatchOptions o;
          o.allow_smaller_final_batch = smaller;
          o.num_threads = 2;
          return xf::train::shuffle_batch(parse_records(reader, files), 4, 10, 3, o);
        }
        xf::train::BatchOptions o;
        o.allow_smaller_final_batch = smaller;
        o.num_threads = 2;
        return xf::train::batch(parse_records(reader, files), 4, o);
      }();
      auto threads = xf::train::start_queue_runners(coord);
      std::vector<int64_t> sizes;
      std::vector<int64_t> ids = drain(b, &sizes);
      coord.request_stop();
      CHECK_NOTHROW(coord.join(threads));
      if (smaller) {
        CHECK(sizes == std::vector<int64_t>{4, 4, 4, 4, 4, 1});
        std::set<int64_t> unique(ids.begin(), ids.end());
        CHECK(unique.size() == 21);
      } else {
        CHECK(sizes == std::vector<int64_t>{4, 4, 4, 4, 4});  // the last example is left in the queue
      }
    }
  }
}

TEST_CASE("one thread and seeds give one order", "[input][threads]") {
  TempDir dir;
  std::vector<std::string> names;
  for (int f = 0; f < 4; ++f) {
    names.push_back(dir / ("s" + std::to_string(f)));
    write_examples(names.back(), 100 * f, 10);
  }
  // The whole input goes into the shuffle queue before the first batch is taken, so that the batch
  // queue's choices depend on its seed alone, not on when the consumer asks.
  auto run = [&](uint64_t seed) {
    fresh_graph();
    Coordinator coord;
    Queue files = xf::train::string_input_producer(StringTensor::vector(names), 1, true, seed);
    xf::train::TFRecordReader reader;
    xf::train::ShuffleBatchOptions o;
    o.seed = seed;
    o.allow_smaller_final_batch = true;
    xf::train::Batcher b = xf::train::shuffle_batch(parse_records(reader, files), 8, 64, 10, o);
    auto threads = xf::train::start_queue_runners(coord);
    auto start = std::chrono::steady_clock::now();
    while (!(b.queue() && b.queue()->is_closed())) {
      REQUIRE(std::chrono::steady_clock::now() - start < std::chrono::seconds(120));  // a hang, not a timing check
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::vector<int64_t> ids = drain(b);
    coord.request_stop();
    coord.join(threads);
    return ids;
  };
  std::vector<int64_t> a = run(11), b = run(11), c = run(12);
  REQUIRE(a.size() == 40);
  CHECK(a == b);
  CHECK(a != c);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
}

TEST_CASE("a corrupt file stops the pipeline and its DataLoss reaches coord.join", "[input][threads]") {
  fresh_graph();
  TempDir dir;
  std::vector<std::string> names = {dir / "good", dir / "bad"};
  write_examples(names[0], 0, 5);
  write_examples(names[1], 100, 5);
  {
    // Flip a byte inside the third record's data: its data CRC no longer matches.
    std::fstream f(names[1], std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t frame = bytes.size() / 5;
    f.seekp(static_cast<std::streamoff>(2 * frame + 14));
    f.put(static_cast<char>(bytes[2 * frame + 14] ^ 0x40));
  }
  Coordinator coord;
  Queue files = xf::train::string_input_producer(StringTensor::vector(names), /*num_epochs=*/3, false);
  xf::train::TFRecordReader reader;
  xf::train::BatchOptions o;
  o.num_threads = 2;
  xf::train::Batcher b = xf::train::batch(parse_records(reader, files), 2, o);
  auto threads = xf::train::start_queue_runners(coord);
  std::vector<int64_t> ids = drain(b);  // ends in OutOfRange: the coordinator's stop closes the queues
  CHECK(ids.size() <= 7);               // the good file and the bad file's first two records at most
  CHECK(coord.should_stop());
  coord.request_stop();
  CHECK_THROWS_WITH(coord.join(threads), Catch::Contains("corrupted record at"));
  CHECK(reader.num_records_produced() == 7);
}

TEST_CASE("batch: enqueue_many and dynamic_pad from a counting producer", "[input][threads]") {
  fresh_graph();
  SECTION("enqueue_many: each call gives three examples") {
    auto calls = std::make_shared<std::atomic<int64_t>>(0);
    auto producer = [calls]() -> Element {
      int64_t c = calls->fetch_add(1);
      if (c >= 5) throw xf::OutOfRange("done");
      return {Tensor::from_vector(std::vector<int64_t>{3 * c, 3 * c + 1, 3 * c + 2}, {3})};
    };
    xf::train::BatchOptions o;
    o.enqueue_many = true;
    o.allow_smaller_final_batch = true;
    xf::train::Batcher b = xf::train::batch(producer, 4, o);
    Coordinator coord;
    auto threads = xf::train::start_queue_runners(coord);
    std::vector<int64_t> all;
    for (;;) {
      try {
        Element e = b.next();
        auto v = e[0].tensor().to_vector<int64_t>();
        all.insert(all.end(), v.begin(), v.end());
      } catch (const xf::OutOfRange&) {
        break;
      }
    }
    coord.request_stop();
    coord.join(threads);
    std::vector<int64_t> want(15);
    std::iota(want.begin(), want.end(), 0);
    CHECK(all == want);  // one thread, FIFO: in order
  }
  SECTION("dynamic_pad pads each batch to its longest example") {
    auto calls = std::make_shared<std::atomic<int64_t>>(0);
    auto producer = [calls]() -> Element {
      int64_t c = calls->fetch_add(1);
      if (c >= 4) throw xf::OutOfRange("done");
      std::vector<float> v(static_cast<size_t>(c + 1), static_cast<float>(c + 1));
      return {Tensor::from_vector(v, {c + 1}), StringTensor(std::string(static_cast<size_t>(c), 's'))};
    };
    xf::train::BatchOptions o;
    o.dynamic_pad = true;
    xf::train::Batcher b = xf::train::batch(producer, 2, o);
    Coordinator coord;
    auto threads = xf::train::start_queue_runners(coord);
    Element first = b.next(), second = b.next();
    CHECK_THROWS_AS(b.next(), xf::OutOfRange);
    coord.request_stop();
    coord.join(threads);
    CHECK(first[0].shape() == xf::Shape{2, 2});
    CHECK(first[0].tensor().to_vector<float>() == std::vector<float>{1, 0, 2, 2});
    CHECK(second[0].shape() == xf::Shape{2, 4});
    CHECK(second[1].strings() == StringTensor::vector({"ss", "sss"}));
  }
}

TEST_CASE("batch and shuffle_batch refuse bad arguments", "[input]") {
  fresh_graph();
  auto producer = []() -> Element { throw xf::OutOfRange("empty"); };
  CHECK_THROWS_WITH(xf::train::shuffle_batch(producer, 4, 10, 10),
                    Catch::Contains("capacity 10 must be bigger than min_after_dequeue 10."));
  CHECK_THROWS_AS(xf::train::batch(producer, 0), xf::InvalidArgument);
  xf::train::BatchOptions o;
  o.num_threads = 0;
  CHECK_THROWS_AS(xf::train::batch(producer, 2, o), xf::InvalidArgument);
}

TEST_CASE("a producer that ends before its first element ends the batch in OutOfRange", "[input][threads]") {
  fresh_graph();
  auto producer = []() -> Element { throw xf::OutOfRange("empty"); };
  xf::train::ShuffleBatchOptions o;
  o.num_threads = 2;
  xf::train::Batcher b = xf::train::shuffle_batch(producer, 4, 10, 2, o);
  Coordinator coord;
  auto threads = xf::train::start_queue_runners(coord);
  CHECK_THROWS_WITH(b.next(), Catch::Contains("insufficient elements (requested 4, current size 0)"));
  CHECK_FALSE(b.queue().has_value());
  coord.request_stop();
  CHECK_NOTHROW(coord.join(threads));
}

TEST_CASE("a stop requested by the trainer ends an endless pipeline", "[input][threads]") {
  fresh_graph();
  TempDir dir;
  std::vector<std::string> names = {dir / "a"};
  write_examples(names[0], 0, 3);
  Coordinator coord;
  Queue files = xf::train::string_input_producer(StringTensor::vector(names));  // no num_epochs: endless
  xf::train::TFRecordReader reader;
  xf::train::Batcher b = xf::train::shuffle_batch(parse_records(reader, files), 5, 20, 5);
  auto threads = xf::train::start_queue_runners(coord);
  for (int i = 0; i < 10; ++i) CHECK(b.next()[0].shape() == xf::Shape{5});
  coord.request_stop();
  CHECK_NOTHROW(coord.join(threads));
  CHECK(reader.num_records_produced() >= 50);
}
