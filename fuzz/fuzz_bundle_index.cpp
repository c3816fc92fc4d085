// libFuzzer target: bytes as the contents of a checkpoint's PREFIX.index (lib/io/bundle_index.cpp,
// table.cpp, crc32c.cpp and the protos, nothing else). Every input must either parse or throw
// xf::Error (DataLoss, Unimplemented, InvalidArgument); a crash, a leak or an allocation sized by
// the input before it was checked is a bug.
//
// A random change to a table almost always breaks a block CRC, so a first byte of 0xf4-0xf6 says
// that the rest is a block's contents, wrapped in a table whose CRCs and handles are valid: 0xf4
// the one data block, 0xf5 the same as a snappy-compressed block (the rest is the compressed
// stream), 0xf6 the index block. These modes reach the block and protobuf parsers behind the
// checksums. Any other first byte: the input is the whole file (the seeds, real .index files,
// start with 0x00, 0x64 or 0xc0).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "io/bundle_index.hpp"
#include "io/crc32c.hpp"
#include "io/table.hpp"
#include "xflow/error.hpp"

namespace {

void put_varint(std::string& s, uint64_t v) {
  while (v >= 0x80) {
    s += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
}

void put_fixed32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Appends `contents` as a block with a valid trailer; returns its handle.
std::string add_block(std::string& file, std::string_view contents, char type) {
  std::string handle;
  put_varint(handle, file.size());
  put_varint(handle, contents.size());
  file.append(contents);
  file += type;
  const size_t start = file.size() - contents.size() - 1;
  put_fixed32(file, xf::io::crc32c::mask(xf::io::crc32c::value(file.data() + start, contents.size() + 1)));
  return handle;
}

// A block with one entry key -> value and one restart point.
std::string one_entry_block(std::string_view key, std::string_view value) {
  std::string b;
  put_varint(b, 0);
  put_varint(b, key.size());
  put_varint(b, value.size());
  b.append(key);
  b.append(value);
  put_fixed32(b, 0);
  put_fixed32(b, 1);
  return b;
}

std::string finish(std::string file, const std::string& meta, const std::string& index) {
  std::string footer = meta + index;
  footer.resize(40, '\0');
  file += footer;
  put_fixed32(file, 0x8b80fb57u);
  put_fixed32(file, 0xdb477524u);
  return file;
}

std::string wrap_data_block(std::string_view contents, char type) {
  std::string file;
  const std::string data = add_block(file, contents, type);
  const std::string meta = add_block(file, std::string("\0\0\0\0\1\0\0\0", 8), 0);
  const std::string index = add_block(file, one_entry_block("\xff\xff\xff\xff", data), 0);
  return finish(std::move(file), meta, index);
}

std::string wrap_index_block(std::string_view contents) {
  std::string file;
  // A real data block first, so that handles in the fuzzed index block can point at something.
  add_block(file, one_entry_block("", std::string("\x08\x01\x1a\x02\x08\x01", 6)), 0);
  const std::string meta = add_block(file, std::string("\0\0\0\0\1\0\0\0", 8), 0);
  const std::string index = add_block(file, contents, 0);
  return finish(std::move(file), meta, index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string file;
  switch (data[0]) {
    case 0xf4: file = wrap_data_block(rest, 0); break;
    case 0xf5: file = wrap_data_block(rest, 1); break;
    case 0xf6: file = wrap_index_block(rest); break;
    default: file.assign(reinterpret_cast<const char*>(data), size); break;
  }
  try {
    const auto index = xf::io::bundle::parse_index(file, "fuzz.index");
    // What a reader does next with the entries: sizes and names.
    size_t total = 0;
    for (const auto& e : index.entries) total += e.key.size() + e.tf_dtype_name.size() + e.shape.size();
    (void)total;
  } catch (const xf::Error&) {
  }
  try {
    xf::io::table::read_all(file, "fuzz.index");
  } catch (const xf::Error&) {
  }
  return 0;
}
