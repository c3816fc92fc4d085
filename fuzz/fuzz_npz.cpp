// libFuzzer target: .npz archives (lib/io/npz_archive.cpp over libzip, and the .npy parser of
// each member), opened from memory; every member is read.
#include <cstdint>
#include <string_view>
#include <vector>

#include "io/npz_archive.hpp"
#include "xflow/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto archive = xf::io::NpzArchive::open_bytes(bytes, "fuzz.npz");
    for (size_t i = 0; i < archive->members().size(); ++i) {
      std::vector<uint8_t> out;
      try {
        archive->read(i, [&](const xf::io::NpyHeader& h) {
          out.resize(h.data_bytes);
          return out.data();
        });
      } catch (const xf::Error&) {
      }
    }
  } catch (const xf::Error&) {
  }
  return 0;
}
