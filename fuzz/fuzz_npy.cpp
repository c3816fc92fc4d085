// libFuzzer target: the .npy header parser and data conversion (lib/io/npy_format.cpp), on any
// bytes. A header that parses is written back with npy_header() and must parse to the same
// dtype and shape.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "io/npy_format.hpp"
#include "xflow/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    uint64_t header_len = xf::io::npy_header_length(bytes, size, "fuzz.npy");
    xf::io::NpyHeader h = xf::io::parse_npy_header(bytes.substr(0, header_len), size, "fuzz.npy");
    std::vector<uint8_t> out(h.data_bytes);
    xf::io::npy_data_to_native(h, data + h.data_offset, out.data());
    std::string again = xf::io::npy_header(h.dtype, h.shape, "fuzz.npy");
    uint64_t data_bytes = h.data_bytes;
    again.append(out.begin(), out.end());
    xf::io::NpyHeader h2 = xf::io::parse_npy_header(again, again.size(), "again.npy");
    if (h2.dtype != h.dtype || h2.shape != h.shape || h2.data_bytes != data_bytes || h2.fortran_order ||
        h2.byteswap || h2.data_offset % 64 != 0)
      std::abort();
  } catch (const xf::Error&) {
  }
  return 0;
}
