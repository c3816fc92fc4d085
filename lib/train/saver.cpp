// tf.train.Saver (TensorFlow 1, python/training/saver.py) over xflow Variables.
#include "xflow/saver.hpp"

#include <nlohmann/json.hpp>

#include "xflow/meta_graph.hpp"

#include <dirent.h>
#include <tbb/parallel_for.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <limits>
#include <mutex>
#include <set>

#include "xflow/checkpoint.hpp"
#include "xflow/error.hpp"

namespace xf::train {

namespace {


bool is_directory(const std::string& p) {
  struct stat st;
  return ::stat(p.empty() ? "." : p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// TensorFlow's DataTypeString of the DataType numbers a bundle entry may carry.
std::string tf_type_string(int tf_dtype) {
  switch (tf_dtype) {
    case 1: return "float";
    case 2: return "double";
    case 3: return "int32";
    case 4: return "uint8";
    case 5: return "int16";
    case 6: return "int8";
    case 7: return "string";
    case 8: return "complex64";
    case 9: return "int64";
    case 10: return "bool";
    case 14: return "bfloat16";
    case 17: return "uint16";
    case 18: return "complex128";
    case 19: return "half";
    case 22: return "uint32";
    case 23: return "uint64";
    default: return "DataType(" + std::to_string(tf_dtype) + ")";
  }
}
std::string tf_type_string(DType d) {
  switch (d) {
    case DType::float32: return "float";
    case DType::float64: return "double";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::uint8: return "uint8";
    case DType::bool_: return "bool";
  }
  return "?";
}
// TensorShape::DebugString: "[2,3]", "[]".
std::string tf_shape_string(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

std::string wrap_restore_error(const std::string& verbiage, const std::string& original) {
  return "Restoring from checkpoint failed. This is most likely due to " + verbiage +
         " from the checkpoint. Please ensure that you have not altered the graph expected based on the "
         "checkpoint. Original error:\n\n" +
         original;
}

double file_mtime(const std::string& p, bool* found) {
  struct stat st;
  *found = ::stat(p.c_str(), &st) == 0;
  if (!*found) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
}

// checkpoint_management.remove_checkpoint for V2: PREFIX.meta, PREFIX.index, then every
// PREFIX.data-?????-of-?????. A file already gone is not an error; others are reported.
void remove_checkpoint(const std::string& prefix) {
  auto remove = [](const std::string& p) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT)
      std::cerr << "[saver] warning: ignoring: cannot delete " << p << ": " << std::strerror(errno) << "\n";
  };
  remove(prefix + ".meta");
  remove(prefix + ".index");
  std::string dir = io::path::dirname(prefix), base = io::path::basename(prefix) + ".data-";
  DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
  if (!d) return;
  std::vector<std::string> doomed;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    // base + 5 digits + "-of-" + 5 digits
    if (n.size() != base.size() + 14 || n.compare(0, base.size(), base) != 0) continue;
    std::string rest = n.substr(base.size());
    bool ok = rest.compare(5, 4, "-of-") == 0;
    for (size_t i : {0, 1, 2, 3, 4, 9, 10, 11, 12, 13}) ok = ok && std::isdigit(static_cast<unsigned char>(rest[i]));
    if (ok) doomed.push_back(io::path::join(dir, n));
  }
  ::closedir(d);
  for (const auto& p : doomed) remove(p);
}

}  // namespace

std::string saver_def_json(const SaverOptions& o) {
  nlohmann::json j = {{"version", "V2"},
                      {"max_to_keep", o.max_to_keep},
                      {"keep_checkpoint_every_n_hours", o.keep_checkpoint_every_n_hours},
                      {"pad_step_number", o.pad_step_number},
                      {"save_relative_paths", o.save_relative_paths},
                      {"sharded", o.sharded},
                      {"filename", o.filename},
                      {"latest_filename", o.latest_filename}};
  return j.dump();
}

Saver::Saver(SaverOptions options) : Saver(global_variables(), std::move(options)) {}

namespace {
std::map<std::string, Variable> by_name(const std::vector<Variable>& vars) {
  std::map<std::string, Variable> m;
  for (const auto& v : vars) {
    if (!v.defined()) throw InvalidArgument("[Saver] an undefined Variable in var_list");
    if (!m.emplace(v.name(), v).second)
      throw InvalidArgument("[Saver] At least two variables have the same name: " + v.name());
  }
  return m;
}
}  // namespace

Saver::Saver(const std::vector<Variable>& vars, SaverOptions options) : Saver(by_name(vars), std::move(options)) {}

Saver::Saver(const std::map<std::string, Variable>& vars, SaverOptions options)
    : vars_(vars), opts_(std::move(options)) {
  if (opts_.sharded)
    throw Unimplemented("[Saver] sharded checkpoints (one shard per device) are not implemented: xflow runs on one "
                        "device and writes one shard (PREFIX.data-00000-of-00001)");
  std::set<int64_t> seen;
  for (const auto& [key, v] : vars_) {
    if (key.empty()) throw InvalidArgument("[Saver] an empty checkpoint key");
    if (!v.defined()) throw InvalidArgument("[Saver] the key '" + key + "' maps to an undefined Variable");
    if (!seen.insert(v.id()).second)
      throw InvalidArgument("[Saver] The same saveable will be restored with two names: " + v.name());
  }
  if (vars_.empty() && !opts_.allow_empty) throw InvalidArgument("[Saver] No variables to save");
  next_checkpoint_time_ = now() + opts_.keep_checkpoint_every_n_hours * 3600;
}

double Saver::now() const {
  if (opts_.clock) return opts_.clock();
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::vector<std::string> Saver::last_checkpoints() const {
  std::vector<std::string> r;
  for (const auto& p : last_) r.push_back(p.first);
  return r;
}

void Saver::set_last_checkpoints_with_time(std::vector<std::pair<std::string, double>> checkpoints) {
  last_ = std::move(checkpoints);
}

void Saver::recover_last_checkpoints(const std::vector<std::string>& paths) {
  std::vector<std::pair<std::string, double>> r;
  for (const auto& p : paths) {
    bool found = false;
    double t = file_mtime(p + ".index", &found);
    if (!found) t = file_mtime(p, &found);
    if (found) r.emplace_back(p, t);
  }
  set_last_checkpoints_with_time(std::move(r));
}

// _RecordLastCheckpoint: with max_to_keep 0 (or negative) nothing is recorded; a prefix saved
// again moves to the end; beyond max_to_keep the oldest leaves the list.
void Saver::record_last_checkpoint(const std::string& path) {
  if (opts_.max_to_keep <= 0) return;
  for (auto it = last_.begin(); it != last_.end();) it = it->first == path ? last_.erase(it) : it + 1;
  last_.emplace_back(path, now());
  if (static_cast<int64_t>(last_.size()) > opts_.max_to_keep) {
    to_delete_.push_back(last_.front());
    last_.erase(last_.begin());
  }
}

// _MaybeDeleteOldCheckpoints: deletes the checkpoint that left the list, unless it was written
// after the next keep time (keep_checkpoint_every_n_hours): then it stays forever and the keep
// time moves on by N hours.
void Saver::maybe_delete_old_checkpoints() {
  if (to_delete_.empty()) return;
  auto p = to_delete_.front();
  to_delete_.erase(to_delete_.begin());
  if (p.second > next_checkpoint_time_) {
    next_checkpoint_time_ += opts_.keep_checkpoint_every_n_hours * 3600;
    return;
  }
  remove_checkpoint(p.first);
}

std::string Saver::save(const std::string& save_path_in, std::optional<int64_t> global_step, bool write_state) {
  std::string save_path = save_path_in.empty() ? opts_.filename : save_path_in;
  if (save_path.empty()) throw InvalidArgument("[Saver] save: an empty save_path");
  const std::string latest = opts_.latest_filename.empty() ? "checkpoint" : opts_.latest_filename;
  if (latest.find('/') != std::string::npos)
    throw InvalidArgument("[Saver] 'latest_filename' must not contain path components");
  std::string checkpoint_file = save_path;
  if (global_step) {
    char buf[32];
    std::snprintf(buf, sizeof buf, opts_.pad_step_number ? "-%08lld" : "-%lld", static_cast<long long>(*global_step));
    checkpoint_file += buf;
  } else if (io::path::basename(save_path) == latest) {
    throw InvalidArgument("[Saver] 'latest_filename' collides with 'save_path': '" + latest + "' and '" + save_path +
                          "'");
  }
  const std::string parent = io::path::dirname(save_path);
  if (!is_directory(parent))
    throw InvalidArgument("[Saver] Parent directory of " + save_path + " doesn't exist, can't save.");
  if (vars_.empty()) return "";

  {
    io::BundleWriterOptions wo;
    wo.sync = opts_.sync;
    io::BundleWriter writer(checkpoint_file, wo);
    for (const auto& [key, v] : vars_) writer.add(key, v.value());
    writer.finish();
  }

  if (write_state) {
    if (opts_.resume_from_state && opts_.max_to_keep > 0 && last_.empty()) {
      bool seen = false;
      for (const auto& d : resumed_dirs_) seen = seen || d == parent;
      if (!seen) {
        resumed_dirs_.push_back(parent);
        auto st = io::get_checkpoint_state(parent, latest);
        if (st) {
          // The state file's paths are joined onto the directory as the Saver spells it, so a
          // prefix saved again compares equal.
          recover_last_checkpoints(st->all_model_checkpoint_paths);
        }
      }
    }
    record_last_checkpoint(checkpoint_file);
    io::CheckpointState st;
    st.model_checkpoint_path = checkpoint_file;
    st.all_model_checkpoint_paths = last_checkpoints();
    io::update_checkpoint_state(parent, st, latest, opts_.save_relative_paths);
    maybe_delete_old_checkpoints();
  }

  if (opts_.write_meta_graph && opts_.meta_graph) {
    MetaGraph mg = *opts_.meta_graph;
    mg.set_saver_def(saver_def_json(opts_));
    export_meta_graph(checkpoint_file + ".meta", mg);
  }
  return checkpoint_file;
}

void Saver::restore(const std::string& save_path) {
  if (vars_.empty()) return;
  if (save_path.empty()) throw InvalidArgument("Can't load save_path when it is None.");
  if (!io::checkpoint_exists(save_path))
    throw NotFound("The passed save_path is not a valid checkpoint: " + save_path);
  io::BundleReader reader(save_path);
  // Every check before any read, every read before any assignment: a failed restore changes no
  // variable.
  for (const auto& [key, v] : vars_) {
    if (!reader.contains(key))
      throw NotFound(wrap_restore_error("a Variable name or other graph key that is missing",
                                        "Key " + key + " not found in checkpoint"));
  }
  std::string dtype_errors;
  for (const auto& [key, v] : vars_) {
    const io::BundleEntryInfo& e = reader.entry(key);
    if (!e.dtype || *e.dtype != v.dtype()) {
      if (!dtype_errors.empty()) dtype_errors += "\n";
      dtype_errors += "tensor_name = " + key + "; expected dtype " + tf_type_string(v.dtype()) +
                      " does not equal original dtype " + tf_type_string(e.tf_dtype);
    }
  }
  if (!dtype_errors.empty())
    throw InvalidArgument(wrap_restore_error("a mismatch between the current graph and the graph", dtype_errors));
  for (const auto& [key, v] : vars_) {
    const io::BundleEntryInfo& e = reader.entry(key);
    if (e.shape != v.shape())
      throw InvalidArgument(wrap_restore_error(
          "a mismatch between the current graph and the graph",
          "Assign requires shapes of both tensors to match. lhs shape= " + tf_shape_string(v.shape()) +
              " rhs shape= " + tf_shape_string(e.shape) + " (variable " + v.name() + ", key " + key + ")"));
  }
  // The reads (pread + CRC32C of each tensor) run in parallel, as many as xf::set_num_threads
  // allows; an error of any of them is rethrown here before anything is assigned.
  std::vector<std::pair<std::string, Variable>> items(vars_.begin(), vars_.end());
  std::vector<Tensor> values(items.size());
  tbb::parallel_for(size_t{0}, items.size(), [&](size_t i) { values[i] = reader.read(items[i].first); });
  for (size_t i = 0; i < items.size(); ++i) items[i].second.assign(values[i]);
}

}  // namespace xf::train
