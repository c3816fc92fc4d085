// `xflow records cat|count|verify FILE... [--compression GZIP|ZLIB]` (docs/example.md): TFRecord
// files' records as JSON Examples, their number, or a check of every CRC.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace xflow_cli {

struct RecordsOptions {
  std::string action;  // cat, count, verify
  std::vector<std::string> files;
  std::string compression;  // "", GZIP, ZLIB
};

// Adds the `records` subcommand to `app`, filling `o` when it is given.
CLI::App* add_records_command(CLI::App& app, RecordsOptions& o);
// Runs it: 0, or 1 after a damaged file (what was read before the damage printed, TensorFlow's
// DataLoss message on stderr).
int cmd_records(const RecordsOptions& o);

}  // namespace xflow_cli
