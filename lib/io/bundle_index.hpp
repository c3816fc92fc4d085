// Internal: a tensor bundle's PREFIX.index, bytes <-> entries (docs/checkpoints.md). The table
// holds key "" -> BundleHeaderProto, then one key per tensor -> BundleEntryProto, sorted.
// Byte-level only (table + protos): no xtensor, no Tensor values, so the fuzz target
// (fuzz/fuzz_bundle_index.cpp) links this file, table.cpp, crc32c.cpp and the protos alone.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xflow/checkpoint.hpp"

namespace xf::io::bundle {

struct Index {
  int32_t num_shards = 1;
  std::vector<BundleEntryInfo> entries;  // sorted by key, without the header
};

// Parses the bytes of PREFIX.index (`name` is the file's path, for messages). DataLoss for a
// damaged table, header or entry; Unimplemented for a big-endian bundle; InvalidArgument for a
// bundle whose version this reader may not consume (as TensorFlow's CheckVersions).
Index parse_index(std::string_view bytes, const std::string& name);

// The PREFIX.index bytes TensorFlow's BundleWriter writes for `entries` (any order; written
// sorted, after the header entry), with num_shards 1. Entries with a tf_dtype xflow lacks are
// written as given. `snappy`: compress blocks (as TensorFlow's MergeBundles where snappy is built in).
std::string build_index(std::vector<BundleEntryInfo> entries, bool snappy = false);

// TensorFlow's Python name of a DataType number ("float32", "string", ...), or "DT_<n>".
std::string tf_dtype_name(int tf_dtype);
// The DataType number of an xflow dtype (DT_FLOAT = 1, ...).
int tf_dtype_of(DType d);
// Bytes per element of a fixed-size DataType, 0 for others (string, variant, resource, 4-bit).
int tf_dtype_size(int tf_dtype);

// PREFIX.data-NNNNN-of-MMMMM
std::string data_filename(const std::string& prefix, int32_t shard, int32_t num_shards);

}  // namespace xf::io::bundle
