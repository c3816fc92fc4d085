// A servable export, as TensorFlow's SavedModel: base_dir/<version>/ holds the meta-graph with
// its signatures (saved_model.json) and the variables' values as a V2 tensor bundle
// (variables/variables.index + variables/variables.data-00000-of-00001). A version appears
// whole or not at all: it is written in a temporary directory of base_dir and renamed into place.
// load_saved_model runs a signature by name on named inputs with a compiled Session
// (docs/meta-graph.md).
//
//   xf::export_saved_model("models/mnist", 1, mg);   // mg: a train::MetaGraph with signatures
//   xf::SavedModel m = xf::load_saved_model("models/mnist/1");
//   auto out = m.run("serving_default", {{"x", batch}});   // out["probabilities"]
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "xflow/meta_graph.hpp"
#include "xflow/tensor.hpp"

namespace xf {

struct SavedModelOptions {
  std::vector<std::string> tags = {"serve"};
  // Called with the complete temporary directory just before it is renamed to base_dir/<version>
  // (tests and tools: an exception thrown here aborts the export, which removes the directory).
  std::function<void(const std::string& temp_dir)> before_rename;
};

// Writes base_dir/<version>/ (creating base_dir when missing) and returns its path. The graph's
// variables are saved with their current values (bundle keys: the variables' names). The
// signatures must exist (one is usually "serving_default") and be read-only: an output that needs
// an assignment is an InvalidArgument, as is an output that needs a placeholder that is not one
// of the signature's inputs. An existing version is never replaced (FailedPrecondition); version
// must be >= 0. The version is built in base_dir/.tmp-<version>-<random>/, fsync'ed, and renamed
// into place without replacing anything (renameat2 RENAME_NOREPLACE), so a server watching
// base_dir never sees half a version; on failure the temporary directory is removed.
std::string export_saved_model(const std::string& base_dir, int64_t version, const train::MetaGraph& mg,
                               const SavedModelOptions& options = {});
// The same for a graph and its signatures.
std::string export_saved_model(const std::string& base_dir, int64_t version, const Graph& graph,
                               const std::map<std::string, train::Signature>& signatures,
                               const SavedModelOptions& options = {});

// The versions under base_dir: the names that are non-negative integers, sorted (temporary
// directories of exports in progress are not versions).
std::vector<int64_t> saved_model_versions(const std::string& base_dir);

class SavedModel {
 public:
  // The signatures' names, sorted.
  std::vector<std::string> signature_names() const;
  // NotFound listing the signatures there are.
  const train::Signature& signature(const std::string& name) const;
  const train::MetaGraph& meta_graph() const;
  const std::string& path() const;

  // Runs a signature: every input by name, exactly (InvalidArgument for a missing or an extra
  // one, or another dtype or shape than the signature's); returns every output by name.
  // NotFound for an unknown signature. May be called from several threads at once.
  std::map<std::string, Tensor> run(const std::string& signature, const std::map<std::string, Tensor>& inputs,
                                    Loc loc = Loc::current()) const;

  // The same model with its graph rebuilt for `batch` rows: the signatures' inputs of any batch
  // size (-1) get dimension 0 = batch and every node's shapes are inferred again, so run() with
  // up to `batch` rows is one run of the graph (padded with zero rows) instead of one per slice
  // of the exported batch. Shares the constants; compiles its own plans. Only right for graphs
  // whose rows are independent (as the slicing of run() assumes). InvalidArgument when the
  // graph cannot be rebuilt: an op whose attributes fix the batch (a reshape to (1, 576)) fails
  // to infer, or an output of any batch size would not have `batch` rows, or a value of fixed
  // shape would change.
  SavedModel with_batch_size(int64_t batch, Loc loc = Loc::current()) const;

 private:
  friend SavedModel load_saved_model(const std::string& dir);
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Loads base_dir/<version>/ (the path export_saved_model returned). The variables' values are
// read from the bundle and become constants of the loaded graph: a loaded model creates no
// Variable and shares nothing with other loaded versions. NotFound for a missing directory or
// file, InvalidArgument (or DataLoss from the bundle) for damaged files, each naming the path.
SavedModel load_saved_model(const std::string& dir);

}  // namespace xf
