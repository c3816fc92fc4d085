// The tensor bundle (V2 checkpoint): TensorFlow's real checkpoints read against manifest.json,
// byte-identical rewrites of them, round trips of every xflow dtype, an independent Python decoder
// of xflow's files (bundle_decode.py), and every damage we can make (docs/checkpoints.md).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/bundle_index.hpp"
#include "io/crc32c.hpp"
#include "io/proto/tensor_bundle.pb.h"
#include "io/table.hpp"
#include "xflow/checkpoint.hpp"
#include "temp_files.hpp"
#include "process.hpp"
#include "expect.hpp"

using namespace xf;
using namespace xf::io;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using xf::testing::read_bytes;

const std::string kData = XFLOW_CHECKPOINT_TESTDATA;

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A fresh directory under the working directory (build/tests), removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::current_path() / ("bundle_tmp_" + std::to_string(::getpid())) / name;
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path.parent_path(), ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

json manifest() {
  static const json m = json::parse(read_bytes(kData + "/manifest.json"));
  return m;
}

std::string tf_name(const std::string& dt) {  // "DT_FLOAT" -> "float32"
  static const std::map<std::string, std::string> names = {
      {"DT_FLOAT", "float32"}, {"DT_DOUBLE", "float64"}, {"DT_INT32", "int32"}, {"DT_INT64", "int64"},
      {"DT_UINT8", "uint8"},   {"DT_BOOL", "bool"},      {"DT_STRING", "string"}};
  return names.at(dt);
}

// The tensor's bytes (row-major, contiguous).
std::string bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), static_cast<size_t>(c.size()) * dtype_size(c.dtype()));
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && bytes_of(a) == bytes_of(b);
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

// Runs bundle_decode.py on `prefix` and parses its JSON.
json python_decode(const std::string& prefix) {
  const std::string cmd = std::string("/usr/bin/python3 ") + XFLOW_BUNDLE_DECODE + " '" + prefix + "'";
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  REQUIRE(r.ok());
  return json::parse(r.output);
}

// Catch's matcher for an exception's message.
using Catch::Contains;

using xf::testing::message_of;

}  // namespace

// ---------------------------------------------------------------------------------------------
// TensorFlow's checkpoints

TEST_CASE("bundle: every TensorFlow V2 checkpoint opens and matches manifest.json") {
  const json m = manifest();
  REQUIRE(m["v2_bundles"].size() == 4);
  for (const auto& [prefix_rel, bundle] : m["v2_bundles"].items()) {
    INFO(prefix_rel);
    BundleReader r(kData + "/" + prefix_rel);
    const auto& want = bundle["entries"];
    REQUIRE(r.entries().size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const BundleEntryInfo& e = r.entries()[i];
      const auto& w = want[i];
      INFO(e.key);
      CHECK(e.key == w["name"].get<std::string>());
      CHECK(e.tf_dtype_name == tf_name(w["dtype"]));
      CHECK(e.shape == w["shape"].get<Shape>());
      CHECK(e.shard_id == w["shard_id"].get<int>());
      CHECK(e.offset == w["offset"].get<int64_t>());
      CHECK(e.size == w["size"].get<int64_t>());
      CHECK(e.crc32c == w["crc32c"].get<uint32_t>());
      CHECK(e.num_slices == 0);
      CHECK(r.contains(e.key));
      CHECK(&r.entry(e.key) == &e);
      if (w["dtype"] == "DT_STRING") {
        CHECK(!e.dtype);
        CHECK(e.tf_dtype == 7);
        const std::string msg = message_of<Unimplemented>([&] { r.read(e.key); });
        CHECK_THAT(msg, Contains(e.key) && Contains("string"));
        continue;
      }
      REQUIRE(e.dtype);
      const Tensor t = r.read(e.key);  // checks the CRC
      CHECK(t.dtype() == *e.dtype);
      CHECK(t.shape() == e.shape);
      if (w.contains("value")) {
        const auto vals = w["value"];
        if (*e.dtype == DType::int64) {
          CHECK(t.to_vector<int64_t>() == vals.get<std::vector<int64_t>>());
        } else {
          const auto got = t.to_vector<float>();
          REQUIRE(got.size() == vals.size());
          for (size_t k = 0; k < got.size(); ++k) CHECK(got[k] == static_cast<float>(vals[k].get<double>()));
        }
      }
    }
  }
}

TEST_CASE("bundle: the tfx checkpoint has 60 tensors, float32 and int64, the largest [100, 70]") {
  BundleReader r(kData + "/tfx-trainer_format_serving_ckpt/model.ckpt-1000");
  CHECK(r.entries().size() == 60);
  CHECK(r.entry("dnn/hiddenlayer_1/kernel").shape == Shape{100, 70});
  CHECK(r.read("global_step").item<int64_t>() == 1000);
  CHECK(r.read("training/Ftrl/iter").item<int64_t>() == 1000);
  CHECK(std::is_sorted(r.entries().begin(), r.entries().end(), [](const auto& a, const auto& b) { return a.key < b.key; }));
  int64_t total = 0;
  for (const auto& e : r.entries()) total += bytes_of(r.read(e.key)).size();
  CHECK(total == 126216);  // the whole data file, read and CRC-checked
}

TEST_CASE("bundle: V1 checkpoints are Unimplemented") {
  // The file itself, a sharded V1 checkpoint's prefix (export-00000-of-00001 exists), an unsharded one.
  for (const char* rel : {"serving-half_plus_two_v1/00000123/export-00000-of-00001",
                          "serving-half_plus_two_v1/00000123/export",
                          "serving-bad_half_plus_two_v1/00000123/export"}) {
    INFO(rel);
    const std::string msg = message_of<Unimplemented>([&] { BundleReader r(kData + "/" + rel); });
    CHECK_THAT(msg, Contains("V1 checkpoints are not supported"));
  }
}

TEST_CASE("bundle: a missing checkpoint is NotFound; a missing key is NotFound") {
  TempDir dir("missing");
  CHECK_THROWS_WITH(BundleReader(dir / "nothing"), Contains("not found"));
  CHECK_THROWS_AS(BundleReader(dir / "nothing"), NotFound);
  // A file under the prefix that is not a table is not mistaken for a V1 checkpoint.
  spit(dir / "text", "not a checkpoint");
  spit(dir / "text-00000-of-00001", std::string(100, 'x'));
  CHECK_THROWS_AS(BundleReader(dir / "text"), NotFound);
  BundleReader r(kData + "/tensorflow-onnx-regression_checkpoint/model");
  CHECK(!r.contains("nope"));
  CHECK_THROWS_AS(r.entry("nope"), NotFound);
  CHECK_THROWS_WITH(r.read("nope"), "Key nope not found in checkpoint");
  CHECK(r.prefix() == kData + "/tensorflow-onnx-regression_checkpoint/model");
}

TEST_CASE("bundle: rewriting TensorFlow's checkpoints gives TensorFlow's bytes") {
  // Tensors added in the order of their offsets (the order TensorFlow's Saver added them): the
  // .index and .data files are byte for byte the ones TensorFlow wrote.
  TempDir dir("identity");
  for (const char* rel : {"tensorflow-onnx-regression_checkpoint/model", "tfx-trainer_format_serving_ckpt/model.ckpt-1000"}) {
    INFO(rel);
    BundleReader r(kData + "/" + rel);
    std::vector<const BundleEntryInfo*> order;
    for (const auto& e : r.entries()) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](auto a, auto b) { return a->offset < b->offset; });
    const std::string out = dir / fs::path(rel).filename().string();
    BundleWriter w(out);
    for (const auto* e : order) w.add(e->key, r.read(e->key));
    w.finish();
    CHECK(read_bytes(out + ".index") == read_bytes(kData + "/" + rel + ".index"));
    CHECK(read_bytes(out + ".data-00000-of-00001") == read_bytes(kData + "/" + rel + ".data-00000-of-00001"));
  }
  // TensorFlow 1.14 (a sharded save, merged) wrote this index with snappy blocks. By default xflow
  // writes uncompressed ones, as TensorFlow's BundleWriter does: the data file is still identical,
  // and the entries equal; with snappy_index the index is identical too.
  const std::string rel = "serving-saved_model_half_plus_two_cpu/00000123/variables/variables";
  BundleReader r(kData + "/" + rel);
  for (bool snappy : {false, true}) {
    INFO("snappy_index " << snappy);
    const std::string out = dir / (snappy ? "sv_snappy" : "sv");
    BundleWriterOptions o;
    o.snappy_index = snappy;
    BundleWriter w(out, o);
    for (const auto& e : r.entries()) w.add(e.key, r.read(e.key));
    w.finish();
    CHECK(read_bytes(out + ".data-00000-of-00001") == read_bytes(kData + "/" + rel + ".data-00000-of-00001"));
    CHECK((read_bytes(out + ".index") == read_bytes(kData + "/" + rel + ".index")) == snappy);
    BundleReader back(out);
    REQUIRE(back.entries().size() == r.entries().size());
    for (size_t i = 0; i < r.entries().size(); ++i) {
      CHECK(back.entries()[i].key == r.entries()[i].key);
      CHECK(back.entries()[i].crc32c == r.entries()[i].crc32c);
      CHECK(back.entries()[i].offset == r.entries()[i].offset);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Round trips

namespace {

std::vector<std::pair<std::string, Tensor>> sample_tensors() {
  std::vector<std::pair<std::string, Tensor>> v;
  v.emplace_back("bool", Tensor::from_vector(std::vector<bool>{true, false, true, true}, {2, 2}));
  v.emplace_back("uint8", Tensor::from_vector(std::vector<uint8_t>{0, 1, 254, 255}, {4}));
  v.emplace_back("int32", Tensor::from_vector(std::vector<int32_t>{-2147483647 - 1, -1, 0, 7, 2147483647, 42}, {2, 3}));
  v.emplace_back("int64", Tensor::from_vector(std::vector<int64_t>{INT64_MIN, -1, 0, INT64_MAX}, {4, 1}));
  v.emplace_back("float32", Tensor::from_vector(std::vector<float>{-0.0f, 1.5f, 3.25e-38f, 3.4e38f, -7.f, 0.1f}, {3, 2}));
  v.emplace_back("float64", Tensor::from_vector(std::vector<double>{0.1, -2.5e-300, 1e300, 42.0}, {1, 2, 2}));
  v.emplace_back("scalar/float", Tensor(2.5f));
  v.emplace_back("scalar/int64", Tensor(int64_t{-9}));
  v.emplace_back("scalar/bool", Tensor(true));
  v.emplace_back("empty/0", Tensor::empty({0}, DType::float32));
  v.emplace_back("empty/3x0x2", Tensor::empty({3, 0, 2}, DType::int64));
  return v;
}

}  // namespace

TEST_CASE("bundle: every xflow dtype, 0-d and zero-size tensors round trip") {
  TempDir dir("roundtrip");
  const auto tensors = sample_tensors();
  {
    BundleWriter w(dir / "ckpt");
    for (const auto& [k, t] : tensors) w.add(k, t);
    w.finish();
  }
  BundleReader r(dir / "ckpt");
  REQUIRE(r.entries().size() == tensors.size());
  for (const auto& [k, t] : tensors) {
    INFO(k);
    const BundleEntryInfo& e = r.entry(k);
    CHECK(e.dtype == t.dtype());
    CHECK(e.tf_dtype_name == std::string(bundle::tf_dtype_name(bundle::tf_dtype_of(t.dtype()))));
    CHECK(same_tensor(r.read(k), t));
  }
  CHECK(r.entry("float32").tf_dtype == 1);
  CHECK(r.entry("float64").tf_dtype == 2);
  CHECK(r.entry("int32").tf_dtype == 3);
  CHECK(r.entry("uint8").tf_dtype == 4);
  CHECK(r.entry("int64").tf_dtype == 9);
  CHECK(r.entry("bool").tf_dtype == 10);
  CHECK(r.entry("float32").tf_dtype_name == "float32");
  CHECK(r.entry("bool").tf_dtype_name == "bool");
  // Keys are listed sorted; data is laid out in add order.
  CHECK(std::is_sorted(r.entries().begin(), r.entries().end(), [](const auto& a, const auto& b) { return a.key < b.key; }));
  int64_t offset = 0;
  for (const auto& [k, t] : tensors) {
    CHECK(r.entry(k).offset == offset);
    offset += r.entry(k).size;
  }
  CHECK(static_cast<int64_t>(fs::file_size(dir / "ckpt.data-00000-of-00001")) == offset);
  // Nothing else is left in the directory (no temporaries).
  std::set<std::string> names;
  for (const auto& f : fs::directory_iterator(dir.path)) names.insert(f.path().filename().string());
  CHECK(names == std::set<std::string>{"ckpt.index", "ckpt.data-00000-of-00001"});
}

TEST_CASE("bundle: a large tensor (several MiB) round trips") {
  TempDir dir("large");
  const int64_t n = 3 * 1024 * 1024 / 4 + 123;  // a little over 3 MiB of float32, and 6 MiB of float64
  std::vector<float> f(static_cast<size_t>(n));
  std::vector<double> d(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    f[static_cast<size_t>(i)] = static_cast<float>(std::sin(static_cast<double>(i)));
    d[static_cast<size_t>(i)] = std::cos(static_cast<double>(i)) * 1e10;
  }
  const Tensor a = Tensor::from_vector(f, {n});
  const Tensor b = Tensor::from_vector(d, {n / 1 , 1});
  {
    BundleWriterOptions o;
    o.sync = false;
    BundleWriter w(dir / "big", o);
    w.add("a", a);
    w.add("b", b);
    w.finish();
  }
  BundleReader r(dir / "big");
  CHECK(same_tensor(r.read("a"), a));
  CHECK(same_tensor(r.read("b"), b));
  CHECK(r.entry("b").size == n * 8);
}

TEST_CASE("bundle: non-contiguous tensors are written in row-major order") {
  TempDir dir("strided");
  // A 3x4 int32 matrix and views of it: its transpose, every other column, a reversed-stride row.
  std::vector<int32_t> vals(12);
  for (int i = 0; i < 12; ++i) vals[static_cast<size_t>(i)] = i * 10 + 1;
  const Tensor m = Tensor::from_vector(vals, {3, 4});
  const Tensor tr = Tensor::view(m.buffer(), DType::int32, {4, 3}, {1, 4}, 0);
  const Tensor cols = Tensor::view(m.buffer(), DType::int32, {3, 2}, {4, 2}, 1);
  const Tensor back = Tensor::view(m.buffer(), DType::int32, {4}, {-1}, 7);
  REQUIRE(!tr.is_contiguous());
  REQUIRE(!cols.is_contiguous());
  {
    BundleWriter w(dir / "v");
    w.add("transpose", tr);
    w.add("cols", cols);
    w.add("reversed", back);
    w.finish();
  }
  BundleReader r(dir / "v");
  CHECK(r.read("transpose").to_vector<int32_t>() == std::vector<int32_t>{1, 41, 81, 11, 51, 91, 21, 61, 101, 31, 71, 111});
  CHECK(r.read("cols").to_vector<int32_t>() == std::vector<int32_t>{11, 31, 51, 71, 91, 111});
  CHECK(r.read("reversed").to_vector<int32_t>() == std::vector<int32_t>{71, 61, 51, 41});
  CHECK(r.read("transpose").shape() == Shape{4, 3});
}

TEST_CASE("bundle: the writer's errors") {
  TempDir dir("writer_errors");
  BundleWriter w(dir / "w");
  w.add("x", Tensor(1.0f));
  CHECK_THROWS_WITH(w.add("x", Tensor(2.0f)), "Adding duplicate key: x");
  CHECK_THROWS_AS(w.add("x", Tensor(2.0f)), InvalidArgument);
  CHECK_THROWS_AS(w.add("", Tensor(2.0f)), InvalidArgument);
  CHECK_THROWS_AS(w.add("y", Tensor()), InvalidArgument);
  w.finish();
  CHECK_THROWS_AS(w.finish(), FailedPrecondition);
  CHECK_THROWS_AS(w.add("z", Tensor(1.0f)), FailedPrecondition);
  CHECK(BundleReader(dir / "w").entries().size() == 1);
}

TEST_CASE("bundle: a writer dropped before finish leaves no files; a missing directory is created") {
  TempDir dir("abandoned");
  {
    BundleWriter w(dir / "a");
    w.add("x", Tensor(1.0f));
  }
  CHECK(fs::is_empty(dir.path));
  BundleWriter w(dir / "sub/dir/ckpt");
  w.add("x", Tensor(1.0f));
  w.finish();
  CHECK(BundleReader(dir / "sub/dir/ckpt").read("x").item<float>() == 1.0f);
}

TEST_CASE("bundle: an independent Python decoder reads what xflow wrote") {
  TempDir dir("python");
  const auto tensors = sample_tensors();
  {
    BundleWriter w(dir / "py");
    for (const auto& [k, t] : tensors) w.add(k, t);
    w.add("nonfinite", Tensor::from_vector(std::vector<float>{NAN, INFINITY, -INFINITY, 1.0f}, {4}));
    w.finish();
  }
  const json j = python_decode(dir / "py");
  CHECK(j["num_shards"] == 1);
  CHECK(j["endianness"] == 0);
  CHECK(j["version"]["producer"] == 1);
  BundleReader r(dir / "py");
  REQUIRE(j["entries"].size() == r.entries().size());
  for (const auto& je : j["entries"]) {
    const std::string key = je["key"];
    INFO(key);
    const BundleEntryInfo& e = r.entry(key);
    CHECK(je["dtype"] == e.tf_dtype);
    CHECK(je["shape"].get<Shape>() == e.shape);
    CHECK(je["offset"] == e.offset);
    CHECK(je["size"] == e.size);
    CHECK(je["crc_ok"] == true);
    const Tensor t = r.read(key);
    CHECK(je["hex"] == hex(bytes_of(t)));
    const auto& vals = je["values"];
    REQUIRE(static_cast<int64_t>(vals.size()) == t.size());
    switch (t.dtype()) {
      case DType::bool_: CHECK(vals.get<std::vector<bool>>() == t.to_vector<bool>()); break;
      case DType::uint8:
      case DType::int32:
      case DType::int64: CHECK(vals.get<std::vector<int64_t>>() == t.to_vector<int64_t>()); break;
      case DType::float32:
      case DType::float64: {
        const auto got = t.to_vector<double>();
        for (size_t i = 0; i < got.size(); ++i) {
          if (std::isnan(got[i])) CHECK(vals[i] == "nan");
          else if (std::isinf(got[i])) CHECK(vals[i] == (got[i] > 0 ? "inf" : "-inf"));
          else CHECK(vals[i].get<double>() == got[i]);
        }
        break;
      }
    }
  }
  CHECK(j["entries"][0]["key"] == "bool");  // sorted
}

// ---------------------------------------------------------------------------------------------
// Damage

namespace {

// A small bundle with two tensors, written fresh for each damage test.
std::string write_small(const TempDir& dir) {
  const std::string prefix = dir / "d";
  BundleWriter w(prefix);
  w.add("weights", Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}));
  w.add("step", Tensor(int64_t{7}));
  w.finish();
  return prefix;
}

// A bundle whose index the test composes: header proto bytes and (key, BundleEntryProto).
void write_index(const std::string& prefix, const tensorflow::BundleHeaderProto& header,
                 std::vector<std::pair<std::string, tensorflow::BundleEntryProto>> entries) {
  std::vector<std::pair<std::string, std::string>> kv{{"", header.SerializeAsString()}};
  for (auto& [k, p] : entries) kv.emplace_back(k, p.SerializeAsString());
  spit(prefix + ".index", table::build(kv));
}

tensorflow::BundleHeaderProto header(int shards) {
  tensorflow::BundleHeaderProto h;
  h.set_num_shards(shards);
  h.mutable_version()->set_producer(1);
  return h;
}

tensorflow::BundleEntryProto entry(int dtype, Shape shape, int shard, int64_t offset, const std::string& bytes) {
  tensorflow::BundleEntryProto p;
  p.set_dtype(static_cast<tensorflow::DataType>(dtype));
  for (int64_t d : shape) p.mutable_shape()->add_dim()->set_size(d);
  p.set_shard_id(shard);
  p.set_offset(offset);
  p.set_size(static_cast<int64_t>(bytes.size()));
  p.set_crc32c(crc32c::mask(crc32c::value(bytes.data(), bytes.size())));
  return p;
}

std::string floats(std::vector<float> v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

}  // namespace

TEST_CASE("bundle damage: a flipped byte in the data file is DataLoss naming the key") {
  TempDir dir("flip");
  const std::string prefix = write_small(dir);
  const std::string data_path = prefix + ".data-00000-of-00001";
  const std::string good = read_bytes(data_path);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    spit(data_path, bad);
    BundleReader r(prefix);
    const std::string key = i < 24 ? "weights" : "step";
    const std::string other = i < 24 ? "step" : "weights";
    const std::string msg = message_of<DataLoss>([&] { r.read(key); });
    CHECK_THAT(msg, Contains("Checksum does not match") && Contains(key));
    CHECK_NOTHROW(r.read(other));
  }
}

TEST_CASE("bundle damage: a truncated data file is DataLoss") {
  TempDir dir("truncdata");
  const std::string prefix = write_small(dir);
  const std::string data_path = prefix + ".data-00000-of-00001";
  const std::string good = read_bytes(data_path);
  for (size_t n : {size_t{0}, size_t{10}, size_t{24}, size_t{31}}) {
    spit(data_path, good.substr(0, n));
    BundleReader r(prefix);
    const std::string msg = message_of<DataLoss>([&] { r.read("step"); });
    CHECK_THAT(msg, Contains("step") && Contains("truncated"));
    if (n < 24) CHECK_THROWS_AS(r.read("weights"), DataLoss);
  }
}

TEST_CASE("bundle damage: a truncated or garbled index is DataLoss, never a crash") {
  TempDir dir("badindex");
  const std::string prefix = write_small(dir);
  const std::string good = read_bytes(prefix + ".index");
  for (size_t n = 0; n < good.size(); ++n) {
    spit(prefix + ".index", good.substr(0, n));
    CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x41);
    spit(prefix + ".index", bad);
    try {
      BundleReader r(prefix);  // only a change in the footer's padding goes unnoticed
      CHECK(r.entries().size() == 2);
    } catch (const DataLoss&) {
    }
  }
  spit(prefix + ".index", std::string(4096, 'x'));
  CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
}

TEST_CASE("bundle damage: missing files are NotFound") {
  TempDir dir("missingfiles");
  const std::string prefix = write_small(dir);
  fs::remove(prefix + ".data-00000-of-00001");
  BundleReader r(prefix);  // the index alone opens
  CHECK(r.entries().size() == 2);
  CHECK_THROWS_AS(r.read("step"), NotFound);
  CHECK_THROWS_WITH(r.read("step"), Contains("data-00000-of-00001"));
  fs::remove(prefix + ".index");
  CHECK_THROWS_AS(BundleReader(prefix), NotFound);
}

TEST_CASE("bundle damage: entries that lie about their size, shard, shape or header") {
  TempDir dir("lies");
  const std::string prefix = dir / "l";
  spit(prefix + ".data-00000-of-00001", floats({1, 2, 3, 4}));
  auto e = entry(1, {4}, 0, 0, floats({1, 2, 3, 4}));

  SECTION("size is not elements x dtype size") {
    auto wrong = e;
    wrong.mutable_shape()->mutable_dim(0)->set_size(3);
    write_index(prefix, header(1), {{"w", wrong}});
    CHECK_THROWS_WITH(BundleReader(prefix).read("w"), Contains("Invalid size in bundle entry: key w"));
  }
  SECTION("a huge size or offset is checked against the file before anything is allocated") {
    auto huge = e;
    huge.mutable_shape()->mutable_dim(0)->set_size(int64_t{1} << 40);
    huge.set_size(int64_t{4} << 40);
    auto far = e;
    far.set_offset(int64_t{1} << 50);
    write_index(prefix, header(1), {{"far", far}, {"huge", huge}});
    BundleReader r(prefix);
    CHECK_THROWS_WITH(r.read("huge"), Contains("truncated"));
    CHECK_THROWS_WITH(r.read("far"), Contains("truncated"));
  }
  SECTION("negative or overflowing extents, shards out of range, bad shapes") {
    auto neg = e;
    neg.set_offset(-4);
    write_index(prefix, header(1), {{"w", neg}});
    CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
    auto shard = e;
    shard.set_shard_id(1);
    write_index(prefix, header(1), {{"w", shard}});
    CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
    auto dim = e;
    dim.mutable_shape()->mutable_dim(0)->set_size(-1);
    write_index(prefix, header(1), {{"w", dim}});
    CHECK_THROWS_WITH(BundleReader(prefix), Contains("Invalid tensor shape: w"));
    auto many = e;
    for (int i = 0; i < 8; ++i) many.mutable_shape()->add_dim()->set_size(int64_t{1} << 40);
    write_index(prefix, header(1), {{"w", many}});
    CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
    auto unknown = e;
    unknown.mutable_shape()->set_unknown_rank(true);
    write_index(prefix, header(1), {{"w", unknown}});
    CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
  }
  SECTION("an entry that is not a BundleEntryProto, a header that is not a header") {
    spit(prefix + ".index", table::build({{"", header(1).SerializeAsString()}, {"w", "\xff\xff\xff"}}));
    CHECK_THROWS_WITH(BundleReader(prefix), Contains("Entry for key w not parseable"));
    spit(prefix + ".index", table::build({{"", "\x0a\x05"}}));
    CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
    spit(prefix + ".index", table::build({{"w", e.SerializeAsString()}}));
    CHECK_THROWS_WITH(BundleReader(prefix), Contains("header"));
    write_index(prefix, header(0), {});
    CHECK_THROWS_AS(BundleReader(prefix), DataLoss);
  }
  SECTION("big-endian bundles are Unimplemented; newer consumers are refused") {
    auto big = header(1);
    big.set_endianness(tensorflow::BundleHeaderProto::BIG);
    write_index(prefix, big, {{"w", e}});
    CHECK_THROWS_WITH(BundleReader(prefix), Contains("big-endian"));
    CHECK_THROWS_AS(BundleReader(prefix), Unimplemented);
    auto newer = header(1);
    newer.mutable_version()->set_min_consumer(2);
    write_index(prefix, newer, {{"w", e}});
    CHECK_THROWS_AS(BundleReader(prefix), InvalidArgument);
    auto bad = header(1);
    bad.mutable_version()->add_bad_consumers(1);
    write_index(prefix, bad, {{"w", e}});
    CHECK_THROWS_AS(BundleReader(prefix), InvalidArgument);
  }
}

TEST_CASE("bundle: sharded bundles read each entry from its own data file") {
  TempDir dir("shards");
  const std::string prefix = dir / "s";
  const std::string a = floats({1, 2}), b = floats({3, 4, 5});
  spit(prefix + ".data-00000-of-00002", a);
  spit(prefix + ".data-00001-of-00002", std::string("pad!") + b);
  write_index(prefix, header(2), {{"a", entry(1, {2}, 0, 0, a)}, {"b", entry(1, {3}, 1, 4, b)}});
  BundleReader r(prefix);
  CHECK(r.read("a").to_vector<float>() == std::vector<float>{1, 2});
  CHECK(r.read("b").to_vector<float>() == std::vector<float>{3, 4, 5});
  fs::remove(prefix + ".data-00001-of-00002");
  CHECK_THROWS_WITH(r.read("b"), Contains("data-00001-of-00002"));
}

TEST_CASE("bundle: dtypes xflow lacks and partitioned tensors are listed, not read") {
  TempDir dir("unreadable");
  const std::string prefix = dir / "u";
  spit(prefix + ".data-00000-of-00001", std::string(8, '\0'));
  auto half = entry(19, {2, 2}, 0, 0, std::string(8, '\0'));
  auto cplx = entry(8, {1}, 0, 0, std::string(8, '\0'));
  auto sliced = entry(1, {4, 2}, 0, 0, "");
  auto* s = sliced.add_slices();
  s->add_extent()->set_start(0);
  s->add_extent();
  auto odd = entry(77, {}, 0, 0, "");
  write_index(prefix, header(1), {{"cplx", cplx}, {"half", half}, {"odd", odd}, {"part", sliced}});
  BundleReader r(prefix);
  REQUIRE(r.entries().size() == 4);
  CHECK(r.entry("half").tf_dtype_name == "float16");
  CHECK(r.entry("cplx").tf_dtype_name == "complex64");
  CHECK(r.entry("odd").tf_dtype_name == "DT_77");
  CHECK(!r.entry("half").dtype);
  CHECK(r.entry("part").num_slices == 1);
  CHECK(r.entry("part").dtype == DType::float32);
  CHECK_THROWS_WITH(r.read("half"), Contains("half") && Contains("float16"));
  CHECK_THROWS_AS(r.read("cplx"), Unimplemented);
  CHECK_THROWS_AS(r.read("odd"), Unimplemented);
  CHECK_THROWS_WITH(r.read("part"), Contains("part") && Contains("partitioned"));
}

TEST_CASE("bundle: bool bytes other than 0 and 1 read as true") {
  TempDir dir("bools");
  const std::string prefix = dir / "b";
  const std::string bytes("\x00\x01\x02\xff", 4);
  spit(prefix + ".data-00000-of-00001", bytes);
  write_index(prefix, header(1), {{"b", entry(10, {4}, 0, 0, bytes)}});
  CHECK(BundleReader(prefix).read("b").to_vector<int>() == std::vector<int>{0, 1, 1, 1});
}

TEST_CASE("bundle: thousands of entries span several table blocks") {
  // 5000 entries of about 100 bytes: an index of over 256 KiB, so more than one data block.
  TempDir dir("many");
  const std::string prefix = dir / "m";
  std::vector<std::string> keys;
  {
    BundleWriterOptions o;
    o.sync = false;
    BundleWriter w(prefix, o);
    for (int i = 4999; i >= 0; --i) {
      char key[128];
      std::snprintf(key, sizeof key, "model/tower_%02d/layer_%04d/a_rather_long_variable_name_for_prefix_compression/kernel", i % 7, i);
      keys.push_back(key);
      w.add(key, Tensor(static_cast<int32_t>(i)));
    }
    w.finish();
  }
  CHECK(fs::file_size(prefix + ".index") > 262144);
  BundleReader r(prefix);
  REQUIRE(r.entries().size() == 5000);
  std::sort(keys.begin(), keys.end());
  for (size_t i = 0; i < keys.size(); ++i) CHECK(r.entries()[i].key == keys[i]);
  CHECK(r.read(keys[1234]).item<int32_t>() == std::stoi(keys[1234].substr(keys[1234].find("layer_") + 6, 4)));
  const json j = python_decode(prefix);
  REQUIRE(j["entries"].size() == 5000);
  CHECK(j["entries"][4999]["key"] == keys[4999]);
}
