// TFRecord files (include/xflow/tfrecord.hpp): the TensorFlow- and Beam-written files of
// ../shared/testdata/tfrecord (counts and digests of its manifest.json), round trips, byte
// identity with an independent Python writer (io/tfrecord_oracle.py: the framing, Python's zlib
// with TensorFlow's parameters, zlib.compress), Python reading our files, TensorFlow's outcome on
// every kind of damage, and lengths that must not be allocated.
#include <sys/wait.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "io/crc32c.hpp"
#include "xflow/error.hpp"
#include "xflow/tfrecord.hpp"
#include "temp_files.hpp"
#include "process.hpp"

#ifndef XFLOW_TFRECORD_TESTDATA
#error "XFLOW_TFRECORD_TESTDATA (the folder of TensorFlow-written TFRecord files) must be defined"
#endif
#ifndef XFLOW_TFRECORD_ORACLE
#error "XFLOW_TFRECORD_ORACLE (the path of tests/io/tfrecord_oracle.py) must be defined"
#endif

namespace fs = std::filesystem;
using namespace xf::io;

namespace {

using xf::testing::read_bytes;
using xf::testing::write_bytes;

using xf::testing::TempDir;

std::pair<int, std::string> run(const std::string& args) {
  std::string cmd = "/usr/bin/python3 '" XFLOW_TFRECORD_ORACLE "' " + args + " 2>&1";
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  return {r.exit_code, r.output};
}

// The records as the oracle's LIST file: each a uint64 little-endian length and its bytes.
std::string as_list(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& r : records) {
    uint64_t n = r.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
    out += r;
  }
  return out;
}

std::vector<std::string> read_all(TFRecordReader& r) {
  std::vector<std::string> out;
  std::string rec;
  while (r.read(rec)) out.push_back(rec);
  return out;
}

// Records of every size class: empty, one byte, around the framing sizes, larger than the
// reader's and the deflater's 256 KiB buffers, compressible and random.
std::vector<std::string> sample_records(unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out = {"", "x", "hello world", std::string(12, '\0'), std::string(4, '\xff')};
  for (size_t n : {100u, 1024u, 4095u, 70000u, 300000u}) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 3 == 0 ? rng() : 'a' + i % 7);
    out.push_back(s);
  }
  for (int i = 0; i < 500; ++i) out.push_back("record " + std::to_string(i) + std::string(static_cast<size_t>(i % 50), 'z'));
  return out;
}

std::string frames(const std::vector<std::string>& records) {
  std::string s;
  for (const auto& r : records) s += tfrecord_frame(r);
  return s;
}

// zlib or gzip stream of `plain` with TensorFlow's parameters.
std::string deflate_all(const std::string& plain, bool gzip) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, -1, Z_DEFLATED, gzip ? 31 : 15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, plain.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string message_of(TFRecordReader& r, std::vector<std::string>* delivered = nullptr) {
  std::string rec;
  try {
    while (r.read(rec))
      if (delivered) delivered->push_back(rec);
  } catch (const xf::DataLoss& e) {
    return e.what();
  }
  return "(no error)";
}

std::string stream_for(const std::string& plain, Compression c) {
  return c == Compression::none ? plain : deflate_all(plain, c == Compression::gzip);
}

}  // namespace

TEST_CASE("tfrecord: every TensorFlow- and Beam-written test file reads with its CRCs, counts and digests") {
  const std::string dir = XFLOW_TFRECORD_TESTDATA;
  auto manifest = nlohmann::json::parse(read_bytes(dir + "/manifest.json"));
  REQUIRE(manifest.size() == 8);
  TempDir tmp;
  for (auto& [name, entry] : manifest.items()) {
    INFO(name);
    Compression c = compression_from_name(entry["compression"].get<std::string>());
    TFRecordReader r(dir + "/" + name, c);
    std::vector<std::string> records = read_all(r);
    CHECK(static_cast<int64_t>(records.size()) == entry["num_records"].get<int64_t>());
    CHECK(r.records_read() == static_cast<int64_t>(records.size()));
    uint64_t framed = 0;
    for (const auto& rec : records) framed += rec.size() + 16;
    CHECK(r.offset() == framed);
    if (c == Compression::none) CHECK(r.offset() == entry["file_size"].get<uint64_t>());
    // records_digest: SHA-256 of each record as a uint64 little-endian length and its bytes.
    write_bytes(tmp / "list", as_list(records));
    auto [rc, out] = run("sha256 '" + tmp / "list" + "'");
    REQUIRE(rc == 0);
    CHECK(out.substr(0, 64) == entry["records_digest"].get<std::string>());
    // The same through the in-memory reader.
    TFRecordReader m = TFRecordReader::from_bytes(read_bytes(dir + "/" + name), c);
    CHECK(read_all(m) == records);
  }
}

TEST_CASE("tfrecord: magenta's iterator test file holds exactly its three records") {
  std::vector<std::string> got;
  for (const std::string& r : tf_record_iterator(std::string(XFLOW_TFRECORD_TESTDATA) + "/magenta_tfrecord_iterator_test.tfrecord"))
    got.push_back(r);
  CHECK(got == std::vector<std::string>{"hello world", "12345", "success"});
  CHECK(read_tfrecord_file(std::string(XFLOW_TFRECORD_TESTDATA) + "/magenta_tfrecord_iterator_test.tfrecord") == got);
}

TEST_CASE("tfrecord: a GZIP file read without compression is not a TFRecord file") {
  TFRecordReader r(std::string(XFLOW_TFRECORD_TESTDATA) + "/tfx_penguin_eval_data_tfrecord-00000-of-00001.gz");
  CHECK(message_of(r) == "corrupted record at 0 (Is this even a TFRecord file?)");
}

TEST_CASE("tfrecord: round trips for every compression and level") {
  TempDir tmp;
  auto records = sample_records(1);
  for (Compression c : {Compression::none, Compression::zlib, Compression::gzip}) {
    for (int level : {-1, 0, 1, 9}) {
      INFO(compression_name(c) << " level " << level);
      std::string path = tmp / "rt.tfrecord";
      {
        TFRecordWriter w(path, {c, level});
        for (const auto& r : records) w.write(r);
      }  // the destructor closes
      TFRecordReader r(path, c);
      CHECK(read_all(r) == records);
      CHECK(r.offset() == frames(records).size());
      if (c == Compression::none && level != -1) break;  // the level means nothing uncompressed
    }
  }
  // No records: an empty file, or an empty compressed stream.
  for (Compression c : {Compression::none, Compression::zlib, Compression::gzip}) {
    std::string path = tmp / "empty.tfrecord";
    TFRecordWriter(path, {c}).close();
    CHECK(read_tfrecord_file(path, c).empty());
    CHECK((c == Compression::none) == read_bytes(path).empty());
  }
}

TEST_CASE("tfrecord: output is byte-identical to an independent writer (framing, zlib, gzip)") {
  TempDir tmp;
  for (unsigned seed : {2u, 3u}) {
    auto records = sample_records(seed);
    if (seed == 3) records.resize(3);  // a small file
    write_bytes(tmp / "list", as_list(records));
    auto [rc, out] = run("write '" + tmp / "list" + "' '" + tmp / "py" + "'");
    REQUIRE(rc == 0);
    for (Compression c : {Compression::none, Compression::zlib, Compression::gzip}) {
      INFO(compression_name(c) << " seed " << seed);
      std::string path = tmp / "ours";
      TFRecordWriter w(path, {c});
      for (const auto& r : records) w.write(r);
      w.close();
      const char* ext = c == Compression::none ? ".none" : c == Compression::zlib ? ".zlib" : ".gzip";
      CHECK(read_bytes(path) == read_bytes(tmp / ("py" + std::string(ext))));
      // TensorFlow deflates with memLevel 9, zlib.compress with zlib's default 8: the two agree
      // on small files (the reference above has TensorFlow's parameters; docs/tfrecord.md).
      if (c == Compression::zlib && seed == 3) CHECK(read_bytes(path) == read_bytes(tmp / "py.zlib_compress"));
    }
  }
}

TEST_CASE("tfrecord: Python's zlib and gzip modules read our files, CRCs included") {
  TempDir tmp;
  auto records = sample_records(4);
  write_bytes(tmp / "list", as_list(records));
  for (Compression c : {Compression::none, Compression::zlib, Compression::gzip}) {
    INFO(compression_name(c));
    std::string path = tmp / "ours";
    TFRecordWriter w(path, {c, 1});
    for (size_t i = 0; i < records.size(); ++i) {
      w.write(records[i]);
      if (i % 97 == 0) w.flush();  // partial flushes in the middle of the stream
    }
    w.close();
    auto [rc, out] = run("check '" + path + "' " + (c == Compression::none ? "NONE" : compression_name(c)) + " '" +
                         tmp / "list" + "'");
    CHECK(rc == 0);
    CHECK(out == "ok\n");
  }
}

TEST_CASE("tfrecord: writer flush and close as TensorFlow's") {
  TempDir tmp;
  for (Compression c : {Compression::none, Compression::zlib, Compression::gzip}) {
    INFO(compression_name(c));
    std::string path = tmp / "f.tfrecord";
    TFRecordWriter w(path, {c});
    w.write("one");
    w.write("two");
    w.flush();
    // What was flushed is readable before close (a compressed stream without its end reads as
    // ending there).
    CHECK(read_tfrecord_file(path, c) == std::vector<std::string>{"one", "two"});
    w.write("three");
    CHECK_FALSE(w.closed());
    w.close();
    CHECK(w.closed());
    CHECK_NOTHROW(w.close());  // a second close is fine
    CHECK_THROWS_AS(w.flush(), xf::FailedPrecondition);
    CHECK_THROWS_AS(w.write("four"), xf::FailedPrecondition);
    CHECK(read_tfrecord_file(path, c) == std::vector<std::string>{"one", "two", "three"});
  }
  CHECK_THROWS_AS(TFRecordWriter(tmp / "no/such/dir/f.tfrecord"), xf::NotFound);
  CHECK_THROWS_AS(TFRecordWriter(tmp / "x", {Compression::zlib, 10}), xf::InvalidArgument);
  CHECK_THROWS_AS(TFRecordReader(tmp / "missing.tfrecord"), xf::NotFound);
}

TEST_CASE("tfrecord: compression names") {
  CHECK(compression_from_name("") == Compression::none);
  CHECK(compression_from_name("ZLIB") == Compression::zlib);
  CHECK(compression_from_name("GZIP") == Compression::gzip);
  CHECK_THROWS_AS(compression_from_name("gzip"), xf::InvalidArgument);
  CHECK_THROWS_AS(compression_from_name("SNAPPY"), xf::InvalidArgument);
  CHECK(std::string(compression_name(Compression::gzip)) == "GZIP");
}

TEST_CASE("tfrecord: TensorFlow's outcome on damaged files, uncompressed and compressed") {
  const std::vector<std::string> records = {"first record", "second", "third record here"};
  const std::string plain = frames(records);
  const uint64_t r1 = tfrecord_frame(records[0]).size();        // offset of record 1
  const uint64_t r2 = r1 + tfrecord_frame(records[1]).size();   // offset of record 2
  for (Compression c : {Compression::none, Compression::zlib, Compression::gzip}) {
    INFO(compression_name(c));
    auto reader = [&](const std::string& damaged) { return TFRecordReader::from_bytes(stream_for(damaged, c), c); };
    SECTION("a partial header at the end is a clean end") {
      for (size_t extra : {1u, 7u, 11u}) {
        TFRecordReader r = reader(plain + tfrecord_frame("next").substr(0, extra));
        CHECK(read_all(r) == records);
        CHECK(r.offset() == plain.size());
      }
    }
    SECTION("a bad length CRC: corrupted record at the record's offset") {
      std::string d = plain;
      d[r1 + 9] ^= 0x01;
      TFRecordReader r = reader(d);
      std::vector<std::string> got;
      CHECK(message_of(r, &got) == "corrupted record at " + std::to_string(r1));
      CHECK(got == std::vector<std::string>{records[0]});
      CHECK(r.offset() == r1);
      // The error stays.
      std::string rec;
      CHECK_THROWS_WITH(r.read(rec), "corrupted record at " + std::to_string(r1));
      // A changed length byte is caught by the same CRC.
      d = plain;
      d[r2] ^= 0x04;
      TFRecordReader r2r = reader(d);
      CHECK(message_of(r2r) == "corrupted record at " + std::to_string(r2));
      // At offset 0 TensorFlow adds its reminder.
      d = plain;
      d[8] ^= 0x80;
      TFRecordReader r0 = reader(d);
      CHECK(message_of(r0) == "corrupted record at 0 (Is this even a TFRecord file?)");
    }
    SECTION("a bad data CRC: corrupted record at the data's offset") {
      std::string d = plain;
      d[r1 + 12 + 3] ^= 0x20;  // a data byte
      TFRecordReader r = reader(d);
      std::vector<std::string> got;
      CHECK(message_of(r, &got) == "corrupted record at " + std::to_string(r1 + 12));
      CHECK(got == std::vector<std::string>{records[0]});
      d = plain;
      d[r2 - 1] ^= 0x01;  // record 1's stored data CRC
      TFRecordReader rf = reader(d);
      CHECK(message_of(rf) == "corrupted record at " + std::to_string(r1 + 12));
      // Record 0's data CRC: the data is at 12, so no reminder.
      d = plain;
      d[12] ^= 0x01;
      TFRecordReader r0 = reader(d);
      CHECK(message_of(r0) == "corrupted record at 12");
    }
    SECTION("a record cut short: truncated record at the record's offset") {
      for (size_t cut : {r2 + 12, r2 + 13, plain.size() - 4, plain.size() - 1}) {
        INFO("cut at " << cut);
        TFRecordReader r = reader(plain.substr(0, cut));
        std::vector<std::string> got;
        CHECK(message_of(r, &got) == "truncated record at " + std::to_string(r2));
        CHECK(got == std::vector<std::string>{records[0], records[1]});
      }
    }
    SECTION("a declared length far beyond the stream is not allocated") {
      for (uint64_t len : {uint64_t{1} << 40, uint64_t{1} << 62, ~uint64_t{0} - 16}) {
        char h[12];
        for (int i = 0; i < 8; ++i) h[i] = static_cast<char>(len >> (8 * i));
        uint32_t m = crc32c::mask(crc32c::value(h, 8));
        for (int i = 0; i < 4; ++i) h[8 + i] = static_cast<char>(m >> (8 * i));
        TFRecordReader r = reader(plain + std::string(h, 12) + "some bytes");
        std::vector<std::string> got;
        CHECK(message_of(r, &got) == "truncated record at " + std::to_string(plain.size()));
        CHECK(got == records);
      }
      // TensorFlow's limit: lengths that overflow size_t with the footer.
      char h[12];
      for (int i = 0; i < 8; ++i) h[i] = '\xff';
      uint32_t m = crc32c::mask(crc32c::value(h, 8));
      for (int i = 0; i < 4; ++i) h[8 + i] = static_cast<char>(m >> (8 * i));
      TFRecordReader r = reader(std::string(h, 12));
      CHECK(message_of(r) == "record size too large");
    }
  }
}

TEST_CASE("tfrecord: damage in a file on disk, and a length beyond the file") {
  TempDir tmp;
  const std::vector<std::string> records = {"a", "bb", "ccc"};
  std::string plain = frames(records);
  char h[12];
  uint64_t len = uint64_t{1} << 45;  // 32 TiB
  for (int i = 0; i < 8; ++i) h[i] = static_cast<char>(len >> (8 * i));
  uint32_t m = crc32c::mask(crc32c::value(h, 8));
  for (int i = 0; i < 4; ++i) h[8 + i] = static_cast<char>(m >> (8 * i));
  write_bytes(tmp / "big", plain + std::string(h, 12) + std::string(5000, 'q'));
  TFRecordReader r(tmp / "big");
  std::vector<std::string> got;
  CHECK(message_of(r, &got) == "truncated record at " + std::to_string(plain.size()));
  CHECK(got == records);
}

TEST_CASE("tfrecord: concatenated GZIP members are read one after the other") {
  TempDir tmp;
  auto a = sample_records(5);
  std::vector<std::string> b = {"after", "the", "first member"};
  std::string both = deflate_all(frames(a), true) + deflate_all(frames(b), true);
  write_bytes(tmp / "two.gz", both);
  auto all = a;
  all.insert(all.end(), b.begin(), b.end());
  CHECK(read_tfrecord_file(tmp / "two.gz", Compression::gzip) == all);
  // A record split across the two members.
  std::string plain = frames(b);
  std::string split = deflate_all(plain.substr(0, 20), true) + deflate_all(plain.substr(20), true);
  TFRecordReader r = TFRecordReader::from_bytes(split, Compression::gzip);
  CHECK(read_all(r) == b);
}

TEST_CASE("tfrecord: a stream that is not zlib or gzip is DataLoss") {
  std::string plain = frames({"x", "y"});
  for (Compression c : {Compression::zlib, Compression::gzip}) {
    TFRecordReader r = TFRecordReader::from_bytes(plain, c);
    std::string rec;
    CHECK_THROWS_AS(r.read(rec), xf::DataLoss);
    // Damage inside the deflate data.
    std::string z = deflate_all(frames(sample_records(6)), c == Compression::gzip);
    for (size_t i = 20; i < 60; ++i) z[i] = static_cast<char>(z[i] ^ 0x5a);
    TFRecordReader rz = TFRecordReader::from_bytes(z, c);
    CHECK_THROWS_AS(read_all(rz), xf::DataLoss);
  }
  // GZIP data read as ZLIB.
  TFRecordReader r = TFRecordReader::from_bytes(deflate_all(plain, true), Compression::zlib);
  std::string rec;
  CHECK_THROWS_AS(r.read(rec), xf::DataLoss);
}
