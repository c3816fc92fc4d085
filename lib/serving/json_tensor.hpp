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

// A tensor as JSON carries it: dtype, shape and row-major element bytes.
struct HostTensor {
  DType dtype = DType::float32;
  Shape shape;
  std::vector<uint8_t> data;
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
// The inputs of a :predict request for a signature whose inputs have these dtypes (by name).
PredictInputs parse_predict_inputs(const nlohmann::json& doc, const std::map<std::string, DType>& inputs);

// A :classify or :regress request's examples: each feature by name, its values as floats
// ("context" features are added to every example).
using Example = std::map<std::string, std::vector<double>>;
std::vector<Example> parse_examples(const nlohmann::json& doc, const char* method);

// Response bodies.
std::string predict_response_json(const std::map<std::string, HostTensor>& outputs, JsonFormat format);
std::string error_json(const std::string& message);  // { "error": "<message>" }

// A float as TF Serving writes it: "%g" when that parses back to the same value, else all the
// digits it needs (max_digits10); ".0" appended to whole numbers; NaN, Infinity, -Infinity.
std::string format_float(float v);
std::string format_double(double v);

// TensorFlow's name of a dtype ("float", "int64", ...), as its error messages use.
const char* tf_type_string(DType d);
// TensorFlow's enum name ("DT_FLOAT", ...), as metadata gives it.
const char* tf_dtype_enum(DType d);

}  // namespace xf::serving
