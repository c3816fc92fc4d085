// `xflow records cat|count|verify`, run as a user would: the real TFRecord files, files written
// here (uncompressed, GZIP, ZLIB) holding Examples, SequenceExamples and other bytes, and damaged
// files (what was read before the damage on stdout, TensorFlow's DataLoss message on stderr,
// exit 1). The binary's path comes from meson (XFLOW_CLI).
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/example.hpp"
#include "xflow/tfrecord.hpp"
#include "temp_files.hpp"

#ifndef XFLOW_CLI
#error "XFLOW_CLI must name the xflow binary"
#endif
#if !defined(XFLOW_EXAMPLE_ORACLE) || !defined(XFLOW_PROTO_ROOT)
#error "XFLOW_EXAMPLE_ORACLE (tests/io/example_oracle.py) and XFLOW_PROTO_ROOT (lib/) must be defined"
#endif
#ifndef XFLOW_TFRECORD_TESTDATA
#error "XFLOW_TFRECORD_TESTDATA must name the directory of the real TFRecord files"
#endif

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace xf;

namespace {

using xf::testing::read_bytes_if_any;

struct Result {
  int code = -1;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct TempDir : xf::testing::TempDir {
  TempDir() : xf::testing::TempDir("records") {}
};

Result run(const TempDir& tmp, const std::string& args) {
  fs::path out = tmp.path / "stdout.txt", err = tmp.path / "stderr.txt";
  std::string cmd = quote(XFLOW_CLI) + " " + args + " >" + quote(out.string()) + " 2>" + quote(err.string());
  int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_bytes_if_any(out);
  r.err = read_bytes_if_any(err);
  return r;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l)) v.push_back(l);
  return v;
}

std::string testdata(const std::string& name) { return std::string(XFLOW_TFRECORD_TESTDATA) + "/" + name; }

// An Example, a SequenceExample and plain bytes.
std::vector<std::string> mixed_records() {
  io::Example ex;
  ex.set_int64s("id", {7, -1});
  ex.set_floats("x", {0.1f, 2.5f});
  ex.set_bytes("w", {"hi"});
  io::SequenceExample se;
  se.context().set_int64s("n", {2});
  se.set_feature_list("s", {io::Feature::from_bytes({"a"}), io::Feature::from_bytes({"b"})});
  return {ex.serialize(), se.serialize(), "hello world"};
}

void write_file(const std::string& path, const std::vector<std::string>& recs, io::Compression c) {
  io::TFRecordWriter w(path, io::TFRecordOptions{c, -1});
  for (const auto& r : recs) w.write(r);
  w.close();
}

}  // namespace

TEST_CASE("records count: the number of records alone on a line, per file") {
  TempDir tmp;
  Result r = run(tmp, "records count " + quote(testdata("lingvo_wmt14_ende_wpm_32k_test.tfrecord")) + " " +
                          quote(testdata("lingvo_events.out.tfevents.test")));
  CHECK(r.code == 0);
  CHECK(r.out == "100\n361\n");
  r = run(tmp, "records count --compression GZIP " +
                   quote(testdata("tfx_external_tfrecord_sequence-00000-of-00001.gz")));
  CHECK(r.code == 0);
  CHECK(r.out == "15000\n");
}

TEST_CASE("records cat: Examples and SequenceExamples as JSON, other records as hex") {
  TempDir tmp;
  for (auto [name, comp] : {std::pair<const char*, io::Compression>{"", io::Compression::none},
                            {"GZIP", io::Compression::gzip}, {"ZLIB", io::Compression::zlib}}) {
    INFO("compression " << name);
    std::string path = tmp / "mixed.tfrecord";
    write_file(path, mixed_records(), comp);
    Result r = run(tmp, std::string("records cat ") + quote(path) + (*name ? std::string(" --compression ") + name : ""));
    REQUIRE(r.code == 0);
    std::vector<std::string> ls = lines(r.out);
    REQUIRE(ls.size() == 3);
    json ex = json::parse(ls[0]);
    CHECK(ex["features"]["feature"]["id"]["int64List"]["value"] == json({"7", "-1"}));
    CHECK(ex["features"]["feature"]["x"]["floatList"]["value"][0].get<double>() == 0.1);
    CHECK(ex["features"]["feature"]["w"]["bytesList"]["value"][0] == "aGk=");
    json se = json::parse(ls[1]);
    CHECK(se["context"]["feature"]["n"]["int64List"]["value"] == json({"2"}));
    CHECK(se["featureLists"]["featureList"]["s"]["feature"].size() == 2);
    CHECK(se["featureLists"]["featureList"]["s"]["feature"][1]["bytesList"]["value"][0] == "Yg==");
    CHECK(json::parse(ls[2]) == json({{"hex", "68656c6c6f20776f726c64"}}));
  }
  Result r = run(tmp, "records cat --compression GZIP " + quote(testdata("tfx_penguin_eval_data_tfrecord-00000-of-00001.gz")));
  REQUIRE(r.code == 0);
  std::vector<std::string> ls = lines(r.out);
  REQUIRE(ls.size() == 100);
  for (const auto& l : ls) CHECK(json::parse(l)["features"]["feature"].contains("species"));
}

TEST_CASE("records verify: every CRC; damage prints what was read, then DataLoss, exit 1") {
  TempDir tmp;
  Result r = run(tmp, "records verify " + quote(testdata("lingvo_wmt14_ende_wpm_32k_test.tfrecord")));
  CHECK(r.code == 0);
  CHECK(r.out.find(": 100 records, every CRC verified") != std::string::npos);

  std::vector<std::string> recs = mixed_records();
  std::string good = tmp / "good.tfrecord";
  write_file(good, recs, io::Compression::none);
  std::string bytes = read_bytes_if_any(good);
  // One byte of the second record's data changed: its data CRC fails.
  const size_t second = 12 + recs[0].size() + 4, data_at = second + 12;
  std::string flipped = bytes;
  flipped[data_at + 1] ^= 0x20;
  std::string bad = tmp / "bad.tfrecord";
  std::ofstream(bad, std::ios::binary) << flipped;
  const std::string loss = "DataLoss: corrupted record at " + std::to_string(data_at);

  r = run(tmp, "records verify " + quote(bad));
  CHECK(r.code == 1);
  CHECK(r.out == bad + ": 1 records verified before the damage\n");
  CHECK(r.err.find(loss) != std::string::npos);
  r = run(tmp, "records count " + quote(bad));
  CHECK(r.code == 1);
  CHECK(r.out == "1\n");
  CHECK(r.err.find(loss) != std::string::npos);
  r = run(tmp, "records cat " + quote(bad));
  CHECK(r.code == 1);
  CHECK(lines(r.out).size() == 1);
  CHECK(r.err.find(loss) != std::string::npos);

  // Cut inside the third record's data: truncated.
  std::string cut = tmp / "cut.tfrecord";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 6);
  r = run(tmp, "records count " + quote(cut));
  CHECK(r.code == 1);
  CHECK(r.out == "2\n");
  CHECK(r.err.find("DataLoss: truncated record at") != std::string::npos);

  // Files after a good one still count; a missing file is an error.
  r = run(tmp, "records count " + quote(good) + " " + quote(tmp / "missing.tfrecord"));
  CHECK(r.code == 1);
  CHECK(r.out == "3\n");
  CHECK(!r.err.empty());
  r = run(tmp, "records count --compression LZ4 " + quote(good));
  CHECK(r.code == 2);
}

TEST_CASE("records cat prints what protobuf's json_format.MessageToDict gives for the same records") {
  TempDir tmp;
  std::string desc = tmp / "example.desc";
  REQUIRE(std::system(("protoc --descriptor_set_out=" + quote(desc) + " --include_imports -I " +
                       quote(XFLOW_PROTO_ROOT) + " io/proto/example.proto").c_str()) == 0);
  std::string mixed = tmp / "mixed.tfrecord";
  std::vector<std::string> recs = mixed_records();
  recs.pop_back();  // plain bytes: protobuf would read them as an Example with unknown fields
  io::Example empty_lists;
  empty_lists.set_floats("f", {});
  empty_lists.set("none", io::Feature{});
  recs.push_back(empty_lists.serialize());
  recs.push_back("");
  write_file(mixed, recs, io::Compression::none);
  for (auto [file, comp] : {std::pair<std::string, std::string>{testdata("lingvo_wmt14_ende_wpm_32k_test.tfrecord"), "NONE"},
                            {testdata("tfx_penguin_eval_data_tfrecord-00000-of-00001.gz"), "GZIP"},
                            {testdata("tfx_external_tfrecord_sequence-00000-of-00001.gz"), "GZIP"},
                            {mixed, "NONE"}}) {
    INFO(file);
    Result ours = run(tmp, "records cat " + quote(file) + (comp == "NONE" ? "" : " --compression " + comp));
    REQUIRE(ours.code == 0);
    std::string py_out = tmp / "python.txt";
    REQUIRE(std::system(("/usr/bin/python3 " + quote(XFLOW_EXAMPLE_ORACLE) + " " + quote(desc) + " " + quote(file) +
                         " " + comp + " json >" + quote(py_out)).c_str()) == 0);
    std::vector<std::string> a = lines(ours.out), b = lines(read_bytes_if_any(py_out));
    REQUIRE(a.size() == b.size());
    int differ = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      if (json::parse(a[i]) != json::parse(b[i])) {
        if (++differ <= 3) WARN("record " << i << "\n  xflow:  " << a[i] << "\n  python: " << b[i]);
      }
    }
    CHECK(differ == 0);
  }
}
