#include "io/crc32c.hpp"

#include <array>
#include <cstring>

namespace xf::io::crc32c {

namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // Castagnoli, bit-reversed

// tables[k][b]: the CRC of byte b followed by k zero bytes (slicing-by-8).
struct Tables {
  uint32_t t[8][256];
  Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b;
      for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1) ? kPoly : 0);
      t[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; ++b)
      for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian hosts only (x86-64, aarch64), like the rest of io
}

// The raw CRC state (no inversions) after `len` zero bytes, as a linear map of the state: four
// byte tables. The hardware loop below runs three independent CRCs over three adjacent blocks
// (the crc32 instruction has a latency of three cycles and a throughput of one), then joins them:
// crc(A B C) = shift(crc(A), |B C|) ^ shift(crc(B), |C|) ^ crc(C), the raw CRC being linear.
struct Shift {
  uint32_t t[4][256];
  explicit Shift(size_t len) {
    const auto& t0 = tables().t[0];
    uint32_t basis[32];
    for (int i = 0; i < 32; ++i) {
      uint32_t c = 1u << i;
      for (size_t k = 0; k < len; ++k) c = (c >> 8) ^ t0[c & 0xff];
      basis[i] = c;
    }
    for (int k = 0; k < 4; ++k)
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int j = 0; j < 8; ++j)
          if (b & (1u << j)) v ^= basis[8 * k + j];
        t[k][b] = v;
      }
  }
  uint32_t operator()(uint32_t c) const {
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
  }
};

#if defined(__x86_64__)
// Blocks of three streams: long ones for long inputs, short ones for the rest (a 1 KiB record is
// one long block of 768 bytes and two short ones of 96).
constexpr size_t kLong = 256, kShort = 32;

struct Shifts {
  Shift long1{kLong}, long2{2 * kLong}, short1{kShort}, short2{2 * kShort};
};
const Shifts& shifts() {
  static const Shifts s;
  return s;
}

template <size_t L>
__attribute__((target("sse4.2"))) inline uint32_t three_way(uint32_t c, const unsigned char* p, const Shift& s1,
                                                            const Shift& s2) {
  uint64_t a = c, b = 0, d = 0;
  for (size_t i = 0; i < L; i += 8) {
    a = __builtin_ia32_crc32di(a, load64(p + i));
    b = __builtin_ia32_crc32di(b, load64(p + L + i));
    d = __builtin_ia32_crc32di(d, load64(p + 2 * L + i));
  }
  return s2(static_cast<uint32_t>(a)) ^ s1(static_cast<uint32_t>(b)) ^ static_cast<uint32_t>(d);
}

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const unsigned char* p, size_t n) {
  // Unaligned 8-byte loads cost nothing extra on x86-64, so there is no byte-wise prologue
  // (records start 12 bytes into their frame).
  uint64_t c = ~crc;
  if (n >= 3 * kShort) {
    const Shifts& s = shifts();
    for (; n >= 3 * kLong; n -= 3 * kLong, p += 3 * kLong)
      c = three_way<kLong>(static_cast<uint32_t>(c), p, s.long1, s.long2);
    for (; n >= 3 * kShort; n -= 3 * kShort, p += 3 * kShort)
      c = three_way<kShort>(static_cast<uint32_t>(c), p, s.short1, s.short2);
  }
  for (; n >= 8; n -= 8, p += 8) c = __builtin_ia32_crc32di(c, load64(p));
  uint32_t c32 = static_cast<uint32_t>(c);
  if (n >= 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    c32 = __builtin_ia32_crc32si(c32, v);
    p += 4;
    n -= 4;
  }
  for (; n > 0; --n) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}
#endif

bool detect_hardware() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

}  // namespace

bool hardware_available() {
  static const bool yes = detect_hardware();
  return yes;
}

uint32_t extend_table(uint32_t crc, const void* data, size_t n) {
  const auto& t = tables().t;
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v = load64(p) ^ c;
    c = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
        t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^ t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
  }
  for (; n > 0; --n) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
  return ~c;
}

uint32_t extend_hardware(uint32_t crc, const void* data, size_t n) {
#if defined(__x86_64__)
  if (hardware_available()) return extend_sse42(crc, static_cast<const unsigned char*>(data), n);
#endif
  return extend_table(crc, data, n);
}

uint32_t extend(uint32_t crc, const void* data, size_t n) {
  return hardware_available() ? extend_hardware(crc, data, n) : extend_table(crc, data, n);
}

}  // namespace xf::io::crc32c
