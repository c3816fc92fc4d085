// TensorFlow Serving's JSON for tensors (its util/json_tensor.cc): the request bodies of :predict
// (row "instances" and columnar "inputs" formats), :classify and :regress (Examples), and the
// response bodies. Self-contained (nlohmann_json and the dtype enum only) so that the fuzz target
// compiles this file alone. Errors are RequestError with TF Serving's messages (HTTP 400).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "xflow/dtype.hpp"
#include "xflow/shape.hpp"

namespace xf::serving {

// A request that cannot be served; `status` is the HTTP status code.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// Deepest nesting of arrays and objects a request may have (a tensor has a few dimensions; this
// keeps the parser and every walk over the document away from deep recursion).
constexpr int kMaxJsonDepth = 64;

// The type of a signature's input or output as JSON sees it: a numeric dtype or DT_STRING.
struct TensorType {
  DType dtype = DType::float32;
  bool string = false;
  TensorType() = default;
  TensorType(DType d) : dtype(d) {}  // NOLINT: implicit, a numeric type
  static TensorType string_type() {
    TensorType t;
    t.string = true;
    return t;
  }
};

// A tensor as JSON carries it: dtype, shape and row-major element bytes; or, a DT_STRING tensor
// (is_string), its elements as byte strings (`strings`, row-major; `data` and `dtype` unused).
struct HostTensor {
  DType dtype = DType::float32;
  Shape shape;
  std::vector<uint8_t> data;
  bool is_string = false;
  std::vector<std::string> strings;
  int64_t elements() const;
};

enum class JsonFormat { row, columnar };

// Parses a request body: a JSON object (TF Serving's "JSON Parse error: ..." otherwise).
nlohmann::json parse_request_json(std::string_view body);
// The request's "signature_name", or "" when absent (400 when it is not a string).
std::string request_signature_name(const nlohmann::json& doc);

struct PredictInputs {
  JsonFormat format = JsonFormat::row;
  std::map<std::string, HostTensor> tensors;
};
// The inputs of a :predict request for a signature whose inputs have these types (by name). A
// DT_STRING input takes JSON strings (their UTF-8 bytes) and {"b64": "..."} objects (the decoded
// bytes; "Unable to base64 decode" otherwise); a numeric input refuses both (TF's type error).
PredictInputs parse_predict_inputs(const nlohmann::json& doc, const std::map<std::string, TensorType>& inputs);

// One feature of a :classify or :regress request's example, with the list TF Serving's
// MakeExampleFromJsonObject picks for its JSON values: decimals a float list, integers and
// booleans an int64 list, strings and {"b64": ...} a bytes list (one kind per feature).
struct JsonFeature {
  enum class Kind { none, bytes, floats, int64s };
  Kind kind = Kind::none;
  std::vector<std::string> bytes;
  std::vector<float> floats;
  std::vector<int64_t> int64s;
};
// An example's features by name; the "context" features are in every example unless the example
// has a feature of the same name (a serialized context and example, merged as protobuf does).
using Example = std::map<std::string, JsonFeature>;
// The "examples" of a classify or regress request. A missing key names classify for both methods,
// as TF Serving's one parser for both does.
std::vector<Example> parse_examples(const nlohmann::json& doc);

// Standard base64 (RFC 4648 alphabet, padding optional as absl::Base64Unescape takes it); false
// for any other character, misplaced padding, a length no encoding has or nonzero unused bits in
// the last digit. The decoder is core's (core/base64.hpp, Base64Padding::optional); out is left
// unchanged on failure.
bool base64_decode(std::string_view in, std::string& out);
// Padded standard base64 (core's encoder).
std::string base64_encode(std::string_view in);

// Response bodies. A DT_STRING output whose name ends in "_bytes" is written as {"b64": ...},
// others as JSON strings of their bytes (as TF Serving's rapidjson writer: bytes that are not
// UTF-8 are written unchanged).
std::string predict_response_json(const std::map<std::string, HostTensor>& outputs, JsonFormat format);
std::string error_json(const std::string& message);  // { "error": "<message>" }

// A float as TF Serving writes it: "%g" when that parses back to the same value, else all the
// digits it needs (max_digits10); ".0" appended to whole numbers; NaN, Infinity, -Infinity.
std::string format_float(float v);
std::string format_double(double v);

// TensorFlow's name of a dtype ("float", "int64", ..., "string"), as its error messages use.
const char* tf_type_string(DType d);
const char* tf_type_string(const TensorType& t);
// TensorFlow's enum name ("DT_FLOAT", ..., "DT_STRING"), as metadata gives it.
const char* tf_dtype_enum(DType d);
const char* tf_dtype_enum(const TensorType& t);
// A JSON string of `bytes` as rapidjson writes it: '"', '\\' and control characters escaped,
// other bytes (invalid UTF-8 included) unchanged.
void write_json_string(std::string& out, std::string_view bytes);

}  // namespace xf::serving
