// The shared base64 encoder and decoder (core/base64.hpp): one alphabet, one accumulator for
// decoding, with the two padding rules as two ways of finding the digits.
#include "core/base64.hpp"

#include <cstdint>

namespace xf::detail {

namespace {

const char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Appends the bytes of a run of digits, 6 bits each; leaves the unused low bits in acc / bits.
struct Accumulator {
  std::string& out;
  uint32_t acc = 0;
  int bits = 0;
  bool push(char c) {
    const int d = digit(c);
    if (d < 0) return false;
    acc = ((acc << 6) | static_cast<uint32_t>(d)) & 0xFFFFFFu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
    return true;
  }
  bool low_bits_zero() const { return bits == 0 || (acc & ((1u << bits) - 1)) == 0; }
};

Base64Result fail(Base64Error e, char c = 0) { return Base64Result{e, c}; }

}  // namespace

std::string base64_encode(const void* data, size_t n) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = static_cast<uint32_t>(p[i]) << 16;
    if (i + 1 < n) v |= static_cast<uint32_t>(p[i + 1]) << 8;
    if (i + 2 < n) v |= p[i + 2];
    out += kDigits[(v >> 18) & 63];
    out += kDigits[(v >> 12) & 63];
    out += i + 1 < n ? kDigits[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kDigits[v & 63] : '=';
  }
  return out;
}

Base64Result base64_decode(std::string_view in, Base64Padding padding, std::string& out) {
  out.clear();
  Accumulator a{out};
  if (padding == Base64Padding::required) {
    if (in.size() % 4 != 0) return fail(Base64Error::length);
    out.reserve(in.size() / 4 * 3);
    for (size_t i = 0; i < in.size(); i += 4) {
      const int pad = (in[i + 2] == '=') + (in[i + 3] == '=');
      if (in[i + 2] == '=' && in[i + 3] != '=') return fail(Base64Error::padding);
      if (pad && i + 4 != in.size()) return fail(Base64Error::padding_before_end);
      for (size_t k = 0; k < static_cast<size_t>(4 - pad); ++k)
        if (!a.push(in[i + k])) return fail(Base64Error::character, in[i + k]);
      a.bits = 0;  // a padded group's unused bits are not checked (the strict formats never did)
    }
    return {};
  }
  // Optional padding: at most two '=' at the end, completing the last group of four.
  size_t n = in.size(), pad = 0;
  while (n > 0 && in[n - 1] == '=' && pad < 2) {
    --n;
    ++pad;
  }
  if (pad > 0 && (n + pad) % 4 != 0) return fail(Base64Error::padding);
  if (n % 4 == 1) return fail(Base64Error::length);
  out.reserve(n / 4 * 3 + 2);
  for (size_t i = 0; i < n; ++i)
    if (!a.push(in[i])) return fail(Base64Error::character, in[i]);
  if (!a.low_bits_zero()) return fail(Base64Error::trailing_bits);
  return {};
}

const char* base64_error_text(Base64Error e) {
  switch (e) {
    case Base64Error::none: return "valid base64";
    case Base64Error::length: return "base64 length is not a multiple of 4";
    case Base64Error::padding: return "invalid base64 padding";
    case Base64Error::padding_before_end: return "base64 padding before the end";
    case Base64Error::character: return "invalid base64 character";
    case Base64Error::trailing_bits: return "base64 with nonzero unused bits in its last character";
  }
  return "invalid base64";
}

}  // namespace xf::detail
