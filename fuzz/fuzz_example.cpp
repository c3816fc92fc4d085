// libFuzzer target: tf.train.Example / SequenceExample bytes. Arbitrary input goes through
// Example::parse and SequenceExample::parse (protobuf) and through parse_example /
// parse_single_example / parse_sequence_example (the direct wire-format parser) with a fixed
// feature map of every kind; each must return or throw xf::Error, never crash. When both parsers
// accept an Example, the direct one must read the same values as protobuf.
#include <cstddef>
#include <cstdint>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "xflow/example.hpp"

namespace {

const xf::io::FeatureMap& example_features() {
  static const xf::io::FeatureMap fm{
      {"a", xf::io::FixedLenFeature{{2}, xf::DType::int64, xf::Value(xf::Tensor::from_vector<int64_t>({7}, {1}))}},
      {"b", xf::io::FixedLenFeature{{}, xf::DType::float32, xf::Value(xf::Tensor(1.0f))}},
      {"c", xf::io::FixedLenFeature{{1}, xf::string_type, xf::Value(xf::StringTensor::vector({"d"}))}},
      {"v", xf::io::VarLenFeature{xf::DType::int64}},
      {"w", xf::io::VarLenFeature{xf::string_type}},
      {"f", xf::io::VarLenFeature{xf::DType::float32}},
      {"s", xf::io::FixedLenSequenceFeature{{2}, xf::DType::float32, true, std::nullopt}}};
  return fm;
}

const xf::io::FeatureMap& sequence_features() {
  static const xf::io::FeatureMap fm{
      {"s", xf::io::FixedLenSequenceFeature{{}, xf::DType::int64, true, std::nullopt}},
      {"t", xf::io::VarLenFeature{xf::string_type}},
      {"u", xf::io::FixedLenSequenceFeature{{2}, xf::DType::float32, true, std::nullopt}}};
  return fm;
}

}  // namespace

// protobuf logs each map key that is not UTF-8 (a parse failure here); the log would drown the
// fuzzer's own output.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  bool proto_ok = false;
  xf::io::Example ex;
  try {
    ex = xf::io::Example::parse(bytes);
    proto_ok = true;
    xf::io::Example back = xf::io::Example::parse(ex.serialize());
    if (back != ex) __builtin_trap();  // a parsed Example must survive its own round trip
  } catch (const xf::Error&) {
  }
  try {
    xf::io::ParsedFeatures p = xf::io::parse_single_example(bytes, example_features());
    // Both accepted it: the direct parser read what protobuf read (a missing, empty or mistyped
    // feature would have thrown or given the default).
    if (proto_ok && ex.has("v") && ex.feature("v").kind == xf::io::Feature::Kind::int64_list &&
        p.sparse_at("v").values.tensor().to_vector<int64_t>() != ex.feature("v").int64s) {
      __builtin_trap();
    }
  } catch (const xf::Error&) {
  }
  try {
    xf::io::parse_example(xf::StringTensor::vector({bytes, bytes}), example_features());
  } catch (const xf::Error&) {
  }
  try {
    xf::io::SequenceExample::parse(bytes);
  } catch (const xf::Error&) {
  }
  try {
    xf::io::parse_sequence_example(xf::StringTensor::vector({bytes}), example_features(), sequence_features());
  } catch (const xf::Error&) {
  }
  return 0;
}
