// Meta-graphs (docs/meta-graph.md): collections, signatures and variables around a graph; export
// to and import from JSON; binding a graph's variable nodes to this process's variables by name.
#include "xflow/meta_graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "graph/node.hpp"
#include "io/atomic_file.hpp"
#include "ops/prims.hpp"
#include "ops/variable_state.hpp"
#include "train/meta_graph_format.hpp"

namespace xf::train {

namespace {

std::string spec(DType d, const Shape& s) { return shape_str(s) + " " + dtype_name(d); }

void check_ids(const Graph& g, const std::vector<int>& ids, const std::string& what) {
  for (int id : ids)
    if (id < 0 || id >= static_cast<int>(g.values.size()))
      throw InvalidArgument("[meta_graph] " + what + ": value " + std::to_string(id) +
                            " is not a value of the graph (it has " + std::to_string(g.values.size()) + ")");
}

// Every variable node of `g` with its attributes, in graph order.
std::vector<std::pair<int, const VariableAttrs*>> variable_nodes(const Graph& g) {
  std::vector<std::pair<int, const VariableAttrs*>> out;
  for (const GraphNode& n : g.nodes)
    if (const VariableAttrs* a = variable_of(n)) out.emplace_back(n.id, a);
  return out;
}

Tensor initial_value_of(const VariableDef& d) {
  Tensor t;
  if (d.initial_value.defined()) {
    t = d.initial_value;
  } else if (d.initializer) {
    if (!d.initializer->inputs.empty() || d.initializer->outputs.empty())
      throw InvalidArgument("[meta_graph] the initializer of variable '" + d.name +
                            "' must be a graph without placeholders and with an output");
    t = d.initializer->run({})[0];
  } else {
    throw InvalidArgument("[meta_graph] variable '" + d.name + "' has no initial value");
  }
  if (t.dtype() != d.dtype || t.shape() != d.shape)
    throw InvalidArgument("[meta_graph] the initial value of variable '" + d.name + "' is " +
                          spec(t.dtype(), t.shape()) + ", the variable is " + spec(d.dtype, d.shape));
  return t;
}

std::string session_name(const Session& s, int id) {
  std::string n = s.name_of(id);
  return n;
}

}  // namespace

// ---- items ----

GraphItem GraphItem::of_value(int id, std::string name) {
  GraphItem it;
  it.kind = Kind::value;
  it.name = std::move(name);
  it.values = {id};
  return it;
}

GraphItem GraphItem::op(std::string name, std::vector<int> values) {
  GraphItem it;
  it.kind = Kind::op;
  it.name = std::move(name);
  it.values = std::move(values);
  return it;
}

int GraphItem::value() const {
  if (kind != Kind::value || values.size() != 1)
    throw InvalidArgument("[meta_graph] '" + name + "' is an op, not a value: it has no single value id");
  return values[0];
}

GraphItem group(const Graph& g, const std::string& name) {
  std::vector<int> vals;
  for (const GraphNode& n : g.nodes)
    if (def_of(n).traits.side_effect) vals.insert(vals.end(), n.outputs.begin(), n.outputs.end());
  if (vals.empty()) throw InvalidArgument("[meta_graph] group '" + name + "': the graph has no side-effect node");
  return GraphItem::op(name, std::move(vals));
}

std::vector<int> fetch_ids(const std::vector<GraphItem>& items) {
  std::vector<int> ids;
  for (const GraphItem& it : items) ids.insert(ids.end(), it.values.begin(), it.values.end());
  return ids;
}

std::vector<Tensor> run(Session& session, const std::vector<GraphItem>& fetches,
                        const std::vector<std::pair<GraphItem, Tensor>>& feeds, Loc loc) {
  std::vector<std::pair<int, Tensor>> feed_ids;
  for (const auto& [item, t] : feeds) {
    if (item.is_op()) raise(ErrorCode::invalid_argument, "meta_graph.run", "op '" + item.name + "' cannot be fed", loc);
    feed_ids.emplace_back(item.value(), t);
  }
  std::vector<Tensor> got = session.run(fetch_ids(fetches), feed_ids, loc);
  std::vector<Tensor> out;
  size_t k = 0;
  for (const GraphItem& it : fetches) {
    out.push_back(it.is_op() ? Tensor() : got[k]);
    k += it.values.size();
  }
  return out;
}

Signature make_signature(const Graph& g, const std::vector<std::pair<std::string, int>>& inputs,
                         const std::vector<std::pair<std::string, int>>& outputs, const std::string& method_name) {
  Signature s;
  s.method_name = method_name;
  if (method_name != "predict" && method_name != "classify" && method_name != "regress")
    throw InvalidArgument("[meta_graph] signature method '" + method_name + "': must be predict, classify or regress");
  if (outputs.empty()) throw InvalidArgument("[meta_graph] a signature needs at least one output");
  for (int part = 0; part < 2; ++part) {
    for (const auto& [name, id] : part == 0 ? inputs : outputs) {
      if (name.empty()) throw InvalidArgument("[meta_graph] a signature's input or output name is empty");
      check_ids(g, {id}, "signature " + std::string(part == 0 ? "input '" : "output '") + name + "'");
      const GraphValue& v = g.values[static_cast<size_t>(id)];
      auto& m = part == 0 ? s.inputs : s.outputs;
      if (!m.emplace(name, TensorInfo{id, v.dtype, v.shape}).second)
        throw InvalidArgument("[meta_graph] signature name '" + name + "' is used twice");
    }
  }
  return s;
}

namespace {

// Lead and continuation bytes in order (what JSON text needs; overlong forms are not checked).
bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t more = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (more == 9 || more >= s.size() - i) {
      if (more != 0) return false;
    }
    for (size_t k = 1; k <= more; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += more + 1;
  }
  return true;
}

// The DT_STRING inputs and outputs of signature `name`: each feature feeds a numeric input of
// batch dimension -1 (one feature per input), of the feature's dtype or another numeric one (the
// parsed values are cast); defaults of one value or one per element of a row; a vocabulary's
// indices an integer output; names distinct from the numeric inputs' and outputs'.
void check_string_parts(const Graph& g, const std::string& name, const Signature& s) {
  (void)g;
  auto fail = [&](const std::string& what) {
    throw InvalidArgument("[meta_graph] signature '" + name + "': " + what);
  };
  std::set<std::string> fed;
  for (const auto& [in_name, in] : s.string_inputs) {
    if (in_name.empty()) fail("a string input's name is empty");
    if (s.inputs.count(in_name) || s.outputs.count(in_name) || s.string_outputs.count(in_name))
      fail("string input '" + in_name + "' has the name of another input or output");
    if (in.features.empty()) fail("string input '" + in_name + "' parses no feature");
    for (const auto& [fname, f] : in.features) {
      const std::string what = "string input '" + in_name + "', feature '" + fname + "'";
      if (fname.empty()) fail("string input '" + in_name + "' has a feature with an empty name");
      if (f.dtype != DType::float32 && f.dtype != DType::int64)
        fail(what + ": dtype must be float32 or int64 (a tf.Example's float_list or int64_list), got " +
             dtype_name(f.dtype));
      auto it = s.inputs.find(f.input);
      if (it == s.inputs.end()) fail(what + " feeds input '" + f.input + "', which the signature does not have");
      if (it->second.shape.empty() || it->second.shape[0] != -1)
        fail(what + " feeds input '" + f.input + "', whose dimension 0 is not -1 (one row per Example)");
      if (!fed.insert(f.input).second) fail("input '" + f.input + "' is fed by two features");
      int64_t per_row = 1;
      for (size_t i = 1; i < it->second.shape.size(); ++i) per_row *= it->second.shape[i];
      const size_t n = f.default_value.size();
      if (n != 0 && n != 1 && static_cast<int64_t>(n) != per_row)
        fail(what + ": a default of " + std::to_string(n) + " values for rows of " + std::to_string(per_row) +
             " (give one value or " + std::to_string(per_row) + ")");
      for (double v : f.default_value)
        if (f.dtype == DType::int64 && v != std::floor(v)) fail(what + ": the int64 default " + std::to_string(v) + " is not whole");
    }
  }
  for (const auto& [out_name, o] : s.string_outputs) {
    if (out_name.empty()) fail("a string output's name is empty");
    if (s.inputs.count(out_name) || s.outputs.count(out_name))
      fail("string output '" + out_name + "' has the name of another input or output");
    auto it = s.outputs.find(o.indices);
    if (it == s.outputs.end())
      fail("string output '" + out_name + "' looks up output '" + o.indices + "', which the signature does not have");
    const DType d = it->second.dtype;
    if (d != DType::int32 && d != DType::int64 && d != DType::uint8)
      fail("string output '" + out_name + "' looks up output '" + o.indices + "' of dtype " + dtype_name(d) +
           ": indices must be int32, int64 or uint8");
    for (const std::string& w : o.vocabulary)
      if (!valid_utf8(w)) fail("string output '" + out_name + "': a vocabulary entry is not valid UTF-8");
    if (!valid_utf8(o.default_value)) fail("string output '" + out_name + "': the default is not valid UTF-8");
  }
}

}  // namespace

std::vector<std::string> request_inputs(const Signature& s) {
  std::vector<std::string> out;
  for (const auto& [name, info] : s.inputs)
    if (!fed_by_string_input(s, name)) out.push_back(name);
  for (const auto& [name, in] : s.string_inputs) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

bool fed_by_string_input(const Signature& s, const std::string& name) {
  for (const auto& [in_name, in] : s.string_inputs)
    for (const auto& [fname, f] : in.features)
      if (f.input == name) return true;
  return false;
}

bool signature_shape_fits(const Shape& signature_shape, const Shape& value_shape) {
  if (signature_shape.size() != value_shape.size()) return false;
  for (size_t i = 0; i < value_shape.size(); ++i)
    if (signature_shape[i] != value_shape[i] && !(i == 0 && signature_shape[i] == -1)) return false;
  return true;
}

void set_any_batch_size(Signature& s) {
  for (auto* m : {&s.inputs, &s.outputs})
    for (auto& [key, info] : *m) {
      if (info.shape.empty())
        throw InvalidArgument("[meta_graph] set_any_batch_size: '" + key + "' is a scalar, it has no batch dimension");
      info.shape[0] = -1;
    }
}

// ---- MetaGraph ----

void MetaGraph::add_to_collection(const std::string& name, GraphItem item) {
  if (name.empty()) throw InvalidArgument("[meta_graph] add_to_collection: the collection name is empty");
  if (item.kind == GraphItem::Kind::value && item.values.size() != 1)
    throw InvalidArgument("[meta_graph] add_to_collection: a value item holds exactly one id");
  if (item.is_op() && item.name.empty()) throw InvalidArgument("[meta_graph] add_to_collection: an op needs a name");
  check_ids(graph_, item.values, "collection '" + name + "'");
  collections_[name].push_back(std::move(item));
}

const std::vector<GraphItem>& MetaGraph::get_collection(const std::string& name) const {
  static const std::vector<GraphItem> empty;
  auto it = collections_.find(name);
  return it == collections_.end() ? empty : it->second;
}

std::vector<std::string> MetaGraph::collection_names() const {
  std::vector<std::string> out;
  for (const auto& c : collections_) out.push_back(c.first);
  return out;
}

GraphItem MetaGraph::value(const std::string& name) const {
  Session s(graph_);
  return GraphItem::of_value(s.value_id(name), name);
}

GraphItem MetaGraph::value(int id) const {
  check_ids(graph_, {id}, "value");
  Session s(graph_);
  return GraphItem::of_value(id, session_name(s, id));
}

void MetaGraph::add_signature(const std::string& name, Signature s) {
  if (name.empty()) throw InvalidArgument("[meta_graph] add_signature: the name is empty");
  if (s.outputs.empty()) throw InvalidArgument("[meta_graph] signature '" + name + "' has no output");
  for (const auto* m : {&s.inputs, &s.outputs})
    for (const auto& [key, info] : *m) {
      check_ids(graph_, {info.value}, "signature '" + name + "', '" + key + "'");
      const GraphValue& v = graph_.values[static_cast<size_t>(info.value)];
      if (v.dtype != info.dtype || !signature_shape_fits(info.shape, v.shape))
        throw InvalidArgument("[meta_graph] signature '" + name + "', '" + key + "' says " +
                              spec(info.dtype, info.shape) + ", but value " + std::to_string(info.value) + " is " +
                              spec(v.dtype, v.shape));
    }
  check_string_parts(graph_, name, s);
  signatures_[name] = std::move(s);
}

const Signature& MetaGraph::signature(const std::string& name) const {
  auto it = signatures_.find(name);
  if (it == signatures_.end()) {
    std::string have;
    for (const auto& s : signatures_) have += (have.empty() ? "'" : ", '") + s.first + "'";
    throw NotFound("[meta_graph] no signature '" + name + "' (there " +
                   (have.empty() ? std::string("are none") : "are " + have) + ")");
  }
  return it->second;
}

Variable MetaGraph::variable(const std::string& name) const {
  for (const Variable& v : variables_)
    if (v.name() == name) return v;
  throw NotFound("[meta_graph] no variable '" + name + "' is bound");
}

const std::vector<Variable>& MetaGraph::bind(bool create_missing) {
  variables_ = bind_variables(graph_, variable_defs_, create_missing);
  return variables_;
}

void MetaGraph::set_saver_def(const std::string& json_object) {
  if (!json_object.empty()) {
    // Reuse the document reader's check: the text must be one JSON object.
    format::Document d;
    d.graph = "{}";
    d.saver = json_object;
    std::string text;
    try {
      text = format::write(d);
    } catch (const std::exception& e) {
      throw InvalidArgument(std::string("[meta_graph] the saver's settings are not JSON: ") + e.what());
    }
    if (format::parse(text, "(saver)").saver.empty())
      throw InvalidArgument("[meta_graph] the saver's settings must be a JSON object");
  }
  saver_ = json_object;
}

// ---- binding ----

std::vector<Variable> bind_variables(Graph& g, const std::vector<VariableDef>& defs, bool create_missing) {
  std::map<std::string, Variable> live;
  for (const Variable& v : global_variables()) live.emplace(v.name(), v);
  std::map<std::string, const VariableDef*> def_of_name;
  std::vector<std::string> order;
  for (const VariableDef& d : defs) {
    if (!def_of_name.emplace(d.name, &d).second)
      throw InvalidArgument("[meta_graph] variable '" + d.name + "' is listed twice");
    order.push_back(d.name);
  }
  // What the nodes need: one dtype and shape per name.
  std::map<std::string, std::pair<DType, Shape>> used;
  for (const auto& [node, a] : variable_nodes(g)) {
    if (a->name.empty())
      throw InvalidArgument("[meta_graph] node " + std::to_string(node) + " (" + g.nodes[node].op.name() +
                            ") has no variable name (graph JSON 1.0): it cannot be bound by name");
    auto [it, fresh] = used.emplace(a->name, std::make_pair(a->dtype, a->shape));
    if (fresh) {
      if (!def_of_name.count(a->name)) order.push_back(a->name);
    } else if (it->second.first != a->dtype || it->second.second != a->shape) {
      throw InvalidArgument("[meta_graph] the graph uses variable '" + a->name + "' as " + spec(a->dtype, a->shape) +
                            " and as " + spec(it->second.first, it->second.second));
    }
    if (auto d = def_of_name.find(a->name); d != def_of_name.end())
      if (d->second->dtype != a->dtype || d->second->shape != a->shape)
        throw InvalidArgument("[meta_graph] variable '" + a->name + "' is listed as " +
                              spec(d->second->dtype, d->second->shape) + ", but the graph uses it as " +
                              spec(a->dtype, a->shape));
  }
  // Check everything before creating anything.
  std::vector<std::string> missing;
  for (const std::string& name : order) {
    auto d = def_of_name.find(name);
    DType dt = d != def_of_name.end() ? d->second->dtype : used.at(name).first;
    const Shape& sh = d != def_of_name.end() ? d->second->shape : used.at(name).second;
    auto l = live.find(name);
    if (l != live.end()) {
      if (l->second.dtype() != dt || l->second.shape() != sh)
        throw InvalidArgument("[meta_graph] variable '" + name + "' exists in this process as " +
                              spec(l->second.dtype(), l->second.shape()) + ", but the meta-graph needs " +
                              spec(dt, sh) + " (a name clash: reset_variables() or rename one)");
    } else if (d == def_of_name.end() || !create_missing) {
      missing.push_back(name);
    }
  }
  if (!missing.empty()) {
    std::string names;
    for (size_t i = 0; i < missing.size(); ++i) names += (i ? ", '" : "'") + missing[i] + "'";
    throw NotFound("[meta_graph] the graph uses variable" + std::string(missing.size() > 1 ? "s " : " ") + names +
                   ", which do" + (missing.size() > 1 ? "" : "es") + " not exist in this process" +
                   (create_missing ? " and which the meta-graph does not list" : ""));
  }
  std::vector<Variable> out;
  std::map<std::string, int64_t> ids;
  for (const std::string& name : order) {
    auto l = live.find(name);
    Variable v;
    if (l != live.end()) {
      v = l->second;
    } else {
      const VariableDef& d = *def_of_name.at(name);
      std::vector<std::string> extra;
      for (const std::string& c : d.collections)
        if (c != "global_variables" && c != "trainable_variables") extra.push_back(c);
      v = Variable(initial_value_of(d), d.name, d.trainable, extra);
      if (v.name() != d.name)
        throw FailedPrecondition("[meta_graph] variable '" + d.name + "' was created as '" + v.name() +
                                 "': the name was used by a variable that no longer exists (reset_variables() "
                                 "forgets used names)");
      live.emplace(name, v);
    }
    ids[name] = v.id();
    out.push_back(v);
  }
  for (GraphNode& n : g.nodes) {
    const VariableAttrs* a = variable_of(n);
    if (!a) continue;
    VariableAttrs b = *a;
    b.var_id = ids.at(a->name);
    n.attrs = make_attrs(std::move(b));
  }
  return out;
}

void assign_variables(const std::map<std::string, Tensor>& values) {
  std::map<std::string, Variable> live;
  for (const Variable& v : global_variables()) live.emplace(v.name(), v);
  for (const auto& [name, t] : values) {
    auto l = live.find(name);
    if (l == live.end()) throw NotFound("[assign_variables] no variable is named '" + name + "'");
    if (!t.defined()) throw InvalidArgument("[assign_variables] the value of '" + name + "' is an empty Tensor handle");
    if (t.dtype() != l->second.dtype() || t.shape() != l->second.shape())
      throw InvalidArgument("[assign_variables] variable '" + name + "' is " +
                            spec(l->second.dtype(), l->second.shape()) + ", the value is " + spec(t.dtype(), t.shape()));
  }
  for (const auto& [name, t] : values) live.at(name).assign(t);
}

std::map<std::string, Tensor> variable_values(const std::vector<Variable>& vars) {
  std::map<std::string, Tensor> out;
  for (const Variable& v : vars) out[v.name()] = v.value();
  return out;
}

// ---- export ----

std::string meta_graph_to_json(const MetaGraph& mg, const ExportOptions& options) {
  const Graph& g = mg.graph();
  format::Document d;
  d.graph = g.to_json();
  d.tags = mg.tags;
  d.saver = mg.saver_def();
  std::unique_ptr<Session> names;  // Session names of unnamed value items
  std::vector<std::string> wanted = options.collection_list;
  if (wanted.empty()) wanted = mg.collection_names();
  for (const std::string& c : wanted) {
    auto cs = mg.collection_names();
    if (std::find(cs.begin(), cs.end(), c) == cs.end())
      throw InvalidArgument("[export_meta_graph] collection_list names '" + c + "', which is not a collection");
    std::vector<format::Item>& items = d.collections[c];
    for (const GraphItem& it : mg.get_collection(c)) {
      format::Item fi;
      fi.is_op = it.is_op();
      fi.name = it.name;
      fi.values = it.values;
      if (!fi.is_op && fi.name.empty()) {
        if (!names) names = std::make_unique<Session>(g);
        fi.name = names->name_of(it.value());
      }
      items.push_back(std::move(fi));
    }
  }
  for (const auto& [name, s] : mg.signatures()) {
    format::SignatureDoc sd;
    sd.method_name = s.method_name;
    for (const auto& [key, t] : s.inputs) sd.inputs.push_back({key, t.value, t.dtype, t.shape});
    for (const auto& [key, t] : s.outputs) sd.outputs.push_back({key, t.value, t.dtype, t.shape});
    for (const auto& [key, in] : s.string_inputs)
      for (const auto& [fname, f] : in.features)
        sd.string_inputs[key].features[fname] = {f.input, f.dtype, f.default_value};
    for (const auto& [key, o] : s.string_outputs)
      sd.string_outputs[key] = {o.indices, o.vocabulary, o.default_value};
    d.signatures[name] = std::move(sd);
  }
  // Variables: those listed, then every other one the graph's nodes use, from the live state.
  std::vector<VariableDef> defs = mg.variable_defs();
  std::set<std::string> listed;
  for (const VariableDef& v : defs) listed.insert(v.name);
  std::vector<std::string> collections = collection_names();
  for (const auto& [node, a] : variable_nodes(g)) {
    if (listed.count(a->name)) continue;
    if (a->name.empty())
      throw InvalidArgument("[export_meta_graph] node " + std::to_string(node) + " has no variable name");
    std::shared_ptr<VariableState> s;
    try {
      s = find_variable(a->var_id);
    } catch (const NotFound&) {
    }
    if (!s || s->name != a->name)
      throw FailedPrecondition("[export_meta_graph] the graph's variable '" + a->name +
                               "' no longer exists and the meta-graph does not list it");
    VariableDef v;
    v.name = s->name;
    v.dtype = s->dtype;
    v.shape = s->shape;
    v.trainable = s->trainable;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      v.initial_value = s->value;
    }
    for (const std::string& c : collections)
      for (const Variable& m : get_collection(c))
        if (m.state() == s) {
          v.collections.push_back(c);
          break;
        }
    listed.insert(v.name);
    defs.push_back(std::move(v));
  }
  for (const auto& [name, ig] : options.initializers) {
    auto it = std::find_if(defs.begin(), defs.end(), [&](const VariableDef& v) { return v.name == name; });
    if (it == defs.end())
      throw InvalidArgument("[export_meta_graph] an initializer is given for '" + name + "', which the graph does not use");
    if (!ig.inputs.empty() || ig.outputs.empty() || ig.values[static_cast<size_t>(ig.outputs[0])].dtype != it->dtype ||
        ig.values[static_cast<size_t>(ig.outputs[0])].shape != it->shape)
      throw InvalidArgument("[export_meta_graph] the initializer of '" + name +
                            "' must have no placeholders and output 0 of " + spec(it->dtype, it->shape));
    it->initializer = std::make_shared<Graph>(ig);
    it->initial_value = Tensor();
  }
  for (const VariableDef& v : defs) {
    format::VariableDoc vd;
    vd.name = v.name;
    vd.dtype = v.dtype;
    vd.shape = v.shape;
    vd.trainable = v.trainable;
    vd.collections = v.collections;
    if (v.initializer) {
      vd.init_is_graph = true;
      vd.init_graph = v.initializer->to_json();
    } else {
      if (!v.initial_value.defined())
        throw InvalidArgument("[export_meta_graph] variable '" + v.name + "' has no initial value");
      Tensor c = v.initial_value.contiguous();
      if (c.dtype() != v.dtype || c.shape() != v.shape)
        throw InvalidArgument("[export_meta_graph] the initial value of '" + v.name + "' is " +
                              spec(c.dtype(), c.shape()) + ", the variable is " + spec(v.dtype, v.shape));
      const auto* p = static_cast<const unsigned char*>(c.raw_data());
      vd.init_bytes.assign(p, p + static_cast<size_t>(c.size()) * dtype_size(c.dtype()));
    }
    d.variables.push_back(std::move(vd));
  }
  return format::write(d, options.indent);
}

void export_meta_graph(const std::string& path, const MetaGraph& mg, const ExportOptions& options) {
  io::write_file_atomically(path, meta_graph_to_json(mg, options));
}

// ---- import ----

MetaGraph meta_graph_from_json(const std::string& text, const std::string& origin, const ImportOptions& options) {
  format::Document d = format::parse(text, origin);
  auto fail = [&](const std::string& where, const std::string& what) -> InvalidArgument {
    return InvalidArgument("[meta_graph] " + origin + ": " + where + ": " + what);
  };
  MetaGraph mg;
  try {
    mg.graph() = Graph::from_json(d.graph);
  } catch (const Error& e) {
    throw fail("graph", e.what());
  }
  const Graph& g = mg.graph();
  auto check = [&](const std::vector<int>& ids, const std::string& where) {
    for (int id : ids)
      if (id >= static_cast<int>(g.values.size()))
        throw fail(where, "value " + std::to_string(id) + " is not a value of the graph (it has " +
                              std::to_string(g.values.size()) + ")");
  };
  for (const auto& [name, items] : d.collections)
    for (size_t i = 0; i < items.size(); ++i) {
      const format::Item& fi = items[i];
      check(fi.values, "collections." + name + "[" + std::to_string(i) + "]");
      mg.add_to_collection(name, fi.is_op ? GraphItem::op(fi.name, fi.values) : GraphItem::of_value(fi.values[0], fi.name));
    }
  for (const auto& [name, sd] : d.signatures) {
    Signature s;
    s.method_name = sd.method_name;
    for (int part = 0; part < 2; ++part)
      for (const format::TensorInfoDoc& t : part == 0 ? sd.inputs : sd.outputs) {
        std::string where = "signatures." + name + (part == 0 ? ".inputs." : ".outputs.") + t.name;
        check({t.value}, where);
        const GraphValue& v = g.values[static_cast<size_t>(t.value)];
        if (v.dtype != t.dtype || !signature_shape_fits(t.shape, v.shape))
          throw fail(where, "says " + spec(t.dtype, t.shape) + ", but value " + std::to_string(t.value) + " is " +
                                spec(v.dtype, v.shape));
        (part == 0 ? s.inputs : s.outputs)[t.name] = TensorInfo{t.value, t.dtype, t.shape};
      }
    for (const auto& [key, in] : sd.string_inputs)
      for (const auto& [fname, f] : in.features)
        s.string_inputs[key].features[fname] = ExampleFeature{f.input, f.dtype, f.default_value};
    for (const auto& [key, o] : sd.string_outputs)
      s.string_outputs[key] = StringOutput{o.indices, o.vocabulary, o.default_value};
    try {
      mg.add_signature(name, std::move(s));
    } catch (const InvalidArgument& e) {
      throw fail("signatures." + name, e.what());
    }
  }
  for (size_t i = 0; i < d.variables.size(); ++i) {
    const format::VariableDoc& vd = d.variables[i];
    VariableDef v;
    v.name = vd.name;
    v.dtype = vd.dtype;
    v.shape = vd.shape;
    v.trainable = vd.trainable;
    v.collections = vd.collections;
    if (vd.init_is_graph) {
      std::string where = "variables[" + std::to_string(i) + "].initializer.graph";
      Graph ig;
      try {
        ig = Graph::from_json(vd.init_graph);
      } catch (const Error& e) {
        throw fail(where, e.what());
      }
      if (!ig.inputs.empty() || ig.outputs.empty() || ig.values[static_cast<size_t>(ig.outputs[0])].dtype != v.dtype ||
          ig.values[static_cast<size_t>(ig.outputs[0])].shape != v.shape)
        throw fail(where, "must have no placeholders and output 0 of " + spec(v.dtype, v.shape));
      v.initializer = std::make_shared<Graph>(std::move(ig));
    } else {
      v.initial_value = Tensor::from_bytes(vd.init_bytes.data(), static_cast<size_t>(numel(vd.shape)), vd.dtype, vd.shape);
    }
    mg.variable_defs().push_back(std::move(v));
  }
  if (!d.saver.empty()) mg.set_saver_def(d.saver);
  mg.tags = d.tags;
  if (!options.bind) return mg;
  try {
    mg.bind(options.create_missing);
  } catch (const Error& e) {
    throw_error(e.code(), std::string(e.what()) + " (importing " + origin + ")");
  }
  return mg;
}

MetaGraph import_meta_graph(const std::string& path, const ImportOptions& options) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NotFound("[import_meta_graph] cannot open '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw DataLoss("[import_meta_graph] reading '" + path + "' failed");
  return meta_graph_from_json(ss.str(), path, options);
}

}  // namespace xf::train
