// SavedModel-like exports (docs/meta-graph.md): base_dir/<version>/saved_model.json (the
// meta-graph) + variables/variables.{index,data-00000-of-00001} (a V2 tensor bundle), built in a
// temporary directory and renamed into place; loading freezes the variables into constants and
// runs signatures with a Session.
#include "xflow/saved_model.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "graph/node.hpp"
#include "io/atomic_file.hpp"
#include "ops/variable_state.hpp"
#include "xflow/checkpoint.hpp"
#include "xflow/session.hpp"

namespace xf {

namespace {

namespace fs = std::filesystem;

constexpr const char* kMetaGraphFile = "saved_model.json";
constexpr const char* kVariablesPrefix = "variables/variables";

std::string spec(DType d, const Shape& s) { return shape_str(s) + " " + dtype_name(d); }

// Checks that every output of every signature needs only the signature's inputs and no
// assignment (serving is read-only). `what` names the export or the file.
void check_signatures(const Graph& g, const std::map<std::string, train::Signature>& sigs, const std::string& what) {
  if (sigs.empty()) throw InvalidArgument("[saved_model] " + what + ": no signature (add \"serving_default\")");
  for (const auto& [name, s] : sigs) {
    std::vector<char> fed(g.values.size(), 0), seen(g.values.size(), 0), node_seen(g.nodes.size(), 0);
    for (const auto& [key, t] : s.inputs) {
      if (t.value < 0 || t.value >= static_cast<int>(g.values.size()))
        throw InvalidArgument("[saved_model] " + what + ": signature '" + name + "' input '" + key + "' is no value");
      fed[static_cast<size_t>(t.value)] = 1;
    }
    for (const auto& [key, t] : s.outputs) {
      if (t.value < 0 || t.value >= static_cast<int>(g.values.size()))
        throw InvalidArgument("[saved_model] " + what + ": signature '" + name + "' output '" + key + "' is no value");
      std::vector<int> stack{t.value};
      while (!stack.empty()) {
        int id = stack.back();
        stack.pop_back();
        if (seen[static_cast<size_t>(id)] || fed[static_cast<size_t>(id)]) continue;
        seen[static_cast<size_t>(id)] = 1;
        const GraphValue& v = g.values[static_cast<size_t>(id)];
        if (v.kind == GraphValue::Kind::placeholder)
          throw InvalidArgument("[saved_model] " + what + ": signature '" + name + "' output '" + key +
                                "' needs placeholder '" + v.name + "', which is not one of its inputs");
        if (v.kind != GraphValue::Kind::node_output || node_seen[static_cast<size_t>(v.producer)]) continue;
        node_seen[static_cast<size_t>(v.producer)] = 1;
        const GraphNode& n = g.nodes[static_cast<size_t>(v.producer)];
        if (def_of(n).traits.side_effect)
          throw InvalidArgument("[saved_model] " + what + ": signature '" + name + "' output '" + key +
                                "' needs node '" + n.scope + "' (" + n.op.name() +
                                "), which changes state: a served signature must be read-only");
        for (int in : n.inputs) stack.push_back(in);
      }
    }
  }
}

// The graph with every read_variable replaced by a constant holding `values[name]`. Value ids
// stay the same (so signatures still apply); node ids are renumbered.
Graph freeze(const Graph& g, const std::map<std::string, Tensor>& values) {
  Graph out;
  out.values = g.values;
  out.inputs = g.inputs;
  out.outputs = g.outputs;
  out.guards = g.guards;
  std::vector<int> new_id(g.nodes.size(), -1);
  for (const GraphNode& n : g.nodes) {
    if (const VariableAttrs* a = attrs_if<ReadVariable>(n)) {
      GraphValue& v = out.values[static_cast<size_t>(n.outputs[0])];
      v.kind = GraphValue::Kind::constant;
      v.producer = -1;
      v.output_index = 0;
      v.constant = values.at(a->name);
      continue;
    }
    GraphNode c = n;
    c.id = static_cast<int>(out.nodes.size());
    new_id[static_cast<size_t>(n.id)] = c.id;
    out.nodes.push_back(std::move(c));
  }
  for (GraphValue& v : out.values)
    if (v.kind == GraphValue::Kind::node_output) v.producer = new_id[static_cast<size_t>(v.producer)];
  return out;
}

void rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
  int err = errno;
  if (err == EEXIST) throw FailedPrecondition("[export_saved_model] '" + to + "' already exists");
  if (err == EINVAL || err == ENOSYS) {
    // A file system without RENAME_NOREPLACE: rename(2) refuses a non-empty directory target,
    // and the version directory was checked to be absent.
    struct stat st;
    if (::stat(to.c_str(), &st) == 0) throw FailedPrecondition("[export_saved_model] '" + to + "' already exists");
    if (std::rename(from.c_str(), to.c_str()) == 0) return;
    err = errno;
  }
  throw DataLoss("[export_saved_model] cannot rename '" + from + "' to '" + to + "': " + std::strerror(err));
}

}  // namespace

// ---- export ----

std::string export_saved_model(const std::string& base_dir, int64_t version, const train::MetaGraph& mg,
                               const SavedModelOptions& options) {
  if (version < 0) throw InvalidArgument("[export_saved_model] version must be >= 0, got " + std::to_string(version));
  if (base_dir.empty()) throw InvalidArgument("[export_saved_model] base_dir is empty");
  const Graph& g = mg.graph();
  check_signatures(g, mg.signatures(), "export to '" + base_dir + "'");
  // The variables' values now, by name (checked before anything is written).
  std::map<std::string, Tensor> values;
  for (const GraphNode& n : g.nodes) {
    const VariableAttrs* a = variable_of(n);
    if (!a || values.count(a->name)) continue;
    std::shared_ptr<VariableState> s;
    try {
      s = find_variable(a->var_id);
    } catch (const NotFound&) {
    }
    if (!s || s->name != a->name)
      throw FailedPrecondition("[export_saved_model] the graph's variable '" + a->name +
                               "' does not exist in this process (bind the graph's variables first)");
    std::lock_guard<std::mutex> lock(s->mu);
    values[a->name] = s->value;
  }
  std::error_code ec;
  fs::create_directories(base_dir, ec);
  if (ec) throw NotFound("[export_saved_model] cannot create '" + base_dir + "': " + ec.message());
  const std::string final_dir = (fs::path(base_dir) / std::to_string(version)).string();
  if (fs::exists(final_dir, ec))
    throw FailedPrecondition("[export_saved_model] version " + std::to_string(version) + " already exists: '" +
                             final_dir + "' (versions are never replaced)");
  std::string tmpl = (fs::path(base_dir) / (".tmp-" + std::to_string(version) + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    throw NotFound("[export_saved_model] cannot create a temporary directory in '" + base_dir + "': " +
                   std::strerror(errno));
  const std::string tmp = tmpl;
  try {
    train::MetaGraph copy = mg;
    copy.tags = options.tags;
    train::ExportOptions eo;
    io::write_file_atomically((fs::path(tmp) / kMetaGraphFile).string(), train::meta_graph_to_json(copy, eo));
    fs::create_directory(fs::path(tmp) / "variables");
    {
      io::BundleWriter w((fs::path(tmp) / kVariablesPrefix).string());
      for (const auto& [name, t] : values) w.add(name, t);
      w.finish();
    }
    io::sync_directory((fs::path(tmp) / "variables").string());
    io::sync_directory(tmp);
    if (options.before_rename) options.before_rename(tmp);
    rename_no_replace(tmp, final_dir);
    io::sync_directory(base_dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return final_dir;
}

std::string export_saved_model(const std::string& base_dir, int64_t version, const Graph& graph,
                               const std::map<std::string, train::Signature>& signatures,
                               const SavedModelOptions& options) {
  train::MetaGraph mg(graph);
  for (const auto& [name, s] : signatures) mg.add_signature(name, s);
  return export_saved_model(base_dir, version, mg, options);
}

std::vector<int64_t> saved_model_versions(const std::string& base_dir) {
  std::vector<int64_t> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(base_dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.empty() || n.size() > 18 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    if (e.is_directory(ec)) out.push_back(std::stoll(n));
  }
  if (ec) throw NotFound("[saved_model_versions] cannot list '" + base_dir + "': " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// ---- load ----

struct SavedModel::Impl {
  std::string path;
  train::MetaGraph mg;  // as in the file (variable ids unbound)
  std::unique_ptr<Session> session;  // over the frozen graph
};

SavedModel load_saved_model(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw NotFound("[load_saved_model] '" + dir + "' is not a directory");
  auto impl = std::make_shared<SavedModel::Impl>();
  impl->path = dir;
  train::ImportOptions io_opts;
  io_opts.bind = false;
  impl->mg = train::import_meta_graph((fs::path(dir) / kMetaGraphFile).string(), io_opts);
  const Graph& g = impl->mg.graph();
  check_signatures(g, impl->mg.signatures(), "'" + dir + "'");
  std::map<std::string, Tensor> values;
  std::set<std::string> needed;
  for (const GraphNode& n : g.nodes)
    if (const VariableAttrs* a = attrs_if<ReadVariable>(n)) needed.insert(a->name);
  if (!needed.empty()) {
    const std::string prefix = (fs::path(dir) / kVariablesPrefix).string();
    io::BundleReader r(prefix);
    for (const GraphNode& n : g.nodes) {
      const VariableAttrs* a = attrs_if<ReadVariable>(n);
      if (!a || values.count(a->name)) continue;
      if (!r.contains(a->name))
        throw NotFound("[load_saved_model] '" + prefix + "' has no value for variable '" + a->name + "'");
      Tensor t = r.read(a->name);
      if (t.dtype() != a->dtype || t.shape() != a->shape)
        throw InvalidArgument("[load_saved_model] '" + prefix + "': variable '" + a->name + "' is " +
                              spec(t.dtype(), t.shape()) + " in the bundle, the graph needs " + spec(a->dtype, a->shape));
      values[a->name] = t;
    }
  }
  impl->session = std::make_unique<Session>(freeze(g, values));
  SavedModel m;
  m.impl_ = std::move(impl);
  return m;
}

std::vector<std::string> SavedModel::signature_names() const {
  std::vector<std::string> out;
  for (const auto& s : impl_->mg.signatures()) out.push_back(s.first);
  return out;
}

const train::Signature& SavedModel::signature(const std::string& name) const { return impl_->mg.signature(name); }
const train::MetaGraph& SavedModel::meta_graph() const { return impl_->mg; }
const std::string& SavedModel::path() const { return impl_->path; }

std::map<std::string, Tensor> SavedModel::run(const std::string& signature, const std::map<std::string, Tensor>& inputs,
                                              Loc loc) const {
  const char* op = "saved_model.run";
  const auto& sigs = impl_->mg.signatures();
  auto it = sigs.find(signature);
  if (it == sigs.end()) {
    std::string have;
    for (const auto& s : sigs) have += (have.empty() ? "'" : ", '") + s.first + "'";
    raise(ErrorCode::not_found, op, "no signature '" + signature + "' (there are " + have + ")", loc);
  }
  const train::Signature& s = it->second;
  for (const auto& [name, t] : inputs)
    if (!s.inputs.count(name)) {
      std::string want;
      for (const auto& i : s.inputs) want += (want.empty() ? "'" : ", '") + i.first + "'";
      raise(ErrorCode::invalid_argument, op,
            "signature '" + signature + "' has no input '" + name + "' (its inputs: " +
                (want.empty() ? std::string("none") : want) + ")",
            loc);
    }
  // Inputs whose signature says "any batch size" (-1) give the number of rows N; the graph holds
  // a fixed batch B (the value's dimension 0), so it runs on ceil(N / B) slices of B rows, the
  // last one padded with zeros, and the outputs with -1 are the slices' rows put back together.
  const Graph& g = impl_->session->graph();
  int64_t rows = -1;
  for (const auto& [name, info] : s.inputs) {
    auto f = inputs.find(name);
    if (f == inputs.end())
      raise(ErrorCode::invalid_argument, op, "signature '" + signature + "' needs input '" + name + "' (" +
                                                 spec(info.dtype, info.shape) + "), which is not given",
            loc);
    const Tensor& t = f->second;
    if (!t.defined() || t.dtype() != info.dtype || !train::signature_shape_fits(info.shape, t.shape()) ||
        (!info.shape.empty() && info.shape[0] == -1 && rows >= 0 && t.shape()[0] != rows))
      raise(ErrorCode::invalid_argument, op,
            "input '" + name + "' of signature '" + signature + "' must be " + spec(info.dtype, info.shape) +
                (rows >= 0 ? " with " + std::to_string(rows) + " rows as the other inputs" : std::string()) +
                ", got " + (t.defined() ? spec(t.dtype(), t.shape()) : std::string("an empty handle")),
            loc);
    if (!info.shape.empty() && info.shape[0] == -1) rows = t.shape()[0];
  }
  std::vector<int> fetches;
  for (const auto& [name, info] : s.outputs) fetches.push_back(info.value);
  auto graph_batch = [&](const train::TensorInfo& info) { return g.values[static_cast<size_t>(info.value)].shape[0]; };
  int64_t batch = -1;
  for (const auto& [name, info] : s.inputs)
    if (!info.shape.empty() && info.shape[0] == -1) batch = graph_batch(info);
  if (rows < 0 || rows == batch) {
    std::vector<std::pair<int, Tensor>> feeds;
    for (const auto& [name, info] : s.inputs) feeds.emplace_back(info.value, inputs.at(name));
    std::vector<Tensor> got = impl_->session->run(fetches, feeds, loc);
    std::map<std::string, Tensor> out;
    size_t k = 0;
    for (const auto& o : s.outputs) out[o.first] = got[k++];
    return out;
  }
  if (batch <= 0) raise(ErrorCode::invalid_argument, op, "signature '" + signature + "' has a batch of 0 rows", loc);
  // Row bytes of each batched input and output; the outputs' rows are gathered here.
  auto row_bytes = [](DType d, const Shape& sh) {
    int64_t n = dtype_size(d);
    for (size_t i = 1; i < sh.size(); ++i) n *= sh[i];
    return n;
  };
  std::map<std::string, std::vector<uint8_t>> gathered;
  std::map<std::string, Tensor> unbatched;
  std::map<std::string, Tensor> contiguous_in;
  for (const auto& [name, t] : inputs) contiguous_in[name] = t.contiguous();
  for (int64_t start = 0; start < rows; start += batch) {
    const int64_t n = std::min(batch, rows - start);
    std::vector<std::pair<int, Tensor>> feeds;
    for (const auto& [name, info] : s.inputs) {
      const Tensor& t = contiguous_in.at(name);
      if (info.shape[0] != -1) {
        feeds.emplace_back(info.value, t);
        continue;
      }
      const Shape& gs = g.values[static_cast<size_t>(info.value)].shape;
      const int64_t rb = row_bytes(info.dtype, gs);
      std::vector<uint8_t> buf(static_cast<size_t>(batch * rb), 0);
      if (n > 0)
        std::memcpy(buf.data(), static_cast<const uint8_t*>(t.raw_data()) + start * rb, static_cast<size_t>(n * rb));
      int64_t elems = rb / dtype_size(info.dtype) * batch;
      feeds.emplace_back(info.value, Tensor::from_bytes(buf.data(), static_cast<size_t>(elems), info.dtype, gs));
    }
    std::vector<Tensor> got = impl_->session->run(fetches, feeds, loc);
    size_t k = 0;
    for (const auto& [name, info] : s.outputs) {
      Tensor o = got[k++].contiguous();
      if (info.shape.empty() || info.shape[0] != -1) {
        if (!unbatched.count(name)) unbatched[name] = o;
        continue;
      }
      const int64_t rb = row_bytes(o.dtype(), o.shape());
      auto& dst = gathered[name];
      const uint8_t* src = static_cast<const uint8_t*>(o.raw_data());
      dst.insert(dst.end(), src, src + n * rb);
    }
  }
  std::map<std::string, Tensor> out = unbatched;
  for (const auto& [name, info] : s.outputs) {
    if (info.shape.empty() || info.shape[0] != -1) continue;
    Shape sh = g.values[static_cast<size_t>(info.value)].shape;
    sh[0] = rows;
    const std::vector<uint8_t>& bytes = gathered[name];
    out[name] = Tensor::from_bytes(bytes.data(), bytes.size() / static_cast<size_t>(dtype_size(info.dtype)), info.dtype, sh);
  }
  return out;
}

SavedModel SavedModel::with_batch_size(int64_t batch, Loc loc) const {
  const char* op = "saved_model.with_batch_size";
  if (batch < 1) raise(ErrorCode::invalid_argument, op, "batch must be at least 1, got " + std::to_string(batch), loc);
  const Graph& old_graph = impl_->session->graph();
  if (!old_graph.guards.empty())
    raise(ErrorCode::invalid_argument, op, "the graph has guards on traced values; it is not rebuilt", loc);
  Graph g = old_graph;
  std::set<int> batched;  // values fed with any batch size
  std::set<int> batched_out;
  for (const auto& [name, s] : impl_->mg.signatures()) {
    for (const auto& [key, info] : s.inputs)
      if (!info.shape.empty() && info.shape[0] == -1) batched.insert(info.value);
    for (const auto& [key, info] : s.outputs)
      if (!info.shape.empty() && info.shape[0] == -1) batched_out.insert(info.value);
  }
  if (batched.empty()) raise(ErrorCode::invalid_argument, op, "no signature has an input of any batch size (-1)", loc);
  auto rebatch = [&](int id) {
    Shape& sh = g.values[static_cast<size_t>(id)].shape;
    if (!sh.empty()) sh[0] = batch;
  };
  for (int id : batched)
    if (g.values[static_cast<size_t>(id)].kind == GraphValue::Kind::placeholder) rebatch(id);
  for (const GraphNode& n : g.nodes) {
    Specs in;
    for (int id : n.inputs) in.push_back(TensorSpec{g.values[static_cast<size_t>(id)].dtype, g.values[static_cast<size_t>(id)].shape});
    Specs out;
    try {
      out = def_of(n).infer(n.attrs.get(), in);
    } catch (const Error& e) {
      raise(ErrorCode::invalid_argument, op,
            "the graph cannot run " + std::to_string(batch) + " rows: node '" + n.scope + "' (" + n.op.name() +
                ") does not type-check: " + e.what(),
            loc);
    }
    for (size_t k = 0; k < out.size() && k < n.outputs.size(); ++k) {
      GraphValue& v = g.values[static_cast<size_t>(n.outputs[k])];
      v.dtype = out[k].dtype;
      v.shape = out[k].shape;
      if (batched.count(v.id)) rebatch(v.id);
    }
  }
  for (const auto& [name, s] : impl_->mg.signatures())
    for (const auto* part : {&s.inputs, &s.outputs})
      for (const auto& [key, info] : *part) {
        const GraphValue& now = g.values[static_cast<size_t>(info.value)];
        const GraphValue& was = old_graph.values[static_cast<size_t>(info.value)];
        Shape want = was.shape;
        if (!info.shape.empty() && info.shape[0] == -1) want[0] = batch;
        if (now.dtype != was.dtype || now.shape != want)
          raise(ErrorCode::invalid_argument, op,
                "the graph cannot run " + std::to_string(batch) + " rows: '" + key + "' of signature '" + name +
                    "' would be " + spec(now.dtype, now.shape) + ", not " + spec(was.dtype, want),
                loc);
      }
  auto impl = std::make_shared<Impl>();
  impl->path = impl_->path;
  impl->mg = impl_->mg;
  impl->session = std::make_unique<Session>(std::move(g));
  SavedModel m;
  m.impl_ = std::move(impl);
  return m;
}

}  // namespace xf
