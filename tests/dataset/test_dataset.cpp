// Dataset: every transformation's output against the sequence tf.data gives for the same
// pipeline (the examples of tf.data's documentation, and shuffle's algorithm restated in
// dataset/shuffle_sim.py), parallel map's order, errors with the element's index, iterators
// dropped in the middle of an epoch, and TFRecordDataset over files written here.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "xflow/dataset.hpp"
#include "xflow/ops.hpp"
#include "xflow/tfrecord.hpp"
#include "temp_files.hpp"

using xf::Element;
using xf::StringTensor;
using xf::Tensor;
using xf::Value;
using xf::data::AUTOTUNE;
using xf::data::Dataset;

namespace {

// The int64 scalars of one-component elements.
std::vector<int64_t> ints(const Dataset& ds) {
  std::vector<int64_t> out;
  for (const Element& e : ds) {
    REQUIRE(e.size() == 1);
    REQUIRE(e[0].shape().empty());
    out.push_back(e[0].tensor().item<int64_t>());
  }
  return out;
}

// Rows of the batches of a one-component dataset of int64 vectors.
std::vector<std::vector<int64_t>> rows(const Dataset& ds) {
  std::vector<std::vector<int64_t>> out;
  for (const Element& e : ds) out.push_back(e[0].tensor().to_vector<int64_t>());
  return out;
}

Element times(const Element& e, int64_t k) { return {xf::mul(e[0].tensor(), k)}; }

using V = std::vector<int64_t>;

}  // namespace

TEST_CASE("range and from_tensor_slices give tf.data's elements", "[dataset]") {
  CHECK(ints(Dataset::range(5)) == V{0, 1, 2, 3, 4});
  CHECK(ints(Dataset::range(2, 5)) == V{2, 3, 4});
  CHECK(ints(Dataset::range(1, 5, 2)) == V{1, 3});
  CHECK(ints(Dataset::range(5, 1, -2)) == V{5, 3});
  CHECK(ints(Dataset::range(0)).empty());
  CHECK_THROWS_AS(Dataset::range(0, 5, 0), xf::InvalidArgument);

  // from_tensor_slices(([1, 2], [[3, 4], [5, 6]], ["a", "b"])) -> (1, [3, 4], "a"), (2, [5, 6], "b")
  Tensor a = Tensor::from_vector<int64_t>({1, 2}, {2});
  Tensor b = Tensor::from_vector<float>({3, 4, 5, 6}, {2, 2});
  StringTensor s{"a", "b"};
  Dataset ds = Dataset::from_tensor_slices(Element{a, b, s});
  std::vector<Element> got;
  for (const Element& e : ds) got.push_back(e);
  REQUIRE(got.size() == 2);
  CHECK(got[1][0].tensor().item<int64_t>() == 2);
  CHECK(got[1][1].shape() == xf::Shape{2});
  CHECK(got[1][1].tensor().to_vector<float>() == std::vector<float>{5, 6});
  CHECK(got[1][2].strings().item() == "b");
  CHECK(got[0][2].strings().shape().empty());

  // Slices of a non-contiguous tensor (a transpose).
  Tensor t = xf::transpose(Tensor::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3}));
  std::vector<std::vector<int32_t>> cols;
  for (const Element& e : Dataset::from_tensor_slices(t)) cols.push_back(e[0].tensor().to_vector<int32_t>());
  CHECK(cols == std::vector<std::vector<int32_t>>{{1, 4}, {2, 5}, {3, 6}});

  CHECK_THROWS_AS(Dataset::from_tensor_slices(Element{a, Tensor::from_vector<int64_t>({1, 2, 3}, {3})}),
                  xf::InvalidArgument);
  CHECK_THROWS_AS(Dataset::from_tensor_slices(Tensor(int64_t{3})), xf::InvalidArgument);

  // from_tensors: one element, the whole tensor.
  int n = 0;
  for (const Element& e : Dataset::from_tensors(Element{b})) {
    CHECK(e[0].shape() == xf::Shape{2, 2});
    ++n;
  }
  CHECK(n == 1);
}

TEST_CASE("explicit iterators and iterating a dataset twice", "[dataset]") {
  Dataset ds = Dataset::range(3);
  auto it = ds.make_iterator();
  auto it2 = ds.make_iterator();  // an independent run
  CHECK(it.next()->at(0).tensor().item<int64_t>() == 0);
  CHECK(it.next()->at(0).tensor().item<int64_t>() == 1);
  CHECK(it2.next()->at(0).tensor().item<int64_t>() == 0);
  CHECK(it.next()->at(0).tensor().item<int64_t>() == 2);
  CHECK_FALSE(it.next().has_value());
  CHECK_FALSE(it.next().has_value());  // stays at the end
  CHECK(ints(ds) == V{0, 1, 2});
  CHECK(ints(ds) == V{0, 1, 2});
  // An iterator outlives its Dataset handle.
  auto it3 = Dataset::range(2).map([](const Element& e) { return times(e, 5); }).make_iterator();
  CHECK(it3.next()->at(0).tensor().item<int64_t>() == 0);
  CHECK(it3.next()->at(0).tensor().item<int64_t>() == 5);
}

TEST_CASE("map, filter, take, skip, repeat as tf.data", "[dataset]") {
  Dataset r = Dataset::range(1, 6);
  CHECK(ints(r.map([](const Element& e) { return times(e, 2); })) == V{2, 4, 6, 8, 10});
  CHECK(ints(Dataset::range(10).filter([](const Element& e) { return e[0].tensor().item<int64_t>() % 3 == 0; })) ==
        V{0, 3, 6, 9});
  CHECK(ints(Dataset::range(10).take(3)) == V{0, 1, 2});
  CHECK(ints(Dataset::range(3).take(10)) == V{0, 1, 2});
  CHECK(ints(Dataset::range(3).take(-1)) == V{0, 1, 2});
  CHECK(ints(Dataset::range(3).take(0)).empty());
  CHECK(ints(Dataset::range(10).skip(7)) == V{7, 8, 9});
  CHECK(ints(Dataset::range(3).skip(5)).empty());
  CHECK(ints(Dataset::range(3).skip(-1)).empty());
  CHECK(ints(Dataset::range(3).skip(0)) == V{0, 1, 2});
  CHECK(ints(Dataset::range(3).repeat(3)) == V{0, 1, 2, 0, 1, 2, 0, 1, 2});
  CHECK(ints(Dataset::range(3).repeat(0)).empty());
  CHECK(ints(Dataset::range(3).repeat().take(7)) == V{0, 1, 2, 0, 1, 2, 0});
  // An empty epoch ends repeat() instead of looping for ever.
  CHECK(ints(Dataset::range(0).repeat()).empty());
  CHECK(ints(Dataset::range(5).filter([](const Element&) { return false; }).repeat()).empty());
  // Order of composition matters as in tf.data: take then repeat, skip then take.
  CHECK(ints(Dataset::range(10).take(2).repeat(2)) == V{0, 1, 0, 1});
  CHECK(ints(Dataset::range(10).skip(2).take(3)) == V{2, 3, 4});
  CHECK_THROWS_AS(Dataset::range(3).repeat(-2), xf::InvalidArgument);
  CHECK_THROWS_AS(Dataset::range(3).map({}), xf::InvalidArgument);
}

TEST_CASE("batch and padded_batch as tf.data", "[dataset]") {
  // tf.data.Dataset.range(8).batch(3) -> [0 1 2] [3 4 5] [6 7]; drop_remainder drops [6 7].
  CHECK(rows(Dataset::range(8).batch(3)) == std::vector<V>{{0, 1, 2}, {3, 4, 5}, {6, 7}});
  CHECK(rows(Dataset::range(8).batch(3, true)) == std::vector<V>{{0, 1, 2}, {3, 4, 5}});
  CHECK(rows(Dataset::range(2).batch(5, true)).empty());

  // Components batch separately; strings too.
  StringTensor names{"a", "b", "c"};
  Tensor m = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  auto it = Dataset::from_tensor_slices(Element{m, names}).batch(2).make_iterator();
  Element b0 = *it.next();
  CHECK(b0[0].shape() == xf::Shape{2, 2});
  CHECK(b0[0].tensor().to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  CHECK(b0[1].strings() == StringTensor{"a", "b"});
  Element b1 = *it.next();
  CHECK(b1[0].shape() == xf::Shape{1, 2});
  CHECK(b1[1].strings() == StringTensor{"c"});
  CHECK_FALSE(it.next());

  // Different shapes in one batch: TensorFlow's message.
  auto ragged = Dataset::range(1, 4).map([](const Element& e) {
    int64_t x = e[0].tensor().item<int64_t>();
    return Element{xf::full({x}, x, xf::DType::int64)};
  });
  auto bad = ragged.batch(2).make_iterator();
  CHECK_THROWS_WITH(bad.next(), Catch::Contains("Cannot batch tensors with different shapes in component 0. "
                                                "First element had shape [1] and element 1 had shape [2]."));

  // tf.data's padded_batch example: range(1, 5).map(fill([x], x)).padded_batch(2)
  //   -> [[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]
  auto filled = Dataset::range(1, 5).map([](const Element& e) {
    int64_t x = e[0].tensor().item<int64_t>();
    return Element{xf::full({x}, x, xf::DType::int64)};
  });
  auto pb = filled.padded_batch(2).make_iterator();
  Element p0 = *pb.next();
  CHECK(p0[0].shape() == xf::Shape{2, 2});
  CHECK(p0[0].tensor().to_vector<int64_t>() == V{1, 0, 2, 2});
  Element p1 = *pb.next();
  CHECK(p1[0].shape() == xf::Shape{2, 4});
  CHECK(p1[0].tensor().to_vector<int64_t>() == V{3, 3, 3, 0, 4, 4, 4, 4});
  CHECK_FALSE(pb.next());
  // padded_shapes=[5], padding_values=-1 -> [[1 -1 -1 -1 -1] [2 2 -1 -1 -1]] ...
  auto pb5 = filled.padded_batch(2, {{5}}, {Tensor(int64_t{-1})}).make_iterator();
  CHECK(pb5.next()->at(0).tensor().to_vector<int64_t>() == V{1, -1, -1, -1, -1, 2, 2, -1, -1, -1});
  // A padded shape smaller than an element.
  auto small = filled.padded_batch(4, {{3}}).make_iterator();
  CHECK_THROWS_WITH(small.next(), Catch::Contains("pad to a smaller size than the input element"));

  // Two dimensions and strings: [[a]] and [[b, c], [d, e]] padded with "-".
  StringTensor s1({"a"}, {1, 1}), s2({"b", "c", "d", "e"}, {2, 2});
  Tensor f1 = Tensor::from_vector<float>({1}, {1, 1}), f2 = Tensor::from_vector<float>({2, 3, 4, 5}, {2, 2});
  std::vector<Element> pair{{f1, s1}, {f2, s2}};
  // Concatenate the two single-element datasets with interleave over an index.
  auto idx = Dataset::range(2).interleave(
      [pair](const Element& e) { return Dataset::from_tensors(pair[static_cast<size_t>(e[0].tensor().item<int64_t>())]); },
      1);
  auto p2 = idx.padded_batch(2, {}, {Tensor(7.5f), StringTensor("-")}).make_iterator();
  Element q = *p2.next();
  CHECK(q[0].shape() == xf::Shape{2, 2, 2});
  CHECK(q[0].tensor().to_vector<float>() == std::vector<float>{1, 7.5f, 7.5f, 7.5f, 2, 3, 4, 5});
  CHECK(q[1].strings().values() == std::vector<std::string>{"a", "-", "-", "-", "b", "c", "d", "e"});
}

TEST_CASE("shuffle follows tf.data's algorithm (shuffle_sim.py)", "[dataset]") {
  // Expected orders from dataset/shuffle_sim.py.
  CHECK(ints(Dataset::range(10).shuffle(4, 42)) == V{1, 4, 0, 3, 6, 7, 5, 9, 2, 8});
  CHECK(ints(Dataset::range(20).shuffle(100, 7)) ==
        V{7, 15, 2, 14, 3, 5, 18, 4, 13, 17, 8, 6, 11, 16, 0, 1, 19, 10, 9, 12});
  CHECK(ints(Dataset::range(20).shuffle(1, 7)) == ints(Dataset::range(20)));

  // reshuffle_each_iteration: each new iterator (each epoch under repeat) draws the next order.
  Dataset s = Dataset::range(12).shuffle(5, 3);
  V e0{3, 2, 6, 5, 0, 4, 8, 7, 10, 9, 1, 11}, e1{4, 1, 2, 0, 7, 5, 9, 3, 10, 6, 8, 11},
      e2{1, 3, 0, 2, 4, 6, 5, 9, 7, 10, 11, 8};
  CHECK(ints(s) == e0);
  CHECK(ints(s) == e1);
  V three = ints(Dataset::range(12).shuffle(5, 3).repeat(3));
  V want = e0;
  want.insert(want.end(), e1.begin(), e1.end());
  want.insert(want.end(), e2.begin(), e2.end());
  CHECK(three == want);
  // Without reshuffling, every iteration repeats the first order.
  Dataset fixed = Dataset::range(12).shuffle(5, 3, false);
  CHECK(ints(fixed) == e0);
  CHECK(ints(fixed) == e0);
  CHECK(ints(fixed.repeat(2)) == [&] { V v = e0; v.insert(v.end(), e0.begin(), e0.end()); return v; }());

  // Without a seed: a permutation.
  V any = ints(Dataset::range(50).shuffle(50));
  std::sort(any.begin(), any.end());
  CHECK(any == ints(Dataset::range(50)));
  CHECK_THROWS_AS(Dataset::range(3).shuffle(0), xf::InvalidArgument);
}

TEST_CASE("interleave as tf.data", "[dataset]") {
  // tf.data's documentation: range(1, 6).interleave(lambda x: from_tensors(x).repeat(6),
  // cycle_length=2, block_length=4)
  V want{1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5};
  auto six = [](const Element& e) { return Dataset::from_tensors(e).repeat(6); };
  CHECK(ints(Dataset::range(1, 6).interleave(six, 2, 4)) == want);
  CHECK(ints(Dataset::range(1, 6).interleave(six, 2, 4, 2)) == want);  // reading ahead in parallel
  CHECK(ints(Dataset::range(1, 6).interleave(six, 2, 4, AUTOTUNE)) == want);
  // Datasets of different lengths: x gives x elements (x*10 ...), cycle 3, block 1:
  // slots [1,2,3] -> 10 20 30; a slot whose dataset ends passes the turn on (tf.data's
  // InterleaveDatasetOp) and opens the next input element when the cycle comes back to it:
  // (1 ends) 21 31 40 (2 ends) 32 41 50 (3 ends) 42 51 (input ends) 43 52 (4 ends) 53 54
  auto counted = [](const Element& e) {
    int64_t x = e[0].tensor().item<int64_t>();
    return Dataset::range(x * 10, x * 10 + x);
  };
  V want2{10, 20, 30, 21, 31, 40, 32, 41, 50, 42, 51, 43, 52, 53, 54};
  CHECK(ints(Dataset::range(1, 6).interleave(counted, 3, 1)) == want2);
  CHECK(ints(Dataset::range(1, 6).interleave(counted, 3, 1, 3)) == want2);
  // cycle_length 1 is flat_map.
  CHECK(ints(Dataset::range(1, 4).interleave(counted, 1)) == V{10, 20, 21, 30, 31, 32});
}

TEST_CASE("parallel map keeps the input's order", "[dataset][threads]") {
  V want;
  for (int64_t i = 0; i < 500; ++i) want.push_back(i * 3);
  for (int64_t threads : {int64_t{2}, int64_t{3}, int64_t{8}, AUTOTUNE}) {
    INFO("num_parallel_calls " << threads);
    auto slow_early = [](const Element& e) {
      int64_t x = e[0].tensor().item<int64_t>();
      if (x % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));  // later ones finish first
      return times(e, 3);
    };
    CHECK(ints(Dataset::range(500).map(slow_early, threads)) == want);
    CHECK(ints(Dataset::range(500).map(slow_early, threads).prefetch(4)) == want);
  }
  // The same seed gives the same order whatever the thread count.
  auto pipeline = [](int64_t threads) {
    return ints(Dataset::range(300)
                    .shuffle(64, 11)
                    .map([](const Element& e) { return times(e, 2); }, threads)
                    .interleave([](const Element& e) { return Dataset::from_tensors(e).repeat(2); }, 4, 1,
                                threads)
                    .prefetch(3)
                    .shuffle(16, 5));
  };
  V one = pipeline(1);
  CHECK(pipeline(2) == one);
  CHECK(pipeline(4) == one);
  CHECK(pipeline(AUTOTUNE) == one);
  CHECK_THROWS_AS(Dataset::range(3).map([](const Element& e) { return e; }, 0), xf::InvalidArgument);
}

TEST_CASE("an error inside map reaches the consumer with the element's index", "[dataset][threads]") {
  auto fails_at_17 = [](const Element& e) {
    if (e[0].tensor().item<int64_t>() == 117) throw xf::DataLoss("bad record 117");
    return e;
  };
  for (int64_t threads : {int64_t{1}, int64_t{4}}) {
    INFO("num_parallel_calls " << threads);
    auto it = Dataset::range(100, 130).map(fails_at_17, threads).make_iterator();
    for (int64_t i = 0; i < 17; ++i) CHECK(it.next()->at(0).tensor().item<int64_t>() == 100 + i);
    try {
      it.next();
      FAIL("no exception");
    } catch (const xf::DataLoss& e) {  // the same class
      CHECK(std::string(e.what()) == "[Dataset.map] element 17: bad record 117");
    }
    // The elements after the failed one still come, as in tf.data.
    CHECK(it.next()->at(0).tensor().item<int64_t>() == 118);
    // Through prefetch and batch, the error keeps its index and class.
    auto batched = Dataset::range(100, 130).map(fails_at_17, threads).batch(5).prefetch(2).make_iterator();
    batched.next();
    batched.next();
    batched.next();
    CHECK_THROWS_AS(batched.next(), xf::DataLoss);
    // Other std::exceptions become std::runtime_error with the same prefix.
    auto other = Dataset::range(3)
                     .map([](const Element& e) -> Element {
                       if (e[0].tensor().item<int64_t>() == 2) throw std::logic_error("boom");
                       return e;
                     },
                          threads)
                     .make_iterator();
    other.next();
    other.next();
    CHECK_THROWS_WITH(other.next(), "[Dataset.map] element 2: boom");
  }
  // In a range-for, the exception leaves the loop.
  int64_t seen = 0;
  try {
    for (const Element& e : Dataset::range(100, 130).map(fails_at_17, 3)) {
      (void)e;
      ++seen;
    }
    FAIL("no exception");
  } catch (const xf::DataLoss& e) {
    CHECK(std::string(e.what()).find("element 17:") != std::string::npos);
  }
  CHECK(seen == 17);
  // filter's predicate too.
  auto f = Dataset::range(5).filter([](const Element& e) -> bool {
    if (e[0].tensor().item<int64_t>() == 3) throw xf::InvalidArgument("no 3");
    return true;
  });
  CHECK_THROWS_WITH(ints(f), "[Dataset.filter] element 3: no 3");
}

TEST_CASE("iterators dropped in the middle stop their threads", "[dataset][threads]") {
  std::atomic<int64_t> calls{0};
  auto counted = [&calls](const Element& e) {
    ++calls;
    return e;
  };
  for (int round = 0; round < 20; ++round) {
    // An endless pipeline with every kind of thread, dropped after a few elements.
    Dataset ds = Dataset::range(1000)
                     .repeat()
                     .map(counted, 3)
                     .interleave([](const Element& e) { return Dataset::from_tensors(e).repeat(3); }, 2, 1, 2)
                     .prefetch(8)
                     .map(counted, 2)
                     .prefetch(AUTOTUNE);
    auto it = ds.make_iterator();
    for (int i = 0; i < round; ++i) REQUIRE(it.next().has_value());
  }
  // A consumer-less pipeline whose map blocks on a slow function: destroyed while fn runs.
  {
    auto it = Dataset::range(100)
                  .map([](const Element& e) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                    return e;
                  },
                       4)
                  .prefetch(2)
                  .make_iterator();
    it.next();
  }
  // Never started: no threads at all.
  { auto it = Dataset::range(10).map(counted, 4).prefetch(2).make_iterator(); }
  // A filter that passes its first elements only, behind a prefetch thread and a parallel map:
  // after the consumer's first element the threads scan an endless input; destruction cancels
  // the scan (without cancellation this would run for hours).
  for (int64_t threads : {int64_t{1}, int64_t{3}}) {
    auto it = Dataset::range(int64_t{1} << 50)
                  .filter([](const Element& e) { return e[0].tensor().item<int64_t>() < 3; })
                  .prefetch(1)
                  .map([](const Element& e) { return e; }, threads)
                  .prefetch(2)
                  .make_iterator();
    CHECK(it.next()->at(0).tensor().item<int64_t>() == 0);
  }
  CHECK(calls.load() > 0);
}

TEST_CASE("prefetch gives the same elements and ends", "[dataset][threads]") {
  CHECK(ints(Dataset::range(100).prefetch(1)) == ints(Dataset::range(100)));
  CHECK(ints(Dataset::range(100).prefetch(AUTOTUNE).prefetch(3)) == ints(Dataset::range(100)));
  CHECK(ints(Dataset::range(0).prefetch(2)).empty());
  auto it = Dataset::range(2).prefetch(5).make_iterator();
  CHECK(it.next());
  CHECK(it.next());
  CHECK_FALSE(it.next());
  CHECK_FALSE(it.next());
  CHECK_THROWS_AS(Dataset::range(2).prefetch(0), xf::InvalidArgument);
}

namespace {

// A temporary directory, removed with its files.
struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("dataset") {}
};

void write_records(const std::string& path, const std::vector<std::string>& records,
                   xf::io::Compression c = xf::io::Compression::none) {
  xf::io::TFRecordOptions o;
  o.compression = c;
  xf::io::TFRecordWriter w(path, o);
  for (const std::string& r : records) w.write(r);
  w.close();
}

std::vector<std::string> strings(const Dataset& ds) {
  std::vector<std::string> out;
  for (const Element& e : ds) {
    REQUIRE(e.size() == 1);
    REQUIRE(e[0].shape().empty());
    out.push_back(e[0].strings().item());
  }
  return out;
}

using S = std::vector<std::string>;

}  // namespace

TEST_CASE("TFRecordDataset reads the records of files written in the test", "[dataset][tfrecord]") {
  TempDir dir;
  S a{"a0", "a1", std::string("a2\0x", 4)}, b{"b0"}, c{"c0", "c1"};
  write_records(dir / "a", a);
  write_records(dir / "b", b);
  write_records(dir / "c", c);
  CHECK(strings(Dataset::TFRecordDataset({dir / "a"})) == a);
  // One file after the other.
  CHECK(strings(Dataset::TFRecordDataset({dir / "a", dir / "b", dir / "c"})) ==
        S{"a0", "a1", a[2], "b0", "c0", "c1"});
  // num_parallel_reads 2: tf.data's interleave of the files (cycle 2, block 1): a and b open,
  // b ends and passes its turn on, c opens in b's slot when the cycle comes back to it.
  S par{"a0", "b0", "a1", a[2], "c0", "c1"};
  CHECK(strings(Dataset::TFRecordDataset({dir / "a", dir / "b", dir / "c"}, "", -1, 2)) == par);
  // num_parallel_reads 3: one record of each file in turn.
  CHECK(strings(Dataset::TFRecordDataset({dir / "a", dir / "b", dir / "c"}, "", -1, 3)) ==
        S{"a0", "b0", "c0", "a1", "c1", a[2]});
  CHECK(strings(Dataset::TFRecordDataset({})).empty());

  // Compressed files.
  for (const char* name : {"ZLIB", "GZIP"}) {
    INFO(name);
    write_records(dir / name, a, xf::io::compression_from_name(name));
    CHECK(strings(Dataset::TFRecordDataset({dir / name}, name)) == a);
    CHECK(strings(Dataset::TFRecordDataset({dir / name, dir / name}, name, 1 << 16, 2)) ==
          S{"a0", "a0", "a1", "a1", a[2], a[2]});
  }
  CHECK_THROWS_AS(Dataset::TFRecordDataset({dir / "a"}, "LZ4"), xf::InvalidArgument);
  CHECK_THROWS_AS(Dataset::TFRecordDataset({dir / "a"}, "", -1, 0), xf::InvalidArgument);

  // A missing file: NotFound when it is reached, after the records of the files before it.
  auto it = Dataset::TFRecordDataset({dir / "b", dir / "missing"}).make_iterator();
  CHECK(it.next()->at(0).strings().item() == "b0");
  CHECK_THROWS_AS(it.next(), xf::NotFound);
}

TEST_CASE("TFRecordDataset on a damaged file gives the records before the damage, then DataLoss",
          "[dataset][tfrecord]") {
  TempDir dir;
  write_records(dir / "good", {"r0", "r1", "r2"});
  std::string bytes;
  {
    std::ifstream in(dir / "good", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Flip a byte of the second record's data (offset 18 + 12).
  bytes[18 + 12] ^= 1;
  {
    std::ofstream out(dir / "bad", std::ios::binary);
    out << bytes;
  }
  for (int64_t reads : {int64_t{1}, int64_t{2}}) {
    INFO("num_parallel_reads " << reads);
    auto it = Dataset::TFRecordDataset({dir / "bad", dir / "good"}, "", -1, reads).prefetch(2).make_iterator();
    CHECK(it.next()->at(0).strings().item() == "r0");
    if (reads == 2) CHECK(it.next()->at(0).strings().item() == "r0");  // from "good"
    CHECK_THROWS_WITH(it.next(), Catch::Contains("corrupted record at 30"));
    // The damaged file then counts as ended; the other file goes on.
    S rest;
    while (auto e = it.next()) rest.push_back(e->at(0).strings().item());
    CHECK(rest == (reads == 1 ? S{"r0", "r1", "r2"} : S{"r1", "r2"}));
  }
}

TEST_CASE("a TFRecord pipeline: parse in parallel, shuffle, batch, prefetch", "[dataset][tfrecord][threads]") {
  TempDir dir;
  // Records "<i>", i = 0..99, in 4 files (i % 4).
  std::vector<std::string> files;
  for (int f = 0; f < 4; ++f) {
    S recs;
    for (int i = f; i < 100; i += 4) recs.push_back(std::to_string(i));
    files.push_back(dir / ("part" + std::to_string(f)));
    write_records(files.back(), recs);
  }
  auto parse = [](const Element& e) {
    int64_t v = std::stoll(e[0].strings().item());
    return Element{Tensor(v), Tensor(static_cast<float>(v) / 2)};
  };
  auto run = [&](int64_t threads) {
    std::vector<int64_t> seen;
    int64_t batches = 0;
    for (const Element& b : Dataset::TFRecordDataset(files, "", -1, threads)
                                .map(parse, threads)
                                .shuffle(10, 99)
                                .batch(8)
                                .prefetch(2)) {
      ++batches;
      auto xs = b[0].tensor().to_vector<int64_t>();
      auto ys = b[1].tensor().to_vector<float>();
      REQUIRE(xs.size() == ys.size());
      for (size_t i = 0; i < xs.size(); ++i) CHECK(ys[i] == static_cast<float>(xs[i]) / 2);
      seen.insert(seen.end(), xs.begin(), xs.end());
    }
    CHECK(batches == 13);
    return seen;
  };
  std::vector<int64_t> one = run(1), four = run(4);
  std::vector<int64_t> sorted = one;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == ints(Dataset::range(100)));
  // num_parallel_reads interleaves the files: the order differs from reading them one by one,
  // but for a given setting it does not depend on timing.
  CHECK(four == run(4));
  CHECK(four != one);
}
