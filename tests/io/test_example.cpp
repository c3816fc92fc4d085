// tf.train.Example / SequenceExample: round trips, parse_example and relatives with every kind of
// feature, TensorFlow's error messages, hand-made wire variants, and the real TensorFlow/TFX files
// of ../shared/testdata/tfrecord decoded against Debian's python3-protobuf (io/example_oracle.py).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/example.hpp"
#include "xflow/tfrecord.hpp"
#include "temp_files.hpp"
#include "process.hpp"

#ifndef XFLOW_TFRECORD_TESTDATA
#error "XFLOW_TFRECORD_TESTDATA (the directory of the real TFRecord files) must be defined"
#endif
#ifndef XFLOW_EXAMPLE_ORACLE
#error "XFLOW_EXAMPLE_ORACLE (the path of tests/io/example_oracle.py) must be defined"
#endif
#ifndef XFLOW_PROTO_ROOT
#error "XFLOW_PROTO_ROOT (the lib/ directory holding io/proto/example.proto) must be defined"
#endif

using namespace xf;
using namespace xf::io;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

using xf::testing::TempDir;

std::string run(const std::string& cmd) {
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  INFO(cmd);
  REQUIRE(r.ok());
  return r.output;
}

// A TFRecord file of `recs`.
void write_records(const std::string& path, const std::vector<std::string>& recs) {
  TFRecordWriter w(path);
  for (const auto& r : recs) w.write(r);
  w.close();
}

// The oracle's decoding of a TFRecord file: [{features}] or [{context, feature_lists}].
json oracle(const std::string& file, const std::string& compression, const std::string& kind) {
  static TempDir dir;
  static std::string desc;
  if (desc.empty()) {
    desc = dir / "example.desc";
    run("protoc --descriptor_set_out='" + desc + "' --include_imports -I '" XFLOW_PROTO_ROOT
        "' io/proto/example.proto 2>&1");
  }
  return json::parse(run("/usr/bin/python3 '" XFLOW_EXAMPLE_ORACLE "' '" + desc + "' '" + file + "' " + compression +
                         " " + kind));
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    o += d[c >> 4];
    o += d[c & 15];
  }
  return o;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

json to_json(const Feature& f) {
  json v = json::array();
  for (const auto& s : f.bytes) v.push_back(hex(s));
  for (float x : f.floats) v.push_back(bits(x));
  for (int64_t x : f.int64s) v.push_back(x);
  return {{"kind", feature_kind_name(f.kind)}, {"value", v}};
}

json to_json(const Example& ex) {
  json fs = json::object();
  for (const auto& [k, f] : ex.features()) fs[k] = to_json(f);
  return fs;
}

template <class F>
void require_throws_message(F&& f, const std::string& want) {
  try {
    f();
    FAIL("no exception; expected: " << want);
  } catch (const InvalidArgument& e) {
    INFO("message: " << e.what());
    CHECK(std::string(e.what()) == want);
  }
}

std::vector<int64_t> ivec(const Tensor& t) { return t.to_vector<int64_t>(); }
std::vector<uint32_t> fbits(const Tensor& t) {
  std::vector<uint32_t> o;
  for (float f : t.to_vector<float>()) o.push_back(bits(f));
  return o;
}

// Wire-format helpers for hand-made messages.
std::string varint(uint64_t v) {
  std::string o;
  while (v >= 0x80) {
    o += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  o += static_cast<char>(v);
  return o;
}
std::string field(uint32_t f, const std::string& payload) { return varint((f << 3) | 2) + varint(payload.size()) + payload; }
std::string entry(const std::string& key, const std::string& feature) { return field(1, field(1, key) + field(2, feature)); }

}  // namespace

TEST_CASE("example: Example built from tensors serializes, parses back and reads as tensors") {
  Example ex;
  ex.set("i64", Tensor({1, -2, 3}).contiguous());
  ex.set("i32", Tensor::from_vector<int32_t>({7, -8}, {2}));
  ex.set("u8", Tensor::from_vector<uint8_t>({255, 0}, {2}));
  ex.set("b", Tensor::from_vector<bool>({true, false}, {2}));
  ex.set("f32", Tensor::from_vector<float>({1.5f, -0.0f, from_bits(0x7fc12345u), INFINITY}, {2, 2}));
  ex.set("f64", Tensor::from_vector<double>({0.1}, {1}));
  ex.set("s", StringTensor::vector({"a", std::string("\0b", 2), ""}));
  ex.set_int64s("big", {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()});
  ex.set_floats("empty", {});

  CHECK(ex.int64s("i32").dtype() == DType::int64);
  CHECK(ivec(ex.int64s("i32")) == std::vector<int64_t>{7, -8});
  CHECK(ivec(ex.int64s("u8")) == std::vector<int64_t>{255, 0});
  CHECK(ivec(ex.int64s("b")) == std::vector<int64_t>{1, 0});
  CHECK(ex.floats("f64").to_vector<float>()[0] == 0.1f);

  Example back = Example::parse(ex.serialize());
  CHECK(back == ex);
  CHECK(fbits(back.floats("f32")) == std::vector<uint32_t>{bits(1.5f), 0x80000000u, 0x7fc12345u, 0x7f800000u});
  CHECK(back.bytes("s").values()[1] == std::string("\0b", 2));
  CHECK(back.floats("empty").size() == 0);
  CHECK(back.feature("empty").kind == Feature::Kind::float_list);
  CHECK(ex.serialize() == back.serialize());  // deterministic

  CHECK_THROWS_AS(ex.feature("nope"), NotFound);
  CHECK_THROWS_AS(ex.floats("i64"), DTypeError);
  CHECK_THROWS_AS(ex.bytes("i64"), DTypeError);
  CHECK(ex.get("s").is_string());
  ex.erase("s");
  CHECK(!ex.has("s"));

  // What python3-protobuf reads from the same bytes.
  TempDir dir;
  std::string path = dir / "ex.tfrecord";
  write_records(path, {back.serialize()});
  json want = oracle(path, "NONE", "example");
  REQUIRE(want.size() == 1);
  CHECK(want[0]["features"] == to_json(back));
}

TEST_CASE("example: SequenceExample round trip and stacking") {
  SequenceExample se;
  se.context().set("id", Tensor::from_vector<int64_t>({42}, {1}));
  se.set_sequence("tokens", Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {3, 2}));
  se.set_sequence("words", StringTensor::vector({"x", "y"}));
  se.add_step("ragged", Feature::from_floats({1.0f}));
  se.add_step("ragged", Feature::from_floats({2.0f, 3.0f}));
  SequenceExample back = SequenceExample::parse(se.serialize());
  CHECK(back == se);
  Value t = back.sequence("tokens");
  CHECK(t.shape() == Shape{3, 2});
  CHECK(ivec(t.tensor()) == std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  CHECK(back.sequence("words").strings().values() == std::vector<std::string>{"x", "y"});
  CHECK_THROWS_AS(back.sequence("ragged"), InvalidArgument);
  CHECK_THROWS_AS(back.feature_list("nope"), NotFound);

  TempDir dir;
  std::string path = dir / "seq.tfrecord";
  write_records(path, {back.serialize()});
  json want = oracle(path, "NONE", "sequence");
  REQUIRE(want.size() == 1);
  CHECK(want[0]["context"] == to_json(back.context()));
  CHECK(want[0]["feature_lists"]["tokens"].size() == 3);
  CHECK(want[0]["feature_lists"]["tokens"][2] == to_json(back.feature_list("tokens")[2]));
  CHECK(want[0]["feature_lists"]["ragged"][1] == to_json(back.feature_list("ragged")[1]));
}

TEST_CASE("example: bytes that are not an Example are an InvalidArgument") {
  CHECK_THROWS_AS(Example::parse(std::string("\x0a\x05\x01", 3)), InvalidArgument);
  CHECK_THROWS_AS(SequenceExample::parse(std::string("\xff\xff\xff", 3)), InvalidArgument);
}

TEST_CASE("example: parse_example of dense, var-len and sequence features, batched") {
  Example a, b;
  a.set_int64s("label", {3});
  a.set_floats("xy", {1, 2, 3, 4});
  a.set_bytes("name", {"alice"});
  a.set_int64s("tags", {10, 11, 12});
  a.set_floats("seq", {1, 2, 3, 4});
  b.set_int64s("label", {5});
  b.set_floats("xy", {5, 6, 7, from_bits(0xffc00001u)});
  b.set_int64s("tags", {});
  b.set_floats("seq", {9, 8});
  b.set_bytes("ignored", {"z"});
  FeatureMap fm{{"label", FixedLenFeature{{}, DType::int64, std::nullopt}},
                {"xy", FixedLenFeature{{2, 2}, DType::float32, std::nullopt}},
                {"name", FixedLenFeature{{1}, string_type, Value(StringTensor::vector({"?"}))}},
                {"opt", FixedLenFeature{{2}, DType::int64, Value(Tensor::from_vector<int64_t>({-1}, {1}))}},
                {"tags", VarLenFeature{DType::int64}},
                {"seq", FixedLenSequenceFeature{{2}, DType::float32, true, Value(Tensor(-1.0f))}}};
  ParsedFeatures p = parse_example(StringTensor::vector({a.serialize(), b.serialize()}), fm);

  CHECK(p.at("label").shape() == Shape{2});
  CHECK(ivec(p.at("label").tensor()) == std::vector<int64_t>{3, 5});
  CHECK(p.at("xy").shape() == Shape{2, 2, 2});
  CHECK(fbits(p.at("xy").tensor())[7] == 0xffc00001u);
  CHECK(p.at("name").strings().values() == std::vector<std::string>{"alice", "?"});
  CHECK(p.at("name").shape() == Shape{2, 1});
  CHECK(ivec(p.at("opt").tensor()) == std::vector<int64_t>{-1, -1, -1, -1});
  const SparseValue& tags = p.sparse_at("tags");
  CHECK(tags.indices.shape() == Shape{3, 2});
  CHECK(ivec(tags.indices) == std::vector<int64_t>{0, 0, 0, 1, 0, 2});
  CHECK(ivec(tags.values.tensor()) == std::vector<int64_t>{10, 11, 12});
  CHECK(ivec(tags.dense_shape) == std::vector<int64_t>{2, 3});
  CHECK(p.at("seq").shape() == Shape{2, 2, 2});
  CHECK(p.at("seq").tensor().to_vector<float>() == std::vector<float>{1, 2, 3, 4, 9, 8, -1, -1});
  CHECK_THROWS_AS(p.at("tags"), NotFound);

  ParsedFeatures s = parse_single_example(b.serialize(), fm);
  CHECK(s.at("label").shape() == Shape{});
  CHECK(s.at("label").tensor().item<int64_t>() == 5);
  CHECK(s.at("xy").shape() == Shape{2, 2});
  CHECK(s.at("name").strings().values() == std::vector<std::string>{"?"});
  CHECK(s.sparse_at("tags").indices.shape() == Shape{0, 1});
  CHECK(ivec(s.sparse_at("tags").dense_shape) == std::vector<int64_t>{0});
  CHECK(s.at("seq").shape() == Shape{1, 2});

  // An empty batch.
  ParsedFeatures e = parse_example(StringTensor(std::vector<std::string>{}, Shape{0}), fm);
  CHECK(e.at("xy").shape() == Shape{0, 2, 2});
  CHECK(ivec(e.sparse_at("tags").dense_shape) == std::vector<int64_t>{0, 0});
}

TEST_CASE("example: parse_sequence_example, batched and single") {
  SequenceExample a, b;
  a.context().set_int64s("len", {2});
  a.set_sequence("tok", Tensor::from_vector<int64_t>({1, 2, 3, 4}, {2, 2}));
  a.set_feature_list("w", {Feature::from_bytes({"a"}), Feature::from_bytes({"b", "c"})});
  b.context().set_int64s("len", {1});
  b.set_sequence("tok", Tensor::from_vector<int64_t>({5, 6}, {1, 2}));
  FeatureMap ctx{{"len", FixedLenFeature{{}, DType::int64, std::nullopt}},
                 {"extra", VarLenFeature{DType::float32}}};
  FeatureMap seq{{"tok", FixedLenSequenceFeature{{2}, DType::int64, false, std::nullopt}},
                 {"w", VarLenFeature{string_type}},
                 {"maybe", FixedLenSequenceFeature{{}, DType::float32, true, std::nullopt}}};
  ParsedSequence p = parse_sequence_example(StringTensor::vector({a.serialize(), b.serialize()}), ctx, seq);
  CHECK(ivec(p.context.at("len").tensor()) == std::vector<int64_t>{2, 1});
  CHECK(p.sequence.at("tok").shape() == Shape{2, 2, 2});
  CHECK(ivec(p.sequence.at("tok").tensor()) == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 0, 0});
  CHECK(ivec(p.lengths.at("tok")) == std::vector<int64_t>{2, 1});
  CHECK(p.sequence.at("maybe").shape() == Shape{2, 0});
  const SparseValue& w = p.sequence.sparse_at("w");
  CHECK(ivec(w.indices) == std::vector<int64_t>{0, 0, 0, 0, 1, 0, 0, 1, 1});
  CHECK(w.values.strings().values() == std::vector<std::string>{"a", "b", "c"});
  CHECK(ivec(w.dense_shape) == std::vector<int64_t>{2, 2, 2});

  ParsedSequence s = parse_single_sequence_example(a.serialize(), ctx, seq);
  CHECK(s.context.at("len").shape() == Shape{});
  CHECK(s.sequence.at("tok").shape() == Shape{2, 2});
  CHECK(ivec(s.sequence.sparse_at("w").indices) == std::vector<int64_t>{0, 0, 1, 0, 1, 1});
  CHECK(ivec(s.sequence.sparse_at("w").dense_shape) == std::vector<int64_t>{2, 2});
}

TEST_CASE("example: errors are worded as TensorFlow's and name the feature and the example") {
  Example ok, bad;
  ok.set_floats("x", {1, 2});
  bad.set_int64s("x", {1, 2});
  StringTensor batch = StringTensor::vector({ok.serialize(), bad.serialize()});
  FeatureMap fm{{"x", FixedLenFeature{{2}, DType::float32, std::nullopt}}};

  require_throws_message([&] { parse_example(batch, fm); },
                         "Name: 1, Key: x, Index: 1.  Data types don't match. Data type: int64 but expected type: float");
  require_throws_message([&] { parse_example(batch, fm, StringTensor::vector({"first", "second"})); },
                         "Name: second, Key: x, Index: 1.  Data types don't match. Data type: int64 but expected type: float");
  require_throws_message([&] { parse_example(batch, {{"x", VarLenFeature{DType::float32}}}); },
                         "Name: 1, Key: x, Index: 1.  Data types don't match. Expected type: float, Actual type: int64");
  require_throws_message([&] { parse_example(batch, {{"y", FixedLenFeature{{}, string_type, std::nullopt}}}); },
                         "Name: 0, Feature: y (data type: string) is required but could not be found.");
  require_throws_message([&] { parse_example(batch, {{"x", FixedLenFeature{{3}, DType::float32, std::nullopt}}}); },
                         "Name: 0, Key: x, Index: 0.  Number of float values != expected.  Values size: 2 but output shape: [3]");
  require_throws_message([&] { parse_example(StringTensor::vector({bad.serialize()}),
                                             {{"x", FixedLenFeature{{1, 3}, DType::int64, std::nullopt}}}); },
                         "Name: 0, Key: x, Index: 0.  Number of int64 values != expected.  Values size: 2 but output shape: [1,3]");
  require_throws_message([&] { parse_example(batch, {{"x", FixedLenSequenceFeature{{3}, DType::float32, true, std::nullopt}}}); },
                         "Name: 0, Key: x, Index: 0.  Number of float values is not a multiple of stride length. "
                         "Saw 2 values but output shape is: [3]");
  // A float list whose packed bytes are not a multiple of 4.
  std::string broken = field(1, entry("x", field(2, field(1, std::string("\1\2\3", 3)))));
  require_throws_message([&] { parse_example(StringTensor::vector({ok.serialize(), broken}), fm); },
                         "Name: 1, Key: x, Index: 1.  Can't parse serialized Example.");
  // Not an Example at all.
  CHECK_THROWS_WITH(parse_example(StringTensor::vector({std::string("\x0a\x7f", 2)}), fm),
                    Catch::StartsWith("Name: 0, Index: 0.  Could not parse example input, value: '"));
  // Configuration errors.
  CHECK_THROWS_AS(parse_example(batch, {{"x", FixedLenSequenceFeature{{}, DType::float32, false, std::nullopt}}}),
                  InvalidArgument);
  CHECK_THROWS_AS(parse_example(batch, {{"x", FixedLenFeature{{2}, DType::int32, std::nullopt}}}), InvalidArgument);
  CHECK_THROWS_AS(parse_example(batch, {{"x", FixedLenFeature{{2}, DType::float32, Value(Tensor({1.0f, 2.0f, 3.0f}))}}}),
                  InvalidArgument);
  CHECK_THROWS_AS(parse_example(StringTensor(std::vector<std::string>{"a"}, Shape{1, 1}), fm), InvalidArgument);

  // Sequence examples.
  SequenceExample se;
  se.set_feature_list("s", {Feature::from_int64s({1}), Feature::from_floats({2})});
  FeatureMap none;
  require_throws_message([&] { parse_sequence_example(StringTensor::vector({se.serialize()}), none,
                                                      {{"s", FixedLenSequenceFeature{{}, DType::int64, false, std::nullopt}}}); },
                         "Name: 0, Feature list: s, Index: 1.  Data types don't match. Expected type: int64");
  require_throws_message([&] { parse_sequence_example(StringTensor::vector({se.serialize()}), none,
                                                      {{"t", FixedLenSequenceFeature{{}, DType::int64, false, std::nullopt}}}); },
                         "Name: 0, Feature list 't' is required but could not be found.  Did you mean to include it in "
                         "feature_list_dense_missing_assumed_empty or feature_list_dense_defaults?");
  SequenceExample se2;
  se2.set_feature_list("s", {Feature::from_int64s({1, 2})});
  require_throws_message([&] { parse_sequence_example(StringTensor::vector({se2.serialize()}), none,
                                                      {{"s", FixedLenSequenceFeature{{3}, DType::int64, false, std::nullopt}}}); },
                         "Name: 0, Key: s, Index: 0.  Number of int64 values != expected.  values size: 2 but output shape: [3]");
}

TEST_CASE("example: wire variants (unpacked lists, merged messages, repeated keys, unknown fields) read as protobuf does") {
  // features.x: float_list unpacked (two fixed32), then an unknown varint field 9 inside the list;
  // features.y given twice (the last wins); int64 list split over two packed runs and one unpacked.
  std::string f32a = "\x0d" + std::string("\x00\x00\x80\x3f", 4);  // 1.0f
  std::string f32b = "\x0d" + std::string("\x00\x00\x00\x40", 4);  // 2.0f
  std::string xfeat = field(2, f32a + f32b + "\x48\x07");
  std::string ints = field(1, varint(1) + varint(300)) + "\x08\x05" + field(1, varint(static_cast<uint64_t>(-7)));
  std::string ex = field(1, entry("x", xfeat) + entry("y", field(3, field(1, varint(1)))) + "\x10\x01") +
                   "\x18\x2a" +  // unknown top-level field 3
                   field(1, entry("y", field(3, ints)) + entry("z", ""));
  FeatureMap fm{{"x", FixedLenFeature{{2}, DType::float32, std::nullopt}},
                {"y", VarLenFeature{DType::int64}},
                {"z", FixedLenFeature{{}, DType::int64, Value(Tensor(int64_t{9}))}}};
  ParsedFeatures p = parse_single_example(ex, fm);
  CHECK(p.at("x").tensor().to_vector<float>() == std::vector<float>{1.0f, 2.0f});
  CHECK(ivec(p.sparse_at("y").values.tensor()) == std::vector<int64_t>{1, 300, 5, -7});
  CHECK(p.at("z").tensor().item<int64_t>() == 9);  // an empty Feature is a missing one

  Example e = Example::parse(ex);
  CHECK(e.int64s("y").to_vector<int64_t>() == std::vector<int64_t>{1, 300, 5, -7});
  CHECK(e.feature("z").kind == Feature::Kind::none);

  TempDir dir;
  std::string path = dir / "variants.tfrecord";
  write_records(path, {ex});
  json want = oracle(path, "NONE", "example");
  CHECK(want[0]["features"] == to_json(e));

  // A feature name that is not UTF-8: protobuf (proto3 string key) refuses it; parse_example
  // compares bytes.
  std::string latin1 = field(1, entry("caf\xe9", field(3, field(1, varint(1)))));
  CHECK_THROWS_WITH(Example::parse(latin1), Catch::Contains("(a feature name is not valid UTF-8)"));
  CHECK(parse_single_example(latin1, {{"caf\xe9", FixedLenFeature{{}, DType::int64, std::nullopt}}})
            .at("caf\xe9").tensor().item<int64_t>() == 1);

  // A oneof set twice with different kinds keeps the last.
  std::string two = field(1, entry("k", field(3, field(1, varint(4))) + field(2, field(1, std::string(4, '\0')))));
  CHECK(parse_single_example(two, {{"k", VarLenFeature{DType::float32}}}).sparse_at("k").values.shape() == Shape{1});
  CHECK(Example::parse(two).feature("k").kind == Feature::Kind::float_list);
}

TEST_CASE("example: lingvo wmt14 file (100 Examples) decodes as python3-protobuf decodes it") {
  std::string path = std::string(XFLOW_TFRECORD_TESTDATA) + "/lingvo_wmt14_ende_wpm_32k_test.tfrecord";
  std::vector<std::string> recs = read_tfrecord_file(path);
  REQUIRE(recs.size() == 100);
  json want = oracle(path, "NONE", "example");
  REQUIRE(want.size() == 100);
  for (size_t i = 0; i < recs.size(); ++i) {
    INFO("record " << i);
    CHECK(to_json(Example::parse(recs[i])) == want[i]["features"]);
  }
  FeatureMap fm{{"source_id", VarLenFeature{DType::int64}},
                {"target_id", VarLenFeature{DType::int64}},
                {"source_padding", VarLenFeature{DType::float32}},
                {"source_word", VarLenFeature{string_type}},
                {"example_index", FixedLenFeature{{1}, DType::int64, std::nullopt}}};
  ParsedFeatures p = parse_example(StringTensor::vector(recs), fm);
  CHECK(p.at("example_index").shape() == Shape{100, 1});
  std::vector<int64_t> idx = ivec(p.at("example_index").tensor());
  const SparseValue& sid = p.sparse_at("source_id");
  std::vector<int64_t> ind = ivec(sid.indices), vals = ivec(sid.values.tensor());
  std::vector<uint32_t> pad = fbits(p.sparse_at("source_padding").values.tensor());
  const auto& words = p.sparse_at("source_word").values.strings().values();
  size_t k = 0, kp = 0, kw = 0;
  int64_t longest = 0;
  for (size_t i = 0; i < 100; ++i) {
    const json& f = want[i]["features"];
    CHECK(idx[i] == f["example_index"]["value"][0].get<int64_t>());
    for (const auto& v : f["source_id"]["value"]) {
      REQUIRE(k < vals.size());
      CHECK(ind[2 * k] == static_cast<int64_t>(i));
      CHECK(vals[k++] == v.get<int64_t>());
    }
    longest = std::max<int64_t>(longest, static_cast<int64_t>(f["source_id"]["value"].size()));
    for (const auto& v : f["source_padding"]["value"]) CHECK(pad[kp++] == v.get<uint32_t>());
    for (const auto& v : f["source_word"]["value"]) CHECK(hex(words[kw++]) == v.get<std::string>());
  }
  CHECK(k == vals.size());
  CHECK(ivec(sid.dense_shape) == std::vector<int64_t>{100, longest});
}

TEST_CASE("example: tfx penguin file (GZIP, 100 Examples) decodes") {
  std::string path = std::string(XFLOW_TFRECORD_TESTDATA) + "/tfx_penguin_eval_data_tfrecord-00000-of-00001.gz";
  std::vector<std::string> recs = read_tfrecord_file(path, Compression::gzip);
  REQUIRE(recs.size() == 100);
  json want = oracle(path, "GZIP", "example");
  REQUIRE(want.size() == 100);
  for (size_t i = 0; i < recs.size(); ++i) {
    INFO("record " << i);
    CHECK(to_json(Example::parse(recs[i])) == want[i]["features"]);
  }
  FeatureMap fm{{"species", FixedLenFeature{{}, DType::int64, std::nullopt}},
                {"body_mass_g", FixedLenFeature{{1}, DType::float32, std::nullopt}},
                {"culmen_depth_mm", VarLenFeature{DType::float32}}};
  ParsedFeatures p = parse_example(StringTensor::vector(recs), fm);
  std::vector<int64_t> sp = ivec(p.at("species").tensor());
  std::vector<uint32_t> mass = fbits(p.at("body_mass_g").tensor());
  for (size_t i = 0; i < 100; ++i) {
    CHECK(sp[i] == want[i]["features"]["species"]["value"][0].get<int64_t>());
    CHECK(mass[i] == want[i]["features"]["body_mass_g"]["value"][0].get<uint32_t>());
  }
}

TEST_CASE("example: tfx sequence file (GZIP, 15000 SequenceExamples) decodes") {
  std::string path = std::string(XFLOW_TFRECORD_TESTDATA) + "/tfx_external_tfrecord_sequence-00000-of-00001.gz";
  std::vector<std::string> recs = read_tfrecord_file(path, Compression::gzip);
  REQUIRE(recs.size() == 15000);
  json want = oracle(path, "GZIP", "sequence");
  REQUIRE(want.size() == 15000);
  int mismatches = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    SequenceExample se = SequenceExample::parse(recs[i]);
    json lists = json::object();
    for (const auto& [k, steps] : se.feature_lists()) {
      json a = json::array();
      for (const auto& f : steps) a.push_back(to_json(f));
      lists[k] = a;
    }
    if (to_json(se.context()) != want[i]["context"] || lists != want[i]["feature_lists"]) ++mismatches;
  }
  CHECK(mismatches == 0);
  // Context features with no kind set read as missing: their defaults apply.
  FeatureMap ctx{{"i", FixedLenFeature{{}, DType::int64, Value(Tensor(int64_t{-1}))}},
                 {"f", VarLenFeature{DType::float32}}};
  FeatureMap seq{{"s", FixedLenSequenceFeature{{}, string_type, false, std::nullopt}}};
  ParsedSequence p = parse_sequence_example(StringTensor::vector(recs), ctx, seq);
  std::vector<int64_t> ci = ivec(p.context.at("i").tensor());
  const auto& s = p.sequence.at("s").strings();
  REQUIRE(s.shape() == Shape{15000, 2});
  for (size_t i = 0; i < 15000; ++i) {
    const json& c = want[i]["context"]["i"];
    int64_t expect = c["kind"] == "none" ? -1 : c["value"][0].get<int64_t>();
    if (ci[i] != expect) ++mismatches;
    for (size_t t = 0; t < 2; ++t) {
      if (hex(s.values()[2 * i + t]) != want[i]["feature_lists"]["s"][t]["value"][0].get<std::string>()) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  CHECK(p.context.sparse_at("f").values.shape() == Shape{13500});
}

TEST_CASE("example: every truncation and byte flip of real records returns or throws InvalidArgument") {
  std::vector<std::string> recs =
      read_tfrecord_file(std::string(XFLOW_TFRECORD_TESTDATA) + "/tfx_penguin_eval_data_tfrecord-00000-of-00001.gz",
                         Compression::gzip);
  std::vector<std::string> seqs = read_tfrecord_file(
      std::string(XFLOW_TFRECORD_TESTDATA) + "/tfx_external_tfrecord_sequence-00000-of-00001.gz", Compression::gzip);
  FeatureMap fm{{"species", FixedLenFeature{{}, DType::int64, Value(Tensor(int64_t{0}))}},
                {"body_mass_g", VarLenFeature{DType::float32}},
                {"culmen_depth_mm", FixedLenSequenceFeature{{}, DType::float32, true, std::nullopt}}};
  FeatureMap seq{{"s", VarLenFeature{string_type}}};
  std::vector<std::string> inputs;
  for (const std::string& r : {recs[0], seqs[1]}) {
    for (size_t n = 0; n < r.size(); ++n) inputs.push_back(r.substr(0, n));
    for (size_t i = 0; i < r.size(); ++i) {
      for (unsigned char x : {0x01, 0x80, 0xff}) {
        std::string b = r;
        b[i] = static_cast<char>(static_cast<unsigned char>(b[i]) ^ x);
        inputs.push_back(b);
      }
    }
  }
  int accepted = 0, refused = 0;
  for (const std::string& b : inputs) {
    for (int which = 0; which < 4; ++which) {
      try {
        if (which == 0) parse_single_example(b, fm);
        if (which == 1) Example::parse(b);
        if (which == 2) parse_single_sequence_example(b, {}, seq);
        if (which == 3) SequenceExample::parse(b);
        ++accepted;
      } catch (const InvalidArgument&) {
        ++refused;
      }
    }
  }
  CHECK(accepted > 0);
  CHECK(refused > 0);
}
