// Internal: NumPy's .npy format at the byte level (docs/npy.md). No Tensor and no xtensor here, so
// the fuzz target (fuzz/fuzz_npy.cpp) links this file with lib/core/error.cpp and dtype.cpp alone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "xflow/dtype.hpp"
#include "xflow/shape.hpp"

namespace xf::io {

// NumPy's NPY_MAXDIMS: a file of higher rank cannot come from NumPy, nor be read by it.
inline constexpr size_t kNpyMaxRank = 32;
// NumPy refuses headers over 10000 characters by default; 2.0 headers exist for longer ones, so
// the limit here is looser, but still bounds what a header can make us parse.
inline constexpr uint64_t kNpyMaxHeaderBytes = 1 << 20;
// The shortest prefix that tells the header's length: magic (6), version (2), length (2 or 4).
inline constexpr size_t kNpyPrefixBytes = 12;

// What an .npy header says, checked against the size of the file (or zip member) holding it.
struct NpyHeader {
  int major = 1, minor = 0;      // format version: 1.0, 2.0 or 3.0
  DType dtype = DType::float32;
  bool byteswap = false;          // big-endian ('>') data of a multi-byte dtype
  bool fortran_order = false;     // data in column-major order
  Shape shape;
  uint64_t data_offset = 0;       // bytes before the data: magic, version, length, header text
  uint64_t data_bytes = 0;        // elements * itemsize
};

// The total header length (magic through the header text: the data's offset) from the first
// bytes of a file of `total` bytes. `first` holds min(total, kNpyPrefixBytes) bytes or more.
// InvalidArgument when the magic is wrong, Unimplemented for an unknown version, DataLoss when the
// file ends inside the header.
uint64_t npy_header_length(std::string_view first, uint64_t total, const std::string& what);

// Parses and validates a whole header. `header` is the file's first npy_header_length() bytes;
// `total` the size of the whole file or member: DataLoss unless it is exactly the header plus the
// data the header describes (truncated data, or trailing bytes the header does not account for).
// InvalidArgument for a malformed header (not a dict, wrong keys, negative or overflowing
// dimensions, rank over 32); Unimplemented for a dtype xflow does not have (float16, complex,
// strings, structured, object arrays, ...). Every message starts with `what` (the file's name).
NpyHeader parse_npy_header(std::string_view header, uint64_t total, const std::string& what);

// Turns the data as stored (h.data_bytes bytes at `in`) into xflow's layout at `out`: row-major,
// native (little-endian) byte order, bools as 0 or 1. `in` may equal `out` unless h.fortran_order.
void npy_data_to_native(const NpyHeader& h, const uint8_t* in, uint8_t* out);

// The .npy header NumPy 1.24 writes for a C-contiguous array of `dtype` and `shape`: format 1.0
// (2.0 when the text needs a 4-byte length), the dict with growth padding, spaces and a final
// newline to a multiple of 64 bytes. InvalidArgument for a rank over 32.
std::string npy_header(DType dtype, const Shape& shape, const std::string& what);

// NumPy's descr of an xflow dtype: "|b1", "|u1", "<i4", "<i8", "<f4", "<f8".
const char* npy_descr(DType d);

}  // namespace xf::io
