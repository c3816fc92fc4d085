// example/parse: parse_example of a batch of 64-feature Examples, against Debian's
// python3-protobuf parsing the same bytes (bench/example_protobuf.py) in the same run.
#include <sys/wait.h>
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

// /usr/bin/python3 running bench/example_protobuf.py as a coprocess: "pass" in, "done" out.
class ProtobufParser {
 public:
  explicit ProtobufParser(const std::string& records_file) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      ::execl("/usr/bin/python3", "python3", XFLOW_EXAMPLE_BENCH_SCRIPT, records_file.c_str(),
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = ::fdopen(in[1], "w");
    from_ = ::fdopen(out[0], "r");
    std::string l = line();
    if (l.rfind("ready ", 0) != 0) throw std::runtime_error("example_protobuf.py did not start");
    implementation = l.substr(6);
  }
  ~ProtobufParser() {
    std::fputs("quit\n", to_);
    std::fclose(to_);
    std::fclose(from_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  void pass() {
    std::fputs("pass\n", to_);
    std::fflush(to_);
    if (line() != "done") throw std::runtime_error("example_protobuf.py failed");
  }
  std::string implementation;

 private:
  std::string line() {
    char buf[256];
    if (!std::fgets(buf, sizeof buf, from_)) throw std::runtime_error("example_protobuf.py exited");
    std::string s = buf;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

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
  std::vector<double> t;
  std::string impl;
  {
    ProtobufParser py(path);
    impl = py.implementation;
    // Samples of the two alternate, so a change of load hits both alike.
    t = measure({[&] {
                   xf::io::ParsedFeatures r = xf::io::parse_example(batch, fm);
                   escape(&r);
                 },
                 [&] { py.pass(); }},
                samples, 0.05, kBatch);
  }
  std::remove(path.c_str());
  const double py_s = t[1];
  const double mb = static_cast<double>(bytes) / kBatch / 1e6;
  std::printf("(python3-protobuf implementation: %s)\n", impl.c_str());
  add_entry({base, py_s, fmt("%.0f MB/s", mb / py_s), std::nullopt, 0, std::nullopt});
  add_entry({row, t[0], fmt("%.0f MB/s", mb / t[0]), base, py_s, std::nullopt});
}

}  // namespace xfbench
