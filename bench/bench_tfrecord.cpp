// ---- tfrecord: reading a TFRecord file of 1 KiB records (256 MiB; --quick 32 MiB) with every CRC
// checked, against read(2) of the same file into a buffer of the reader's size; and its GZIP form,
// against zlib inflating the same stream alone. The files are written first and read once before
// timing, so both sides read from the page cache. ----
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "xflow/tfrecord.hpp"

namespace xfbench {

namespace {

constexpr size_t kChunk = 256 << 10;  // the reader's buffer size

// read(2) of the whole file in chunks; returns the bytes read.
size_t read_plain(const std::string& path, std::vector<char>& buf) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  size_t total = 0;
  for (;;) {
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0) throw std::runtime_error("read failed");
    if (r == 0) break;
    escape(buf.data());
    total += static_cast<size_t>(r);
  }
  ::close(fd);
  return total;
}

// read(2) and inflate of a gzip file into a buffer; returns the inflated bytes.
size_t inflate_plain(const std::string& path, std::vector<char>& in, std::vector<char>& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  z_stream z{};
  if (inflateInit2(&z, 31) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  size_t total = 0;
  bool end = false;
  while (!end) {
    ssize_t r = ::read(fd, in.data(), in.size());
    if (r <= 0) break;
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(r);
    while (z.avail_in > 0 && !end) {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int rc = ::inflate(&z, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) end = true;
      else if (rc != Z_OK) throw std::runtime_error("inflate failed");
      total += out.size() - z.avail_out;
      escape(out.data());
    }
  }
  inflateEnd(&z);
  ::close(fd);
  return total;
}

}  // namespace

void bench_tfrecord(const Options& o) {
  const std::string read = "tfrecord/read", read_base = "tfrecord/read/read(2)", gz = "tfrecord/read_gzip",
                    gz_base = "tfrecord/read_gzip/inflate";
  if (!wanted(o, {read, read_base, gz, gz_base})) return;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/xflow_bench_tfrecord_XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  const std::string dir = tmpl, plain_path = dir + "/plain.tfrecord", gz_path = dir + "/gzip.tfrecord";
  const size_t file_bytes = (o.quick ? size_t{32} : size_t{256}) << 20;
  const size_t n = file_bytes / (1024 + 16);
  // Records half random bytes, half text-like, so that deflate has work and inflate a real stream.
  std::mt19937 rng(11);
  std::vector<std::string> pool(64, std::string(1024, '\0'));
  for (auto& r : pool)
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<char>(i % 2 ? 'a' + rng() % 16 : rng());
  {
    xf::io::TFRecordWriter w(plain_path);
    xf::io::TFRecordWriter wz(gz_path, {xf::io::Compression::gzip, 1});
    for (size_t i = 0; i < n; ++i) {
      w.write(pool[i % pool.size()]);
      wz.write(pool[i % pool.size()]);
    }
  }
  std::vector<char> buf(kChunk), out(kChunk);
  auto run_read = [&](xf::io::Compression c, const std::string& path) {
    xf::io::TFRecordReader r(path, c);
    std::string rec;
    size_t count = 0;
    while (r.read(rec)) {
      escape(rec.data());
      ++count;
    }
    if (count != n) {
      std::printf("  CHECK FAILED tfrecord: %zu records read, %zu written\n", count, n);
      g_failed = true;
    }
  };
  size_t total = read_plain(plain_path, buf);
  if (total != n * (1024 + 16)) {
    std::printf("  CHECK FAILED tfrecord: file has %zu bytes\n", total);
    g_failed = true;
  }
  run_read(xf::io::Compression::none, plain_path);
  const double mib = static_cast<double>(total) / (1 << 20);
  const int samples = o.quick ? 5 : 9;
  if (wanted(o, {read, read_base})) {
    auto t = measure({[&] { run_read(xf::io::Compression::none, plain_path); }, [&] { read_plain(plain_path, buf); }},
                     samples, 0.0);
    add_entry({read_base, t[1], fmt("%.0f MiB/s", mib / t[1]), std::nullopt, 0, std::nullopt});
    add_entry({read, t[0], fmt("%.0f MiB/s", mib / t[0]), read_base, t[1], std::nullopt});
  }
  if (wanted(o, {gz, gz_base})) {
    if (inflate_plain(gz_path, buf, out) != total) {
      std::printf("  CHECK FAILED tfrecord: the gzip stream inflates to another size\n");
      g_failed = true;
    }
    auto t = measure({[&] { run_read(xf::io::Compression::gzip, gz_path); }, [&] { inflate_plain(gz_path, buf, out); }},
                     o.quick ? 3 : 5, 0.0);
    add_entry({gz_base, t[1], fmt("%.0f MiB/s", mib / t[1]), std::nullopt, 0, std::nullopt});
    add_entry({gz, t[0], fmt("%.0f MiB/s", mib / t[0]), gz_base, t[1], std::nullopt});
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace xfbench
