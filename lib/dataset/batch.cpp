// batch and padded_batch: components stacked along a new axis 0 by copying bytes (no op
// dispatch per element), padded into a filled buffer for padded_batch.
#include <cstring>

#include "dataset/internal.hpp"

namespace xf::data::detail {
namespace {

std::string dims_str(const Shape& s) {  // TensorFlow's "[2,3]" in batching messages
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

// The shape every element of component c is padded to: padded_shape's fixed dimensions, the
// batch's largest where it says -1.
Shape padded_shape_of(const std::vector<Element>& elements, size_t c, const Shape* requested) {
  const Shape& first = elements[0][c].shape();
  Shape out = requested ? *requested : Shape(first.size(), -1);
  if (out.size() != first.size()) {
    throw InvalidArgument("[Dataset.padded_batch] component " + std::to_string(c) + ": padded shape " +
                          shape_str(out) + " does not have the rank of the element's shape " + shape_str(first));
  }
  Shape largest(first.size(), 0);
  for (size_t i = 0; i < elements.size(); ++i) {
    const Shape& s = elements[i][c].shape();
    if (s.size() != first.size()) {
      throw InvalidArgument("[Dataset.padded_batch] component " + std::to_string(c) + ": element " +
                            std::to_string(i) + " has shape " + shape_str(s) + ", element 0 has rank " +
                            std::to_string(first.size()));
    }
    for (size_t d = 0; d < s.size(); ++d) largest[d] = std::max(largest[d], s[d]);
  }
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == -1) out[d] = largest[d];
    else if (largest[d] > out[d]) {
      throw InvalidArgument("[Dataset.padded_batch] component " + std::to_string(c) +
                            ": attempted to pad to a smaller size than the input element (padded shape " +
                            shape_str(out) + ", an element of dimension " + std::to_string(d) + " = " +
                            std::to_string(largest[d]) + ")");
    }
  }
  return out;
}

// Copies `src` (shape `s`, row-major) into `dst` laid out as `padded` (row-major), element size
// `item` bytes: the leading corner of each padded row.
void copy_padded(const char* src, char* dst, const Shape& s, const Shape& padded, size_t item) {
  if (s.empty()) {
    std::memcpy(dst, src, item);
    return;
  }
  if (numel(s) == 0) return;
  // Rows of the innermost dimension, walked with a counter over the outer dimensions.
  size_t inner = static_cast<size_t>(s.back()) * item;
  Strides src_strides = contiguous_strides(s), dst_strides = contiguous_strides(padded);
  int64_t rows = numel(s) / s.back();
  std::vector<int64_t> idx(s.size() - 1, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t so = 0, doff = 0;
    for (size_t d = 0; d < idx.size(); ++d) {
      so += idx[d] * src_strides[d];
      doff += idx[d] * dst_strides[d];
    }
    std::memcpy(dst + doff * static_cast<int64_t>(item), src + so * static_cast<int64_t>(item), inner);
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
}

void copy_padded_strings(const std::vector<std::string>& src, std::vector<std::string>& dst, size_t base,
                         const Shape& s, const Shape& padded) {
  if (s.empty()) {
    dst[base] = src[0];
    return;
  }
  Strides dst_strides = contiguous_strides(padded);
  std::vector<int64_t> idx(s.size(), 0);
  for (size_t k = 0; k < src.size(); ++k) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * dst_strides[d];
    dst[base + static_cast<size_t>(off)] = src[k];
    for (size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
}

Value stack_component(const std::vector<Element>& elements, size_t c, bool padded, const Shape* requested,
                      const Value* padding) {
  const Value& first = elements[0][c];
  ValueType type = first.type();
  for (size_t i = 1; i < elements.size(); ++i) {
    const Value& v = elements[i][c];
    if (v.type() != type) {
      throw InvalidArgument("[Dataset.batch] Cannot batch tensors with different types in component " +
                            std::to_string(c) + ". First element had type " + type.name() + " and element " +
                            std::to_string(i) + " had type " + v.type().name() + ".");
    }
    if (!padded && v.shape() != first.shape()) {
      throw InvalidArgument("[Dataset.batch] Cannot batch tensors with different shapes in component " +
                            std::to_string(c) + ". First element had shape " + dims_str(first.shape()) +
                            " and element " + std::to_string(i) + " had shape " + dims_str(v.shape()) + ".");
    }
  }
  if (padding && padding->type() != type) {
    throw InvalidArgument("[Dataset.padded_batch] component " + std::to_string(c) + " is " + type.name() +
                          ", its padding value is " + padding->type().name());
  }
  Shape each = padded ? padded_shape_of(elements, c, requested) : first.shape();
  Shape out_shape{static_cast<int64_t>(elements.size())};
  out_shape.insert(out_shape.end(), each.begin(), each.end());
  int64_t per = numel(each);

  if (type.is_string()) {
    std::string fill = padding ? padding->strings().values()[0] : std::string();
    std::vector<std::string> values(static_cast<size_t>(numel(out_shape)), fill);
    for (size_t i = 0; i < elements.size(); ++i) {
      const StringTensor& s = elements[i][c].strings();
      size_t base = i * static_cast<size_t>(per);
      if (s.shape() == each) std::copy(s.values().begin(), s.values().end(), values.begin() + static_cast<std::ptrdiff_t>(base));
      else copy_padded_strings(s.values(), values, base, s.shape(), each);
    }
    return StringTensor(std::move(values), std::move(out_shape));
  }

  DType d = type.dtype();
  size_t item = static_cast<size_t>(dtype_size(d));
  Tensor out = Tensor::empty(out_shape, d);
  char* dst = static_cast<char*>(out.raw_data());
  size_t row = static_cast<size_t>(per) * item;
  bool needs_fill = false;
  for (const Element& e : elements) needs_fill = needs_fill || e[c].shape() != each;
  if (needs_fill) {
    // The padding value's bytes, repeated.
    Tensor pv = padding ? padding->tensor().contiguous() : zeros({}, d);
    const char* p = static_cast<const char*>(pv.raw_data());
    size_t total = static_cast<size_t>(numel(out_shape));
    for (size_t k = 0; k < total; ++k) std::memcpy(dst + k * item, p, item);
  }
  for (size_t i = 0; i < elements.size(); ++i) {
    Tensor t = elements[i][c].tensor().contiguous();
    const char* src = static_cast<const char*>(t.raw_data());
    if (row == 0) continue;
    if (t.shape() == each) std::memcpy(dst + i * row, src, row);
    else copy_padded(src, dst + i * row, t.shape(), each, item);
  }
  return out;
}

}  // namespace

Element stack_elements(const std::vector<Element>& elements, bool padded, const std::vector<Shape>& padded_shapes,
                       const std::vector<Value>& padding_values) {
  size_t n = elements[0].size();
  for (size_t i = 1; i < elements.size(); ++i) {
    if (elements[i].size() != n) {
      throw InvalidArgument("[Dataset.batch] element " + std::to_string(i) + " has " +
                            std::to_string(elements[i].size()) + " components, element 0 has " + std::to_string(n));
    }
  }
  if (padded && !padded_shapes.empty() && padded_shapes.size() != n) {
    throw InvalidArgument("[Dataset.padded_batch] " + std::to_string(padded_shapes.size()) +
                          " padded shapes for elements of " + std::to_string(n) + " components");
  }
  if (padded && !padding_values.empty() && padding_values.size() != n) {
    throw InvalidArgument("[Dataset.padded_batch] " + std::to_string(padding_values.size()) +
                          " padding values for elements of " + std::to_string(n) + " components");
  }
  Element out;
  out.reserve(n);
  for (size_t c = 0; c < n; ++c) {
    out.push_back(stack_component(elements, c, padded, padded && !padded_shapes.empty() ? &padded_shapes[c] : nullptr,
                                  padded && !padding_values.empty() ? &padding_values[c] : nullptr));
  }
  return out;
}

}  // namespace xf::data::detail
