// `xflow inspect` on files that are not graph JSON: TensorFlow-format checkpoints (a prefix, or a
// directory with a `checkpoint` state file), .npy / .npz files and export directories
// (docs/checkpoints.md). Returns -1 when `path` is none of those (the caller reads it as a graph).
#pragma once
#include <ostream>
#include <string>

namespace xflow_cli {

int inspect_file(const std::string& path, bool values, std::ostream& out);

}  // namespace xflow_cli
