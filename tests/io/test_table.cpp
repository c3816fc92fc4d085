// The SSTable layer (lib/io/table.hpp): xflow's reader against LevelDB's own on the real
// TensorFlow .index files (uncompressed and snappy) and on tables LevelDB's builder wrote with
// several blocks; damaged tables are DataLoss, never a crash.
#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "io/table.hpp"
#include "xflow/error.hpp"

using namespace xf::io;
using KV = std::vector<std::pair<std::string, std::string>>;

namespace {

const std::string kData = XFLOW_CHECKPOINT_TESTDATA;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// LevelDB's reader over bytes in memory.
class MemFile : public leveldb::RandomAccessFile {
 public:
  explicit MemFile(std::string b) : bytes_(std::move(b)) {}
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result, char*) const override {
    if (offset > bytes_.size()) return leveldb::Status::IOError("past the end");
    *result = leveldb::Slice(bytes_.data() + offset, std::min(n, bytes_.size() - static_cast<size_t>(offset)));
    return leveldb::Status::OK();
  }

 private:
  std::string bytes_;
};

KV leveldb_read(const std::string& bytes) {
  MemFile file(bytes);
  leveldb::Options o;
  leveldb::Table* t = nullptr;
  leveldb::Status s = leveldb::Table::Open(o, &file, bytes.size(), &t);
  REQUIRE(s.ok());
  std::unique_ptr<leveldb::Table> table(t);
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(ro));
  KV out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
  REQUIRE(it->status().ok());
  return out;
}

const char* kIndexes[] = {
    "tensorflow-onnx-regression_checkpoint/model.index",
    "tfx-trainer_format_serving_ckpt/model.ckpt-1000.index",
    "serving-saved_model_half_plus_two_cpu/00000123/variables/variables.index",     // snappy
    "serving-saved_model_half_plus_two_tf2_cpu/00000123/variables/variables.index",  // snappy
    "serving-half_plus_two_v1/00000123/export-00000-of-00001",                      // V1: a table too
    "serving-bad_half_plus_two_v1/00000123/export",
};

}  // namespace

TEST_CASE("table: xflow's reader and LevelDB's agree on TensorFlow's files") {
  for (const char* rel : kIndexes) {
    INFO(rel);
    const std::string bytes = slurp(kData + "/" + rel);
    CHECK(table::has_table_magic(bytes));
    const KV ours = table::read_all(bytes, rel);
    CHECK(!ours.empty());
    CHECK(ours == leveldb_read(bytes));
  }
}

TEST_CASE("table: multi-block tables and restart intervals round trip through LevelDB's builder") {
  KV kv;
  for (int i = 0; i < 2000; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "layer%04d/kernel", i);
    kv.emplace_back(key, std::string(static_cast<size_t>(i % 37), static_cast<char>('a' + i % 26)));
  }
  for (size_t block : {size_t{64}, size_t{1024}, size_t{262144}})
    for (int restart : {1, 16})
      for (bool snappy : {false, true}) {
        INFO("block " << block << " restart " << restart << " snappy " << snappy);
        table::BuildOptions o;
        o.block_size = block;
        o.block_restart_interval = restart;
        o.snappy = snappy;
        const std::string bytes = table::build(kv, o);
        CHECK(table::read_all(bytes, "t") == kv);
        CHECK(leveldb_read(bytes) == kv);
      }
  CHECK(table::read_all(table::build({}), "empty").empty());
}

TEST_CASE("table: build rejects unsorted or duplicate keys") {
  CHECK_THROWS_AS(table::build({{"b", ""}, {"a", ""}}), xf::InvalidArgument);
  CHECK_THROWS_AS(table::build({{"a", ""}, {"a", ""}}), xf::InvalidArgument);
}

TEST_CASE("table: damaged bytes are DataLoss") {
  KV kv = {{"", "header"}, {"a", "1"}, {"b", "22"}, {"c", "333"}};
  const std::string good = table::build(kv);
  CHECK_THROWS_AS(table::read_all("", "t"), xf::DataLoss);
  CHECK_THROWS_AS(table::read_all(std::string(47, '\0'), "t"), xf::DataLoss);
  CHECK_THROWS_WITH(table::read_all(std::string(100, '\0'), "file.index"), Catch::Contains("file.index"));
  for (size_t n = 0; n < good.size(); ++n) CHECK_THROWS_AS(table::read_all(good.substr(0, n), "t"), xf::DataLoss);
  // Every single-byte change is caught (block CRCs, handles, magic) or lands in the footer's
  // padding, which no reader looks at.
  for (size_t i = 0; i < good.size(); ++i)
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ x);
      KV got;
      bool parsed = false;
      try {
        got = table::read_all(bad, "t");
        parsed = true;
      } catch (const xf::DataLoss&) {
      }
      if (parsed) CHECK(got == kv);
    }
}
