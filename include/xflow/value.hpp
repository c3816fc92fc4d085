// String tensors and the values of input pipelines. The numeric core (DType, Tensor) holds no
// strings; TensorFlow's tf.string (file names, serialized records, bytes features) is a
// StringTensor, and a Value is either kind. Queues, readers, Example parsing and datasets take
// and give Values; graphs and ops take Tensors only (docs/decisions.md, 56).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include "xflow/dtype.hpp"
#include "xflow/error.hpp"
#include "xflow/shape.hpp"
#include "xflow/tensor.hpp"

namespace xf {

// A shaped array of byte strings (row-major), TensorFlow's tf.string tensor. A string holds any
// bytes, NUL included.
class StringTensor {
 public:
  // A 0-d tensor holding "".
  StringTensor() : values_(1) {}
  // A 0-d tensor.
  explicit StringTensor(std::string scalar) : values_{std::move(scalar)} {}
  // A 1-D tensor.
  StringTensor(std::initializer_list<std::string> v) : values_(v), shape_{static_cast<int64_t>(v.size())} {}
  // `values` in row-major order; throws ShapeError when their number is not the shape's.
  StringTensor(std::vector<std::string> values, Shape shape, Loc loc = Loc::current());
  // A 1-D tensor of `values`.
  static StringTensor vector(std::vector<std::string> values);

  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return static_cast<int64_t>(values_.size()); }
  const std::vector<std::string>& values() const { return values_; }
  std::vector<std::string>& values() { return values_; }
  // The element at flat (row-major) index i; throws OutOfRange outside [0, size).
  const std::string& at(int64_t i, Loc loc = Loc::current()) const;
  std::string& at(int64_t i, Loc loc = Loc::current());
  // The one element of a tensor of size 1; throws InvalidArgument otherwise.
  const std::string& item(Loc loc = Loc::current()) const;
  // The slice [i] along axis 0 (rank - 1 dimensions); throws OutOfRange / InvalidArgument.
  StringTensor operator[](int64_t i) const;

  bool operator==(const StringTensor& o) const { return shape_ == o.shape_ && values_ == o.values_; }
  bool operator!=(const StringTensor& o) const { return !(*this == o); }

 private:
  std::vector<std::string> values_;
  Shape shape_;
};

// The element type of one component of a queue element, dataset element or feature: a DType,
// or string. Converts implicitly from DType: `{DType::float32, xf::string_type}`.
class ValueType {
 public:
  constexpr ValueType(DType d) : string_(false), dtype_(d) {}  // NOLINT: implicit by design
  static constexpr ValueType string() { return ValueType(); }
  constexpr bool is_string() const { return string_; }
  // The numeric dtype; throws DTypeError for string.
  DType dtype(Loc loc = Loc::current()) const;
  // "float32", ..., "string".
  std::string name() const;
  constexpr bool operator==(const ValueType& o) const {
    return string_ == o.string_ && (string_ || dtype_ == o.dtype_);
  }
  constexpr bool operator!=(const ValueType& o) const { return !(*this == o); }

 private:
  constexpr ValueType() : string_(true), dtype_(DType::uint8) {}
  bool string_;
  DType dtype_;
};
inline constexpr ValueType string_type = ValueType::string();

// A numeric Tensor or a StringTensor.
class Value {
 public:
  Value() = default;  // an empty Tensor handle
  Value(Tensor t) : v_(std::move(t)) {}          // NOLINT: implicit by design
  Value(StringTensor s) : v_(std::move(s)) {}    // NOLINT: implicit by design
  bool is_string() const { return v_.index() == 1; }
  ValueType type() const;
  const Shape& shape() const;
  // The numeric tensor; throws DTypeError naming the string type otherwise.
  const Tensor& tensor(Loc loc = Loc::current()) const;
  // The string tensor; throws DTypeError naming the numeric type otherwise.
  const StringTensor& strings(Loc loc = Loc::current()) const;
  // "float32 (2, 3)" / "string (4,)".
  std::string describe() const;

 private:
  std::variant<Tensor, StringTensor> v_;
};

// One element of a queue or a dataset: a tuple of components.
using Element = std::vector<Value>;

}  // namespace xf
