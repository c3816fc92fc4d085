// TensorFlow Serving's request and response JSON (docs/serving.md). The messages are TF
// Serving's (util/json_tensor.cc), so that clients matching on them keep working.
#include "serving/json_tensor.hpp"

#include "core/base64.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>

namespace xf::serving {

using json = nlohmann::json;

namespace {

constexpr const char* kInvalid = "INVALID_ARGUMENT: ";
constexpr size_t kMaxShownChars = 512;  // of a JSON value quoted in an error message

[[noreturn]] void bad(const std::string& message) { throw RequestError(400, message); }

size_t element_size(DType d) {
  switch (d) {
    case DType::bool_:
    case DType::uint8:
      return 1;
    case DType::int32:
    case DType::float32:
      return 4;
    case DType::int64:
    case DType::float64:
      return 8;
  }
  return 1;
}

const char* json_type_string(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "Null";
    case json::value_t::boolean:
      return v.get<bool>() ? "True" : "False";
    case json::value_t::object:
      return "Object";
    case json::value_t::array:
      return "Array";
    case json::value_t::string:
      return "String";
    default:
      return "Number";
  }
}

// A JSON value quoted in an error message (shortened: a request may be megabytes).
std::string show(const json& v) {
  std::string s;
  if (v.is_number_float()) {
    s = format_double(v.get<double>());
  } else {
    s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (s.size() > kMaxShownChars) s = s.substr(0, kMaxShownChars) + "...";
  return s;
}

std::string type_error(const json& v, const TensorType& t) {
  return "JSON Value: " + show(v) + " Type: " + json_type_string(v) + " is not of expected type: " + tf_type_string(t);
}

std::string lossy_error(const json& v, const char* target) {
  return "Cannot convert JSON value: " + show(v) + " to " + target + " without loss of precision.";
}

bool is_b64_object(const json& v) {
  if (!v.is_object() || v.size() != 1) return false;
  auto it = v.find("b64");
  return it != v.end() && it->is_string();
}

// Whether a JSON number converts to T without loss, as TF Serving decides: integers up to the
// mantissa's reach, decimals inside T's range (infinities are infinities).
template <class T>
bool lossless(const json& v) {
  constexpr int64_t kMaxInt = (int64_t{1} << std::numeric_limits<T>::digits) - 1;
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(kMaxInt);
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    return i >= -kMaxInt && i <= kMaxInt;
  }
  double d = v.get<double>();
  if (!std::isfinite(d)) return true;
  return d <= static_cast<double>(std::numeric_limits<T>::max()) &&
         d >= static_cast<double>(std::numeric_limits<T>::lowest());
}

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}

// Appends one JSON scalar as an element of type `type`; the message of TF Serving's
// AddValueToTensor (FillTensorProto for objects) when it does not fit.
void add_value(const json& v, const TensorType& type, HostTensor& t) {
  if (type.string) {
    if (v.is_object()) {
      // TF Serving's JsonDecodeBase64Object.
      if (!is_b64_object(v)) bad("JSON Value: " + show(v) + " not formatted correctly for base64 data");
      std::string decoded;
      if (!base64_decode(v.at("b64").get_ref<const std::string&>(), decoded)) bad("Unable to base64 decode");
      t.strings.push_back(std::move(decoded));
      return;
    }
    if (!v.is_string()) bad(type_error(v, type));
    t.strings.push_back(v.get<std::string>());
    return;
  }
  // {"b64": ...} is a string tensor's value: a numeric input takes none (TF's type error).
  const DType d = type.dtype;
  if (v.is_object()) bad(type_error(v, type));
  std::vector<uint8_t>& out = t.data;
  switch (d) {
    case DType::float32:
      if (!v.is_number()) bad(type_error(v, d));
      if (!lossless<float>(v)) bad(lossy_error(v, "float"));
      put<float>(out, v.get<float>());
      return;
    case DType::float64:
      if (!v.is_number()) bad(type_error(v, d));
      if (!lossless<double>(v)) bad(lossy_error(v, "double"));
      put<double>(out, v.get<double>());
      return;
    case DType::int32:
    case DType::uint8: {
      bool fits = false;
      int64_t i = 0;
      if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        fits = u <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max());
        i = static_cast<int64_t>(u);
      } else if (v.is_number_integer()) {
        i = v.get<int64_t>();
        fits = i >= std::numeric_limits<int32_t>::min() && i <= std::numeric_limits<int32_t>::max();
      }
      if (d == DType::uint8) fits = fits && i >= 0 && i <= 255;
      if (!fits) bad(type_error(v, d));
      if (d == DType::uint8)
        out.push_back(static_cast<uint8_t>(i));
      else
        put<int32_t>(out, static_cast<int32_t>(i));
      return;
    }
    case DType::int64:
      if (v.is_number_unsigned() && v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        put<int64_t>(out, static_cast<int64_t>(v.get<uint64_t>()));
        return;
      }
      if (!v.is_number_integer() || v.is_number_unsigned()) bad(type_error(v, d));
      put<int64_t>(out, v.get<int64_t>());
      return;
    case DType::bool_:
      if (!v.is_boolean()) bad(type_error(v, d));
      out.push_back(v.get<bool>() ? 1 : 0);
      return;
  }
}

// The shape of a JSON value as TF Serving reads it: the sizes of the first elements, level by level.
Shape dense_shape(const json& v) {
  Shape s;
  const json* p = &v;
  while (p->is_array()) {
    s.push_back(static_cast<int64_t>(p->size()));
    if (p->empty()) break;
    p = &(*p)[0];
  }
  return s;
}

std::string shape_string(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

// TF Serving's FillTensorProto: every leaf at the level equal to the rank, every list of the
// size the shape says.
void fill(const json& v, size_t level, const Shape& shape, const TensorType& d, int64_t& count, HostTensor& out) {
  if (!v.is_array()) {
    if (level != shape.size())
      bad("JSON Value: " + show(v) + " found at incorrect level: " + std::to_string(level + 1) +
          " in the JSON DOM. Expected at level: " + std::to_string(shape.size()));
    add_value(v, d, out);
    ++count;
    return;
  }
  if (level >= shape.size())
    bad("Encountered list at unexpected level: " + std::to_string(level) + " expected < " + std::to_string(shape.size()));
  if (static_cast<int64_t>(v.size()) != shape[level])
    bad("Encountered list at unexpected size: " + std::to_string(v.size()) + " at level: " + std::to_string(level) +
        " expected size: " + std::to_string(shape[level]));
  for (const json& e : v) fill(e, level + 1, shape, d, count, out);
}

HostTensor to_tensor(const json& v, const TensorType& d) {
  HostTensor t;
  t.dtype = d.dtype;
  t.is_string = d.string;
  t.shape = dense_shape(v);
  int64_t count = 0;
  fill(v, 0, t.shape, d, count, t);
  return t;
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// One item of an "instances" list for input `name`, appended to its tensor (TF Serving's
// AddInstanceItem: every item of an input has the same shape).
void add_instance_item(const json& item, const std::string& name, const std::map<std::string, TensorType>& inputs,
                       std::map<std::string, HostTensor>& tensors) {
  auto info = inputs.find(name);
  if (info == inputs.end()) bad("JSON object: does not have named input: " + name);
  HostTensor one = to_tensor(item, info->second);
  auto it = tensors.find(name);
  if (it == tensors.end()) {
    tensors[name] = std::move(one);
    return;
  }
  HostTensor& t = it->second;
  if (t.elements() != one.elements())
    bad("Expecting tensor size: " + std::to_string(t.elements()) + " but got: " + std::to_string(one.elements()));
  if (t.shape != one.shape) bad("Expecting shape " + shape_string(t.shape) + " but got: " + shape_string(one.shape));
  t.data.insert(t.data.end(), one.data.begin(), one.data.end());
  t.strings.insert(t.strings.end(), std::make_move_iterator(one.strings.begin()), std::make_move_iterator(one.strings.end()));
}

void write_value(std::string& out, DType d, const uint8_t* p) {
  switch (d) {
    case DType::float32: {
      float v;
      std::memcpy(&v, p, sizeof v);
      out += format_float(v);
      return;
    }
    case DType::float64: {
      double v;
      std::memcpy(&v, p, sizeof v);
      out += format_double(v);
      return;
    }
    case DType::int32: {
      int32_t v;
      std::memcpy(&v, p, sizeof v);
      out += std::to_string(v);
      return;
    }
    case DType::int64: {
      int64_t v;
      std::memcpy(&v, p, sizeof v);
      out += std::to_string(v);
      return;
    }
    case DType::uint8:
      out += std::to_string(static_cast<int>(*p));
      return;
    case DType::bool_:
      out += *p ? "true" : "false";
      return;
  }
}

// The values of dimensions dim.. of t from element offset `at` (advanced), as nested lists;
// `as_bytes`: string elements as {"b64": ...} (an output whose name ends in "_bytes").
void write_values(std::string& out, const HostTensor& t, size_t dim, int64_t& at, bool as_bytes) {
  if (dim >= t.shape.size()) {
    if (t.is_string) {
      const std::string& v = t.strings[static_cast<size_t>(at)];
      if (as_bytes) {
        out += "{\"b64\": \"" + base64_encode(v) + "\"}";
      } else {
        write_json_string(out, v);
      }
    } else {
      write_value(out, t.dtype, t.data.data() + static_cast<size_t>(at) * element_size(t.dtype));
    }
    ++at;
    return;
  }
  out += '[';
  for (int64_t i = 0; i < t.shape[dim]; ++i) {
    if (i) out += ", ";
    write_values(out, t, dim + 1, at, as_bytes);
  }
  out += ']';
}

bool is_bytes_name(const std::string& name, const HostTensor& t) {
  static const std::string kSuffix = "_bytes";
  return t.is_string && name.size() >= kSuffix.size() &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

void write_key(std::string& out, const std::string& name) {
  out += json(name).dump(-1, ' ', false, json::error_handler_t::replace);
  out += ": ";
}

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
  std::string r;
  if (!xf::detail::base64_decode(in, xf::detail::Base64Padding::optional, r).ok()) return false;
  out = std::move(r);
  return true;
}

std::string base64_encode(std::string_view in) { return xf::detail::base64_encode(in); }

void write_json_string(std::string& out, std::string_view bytes) {
  static const char kHex[] = "0123456789ABCDEF";
  out += '"';
  for (char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

int64_t HostTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const char* tf_type_string(DType d) {
  switch (d) {
    case DType::bool_:
      return "bool";
    case DType::uint8:
      return "uint8";
    case DType::int32:
      return "int32";
    case DType::int64:
      return "int64";
    case DType::float32:
      return "float";
    case DType::float64:
      return "double";
  }
  return "invalid";
}

const char* tf_type_string(const TensorType& t) { return t.string ? "string" : tf_type_string(t.dtype); }
const char* tf_dtype_enum(const TensorType& t) { return t.string ? "DT_STRING" : tf_dtype_enum(t.dtype); }

const char* tf_dtype_enum(DType d) {
  switch (d) {
    case DType::bool_:
      return "DT_BOOL";
    case DType::uint8:
      return "DT_UINT8";
    case DType::int32:
      return "DT_INT32";
    case DType::int64:
      return "DT_INT64";
    case DType::float32:
      return "DT_FLOAT";
    case DType::float64:
      return "DT_DOUBLE";
  }
  return "DT_INVALID";
}

namespace {
template <class T>
std::string format_decimal(T v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return std::signbit(v) ? "-Infinity" : "Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  T back = std::is_same<T, float>::value ? static_cast<T>(std::strtof(buf, nullptr)) : static_cast<T>(std::strtod(buf, nullptr));
  if (back != v) std::snprintf(buf, sizeof buf, "%.*g", std::numeric_limits<T>::max_digits10, static_cast<double>(v));
  std::string s = buf;
  if (s.find('.') == std::string::npos && s.find('e') == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::string format_float(float v) { return format_decimal(v); }
std::string format_double(double v) { return format_decimal(v); }

std::string error_json(const std::string& message) {
  return "{ \"error\": " + json(message).dump(-1, ' ', false, json::error_handler_t::replace) + " }";
}

json parse_request_json(std::string_view body) {
  if (body.empty()) bad("JSON Parse error: The document is empty");
  // The nesting depth first, outside strings: no parse or walk of a deep document.
  // TF Serving's json_tensor (rapidjson with kParseNanAndInfFlag) takes the bare words NaN,
  // Infinity and -Infinity as numbers; nlohmann's parser does not. They are found here, outside
  // strings, and become marker strings that the parse turns back into numbers.
  int depth = 0;
  bool in_string = false;
  std::vector<std::pair<size_t, const char*>> words;  // offset, word
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == 'N' || c == 'I' || c == '-') {
      for (const char* w : {"NaN", "Infinity", "-Infinity"})
        if (body.compare(i, std::strlen(w), w) == 0) {
          words.emplace_back(i, w);
          i += std::strlen(w) - 1;
          break;
        }
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        bad("JSON Parse error: nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels at offset: " +
            std::to_string(i));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  // The markers: strings that only these words make (a request cannot contain the byte 0x01
  // in a string unless it writes the escape, which is checked for).
  static const std::string kMarker = "\x01xflow-nonfinite:";
  std::string rewritten;
  if (!words.empty() && body.find("\\u0001xflow-nonfinite:") == std::string_view::npos) {
    size_t from = 0;
    for (const auto& [at, w] : words) {
      rewritten.append(body.substr(from, at - from));
      rewritten += "\"\\u0001xflow-nonfinite:" + std::string(w) + "\"";
      from = at + std::strlen(w);
    }
    rewritten.append(body.substr(from));
    body = rewritten;
  }
  json doc;
  try {
    if (rewritten.empty()) {
      doc = json::parse(body.begin(), body.end());
    } else {
      doc = json::parse(body.begin(), body.end(), [](int, json::parse_event_t event, json& v) {
        if (event == json::parse_event_t::value && v.is_string()) {
          const std::string& t = v.get_ref<const std::string&>();
          if (t.compare(0, kMarker.size(), kMarker) == 0) {
            const std::string w = t.substr(kMarker.size());
            v = w == "NaN" ? std::numeric_limits<double>::quiet_NaN()
                           : (w == "Infinity" ? 1 : -1) * std::numeric_limits<double>::infinity();
          }
        }
        return true;
      });
    }
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ..." without its prefix.
    auto p = what.find("] ");
    bad("JSON Parse error: " + (p == std::string::npos ? what : what.substr(p + 2)) + " at offset: " +
        std::to_string(e.byte));
  } catch (const json::exception& e) {
    // e.g. out_of_range 406: a number too large for a double.
    std::string what = e.what();
    auto p = what.find("] ");
    bad("JSON Parse error: " + (p == std::string::npos ? what : what.substr(p + 2)));
  }
  if (!doc.is_object()) bad("JSON Value: " + show(doc) + " Is not object");
  return doc;
}

std::string request_signature_name(const json& doc) {
  auto it = doc.find("signature_name");
  if (it == doc.end()) return "";
  if (!it->is_string())
    bad("JSON Value: " + show(doc) + " not formatted correctly. 'signature_name' key must be a string value.");
  return it->get<std::string>();
}

PredictInputs parse_predict_inputs(const json& doc, const std::map<std::string, TensorType>& inputs) {
  PredictInputs r;
  if (inputs.empty()) bad("Failed to get input map for signature");
  auto instances = doc.find("instances");
  auto columns = doc.find("inputs");
  if (instances != doc.end() && columns != doc.end())
    bad("JSON Value: " + show(doc) + " Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
  if (instances != doc.end()) {
    r.format = JsonFormat::row;
    const json& list = *instances;
    if (!list.is_array()) bad("JSON Value: " + show(doc) + " Excepting 'instances' to be an list/array");
    if (list.empty()) bad("JSON Value: " + show(doc) + " No values in 'instances' array");
    if (!list[0].is_object() && inputs.size() > 1)
      bad("instances is a plain list, but expecting list of objects as multiple input tensors required as per "
          "tensorinfo_map");
    auto is_element_object = [](const json& v) { return v.is_object() && !is_b64_object(v); };
    const bool objects = is_element_object(list[0]);
    std::set<std::string> names;
    for (const auto& kv : inputs) names.insert(kv.first);
    int64_t count = 0;
    for (const json& elem : list) {
      if (objects) {
        if (!is_element_object(elem))
          bad("Expecting object but got list at item " + std::to_string(count) + " of input list");
        std::set<std::string> keys;
        for (auto it = elem.begin(); it != elem.end(); ++it) {
          keys.insert(it.key());
          try {
            add_instance_item(it.value(), it.key(), inputs, r.tensors);
          } catch (const RequestError& e) {
            bad("Failed to process element: " + std::to_string(count) + " key: " + it.key() +
                " of 'instances' list. Error: " + kInvalid + e.what());
          }
        }
        if (keys != names)
          bad("Failed to process element: " + std::to_string(count) + " of 'instances' list. JSON object: " +
              show(elem) + " keys must be equal to: " + join(names));
      } else {
        if (is_element_object(elem))
          bad("Expecting value/list but got object at item " + std::to_string(count) + " of input list");
        try {
          add_instance_item(elem, inputs.begin()->first, inputs, r.tensors);
        } catch (const RequestError& e) {
          bad("Failed to process element: " + std::to_string(count) + " of 'instances' list. Error: " + kInvalid +
              e.what());
        }
      }
      ++count;
    }
    for (auto& [name, t] : r.tensors) t.shape.insert(t.shape.begin(), count);
    return r;
  }
  if (columns != doc.end()) {
    r.format = JsonFormat::columnar;
    const json& v = *columns;
    if (!v.is_object() || is_b64_object(v)) {
      if (inputs.size() > 1)
        bad("inputs is a plain value/list, but expecting an object as multiple input tensors required as per "
            "tensorinfo_map");
      r.tensors[inputs.begin()->first] = to_tensor(v, inputs.begin()->second);
    } else {
      for (const auto& [name, dtype] : inputs) {
        auto item = v.find(name);
        if (item == v.end()) bad("Missing named input: " + name + " in 'inputs' object.");
        r.tensors[name] = to_tensor(*item, dtype);
      }
    }
    return r;
  }
  bad("Missing 'inputs' or 'instances' key");
}

std::vector<Example> parse_examples(const json& doc) {
  // TF Serving's AddValueToFeature: the first value picks the feature's list, the others must fit it.
  auto add = [](JsonFeature& f, const std::string& name, const json& v) {
    using Kind = JsonFeature::Kind;
    auto unexpected = [&] {
      bad("Feature: " + name + " has element with unexpected JSON type: " + json_type_string(v));
    };
    auto expect = [&](Kind k) {
      if (f.kind == Kind::none || f.kind == k) {
        f.kind = k;
        return;
      }
      const char* kind = f.kind == Kind::bytes ? "bytes" : f.kind == Kind::floats ? "float" : "int64";
      bad("Unexpected element type in feature: " + name + " expecting type: " + kind);
    };
    if (v.is_null() || v.is_array()) unexpected();
    if (v.is_boolean()) {
      expect(Kind::int64s);
      f.int64s.push_back(v.get<bool>() ? 1 : 0);
    } else if (v.is_object()) {
      if (!is_b64_object(v)) unexpected();
      expect(Kind::bytes);
      std::string decoded;
      if (!base64_decode(v.at("b64").get_ref<const std::string&>(), decoded)) bad("Unable to base64 decode");
      f.bytes.push_back(std::move(decoded));
    } else if (v.is_string()) {
      expect(Kind::bytes);
      f.bytes.push_back(v.get<std::string>());
    } else if (v.is_number_float()) {
      expect(Kind::floats);
      if (!lossless<float>(v)) bad(lossy_error(v, "float"));
      f.floats.push_back(v.get<float>());
    } else {
      expect(Kind::int64s);
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        bad("Feature: " + name + " has uint64 element. Only int64 is supported.");
      f.int64s.push_back(v.get<int64_t>());
    }
  };
  auto make = [&](const json& v, Example& ex) {
    if (!v.is_object()) bad(std::string("Example must be JSON object but got JSON ") + json_type_string(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      JsonFeature f;
      if (it.value().is_array()) {
        for (const json& x : it.value()) add(f, it.key(), x);
      } else {
        add(f, it.key(), it.value());
      }
      ex[it.key()] = std::move(f);  // an example's feature replaces the context's of that name
    }
  };
  Example context;
  auto c = doc.find("context");
  if (c != doc.end()) make(*c, context);
  auto it = doc.find("examples");
  if (it == doc.end())
    bad("JSON Value: " + show(doc) + " When method is classify, key 'examples' is expected and was not found");
  if (!it->is_array()) bad("JSON Value: " + show(doc) + " Expecting 'examples' value to be an list/array");
  if (it->empty()) bad("JSON Value: " + show(doc) + " 'examples' value is an empty array");
  std::vector<Example> out;
  for (const json& v : *it) {
    Example ex = context;
    make(v, ex);
    out.push_back(std::move(ex));
  }
  return out;
}

std::string predict_response_json(const std::map<std::string, HostTensor>& outputs, JsonFormat format) {
  if (outputs.empty()) throw RequestError(400, "Cannot convert empty tensor map to JSON");
  std::string out;
  const bool named = outputs.size() > 1;
  if (format == JsonFormat::columnar) {
    out += "{\n    \"outputs\": ";
    if (named) out += "{\n";
    bool first = true;
    for (const auto& [name, t] : outputs) {
      if (named) {
        out += first ? "        " : ",\n        ";
        write_key(out, name);
      }
      first = false;
      int64_t at = 0;
      write_values(out, t, 0, at, is_bytes_name(name, t));
    }
    if (named) out += "\n    }";
    out += "\n}";
    return out;
  }
  int64_t batch = -1;
  for (const auto& [name, t] : outputs) {
    if (t.shape.empty()) throw RequestError(400, "Tensor name: " + name + " has no shape information ");
    if (batch >= 0 && t.shape[0] != batch)
      throw RequestError(400, "Tensor name: " + name + " has inconsistent batch size: " + std::to_string(t.shape[0]) +
                                  " expecting: " + std::to_string(batch));
    batch = t.shape[0];
  }
  std::map<std::string, int64_t> at;
  out += "{\n    \"predictions\": [";
  for (int64_t item = 0; item < batch; ++item) {
    out += item ? ", " : "";
    if (named) out += '{';
    bool first = true;
    for (const auto& [name, t] : outputs) {
      if (named) {
        out += first ? "" : ", ";
        write_key(out, name);
      }
      first = false;
      write_values(out, t, 1, at[name], is_bytes_name(name, t));
    }
    if (named) out += '}';
  }
  out += "]\n}";
  return out;
}

}  // namespace xf::serving
