// TensorFlow's V2 checkpoint format (the tensor bundle: PREFIX.index + PREFIX.data-00000-of-00001)
// and the text `checkpoint` state file, read and written byte-compatibly with TensorFlow
// (docs/checkpoints.md). The Saver (xflow/saver.hpp) builds on these.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xflow/tensor.hpp"

namespace xf::io {

// One entry of a bundle's index. `tf_dtype` is TensorFlow's DataType number (DT_FLOAT = 1, ...);
// `dtype` is set when xflow has that dtype (DT_STRING, DT_HALF, ... are listed but not readable).
// xflow's dtypes map to DT_BOOL, DT_UINT8, DT_INT32, DT_INT64, DT_FLOAT and DT_DOUBLE.
struct BundleEntryInfo {
  std::string key;
  int tf_dtype = 0;
  std::string tf_dtype_name;  // "float32", "int64", "string", ... (TensorFlow's names)
  std::optional<DType> dtype;
  Shape shape;
  int32_t shard_id = 0;
  int64_t offset = 0;
  int64_t size = 0;
  uint32_t crc32c = 0;  // masked, as stored
  // A partitioned tensor's entry lists its slices (each stored under its own key); xflow lists
  // such entries but does not read them.
  int num_slices = 0;
};

struct BundleWriterOptions {
  // false skips the fsyncs of finish() (benchmarks; a crash may then lose the checkpoint, though
  // never leave a half-written file under the final names).
  bool sync = true;
  // Snappy-compress the index's blocks where that saves at least 1/8 (LevelDB's rule). TensorFlow's
  // BundleWriter writes them uncompressed; the sharded savers of TensorFlow builds with snappy
  // (tf.train.Saver(sharded=True), SavedModel variables/) merge into compressed ones. Either way
  // the reader reads both; set this to reproduce such a file byte for byte.
  bool snappy_index = false;
};

// Writes a bundle as TensorFlow's BundleWriter does: PREFIX.data-00000-of-00001 holds the tensors'
// little-endian bytes in the order they were added, PREFIX.index the sorted entries. Keys may be
// added in any order. `add` appends to the data file's temporary; `finish` commits the data file,
// then writes the index, each to a temporary name, fsync'ed and renamed into place (an interrupted
// save leaves no file under the final names that is half written). A writer destroyed without
// finish() removes its temporaries. Creates PREFIX's directory when missing.
class BundleWriter {
 public:
  explicit BundleWriter(std::string prefix, BundleWriterOptions options = {});
  ~BundleWriter();
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;
  // InvalidArgument for a key added twice, the empty key (the header's), or an undefined tensor.
  // Views and other non-contiguous tensors are written in row-major order.
  void add(const std::string& key, const Tensor& value);
  // FailedPrecondition when called twice.
  void finish();

 private:
  struct Impl;
  Impl* impl_;
};

// Reads a bundle written by TensorFlow (1.x and 2.x, uncompressed or snappy-compressed index
// blocks, one or more data shards) or by xflow. NotFound when PREFIX.index is missing; DataLoss for
// a damaged index; Unimplemented for a V1 (tensor-slice) checkpoint (PREFIX itself a table file)
// and for a big-endian bundle. Entries xflow cannot read (DT_STRING and other dtypes it lacks,
// partitioned tensors) are listed; read() throws Unimplemented for them.
class BundleReader {
 public:
  explicit BundleReader(const std::string& prefix);
  ~BundleReader();
  BundleReader(const BundleReader&) = delete;
  BundleReader& operator=(const BundleReader&) = delete;

  const std::string& prefix() const;
  // Every tensor's entry, sorted by key (the header entry is not listed).
  const std::vector<BundleEntryInfo>& entries() const;
  bool contains(const std::string& key) const;
  // NotFound "Key <key> not found in checkpoint".
  const BundleEntryInfo& entry(const std::string& key) const;
  // The tensor, checked against the stored CRC32C: DataLoss naming the key when it differs, when
  // the stored size is not elements x dtype size, or when the data file is short; NotFound when
  // the data file is missing. Safe to call from several threads.
  Tensor read(const std::string& key) const;

 private:
  struct Impl;
  Impl* impl_;
};

// The `checkpoint` state file (TensorFlow's CheckpointState text proto).
struct CheckpointState {
  std::string model_checkpoint_path;
  std::vector<std::string> all_model_checkpoint_paths;  // oldest first
  std::vector<double> all_model_checkpoint_timestamps;  // TF2's CheckpointManager; may be empty
  std::optional<double> last_preserved_timestamp;
};

// TensorFlow's get_checkpoint_state: nullopt when the file is missing; relative paths are joined
// onto `dir`. A file that does not parse, or names an empty model_checkpoint_path, is an error
// (InvalidArgument / NotFound as TensorFlow's).
std::optional<CheckpointState> get_checkpoint_state(const std::string& dir,
                                                    const std::string& latest_filename = "checkpoint");
// Writes the state file as TensorFlow does (temporary name, fsync, rename).
void update_checkpoint_state(const std::string& dir, const CheckpointState& state,
                             const std::string& latest_filename = "checkpoint",
                             bool save_relative_paths = false);
// The newest checkpoint prefix named by the state file whose files exist, or "" (TF's None).
std::string latest_checkpoint(const std::string& dir, const std::string& latest_filename = "checkpoint");
// A V2 prefix (PREFIX.index) or a V1 file exists.
bool checkpoint_exists(const std::string& prefix);

}  // namespace xf::io
