// libFuzzer target: the REST request parser of the model server (lib/serving/json_tensor.cpp),
// which reads bodies sent by any client. Any input must parse or raise RequestError (HTTP 400),
// never crash, hang or allocate without bound; a request that parses is formatted back as a
// response, which must be valid JSON when its values are finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "serving/json_tensor.hpp"

namespace {

// Whether bytes are UTF-8 (lead and continuation bytes in order).
bool utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t more = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (more == 9 || (more > 0 && more >= s.size() - i)) return false;
    for (size_t k = 1; k <= more; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += more + 1;
  }
  return true;
}

// Whether the response for t must be valid JSON: finite numbers, and strings that are UTF-8
// unless they are written as base64 (a name ending in "_bytes"); other bytes are written as they
// are, as TF Serving writes them.
bool finite(const std::string& name, const xf::serving::HostTensor& t) {
  if (t.is_string) {
    if (name.size() >= 6 && name.compare(name.size() - 6, 6, "_bytes") == 0) return true;
    for (const std::string& v : t.strings)
      if (!utf8(v)) return false;
    return true;
  }
  const size_t n = static_cast<size_t>(t.elements());
  for (size_t i = 0; i < n; ++i) {
    if (t.dtype == xf::DType::float32) {
      float v;
      std::memcpy(&v, t.data.data() + 4 * i, 4);
      if (!std::isfinite(v)) return false;
    } else if (t.dtype == xf::DType::float64) {
      double v;
      std::memcpy(&v, t.data.data() + 8 * i, 8);
      if (!std::isfinite(v)) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace xf::serving;
  std::string body(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json doc = parse_request_json(body);
    std::string sig = request_signature_name(doc);
    // The inputs of the signature the request names (as a served model would have them).
    std::map<std::string, TensorType> inputs;
    if (sig == "str") {
      inputs = {{"s", TensorType::string_type()}, {"s_bytes", TensorType::string_type()}};
    } else if (sig == "examples") {
      inputs = {{"inputs", TensorType::string_type()}};
    } else if (sig == "two") {
      inputs = {{"a", xf::DType::float32}, {"b", xf::DType::int32}};
    } else if (sig == "all") {
      inputs = {{"f", xf::DType::float64}, {"i", xf::DType::int64}, {"u", xf::DType::uint8}, {"b", xf::DType::bool_}};
    } else {
      inputs = {{"x", xf::DType::float32}};
    }
    if (doc.contains("examples")) {
      parse_examples(doc);
      return 0;
    }
    PredictInputs in = parse_predict_inputs(doc, inputs);
    bool all_finite = true;
    for (const auto& [name, t] : in.tensors) {
      if (t.is_string) {
        if (t.strings.size() != static_cast<size_t>(t.elements()) || !t.data.empty()) std::abort();
        all_finite = all_finite && finite(name, t);
        continue;
      }
      if (t.data.size() != static_cast<size_t>(t.elements()) * (t.dtype == xf::DType::float64 || t.dtype == xf::DType::int64 ? 8 : t.dtype == xf::DType::uint8 || t.dtype == xf::DType::bool_ ? 1 : 4))
        std::abort();
      all_finite = all_finite && finite(name, t);
    }
    std::string out;
    try {
      out = predict_response_json(in.tensors, in.format);
    } catch (const RequestError&) {
      return 0;  // e.g. row format with a scalar input: no batch dimension
    }
    if (all_finite && !nlohmann::json::accept(out)) std::abort();
  } catch (const RequestError& e) {
    if (e.status() != 400) std::abort();
  }
  return 0;
}
