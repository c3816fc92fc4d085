// Internal: reading .npz archives (zip files of .npy members, through libzip) at the byte level.
// No Tensor and no xtensor here: the caller says where each member's data goes, so the fuzz
// target (fuzz/fuzz_npz.cpp) links this file with npy_format.cpp and lib/core alone.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/npy_format.hpp"

namespace xf::io {

struct NpzMember {
  std::string name;        // the array's name: the member's name without ".npy"
  uint64_t index = 0;      // libzip's index
  uint64_t size = 0;       // uncompressed bytes, as the directory says
  uint64_t compressed_size = 0;
  bool deflated = false;   // else stored
};

class NpzArchive {
 public:
  // NotFound when the file is missing or unreadable; InvalidArgument when it is not a zip archive
  // or holds a member that is not "<name>.npy"; DataLoss for a damaged archive; Unimplemented for
  // encrypted members or compression other than stored and deflate.
  static std::unique_ptr<NpzArchive> open_file(const std::string& path);
  // An archive in memory; `bytes` must outlive the archive. `label` names it in messages.
  static std::unique_ptr<NpzArchive> open_bytes(std::string_view bytes, const std::string& label);
  ~NpzArchive();
  NpzArchive(const NpzArchive&) = delete;
  NpzArchive& operator=(const NpzArchive&) = delete;

  const std::string& label() const { return label_; }
  // The members in archive order.
  const std::vector<NpzMember>& members() const { return members_; }
  // Index into members() of `name`, or -1.
  int64_t find(const std::string& name) const;
  // Reads member `i`: parses its .npy header, asks `destination` for h.data_bytes bytes (called
  // once, after every size check), fills them with the data in xflow's layout (row-major,
  // little-endian, bools 0/1) and checks the member's CRC-32. DataLoss when the data is short,
  // long, or fails the CRC; the header's errors as parse_npy_header.
  NpyHeader read(size_t i, const std::function<uint8_t*(const NpyHeader&)>& destination) const;

 private:
  struct Zip;
  NpzArchive() = default;
  void load_directory(uint64_t archive_bytes);
  std::string label_;
  Zip* zip_ = nullptr;
  std::vector<NpzMember> members_;
};

}  // namespace xf::io
