// Internal: the sorted string table (SSTable) of LevelDB, which TensorFlow's lib/io/table copies
// and which holds a checkpoint's PREFIX.index (docs/checkpoints.md).
//
// Writing goes through Debian's libleveldb (leveldb::TableBuilder), with the options TensorFlow's
// BundleWriter uses, so the bytes are TensorFlow's. Reading is xflow's own: it checks every offset
// and size against the bytes it has before it allocates or copies, verifies every block's CRC,
// decodes snappy blocks only after snappy validated them, and reports damage as DataLoss (LevelDB's
// reader allocates a block's stated size before reading it). No xtensor, no Tensor: the fuzz
// target links this file alone.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xf::io::table {

struct BuildOptions {
  size_t block_size = 262144;     // TensorFlow's table::Options default (256 KiB)
  int block_restart_interval = 16;
  bool snappy = false;            // TensorFlow's BundleWriter writes kNoCompression
};

// The table of `entries` (keys strictly increasing, bytewise), as file bytes. InvalidArgument
// when the keys are not strictly increasing.
std::string build(const std::vector<std::pair<std::string, std::string>>& entries,
                  const BuildOptions& options = {});

// Every key and value of the table in `file`, in order. DataLoss naming `name` when the bytes are
// not a well-formed table (bad magic, a handle outside the file, a CRC mismatch, a bad block, keys
// out of order).
std::vector<std::pair<std::string, std::string>> read_all(std::string_view file, const std::string& name);

// The file ends with the table magic number (the footer of an SSTable): true for a V2 .index and
// for a V1 checkpoint file.
bool has_table_magic(std::string_view file);

}  // namespace xf::io::table
