#include "xflow/value.hpp"

namespace xf {

StringTensor::StringTensor(std::vector<std::string> values, Shape shape, Loc loc)
    : values_(std::move(values)), shape_(std::move(shape)) {
  for (int64_t d : shape_) {
    if (d < 0) raise(ErrorCode::shape, "StringTensor", "negative dimension in shape " + shape_str(shape_), loc);
  }
  if (numel(shape_) != static_cast<int64_t>(values_.size())) {
    raise(ErrorCode::shape, "StringTensor",
          std::to_string(values_.size()) + " values do not fill shape " + shape_str(shape_), loc);
  }
}

StringTensor StringTensor::vector(std::vector<std::string> values) {
  Shape s{static_cast<int64_t>(values.size())};
  return StringTensor(std::move(values), std::move(s));
}

const std::string& StringTensor::at(int64_t i, Loc loc) const {
  if (i < 0 || i >= size()) {
    raise(ErrorCode::out_of_range, "StringTensor.at",
          "index " + std::to_string(i) + " is outside a tensor of shape " + shape_str(shape_), loc);
  }
  return values_[static_cast<size_t>(i)];
}

std::string& StringTensor::at(int64_t i, Loc loc) {
  return const_cast<std::string&>(static_cast<const StringTensor&>(*this).at(i, loc));
}

const std::string& StringTensor::item(Loc loc) const {
  if (size() != 1) {
    raise(ErrorCode::invalid_argument, "StringTensor.item",
          "a tensor of shape " + shape_str(shape_) + " has " + std::to_string(size()) + " elements, not 1", loc);
  }
  return values_[0];
}

StringTensor StringTensor::operator[](int64_t i) const {
  if (shape_.empty()) throw InvalidArgument("[StringTensor] a 0-d tensor cannot be indexed");
  if (i < 0 || i >= shape_[0]) {
    throw OutOfRange("[StringTensor] index " + std::to_string(i) + " is outside axis 0 of shape " + shape_str(shape_));
  }
  Shape rest(shape_.begin() + 1, shape_.end());
  int64_t n = numel(rest);
  std::vector<std::string> v(values_.begin() + i * n, values_.begin() + (i + 1) * n);
  return StringTensor(std::move(v), std::move(rest));
}

DType ValueType::dtype(Loc loc) const {
  if (string_) raise(ErrorCode::dtype, "ValueType", "string has no numeric dtype", loc);
  return dtype_;
}

std::string ValueType::name() const { return string_ ? "string" : dtype_name(dtype_); }

ValueType Value::type() const {
  if (is_string()) return string_type;
  return ValueType(std::get<0>(v_).dtype());
}

const Shape& Value::shape() const {
  if (is_string()) return std::get<1>(v_).shape();
  return std::get<0>(v_).shape();
}

const Tensor& Value::tensor(Loc loc) const {
  if (is_string()) {
    raise(ErrorCode::dtype, "Value", "expected a numeric tensor, got string " + shape_str(shape()), loc);
  }
  return std::get<0>(v_);
}

const StringTensor& Value::strings(Loc loc) const {
  if (!is_string()) {
    const Tensor& t = std::get<0>(v_);
    raise(ErrorCode::dtype, "Value",
          "expected a string tensor, got " + std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape()), loc);
  }
  return std::get<1>(v_);
}

std::string Value::describe() const {
  if (is_string()) return "string " + shape_str(shape());
  const Tensor& t = std::get<0>(v_);
  return std::string(dtype_name(t.dtype())) + " " + shape_str(t.shape());
}

}  // namespace xf
