// Internal: CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TensorFlow's
// checkpoint entries, table blocks and TFRecord frames, with TensorFlow's (and LevelDB's) mask.
// The SSE4.2 `crc32` instruction computes it where the CPU has one (checked once at run time;
// three interleaved streams over long inputs);
// elsewhere a slicing-by-8 table does. Both give the same values (tests/io/test_crc32c.cpp).
#pragma once
#include <cstddef>
#include <cstdint>

namespace xf::io::crc32c {

// The CRC of `data` appended to bytes whose CRC was `crc` (extend(0, ...) starts a new one).
uint32_t extend(uint32_t crc, const void* data, size_t n);
inline uint32_t value(const void* data, size_t n) { return extend(0, data, n); }

// The two implementations, for tests and benchmarks; extend() picks one.
uint32_t extend_table(uint32_t crc, const void* data, size_t n);
uint32_t extend_hardware(uint32_t crc, const void* data, size_t n);  // only if hardware_available()
bool hardware_available();

// Stored CRCs are masked, because the CRC of data that itself holds CRCs is weak.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace xf::io::crc32c
