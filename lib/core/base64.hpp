// Internal: the one base64 encoder and decoder (RFC 4648's standard alphabet) of xflow's formats.
// Graph JSON, meta-graphs and TF Serving's JSON all write padded base64; graph JSON and
// meta-graphs read it strictly padded, TF Serving's JSON takes the padding as optional
// (absl::Base64Unescape). Callers turn a decoding error into their own message
// (base64_error_text gives the strict formats' wording).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace xf::detail {

enum class Base64Padding {
  required,  // length a multiple of 4; '=' only as the last one or two characters
  optional,  // up to two trailing '=' (then completing a group of 4) or none; the unused low bits
             // of the last digit must be 0 (a canonical encoding)
};

enum class Base64Error {
  none,
  length,              // required: the length is not a multiple of 4; optional: no valid length
  padding,             // "x=" followed by something other than '=' in a group
  padding_before_end,  // required: a padded group that is not the last
  character,           // a character outside the alphabet ('=' included, where it is not padding)
  trailing_bits,       // optional: the last digit's unused bits are not 0
};

struct Base64Result {
  Base64Error error = Base64Error::none;
  char bad_char = 0;  // the offending character, for Base64Error::character
  bool ok() const { return error == Base64Error::none; }
};

// The padded encoding of n bytes at `data` (4 * ceil(n / 3) characters, '=' completing the last
// group): what every base64 reader takes, this one under either padding rule.
std::string base64_encode(const void* data, size_t n);
inline std::string base64_encode(std::string_view bytes) { return base64_encode(bytes.data(), bytes.size()); }

// Decodes `in` into `out` (replaced; unspecified on error). Errors are reported in the order
// the input is read: the first faulty group of 4 (required) or the first faulty character.
Base64Result base64_decode(std::string_view in, Base64Padding padding, std::string& out);

// The strict formats' message for an error: "base64 length is not a multiple of 4", "invalid
// base64 padding", "base64 padding before the end", "invalid base64 character", ...
const char* base64_error_text(Base64Error e);

}  // namespace xf::detail
