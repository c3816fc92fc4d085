// TensorFlow 1's tf.train.Saver: saves variables to V2 checkpoints (PREFIX.index +
// PREFIX.data-00000-of-00001, readable by TensorFlow), keeps the `checkpoint` state file, deletes
// old checkpoints as TensorFlow 1 does, and restores (docs/saver.md).
//
//   xf::train::Saver saver;                                   // every global variable
//   for (int64_t step = 1; step <= steps; ++step) {
//     train_step();
//     if (step % 1000 == 0) saver.save("ckpt/model.ckpt", step);   // "ckpt/model.ckpt-1000"
//   }
//   saver.restore(xf::io::latest_checkpoint("ckpt"));
//
// Every file is written under a temporary name, fsync'ed and renamed; the state file is written
// after the checkpoint's files, and old checkpoints are deleted after it: a process killed at any
// moment leaves a state file that names a complete checkpoint (or no state file).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xflow/variable.hpp"

namespace xf::train {

class Saver;
class MetaGraph;

struct SaverOptions {
  // Checkpoints kept on disk and listed in the state file, newest last. 0 or negative: nothing is
  // deleted and the state file lists the newest checkpoint only (TensorFlow 1's None or 0).
  int max_to_keep = 5;
  // A checkpoint leaving the list is kept forever (and left out of the list) when it was written
  // more than this many hours after the last one kept so (or after the Saver was created).
  double keep_checkpoint_every_n_hours = 10000.0;
  // "model.ckpt-00001000" instead of "model.ckpt-1000" (TensorFlow's "{:08d}").
  bool pad_step_number = false;
  // The state file names checkpoints relative to its directory (a copied directory still loads).
  bool save_relative_paths = false;
  // TensorFlow's per-device sharded checkpoints: Unimplemented (one device here, one shard).
  bool sharded = false;
  // Writes `meta_graph` (with this Saver's settings as its saver_def) to PREFIX.meta after each
  // save, as TensorFlow 1's Saver exports the default graph. xflow has no default graph: without
  // `meta_graph` no .meta file is written.
  bool write_meta_graph = true;
  std::shared_ptr<const MetaGraph> meta_graph;
  // The prefix save() uses when called with an empty one (TensorFlow's `filename`).
  std::string filename;
  // The state file's name in the checkpoint's directory.
  std::string latest_filename = "checkpoint";
  // TensorFlow raises "No variables to save" for an empty list; with allow_empty the Saver does
  // nothing and save() returns "".
  bool allow_empty = false;
  // Beyond TensorFlow 1: on the first save into a directory whose state file lists checkpoints,
  // the Saver takes them over (recover_last_checkpoints), so rotation goes on after a restart.
  bool resume_from_state = true;
  // false skips the fsyncs of the checkpoint's files (benchmarks): a crash may then lose the
  // newest checkpoint's data, though never leave a half-written file under a final name. The state
  // file is always fsync'ed.
  bool sync = true;
  // Seconds since the epoch (tests inject a clock); default: the system clock.
  std::function<double()> clock;
};

// The Saver's settings as the JSON object a meta-graph stores (MetaGraph::set_saver_def):
// max_to_keep, keep_checkpoint_every_n_hours, pad_step_number, save_relative_paths, sharded,
// filename, latest_filename, version "V2".
std::string saver_def_json(const SaverOptions& options);

class Saver {
 public:
  // Every variable of xf::global_variables() (TensorFlow 1's default), keyed by its name.
  explicit Saver(SaverOptions options = {});
  // These variables, keyed by their names ("dense1/kernel").
  explicit Saver(const std::vector<Variable>& vars, SaverOptions options = {});
  // Checkpoint key -> variable.
  explicit Saver(const std::map<std::string, Variable>& vars, SaverOptions options = {});

  // Saves every variable to `save_path` (+ "-<global_step>" when given) and returns that prefix.
  // With write_state: records it in the state file of its directory and deletes old checkpoints.
  // InvalidArgument when the directory does not exist ("Parent directory of <path> doesn't
  // exist, can't save."), when latest_filename has a '/' or collides with the prefix.
  std::string save(const std::string& save_path, std::optional<int64_t> global_step = std::nullopt,
                   bool write_state = true);

  // Restores every variable from the checkpoint `save_path`. All tensors are read and checked
  // before any variable changes, so a failed restore changes nothing. Errors, with TensorFlow's
  // wording: InvalidArgument "Can't load save_path when it is None." (empty path); NotFound "The
  // passed save_path is not a valid checkpoint: <path>"; NotFound "Key <key> not found in
  // checkpoint"; InvalidArgument "tensor_name = <key>; expected dtype float does not equal original
  // dtype double"; InvalidArgument "Assign requires shapes of both tensors to match. lhs shape=
  // [2,3] rhs shape= [3,2]"; DataLoss naming the key for data that fails its checksum.
  void restore(const std::string& save_path);

  // Checkpoints not yet deleted, oldest first (the state file's list).
  std::vector<std::string> last_checkpoints() const;
  // Replaces that list: (prefix, time written in seconds since the epoch), oldest first.
  void set_last_checkpoints_with_time(std::vector<std::pair<std::string, double>> checkpoints);
  // The list from prefixes whose files exist, timed by their files' modification times.
  void recover_last_checkpoints(const std::vector<std::string>& paths);

  // Checkpoint key -> variable, sorted by key.
  const std::map<std::string, Variable>& variables() const { return vars_; }
  const SaverOptions& options() const { return opts_; }

 private:
  double now() const;
  void record_last_checkpoint(const std::string& path);
  void maybe_delete_old_checkpoints();

  std::map<std::string, Variable> vars_;
  SaverOptions opts_;
  std::vector<std::pair<std::string, double>> last_;        // oldest first
  std::vector<std::pair<std::string, double>> to_delete_;   // left the list, not yet deleted
  double next_checkpoint_time_ = 0;
  std::vector<std::string> resumed_dirs_;  // directories whose state file was taken over
};

}  // namespace xf::train
