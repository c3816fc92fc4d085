// CRC32C (lib/io/crc32c.hpp): known values, the SSE4.2 and table implementations agree, streaming
// equals one pass, TensorFlow's mask.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "io/crc32c.hpp"

using namespace xf::io;

TEST_CASE("crc32c: the standard check values") {
  const std::string digits = "123456789";
  CHECK(crc32c::value(digits.data(), digits.size()) == 0xe3069283u);
  CHECK(crc32c::extend_table(0, digits.data(), digits.size()) == 0xe3069283u);
  // RFC 3720 (iSCSI) B.4: 32 zero bytes, 32 0xff bytes, 0..31 ascending.
  std::vector<unsigned char> buf(32, 0);
  CHECK(crc32c::value(buf.data(), buf.size()) == 0x8a9136aau);
  std::fill(buf.begin(), buf.end(), 0xff);
  CHECK(crc32c::value(buf.data(), buf.size()) == 0x62a8ab43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(i);
  CHECK(crc32c::value(buf.data(), buf.size()) == 0x46dd794eu);
  CHECK(crc32c::value(nullptr, 0) == 0);
}

TEST_CASE("crc32c: hardware and table implementations agree on every length and alignment") {
  std::mt19937 rng(7);
  std::vector<unsigned char> data(4096 + 16);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  INFO("SSE4.2 available: " << crc32c::hardware_available());
  for (size_t start = 0; start < 9; ++start)
    for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{7}, size_t{8}, size_t{9}, size_t{15}, size_t{16},
                     size_t{63}, size_t{64}, size_t{65}, size_t{1000}, size_t{4096}}) {
      const uint32_t t = crc32c::extend_table(0x1234u, data.data() + start, n);
      CHECK(crc32c::extend_hardware(0x1234u, data.data() + start, n) == t);
      CHECK(crc32c::extend(0x1234u, data.data() + start, n) == t);
    }
}

TEST_CASE("crc32c: extending piece by piece equals one pass") {
  std::string s(1000, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 31 + 7);
  const uint32_t whole = crc32c::value(s.data(), s.size());
  for (size_t cut : {0, 1, 5, 8, 333, 999, 1000}) {
    uint32_t c = crc32c::value(s.data(), cut);
    c = crc32c::extend(c, s.data() + cut, s.size() - cut);
    CHECK(c == whole);
  }
}

TEST_CASE("crc32c: TensorFlow's mask and unmask") {
  // mask = rotate right by 15, plus 0xa282ead8 (LevelDB's and TensorFlow's crc32c::Mask).
  CHECK(crc32c::mask(0) == 0xa282ead8u);
  const std::string digits = "123456789";
  const uint32_t c = crc32c::value(digits.data(), digits.size());
  CHECK(crc32c::mask(c) == (((c >> 15) | (c << 17)) + 0xa282ead8u));
  CHECK(crc32c::mask(c) != c);
  CHECK(crc32c::mask(crc32c::mask(c)) != c);
  for (uint32_t v : {0u, 1u, 0xffffffffu, 0xe3069283u, 0x80000000u}) CHECK(crc32c::unmask(crc32c::mask(v)) == v);
  // A value stored in the real onnx checkpoint (manifest.json): float 0.21396178 -> 1869737332.
  const unsigned char w[4] = {0xcc, 0x18, 0x5b, 0x3e};
  CHECK(crc32c::mask(crc32c::value(w, 4)) == 1869737332u);
}
