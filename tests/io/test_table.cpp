// The SSTable layer (lib/io/table.hpp): xflow's reader against LevelDB's own on the real
// TensorFlow .index files (uncompressed and snappy) and on tables LevelDB's builder wrote with
// several blocks; damaged tables are DataLoss, never a crash.
#include <leveldb/env.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "io/crc32c.hpp"
#include "io/table.hpp"
#include "xflow/error.hpp"
#include "temp_files.hpp"

using namespace xf::io;
using KV = std::vector<std::pair<std::string, std::string>>;

namespace {

using xf::testing::read_bytes;

const std::string kData = XFLOW_CHECKPOINT_TESTDATA;

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
    const std::string bytes = read_bytes(kData + "/" + rel);
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

TEST_CASE("table: garbage inside blocks whose CRCs are valid is DataLoss, never a crash") {
  // What the fuzz target's wrapped modes do (fuzz/fuzz_bundle_index.cpp), as a regression test
  // that runs under the sanitizers: random changes to the data and index blocks, CRCs recomputed.
  KV kv;
  for (int i = 0; i < 40; ++i) kv.emplace_back("key/" + std::to_string(1000 + i), std::string(static_cast<size_t>(i), 'v'));
  const std::string good = table::build(kv);
  // The footer's first handle is the metaindex block's; the data block ends 5 bytes before it.
  const char* footer = good.data() + good.size() - 48;
  uint64_t meta_offset = 0;
  for (int shift = 0, i = 0;; shift += 7, ++i) {
    meta_offset |= static_cast<uint64_t>(footer[i] & 0x7f) << shift;
    if (!(footer[i] & 0x80)) break;
  }
  const size_t data_size = static_cast<size_t>(meta_offset) - 5;
  auto recrc = [](std::string& file, size_t offset, size_t size) {
    const uint32_t c = crc32c::mask(crc32c::value(file.data() + offset, size + 1));
    std::memcpy(&file[offset + size + 1], &c, 4);
  };
  std::mt19937 rng(1234);
  int parsed = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bad = good;
    const int changes = 1 + static_cast<int>(rng() % 4);
    for (int c = 0; c < changes; ++c) {
      const size_t at = rng() % data_size;
      bad[at] = static_cast<char>(rng() % 3 == 0 ? 0xff : rng());
    }
    recrc(bad, 0, data_size);
    try {
      const KV got = table::read_all(bad, "t");
      ++parsed;
      CHECK(got.size() <= 4 * kv.size());
    } catch (const xf::DataLoss&) {
      ++refused;
    }
  }
  CHECK(parsed + refused == 3000);
  CHECK(refused > 0);
}

namespace {

void put_varint(std::string& s, uint64_t v) {
  for (; v >= 0x80; v >>= 7) s += static_cast<char>((v & 0x7f) | 0x80);
  s += static_cast<char>(v);
}

void put_fixed32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A table whose only data block has the given contents (entries + restart array), CRCs valid.
std::string table_with_data_block(const std::string& contents) {
  std::string file, handles;
  auto add_block = [&](const std::string& b) {
    std::string h;
    put_varint(h, file.size());
    put_varint(h, b.size());
    file += b;
    file += '\0';
    put_fixed32(file, crc32c::mask(crc32c::value(file.data() + file.size() - b.size() - 1, b.size() + 1)));
    return h;
  };
  const std::string data = add_block(contents);
  std::string index_block;
  put_varint(index_block, 0);
  put_varint(index_block, 1);
  put_varint(index_block, data.size());
  index_block += '\xff';
  index_block += data;
  put_fixed32(index_block, 0);
  put_fixed32(index_block, 1);
  std::string empty;
  put_fixed32(empty, 0);
  put_fixed32(empty, 1);
  std::string footer = add_block(empty) + add_block(index_block);
  footer.resize(40, '\0');
  file += footer;
  put_fixed32(file, 0x8b80fb57u);
  put_fixed32(file, 0xdb477524u);
  return file;
}

}  // namespace

TEST_CASE("table: keys that prefix compression would blow up to gigabytes are DataLoss") {
  // One 30000-byte key, then 20000 entries of 4 bytes that each repeat the whole previous key and
  // add a byte: 110 KB of file that would decode to 700 MB.
  std::string b;
  put_varint(b, 0);
  put_varint(b, 30000);
  put_varint(b, 0);
  b += std::string(30000, 'a');
  for (uint64_t k = 0; k < 20000; ++k) {
    put_varint(b, 30000 + k);
    put_varint(b, 1);
    put_varint(b, 0);
    b += 'b';
  }
  put_fixed32(b, 0);
  put_fixed32(b, 1);
  CHECK_THROWS_WITH(table::read_all(table_with_data_block(b), "t"), Catch::Contains("bytes per file byte"));
  // Keys that do not increase within a block are refused as they are met.
  std::string same;
  for (int k = 0; k < 2; ++k) {
    put_varint(same, 0);
    put_varint(same, 1);
    put_varint(same, 0);
    same += 'k';
  }
  put_fixed32(same, 0);
  put_fixed32(same, 1);
  CHECK_THROWS_WITH(table::read_all(table_with_data_block(same), "t"), Catch::Contains("out of order"));
  // The helper itself makes readable tables.
  std::string one;
  put_varint(one, 0);
  put_varint(one, 1);
  put_varint(one, 2);
  one += "kvv";
  put_fixed32(one, 0);
  put_fixed32(one, 1);
  CHECK(table::read_all(table_with_data_block(one), "t") == KV{{"k", "vv"}});
}
