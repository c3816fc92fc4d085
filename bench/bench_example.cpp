// example/parse: parse_example of a batch of 64-feature Examples, against Debian's
// python3-protobuf parsing the same bytes (bench/example_protobuf.py) in the same run.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "xflow/example.hpp"
#include "xflow/tfrecord.hpp"

namespace xfbench {

namespace {

// 64 features: 24 float_list of 4, 24 int64_list of 2, 16 bytes_list of one 12-byte string.
std::vector<std::string> make_examples(int n, xf::io::FeatureMap& fm) {
  std::vector<std::string> out;
  for (int e = 0; e < n; ++e) {
    xf::io::Example ex;
    for (int k = 0; k < 24; ++k) {
      ex.set_floats("float_" + std::to_string(k), {0.5f * e, 1.25f * k, -3.0f, 1e-3f * (e + k)});
      ex.set_int64s("int_" + std::to_string(k), {e * 1000 + k, int64_t{1} << (k + 20)});
    }
    for (int k = 0; k < 16; ++k) ex.set_bytes("bytes_" + std::to_string(k), {"value-" + std::to_string(100000 + e * 16 + k)});
    out.push_back(ex.serialize());
  }
  for (int k = 0; k < 24; ++k) {
    fm["float_" + std::to_string(k)] = xf::io::FixedLenFeature{{4}, xf::DType::float32, std::nullopt};
    fm["int_" + std::to_string(k)] = xf::io::FixedLenFeature{{2}, xf::DType::int64, std::nullopt};
  }
  for (int k = 0; k < 16; ++k) fm["bytes_" + std::to_string(k)] = xf::io::FixedLenFeature{{}, xf::string_type, std::nullopt};
  return out;
}

}  // namespace

void bench_example(const Options& o) {
  const std::string row = "example/parse", base = "example/parse/python3-protobuf";
  if (!wanted(o, {row, base})) return;
  const int kBatch = 256;
  xf::io::FeatureMap fm;
  std::vector<std::string> recs = make_examples(kBatch, fm);
  xf::StringTensor batch = xf::StringTensor::vector(recs);
  size_t bytes = 0;
  for (const auto& r : recs) bytes += r.size();

  // Check the result once.
  xf::io::ParsedFeatures p = xf::io::parse_example(batch, fm);
  if (p.at("int_3").tensor().to_vector<int64_t>()[2 * 7] != 7 * 1000 + 3 ||
      p.at("bytes_15").strings().values()[255] != "value-" + std::to_string(100000 + 255 * 16 + 15)) {
    std::fprintf(stderr, "example/parse: wrong values\n");
    g_failed = true;
  }

  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/xflow_bench_example_" + std::to_string(::getpid());
  {
    xf::io::TFRecordWriter w(path);
    for (const auto& r : recs) w.write(r);
    w.close();
  }
  const int samples = o.quick ? 5 : 21;
  std::vector<double> t = measure({[&] {
                                     xf::io::ParsedFeatures r = xf::io::parse_example(batch, fm);
                                     escape(&r);
                                   }},
                                  samples, 0.02, kBatch);
  // python3-protobuf: median seconds of one pass over the same records.
  std::string cmd = "/usr/bin/python3 '" XFLOW_EXAMPLE_BENCH_SCRIPT "' '" + path + "' " + std::to_string(samples);
  FILE* py = ::popen(cmd.c_str(), "r");
  if (!py) throw std::runtime_error("popen failed");
  char line1[128] = {0}, line2[128] = {0};
  bool ok = std::fgets(line1, sizeof line1, py) && std::fgets(line2, sizeof line2, py);
  int status = ::pclose(py);
  std::remove(path.c_str());
  if (!ok || status != 0) throw std::runtime_error("example_protobuf.py failed");
  double py_s = std::stod(line1) / kBatch;
  std::string impl = line2;
  while (!impl.empty() && (impl.back() == '\n')) impl.pop_back();
  const double mb = static_cast<double>(bytes) / kBatch / 1e6;
  std::printf("(python3-protobuf implementation: %s)\n", impl.c_str());
  add_entry({base, py_s, fmt("%.0f MB/s", mb / py_s), std::nullopt, 0, std::nullopt});
  add_entry({row, t[0], fmt("%.0f MB/s", mb / t[0]), base, py_s, std::nullopt});
}

}  // namespace xfbench
