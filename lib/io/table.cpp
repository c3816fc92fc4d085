#include "io/table.hpp"

#include <leveldb/env.h>
#include <leveldb/options.h>
#include <leveldb/status.h>
#include <leveldb/table_builder.h>
#include <snappy.h>

#include <cstring>

#include "io/crc32c.hpp"
#include "xflow/error.hpp"

namespace xf::io::table {

namespace {

constexpr uint64_t kMagic = 0xdb4775248b80fb57ull;
constexpr size_t kFooterSize = 48;   // two handles padded to 40 bytes, then the magic
constexpr size_t kTrailerSize = 5;   // block type byte + masked CRC32C
constexpr unsigned char kNoCompression = 0, kSnappyCompression = 1;

uint32_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A cursor over bytes that never reads past its end.
struct Cursor {
  const char* p;
  const char* end;
  bool varint64(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift <= 63 && p < end; shift += 7) {
      uint64_t byte = static_cast<unsigned char>(*p++);
      v |= (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool varint32(uint32_t* out) {
    uint64_t v;
    if (!varint64(&v) || v > 0xffffffffull) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }
  size_t left() const { return static_cast<size_t>(end - p); }
};

struct Handle {
  uint64_t offset = 0, size = 0;
};

class Reader {
 public:
  Reader(std::string_view file, const std::string& name) : file_(file), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw DataLoss(name_ + ": not a valid table (" + what + ")");
  }

  Handle decode_handle(Cursor& c, const char* what) const {
    Handle h;
    if (!c.varint64(&h.offset) || !c.varint64(&h.size)) fail(std::string("bad ") + what + " block handle");
    return h;
  }

  // The contents of the block at `h`, checked and uncompressed. `storage` keeps decoded bytes.
  std::string_view block(const Handle& h, std::string& storage, const char* what) const {
    const uint64_t n = file_.size();
    if (h.offset > n || h.size > n - h.offset || kTrailerSize > n - h.offset - h.size)
      fail(std::string(what) + " block [" + std::to_string(h.offset) + ", +" + std::to_string(h.size) +
           ") lies outside the file of " + std::to_string(n) + " bytes");
    const char* data = file_.data() + h.offset;
    const size_t size = static_cast<size_t>(h.size);
    const unsigned char type = static_cast<unsigned char>(data[size]);
    const uint32_t stored = crc32c::unmask(load32(data + size + 1));
    const uint32_t actual = crc32c::value(data, size + 1);
    if (stored != actual) fail(std::string("checksum mismatch in the ") + what + " block at offset " + std::to_string(h.offset));
    if (type == kNoCompression) return {data, size};
    if (type != kSnappyCompression) fail(std::string("unknown compression type ") + std::to_string(type) + " of a block");
    // IsValidCompressedBuffer decodes without writing, so the length it vouches for is honest.
    size_t ulen = 0;
    if (!snappy::IsValidCompressedBuffer(data, size) || !snappy::GetUncompressedLength(data, size, &ulen))
      fail(std::string("corrupted snappy-compressed ") + what + " block");
    storage.resize(ulen);
    if (!snappy::RawUncompress(data, size, storage.data())) fail(std::string("corrupted snappy-compressed ") + what + " block");
    return storage;
  }

  // Appends the entries of a block (LevelDB's block format: prefix-compressed keys, a restart array).
  void entries(std::string_view b, const char* what, std::vector<std::pair<std::string, std::string>>& out) const {
    if (b.size() < 4) fail(std::string(what) + " block shorter than its restart count");
    const uint64_t restarts = load32(b.data() + b.size() - 4);
    if (restarts > (b.size() - 4) / 4) fail(std::string(what) + " block's restart array is larger than the block");
    Cursor c{b.data(), b.data() + b.size() - 4 - 4 * restarts};
    std::string key;
    bool first = true;
    while (c.p < c.end) {
      uint32_t shared, unshared, vlen;
      if (!c.varint32(&shared) || !c.varint32(&unshared) || !c.varint32(&vlen))
        fail(std::string("bad entry header in the ") + what + " block");
      if (shared > key.size() || (first && shared != 0)) fail(std::string("bad key prefix in the ") + what + " block");
      if (unshared > c.left() || vlen > c.left() - unshared) fail(std::string("entry overruns the ") + what + " block");
      key.resize(shared);
      key.append(c.p, unshared);
      c.p += unshared;
      out.emplace_back(key, std::string(c.p, vlen));
      c.p += vlen;
      first = false;
    }
  }

  std::vector<std::pair<std::string, std::string>> read() const {
    if (file_.size() < kFooterSize) fail("file of " + std::to_string(file_.size()) + " bytes is shorter than a table footer");
    const char* footer = file_.data() + file_.size() - kFooterSize;
    if (load64(footer + 40) != kMagic) fail("bad magic number");
    Cursor c{footer, footer + 40};
    const Handle meta = decode_handle(c, "metaindex");
    const Handle index = decode_handle(c, "index");
    std::string storage;
    block(meta, storage, "metaindex");  // checked, not used: xflow writes and needs no filters
    std::vector<std::pair<std::string, std::string>> handles, out;
    entries(block(index, storage, "index"), "index", handles);
    for (const auto& [separator, value] : handles) {
      Cursor hc{value.data(), value.data() + value.size()};
      const Handle h = decode_handle(hc, "data");
      const size_t before = out.size();
      std::string data_storage;
      entries(block(h, data_storage, "data"), "data", out);
      // Every key of a data block is at most its index separator.
      for (size_t i = before; i < out.size(); ++i)
        if (out[i].first > separator) fail("a key is larger than its index entry");
    }
    for (size_t i = 1; i < out.size(); ++i)
      if (!(out[i - 1].first < out[i].first)) fail("keys out of order");
    return out;
  }

 private:
  std::string_view file_;
  const std::string& name_;
};

// leveldb::TableBuilder's output, collected in memory.
class StringSink : public leveldb::WritableFile {
 public:
  leveldb::Status Append(const leveldb::Slice& data) override {
    bytes.append(data.data(), data.size());
    return leveldb::Status::OK();
  }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }
  std::string bytes;
};

}  // namespace

std::string build(const std::vector<std::pair<std::string, std::string>>& entries, const BuildOptions& options) {
  for (size_t i = 1; i < entries.size(); ++i)
    if (!(entries[i - 1].first < entries[i].first))
      throw InvalidArgument("table::build: keys must be strictly increasing (\"" + entries[i - 1].first +
                            "\" then \"" + entries[i].first + "\")");
  leveldb::Options o;  // bytewise comparator, no filter policy: as TensorFlow's table::Options
  o.block_size = options.block_size;
  o.block_restart_interval = options.block_restart_interval;
  o.compression = options.snappy ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  StringSink sink;
  leveldb::TableBuilder builder(o, &sink);
  for (const auto& [k, v] : entries) builder.Add(k, v);
  leveldb::Status s = builder.Finish();
  if (!s.ok()) throw Internal("table::build: " + s.ToString());
  return std::move(sink.bytes);
}

std::vector<std::pair<std::string, std::string>> read_all(std::string_view file, const std::string& name) {
  return Reader(file, name).read();
}

bool has_table_magic(std::string_view file) {
  return file.size() >= kFooterSize && load64(file.data() + file.size() - 8) == kMagic;
}

}  // namespace xf::io::table
