#include "serving/metrics.hpp"

#include <cstdio>

namespace xf::serving {

constexpr std::array<double, 14> Metrics::kBucketsMicros;

void Metrics::record(const std::string& model, const std::string& version, const std::string& api, const char* status,
                     double micros) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{model, version, api, status}];
  Histogram& h = latency_[{model, api}];
  size_t b = 0;
  while (b < kBucketsMicros.size() && micros > kBucketsMicros[b]) ++b;
  ++h.counts[b];
  h.sum += micros;
  ++h.count;
}

namespace {
// Label values come from the configuration (model names), escaped as Prometheus asks.
std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

std::string Metrics::prometheus_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP :tensorflow:serving:request_count The number of requests by model, version, API and status.\n";
  out += "# TYPE :tensorflow:serving:request_count counter\n";
  for (const auto& [k, n] : requests_) {
    const auto& [model, version, api, status] = k;
    out += ":tensorflow:serving:request_count{model_name=\"" + esc(model) + "\",model_version=\"" + esc(version) +
           "\",API=\"" + esc(api) + "\",entrypoint=\"REST\",status=\"" + esc(status) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP :tensorflow:serving:request_latency Request latency in microseconds.\n";
  out += "# TYPE :tensorflow:serving:request_latency histogram\n";
  for (const auto& [k, h] : latency_) {
    const std::string labels = "model_name=\"" + esc(k.first) + "\",API=\"" + esc(k.second) + "\",entrypoint=\"REST\"";
    int64_t cumulative = 0;
    for (size_t b = 0; b <= kBucketsMicros.size(); ++b) {
      cumulative += h.counts[b];
      const std::string le = b < kBucketsMicros.size() ? num(kBucketsMicros[b]) : "+Inf";
      out += ":tensorflow:serving:request_latency_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += ":tensorflow:serving:request_latency_sum{" + labels + "} " + num(h.sum) + "\n";
    out += ":tensorflow:serving:request_latency_count{" + labels + "} " + std::to_string(h.count) + "\n";
  }
  return out;
}

}  // namespace xf::serving
