// tf.train.Example and tf.train.SequenceExample (docs/example.md): building and reading examples
// from tensors, and TensorFlow's parse_example / parse_single_example / parse_sequence_example
// with FixedLenFeature, VarLenFeature and FixedLenSequenceFeature. The bytes are TensorFlow's
// (tensorflow/core/example/example.proto and feature.proto, restated in lib/io/proto).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/shape.hpp"
#include "xflow/tensor.hpp"
#include "xflow/value.hpp"

namespace xf::io {

// One feature: a list of byte strings, of floats or of int64s (TensorFlow's Feature oneof).
// A feature with no list set (kind none) is what TensorFlow calls an empty Feature.
struct Feature {
  enum class Kind { none, bytes_list, float_list, int64_list };
  Kind kind = Kind::none;
  std::vector<std::string> bytes;
  std::vector<float> floats;     // bits kept exactly (NaN payloads included)
  std::vector<int64_t> int64s;

  static Feature from_int64s(std::vector<int64_t> v);
  static Feature from_floats(std::vector<float> v);
  static Feature from_bytes(std::vector<std::string> v);
  // int64/int32/uint8/bool tensors -> int64_list, float32/float64 -> float_list (flattened,
  // row-major), strings -> bytes_list.
  static Feature from_value(const Value& v);
  // Number of values in the list.
  int64_t size() const;
  // The list as a 1-D tensor: int64, float32 or string; none gives an empty float32 tensor.
  Value value() const;
  bool operator==(const Feature& o) const;
  bool operator!=(const Feature& o) const { return !(*this == o); }
};

// "bytes_list", "float_list", "int64_list", "none".
const char* feature_kind_name(Feature::Kind k);

// A tf.train.Example: a map from feature names to features.
class Example {
 public:
  Example() = default;
  // Sets feature `name` from a tensor of any shape (flattened): int64/int32/uint8/bool give an
  // int64_list, float32/float64 a float_list (float64 rounded to float32, as TensorFlow's
  // FloatList holds), strings a bytes_list.
  void set(const std::string& name, const Tensor& t);
  void set(const std::string& name, const StringTensor& s);
  void set(const std::string& name, const Value& v);
  void set(const std::string& name, Feature f);
  void set_int64s(const std::string& name, std::vector<int64_t> v);
  void set_floats(const std::string& name, std::vector<float> v);
  void set_bytes(const std::string& name, std::vector<std::string> v);
  void erase(const std::string& name);
  void clear() { features_.clear(); }

  bool has(const std::string& name) const { return features_.count(name) != 0; }
  // The feature; throws NotFound naming it.
  const Feature& feature(const std::string& name, Loc loc = Loc::current()) const;
  // The feature's list as a 1-D tensor (int64 or float32) or StringTensor; NotFound when absent.
  Value get(const std::string& name, Loc loc = Loc::current()) const;
  // The list as a 1-D tensor; throws NotFound when absent, DTypeError when the kind differs.
  Tensor int64s(const std::string& name, Loc loc = Loc::current()) const;
  Tensor floats(const std::string& name, Loc loc = Loc::current()) const;
  StringTensor bytes(const std::string& name, Loc loc = Loc::current()) const;
  const std::map<std::string, Feature>& features() const { return features_; }
  std::map<std::string, Feature>& features() { return features_; }

  // TensorFlow's wire format (deterministic: features in name order).
  std::string serialize() const;
  // Throws InvalidArgument when `bytes` is not a serialized Example.
  static Example parse(std::string_view bytes, Loc loc = Loc::current());

  bool operator==(const Example& o) const { return features_ == o.features_; }
  bool operator!=(const Example& o) const { return !(*this == o); }

 private:
  std::map<std::string, Feature> features_;
};

// A tf.train.SequenceExample: context features and, per name, a list of features (one per step).
class SequenceExample {
 public:
  Example& context() { return context_; }
  const Example& context() const { return context_; }
  // Sets feature list `name` from a tensor: row i along axis 0 (flattened) is step i. A 1-D
  // tensor gives steps of one value each.
  void set_sequence(const std::string& name, const Value& v);
  void set_feature_list(const std::string& name, std::vector<Feature> steps);
  void add_step(const std::string& name, Feature step);
  void erase_feature_list(const std::string& name) { lists_.erase(name); }

  bool has_feature_list(const std::string& name) const { return lists_.count(name) != 0; }
  // The steps; throws NotFound naming the list.
  const std::vector<Feature>& feature_list(const std::string& name, Loc loc = Loc::current()) const;
  // The steps stacked along a new axis 0: [steps, values per step]; throws InvalidArgument when
  // the steps differ in kind or length.
  Value sequence(const std::string& name, Loc loc = Loc::current()) const;
  const std::map<std::string, std::vector<Feature>>& feature_lists() const { return lists_; }
  std::map<std::string, std::vector<Feature>>& feature_lists() { return lists_; }

  std::string serialize() const;
  // Throws InvalidArgument when `bytes` is not a serialized SequenceExample.
  static SequenceExample parse(std::string_view bytes, Loc loc = Loc::current());

  bool operator==(const SequenceExample& o) const { return context_ == o.context_ && lists_ == o.lists_; }
  bool operator!=(const SequenceExample& o) const { return !(*this == o); }

 private:
  Example context_;
  std::map<std::string, std::vector<Feature>> lists_;
};

// What a record holds, judged strictly from its bytes: an Example (only `features`, every field of
// every level one TensorFlow's messages define, with its wire type), a SequenceExample (the same,
// with `feature_lists`), or other bytes. The empty record is an (empty) Example.
enum class RecordKind { example, sequence_example, other };
RecordKind classify_record(std::string_view bytes);

// ---- Parsing configuration (tf.io.FixedLenFeature, VarLenFeature, FixedLenSequenceFeature) ----
// dtype: int64, float32 or string (TensorFlow's three feature types).

// A feature of a fixed shape; without a default it is required.
struct FixedLenFeature {
  Shape shape;
  ValueType dtype = DType::float32;
  std::optional<Value> default_value;  // numel(shape) values, or one value broadcast
};

// A feature of any length: parsed as a sparse tensor.
struct VarLenFeature {
  ValueType dtype = DType::float32;
};

// A feature of a variable number of elements of `shape`. In parse_example: the example's values
// (a multiple of numel(shape)) padded to the batch's longest with the default (allow_missing must
// be true, as TensorFlow requires). In parse_sequence_example: one element per step.
struct FixedLenSequenceFeature {
  Shape shape;
  ValueType dtype = DType::float32;
  bool allow_missing = false;
  std::optional<Value> default_value;  // one value (the padding)
};

using FeatureSpec = std::variant<FixedLenFeature, VarLenFeature, FixedLenSequenceFeature>;
using FeatureMap = std::map<std::string, FeatureSpec>;

// TensorFlow's SparseTensor: int64 indices [N, rank], values [N], int64 dense_shape [rank].
struct SparseValue {
  Tensor indices;
  Value values;
  Tensor dense_shape;
};

struct ParsedFeatures {
  std::map<std::string, Value> dense;
  std::map<std::string, SparseValue> sparse;
  // The dense result `name`; throws NotFound otherwise.
  const Value& at(const std::string& name) const;
  // The sparse result `name`; throws NotFound otherwise.
  const SparseValue& sparse_at(const std::string& name) const;
};

// Parses a 1-D batch of serialized Examples; results are batched along axis 0 (dense [B, ...],
// sparse indices [N, 2] of (example, position)). `names` (empty, or one per example) name the
// examples in error messages, which otherwise name them by index. Errors: InvalidArgument worded
// as TensorFlow's (docs/example.md).
ParsedFeatures parse_example(const StringTensor& serialized, const FeatureMap& features,
                             const StringTensor& names = StringTensor(std::vector<std::string>{}, Shape{0}));
// One serialized Example: results without the batch axis (sparse indices [N, 1]).
ParsedFeatures parse_single_example(const std::string& serialized, const FeatureMap& features);

struct ParsedSequence {
  ParsedFeatures context;
  ParsedFeatures sequence;
  // Per FixedLenSequenceFeature of the sequence: int64 [B] steps per example (batched parse only).
  std::map<std::string, Tensor> lengths;
};

// Parses a 1-D batch of serialized SequenceExamples: context features as parse_example; sequence
// features (FixedLenSequenceFeature: [B, max steps, *shape] padded with the default;
// VarLenFeature: indices [N, 3] of (example, step, position)).
ParsedSequence parse_sequence_example(const StringTensor& serialized, const FeatureMap& context_features,
                                      const FeatureMap& sequence_features,
                                      const StringTensor& names = StringTensor(std::vector<std::string>{}, Shape{0}));
// One serialized SequenceExample: results without the batch axis (sequence dense [steps, *shape],
// sparse indices [N, 2] of (step, position)).
ParsedSequence parse_single_sequence_example(const std::string& serialized, const FeatureMap& context_features,
                                             const FeatureMap& sequence_features);

}  // namespace xf::io
