// libFuzzer target: bytes as the text of a `checkpoint` state file (lib/io/checkpoint_state.cpp's
// parser and writer; nothing else of the library but its errors and atomic files). Every input
// must either parse or throw xf::InvalidArgument; what parses must print (as TensorFlow's Python
// text_format would) and parse back to the same state, bit for bit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "xflow/checkpoint.hpp"
#include "xflow/error.hpp"

namespace {

bool same(const xf::io::CheckpointState& a, const xf::io::CheckpointState& b) {
  auto bits_equal = [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  if (a.model_checkpoint_path != b.model_checkpoint_path) return false;
  if (a.all_model_checkpoint_paths != b.all_model_checkpoint_paths) return false;
  if (a.all_model_checkpoint_timestamps.size() != b.all_model_checkpoint_timestamps.size()) return false;
  for (size_t i = 0; i < a.all_model_checkpoint_timestamps.size(); ++i) {
    double x = a.all_model_checkpoint_timestamps[i], y = b.all_model_checkpoint_timestamps[i];
    if (!bits_equal(x, y) && !(x != x && y != y)) return false;  // NaNs print as "nan"
  }
  double x = a.last_preserved_timestamp, y = b.last_preserved_timestamp;
  return bits_equal(x, y) || (x != x && y != y);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  xf::io::CheckpointState st;
  try {
    st = xf::io::parse_checkpoint_state(text);
  } catch (const xf::InvalidArgument&) {
    return 0;
  }
  const std::string printed = xf::io::checkpoint_state_text(st);
  xf::io::CheckpointState back;
  try {
    back = xf::io::parse_checkpoint_state(printed);
  } catch (const xf::InvalidArgument&) {
    std::abort();  // what the writer prints must parse
  }
  if (!same(st, back)) std::abort();
  return 0;
}
