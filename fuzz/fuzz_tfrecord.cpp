// libFuzzer target: the TFRecord reader (lib/io/tfrecord.cpp) over bytes in memory. The first
// byte picks the compression (none, ZLIB, GZIP); the rest is the file. Every record read must be
// framed back to the bytes it came from (uncompressed), and the reader must stop with records or
// DataLoss, never anything else.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "xflow/error.hpp"
#include "xflow/tfrecord.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const xf::io::Compression kinds[] = {xf::io::Compression::none, xf::io::Compression::zlib,
                                       xf::io::Compression::gzip};
  xf::io::Compression c = kinds[data[0] % 3];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  xf::io::TFRecordReader r = xf::io::TFRecordReader::from_bytes(bytes, c);
  std::string rec;
  uint64_t offset = 0;
  try {
    while (r.read(rec)) {
      std::string framed = xf::io::tfrecord_frame(rec);
      if (c == xf::io::Compression::none && bytes.compare(offset, framed.size(), framed) != 0) std::abort();
      offset += framed.size();
      if (r.offset() != offset) std::abort();
    }
  } catch (const xf::DataLoss&) {
    if (r.offset() != offset) std::abort();
  }
  return 0;
}
