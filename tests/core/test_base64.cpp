// The shared base64 decoder (lib/core/base64.cpp) in both padding modes: the strict one of graph
// JSON and meta-graphs, the padding-optional one of TF Serving's JSON; and the one encoder.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/base64.hpp"

using namespace xf::detail;

namespace {

std::string decode(const std::string& in, Base64Padding p) {
  std::string out;
  Base64Result r = base64_decode(in, p, out);
  REQUIRE(r.ok());
  return out;
}

Base64Error error_of(const std::string& in, Base64Padding p) {
  std::string out;
  return base64_decode(in, p, out).error;
}

}  // namespace

TEST_CASE("base64: RFC 4648's test vectors decode in both modes", "[base64]") {
  const std::vector<std::pair<std::string, std::string>> vectors{
      {"", ""}, {"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9v", "foo"}, {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"},
      {"Zm9vYmFy", "foobar"}};
  for (const auto& [enc, dec] : vectors) {
    INFO(enc);
    CHECK(decode(enc, Base64Padding::required) == dec);
    CHECK(decode(enc, Base64Padding::optional) == dec);
  }
  // Every byte value, through '+' and '/'.
  CHECK(decode("AP8A/w==", Base64Padding::required) == std::string("\x00\xff\x00\xff", 4));
  CHECK(decode("+/+/", Base64Padding::required) == "\xfb\xff\xbf");
}

TEST_CASE("base64 with required padding: length, padding and characters", "[base64][errors]") {
  const Base64Padding p = Base64Padding::required;
  CHECK(error_of("Zm8", p) == Base64Error::length);
  CHECK(error_of("Zg=", p) == Base64Error::length);
  CHECK(error_of("Zm=v", p) == Base64Error::padding);
  CHECK(error_of("Zg==Zm9v", p) == Base64Error::padding_before_end);
  CHECK(error_of("Zm9=Zm9v", p) == Base64Error::padding_before_end);
  CHECK(error_of("====", p) == Base64Error::character);  // '=' where a digit must be
  std::string out;
  Base64Result r = base64_decode("Zm9vYm!y", p, out);
  CHECK(r.error == Base64Error::character);
  CHECK(r.bad_char == '!');
  // Errors in reading order: the first faulty group decides.
  CHECK(error_of("Zm!vZm=v", p) == Base64Error::character);
  CHECK(error_of("Zm=vZm!v", p) == Base64Error::padding);
  // The strict formats never checked a padded group's unused bits: "Zh==" is "f" as "Zg==".
  CHECK(decode("Zh==", p) == "f");
  CHECK(std::string(base64_error_text(Base64Error::length)) == "base64 length is not a multiple of 4");
  CHECK(std::string(base64_error_text(Base64Error::padding)) == "invalid base64 padding");
  CHECK(std::string(base64_error_text(Base64Error::padding_before_end)) == "base64 padding before the end");
  CHECK(std::string(base64_error_text(Base64Error::character)) == "invalid base64 character");
}

TEST_CASE("base64 with optional padding: unpadded input, canonical last digit", "[base64][errors]") {
  const Base64Padding p = Base64Padding::optional;
  CHECK(decode("Zg", p) == "f");
  CHECK(decode("Zm8", p) == "fo");
  CHECK(decode("Zm9vYg", p) == "foob");
  CHECK(error_of("Z", p) == Base64Error::length);      // one digit holds no byte
  CHECK(error_of("Zm9vY", p) == Base64Error::length);
  CHECK(error_of("Zg=", p) == Base64Error::padding);   // padding must complete a group of 4
  CHECK(error_of("Zm9v=", p) == Base64Error::padding);
  CHECK(error_of("Zg===", p) == Base64Error::padding);  // two are stripped, "Zg=" is left
  CHECK(error_of("Zm=v", p) == Base64Error::character);
  CHECK(error_of("not base64!", p) == Base64Error::character);
  CHECK(error_of("Zh==", p) == Base64Error::trailing_bits);
  CHECK(error_of("Zh", p) == Base64Error::trailing_bits);
  // On error the output is unspecified, but a failed decode never throws.
  std::string out = "kept";
  CHECK_FALSE(base64_decode("@@@@", p, out).ok());
}

// ---- the encoder ----

namespace {
// A second encoder, written the long way: the bytes as a string of bits, cut into 6-bit digits,
// zero-filled at the end, then '=' up to a multiple of 4.
std::string encode_by_bits(const std::string& bytes) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bits;
  for (char c : bytes)
    for (int b = 7; b >= 0; --b) bits += ((static_cast<unsigned char>(c) >> b) & 1) ? '1' : '0';
  while (bits.size() % 6 != 0) bits += '0';
  std::string out;
  for (size_t i = 0; i < bits.size(); i += 6) out += alphabet[std::stoi(bits.substr(i, 6), nullptr, 2)];
  while (out.size() % 4 != 0) out += '=';
  return out;
}
}  // namespace

TEST_CASE("base64: RFC 4648's test vectors encode, padded", "[base64][encode]") {
  const std::vector<std::pair<std::string, std::string>> vectors{
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [dec, enc] : vectors) {
    INFO(dec);
    CHECK(base64_encode(dec) == enc);
    CHECK(base64_encode(dec.data(), dec.size()) == enc);
  }
  CHECK(base64_encode(std::string("\x00\xff\x00\xff", 4)) == "AP8A/w==");
  CHECK(base64_encode("\xfb\xff\xbf") == "+/+/");
  CHECK(base64_encode(nullptr, 0).empty());
}

TEST_CASE("base64: encoding round-trips through both decoders", "[base64][encode]") {
  // Every byte value, at every position of a group of 3 (offsets 0, 1, 2), and every length up to
  // 3 groups: the encoding matches the bit-by-bit one and decodes back under either padding rule.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  std::vector<std::string> inputs;
  for (size_t off = 0; off < 3; ++off) inputs.push_back(all.substr(off));
  for (size_t n = 0; n <= 9; ++n) inputs.push_back(all.substr(250 - 7 * n, n));
  for (const std::string& in : inputs) {
    INFO(in.size());
    const std::string enc = base64_encode(in);
    CHECK(enc.size() == (in.size() + 2) / 3 * 4);
    CHECK(enc == encode_by_bits(in));
    CHECK(decode(enc, Base64Padding::required) == in);
    CHECK(decode(enc, Base64Padding::optional) == in);
  }
}
