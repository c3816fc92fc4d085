// Request counts and latency histograms in Prometheus' text format, under TF Serving's metric
// names (":tensorflow:serving:request_count", ":tensorflow:serving:request_latency").
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace xf::serving {

class Metrics {
 public:
  // `model` and `version` are "" for requests that name no served model or version, so that the
  // label sets stay bounded whatever clients send.
  void record(const std::string& model, const std::string& version, const std::string& api, const char* status,
              double micros);
  std::string prometheus_text() const;

  static constexpr std::array<double, 14> kBucketsMicros = {50,    100,   250,    500,    1000,   2500,   5000,
                                                            10000, 25000, 50000,  100000, 250000, 500000, 1000000};

 private:
  struct Histogram {
    std::array<int64_t, kBucketsMicros.size() + 1> counts{};  // the last: above every bound
    double sum = 0;
    int64_t count = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int64_t> requests_;  // model, version, API, status
  std::map<std::pair<std::string, std::string>, Histogram> latency_;                           // model, API
};

}  // namespace xf::serving
