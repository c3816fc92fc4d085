// libFuzzer target: the meta-graph document reader (lib/train/meta_graph_format.cpp), which
// import_meta_graph and load_saved_model run on files from elsewhere. Any input must parse or
// raise xf::InvalidArgument; a document that parses writes back to text that parses to the same
// text again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "train/meta_graph_format.hpp"
#include "xflow/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  xf::train::format::Document d;
  try {
    d = xf::train::format::parse(text, "fuzz.json");
  } catch (const xf::InvalidArgument&) {
    return 0;
  }
  std::string once = xf::train::format::write(d);
  std::string twice = xf::train::format::write(xf::train::format::parse(once, "rewritten.json"));
  if (once != twice) std::abort();
  return 0;
}
