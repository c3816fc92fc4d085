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

bool finite(const xf::serving::HostTensor& t) {
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
    std::map<std::string, xf::DType> inputs;
    if (sig == "two") {
      inputs = {{"a", xf::DType::float32}, {"b", xf::DType::int32}};
    } else if (sig == "all") {
      inputs = {{"f", xf::DType::float64}, {"i", xf::DType::int64}, {"u", xf::DType::uint8}, {"b", xf::DType::bool_}};
    } else {
      inputs = {{"x", xf::DType::float32}};
    }
    if (doc.contains("examples")) {
      parse_examples(doc, "classify");
      return 0;
    }
    PredictInputs in = parse_predict_inputs(doc, inputs);
    bool all_finite = true;
    for (const auto& [name, t] : in.tensors) {
      if (t.data.size() != static_cast<size_t>(t.elements()) * (t.dtype == xf::DType::float64 || t.dtype == xf::DType::int64 ? 8 : t.dtype == xf::DType::uint8 || t.dtype == xf::DType::bool_ ? 1 : 4))
        std::abort();
      all_finite = all_finite && finite(t);
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
