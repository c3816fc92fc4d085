// ---- dataset/pipeline: TFRecordDataset -> map (decode a record into tensors) -> batch ->
// prefetch, against the plain loop doing the same work (TFRecordReader, the same decode, the
// same stacking by memcpy) in the same run ----
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "xflow/dataset.hpp"
#include "xflow/tfrecord.hpp"
#include "xflow/threads.hpp"

namespace xfbench {
namespace {

constexpr int kFeatures = 64;   // float32 features per record, then one int64 label
constexpr int64_t kBatch = 64;

// A record: 64 float32 then an int64 label, raw little-endian bytes.
std::string make_record(int64_t i) {
  std::string r(kFeatures * sizeof(float) + sizeof(int64_t), '\0');
  for (int k = 0; k < kFeatures; ++k) {
    float v = static_cast<float>((i * 31 + k * 7) % 1000) * 0.001f;
    std::memcpy(&r[k * sizeof(float)], &v, sizeof v);
  }
  int64_t label = i % 10;
  std::memcpy(&r[kFeatures * sizeof(float)], &label, sizeof label);
  return r;
}

// The map function: the record's bytes into an (x float32 (64,), y int64 ()) element.
xf::Element decode(const std::string& r) {
  if (r.size() != kFeatures * sizeof(float) + sizeof(int64_t)) throw xf::DataLoss("bad record size");
  int64_t label;
  std::memcpy(&label, r.data() + kFeatures * sizeof(float), sizeof label);
  return {xf::Tensor::from_bytes(r.data(), kFeatures, xf::DType::float32, {kFeatures}),
          xf::Tensor::from_bytes(&label, 1, xf::DType::int64, {})};
}

}  // namespace

void bench_dataset(const Options& o) {
  const std::string pipeline = "dataset/pipeline", loop = "dataset/pipeline/loop";
  if (!wanted(o, {pipeline, loop})) return;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/xflow_bench_dataset_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  const std::string dir = buf.data(), path = dir + "/records.tfrecord";
  const int64_t n = o.quick ? 50000 : 200000;
  {
    xf::io::TFRecordWriter w(path);
    for (int64_t i = 0; i < n; ++i) w.write(make_record(i));
    w.close();
  }
  xf::set_num_threads(1);

  // Both end in the same checksum: the sum of the labels and of the first feature of each batch.
  double sum_pipeline = 0, sum_loop = 0;
  auto run_pipeline = [&] {
    double s = 0;
    auto ds = xf::data::Dataset::TFRecordDataset({path})
                  .map([](const xf::Element& e) { return decode(e[0].strings().item()); })
                  .batch(kBatch)
                  .prefetch(2);
    for (const xf::Element& b : ds) {
      s += static_cast<double>(b[1].tensor().data<int64_t>()[0]) + b[0].tensor().data<float>()[0];
    }
    sum_pipeline = s;
  };
  auto run_loop = [&] {
    double s = 0;
    xf::io::TFRecordReader reader(path);
    std::string record;
    std::vector<xf::Element> elements;
    bool more = true;
    while (more) {
      elements.clear();
      while (static_cast<int64_t>(elements.size()) < kBatch && (more = reader.read(record))) {
        elements.push_back(decode(record));
      }
      if (elements.empty()) break;
      auto m = static_cast<int64_t>(elements.size());
      xf::Tensor x = xf::Tensor::empty({m, kFeatures}, xf::DType::float32);
      xf::Tensor y = xf::Tensor::empty({m}, xf::DType::int64);
      for (int64_t i = 0; i < m; ++i) {
        std::memcpy(x.data<float>() + i * kFeatures, elements[i][0].tensor().raw_data(), kFeatures * sizeof(float));
        y.data<int64_t>()[i] = *elements[i][1].tensor().data<int64_t>();
      }
      s += static_cast<double>(y.data<int64_t>()[0]) + x.data<float>()[0];
    }
    sum_loop = s;
  };
  run_pipeline();
  run_loop();
  if (sum_pipeline != sum_loop) {
    std::printf("  CHECK FAILED dataset/pipeline: checksum %g, the plain loop's %g\n", sum_pipeline, sum_loop);
    g_failed = true;
  }
  auto t = measure({run_pipeline, run_loop}, o.quick ? 3 : 7, 0.0, static_cast<double>(n));
  add_entry({loop, t[1], fmt("%.2f M records/s", 1e-6 / t[1]), std::nullopt, 0, std::nullopt});
  add_entry({pipeline, t[0], fmt("%.2f M records/s", 1e-6 / t[0]), loop, t[1], std::nullopt});
  xf::set_num_threads(0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace xfbench
