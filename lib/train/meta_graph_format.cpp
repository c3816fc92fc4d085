// The meta-graph document's JSON reader and writer (docs/meta-graph.md). Structure only: every
// field's type, names, dtypes, shapes and the size of initial values are checked here; what
// needs the graph (ids in range, the dtype and shape of a value) is checked by meta_graph.cpp.
#include "train/meta_graph_format.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/base64.hpp"
#include "xflow/error.hpp"

namespace xf::train::format {

namespace {

using nlohmann::json;

// Deeper nesting than this is refused while parsing (the writer never nests more than ~6 levels
// plus the graph's 4): a pathological document must not exhaust the stack when it is printed.
constexpr int kMaxDepth = 64;
constexpr int kMaxId = 1 << 30;
constexpr int64_t kMaxBytes = int64_t{1} << 40;

struct Reader {
  std::string origin;

  [[noreturn]] void bad(const std::string& where, const std::string& what) const {
    throw InvalidArgument("[meta_graph] " + origin + ": " + where + ": " + what);
  }
  const json& field(const json& j, const char* name, const std::string& where) const {
    if (!j.is_object()) bad(where, "must be an object");
    auto it = j.find(name);
    if (it == j.end()) bad(where + "." + name, "missing");
    return *it;
  }
  std::string str(const json& j, const std::string& where) const {
    if (!j.is_string()) bad(where, "must be a string");
    return j.get<std::string>();
  }
  std::string name(const json& j, const std::string& where) const {
    std::string s = str(j, where);
    if (s.empty()) bad(where, "must not be empty");
    return s;
  }
  bool boolean(const json& j, const std::string& where) const {
    if (!j.is_boolean()) bad(where, "must be true or false");
    return j.get<bool>();
  }
  int id(const json& j, const std::string& where) const {
    if (!j.is_number_integer()) bad(where, "must be an integer id");
    int64_t v = j.get<int64_t>();
    if (v < 0 || v > kMaxId) bad(where, "id " + std::to_string(v) + " is out of range");
    return static_cast<int>(v);
  }
  std::vector<int> ids(const json& j, const std::string& where) const {
    if (!j.is_array()) bad(where, "must be a list of integer ids");
    std::vector<int> out;
    for (size_t i = 0; i < j.size(); ++i) out.push_back(id(j[i], where + "[" + std::to_string(i) + "]"));
    return out;
  }
  DType dtype(const json& j, const std::string& where) const {
    std::string s = str(j, where);
    try {
      return dtype_from_name(s);
    } catch (const InvalidArgument&) {
      bad(where, "unknown dtype '" + s + "'");
    }
  }
  // any_batch: a signature's shape, whose dimension 0 may be -1 (any batch size).
  Shape shape(const json& j, const std::string& where, bool any_batch = false) const {
    if (!j.is_array()) bad(where, "must be a list of dimensions");
    Shape s;
    for (const json& d : j) {
      if (!d.is_number_integer()) bad(where, "must be a list of integer dimensions");
      int64_t v = d.get<int64_t>();
      if (v < 0 && !(any_batch && v == -1 && s.empty())) bad(where, "negative dimension " + std::to_string(v));
      s.push_back(v);
    }
    return s;
  }
  // numel(shape) * dtype size, refusing absurd sizes (and overflow) before anything is allocated.
  int64_t bytes_of(const Shape& s, DType d, const std::string& where) const {
    int64_t n = static_cast<int64_t>(dtype_size(d));
    for (int64_t dim : s) {
      if (dim != 0 && n > kMaxBytes / dim) bad(where, "shape " + shape_str(s) + " is too large");
      n *= dim;
    }
    return n;
  }
  std::vector<std::string> names(const json& j, const std::string& where) const {
    if (!j.is_array()) bad(where, "must be a list of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < j.size(); ++i) out.push_back(name(j[i], where + "[" + std::to_string(i) + "]"));
    return out;
  }
  std::string graph_text(const json& j, const std::string& where) const {
    if (!j.is_object()) bad(where, "must be a graph object (docs/graph-json.md)");
    return j.dump();
  }
};

std::vector<unsigned char> base64_decode(const Reader& r, const std::string& s, const std::string& where) {
  std::string bytes;
  xf::detail::Base64Result res = xf::detail::base64_decode(s, xf::detail::Base64Padding::required, bytes);
  if (!res.ok()) r.bad(where, detail::base64_error_text(res.error));
  return std::vector<unsigned char>(bytes.begin(), bytes.end());
}

Item read_item(const Reader& r, const json& j, const std::string& where) {
  Item it;
  std::string kind = r.str(r.field(j, "kind", where), where + ".kind");
  if (kind == "value") {
    it.values = {r.id(r.field(j, "value", where), where + ".value")};
  } else if (kind == "op") {
    it.is_op = true;
    it.values = r.ids(r.field(j, "values", where), where + ".values");
  } else {
    r.bad(where + ".kind", "must be \"value\" or \"op\", got '" + kind + "'");
  }
  if (j.contains("name")) it.name = r.str(j.at("name"), where + ".name");
  if (it.is_op && it.name.empty()) r.bad(where + ".name", "an op needs a name");
  return it;
}

TensorInfoDoc read_info(const Reader& r, const std::string& key, const json& j, const std::string& where) {
  TensorInfoDoc t;
  t.name = key;
  t.value = r.id(r.field(j, "value", where), where + ".value");
  t.dtype = r.dtype(r.field(j, "dtype", where), where + ".dtype");
  t.shape = r.shape(r.field(j, "shape", where), where + ".shape", true);
  return t;
}

// A signature's DT_STRING inputs and outputs (schema 1.1; absent in 1.0 files).
void read_string_parts(const Reader& r, const json& j, const std::string& where, SignatureDoc& s) {
  if (j.contains("string_inputs")) {
    const std::string w = where + ".string_inputs";
    const json& ins = j.at("string_inputs");
    if (!ins.is_object()) r.bad(w, "must be an object: name -> string input");
    for (auto in = ins.begin(); in != ins.end(); ++in) {
      const std::string wi = w + "." + in.key();
      if (in.key().empty()) r.bad(w, "a string input's name is empty");
      if (r.str(r.field(*in, "kind", wi), wi + ".kind") != "tf_example")
        r.bad(wi + ".kind", "must be \"tf_example\" (serialized tf.Example)");
      const json& fs = r.field(*in, "features", wi);
      if (!fs.is_object() || fs.empty()) r.bad(wi + ".features", "must be an object: feature name -> spec, not empty");
      StringInputDoc sd;
      for (auto f = fs.begin(); f != fs.end(); ++f) {
        const std::string wf = wi + ".features." + f.key();
        if (f.key().empty()) r.bad(wi + ".features", "a feature name is empty");
        ExampleFeatureDoc fd;
        fd.input = r.name(r.field(*f, "input", wf), wf + ".input");
        fd.dtype = r.dtype(r.field(*f, "dtype", wf), wf + ".dtype");
        if (fd.dtype != DType::float32 && fd.dtype != DType::int64)
          r.bad(wf + ".dtype", "must be float32 or int64 (a tf.Example's float_list or int64_list)");
        if (f->contains("default")) {
          const json& dv = f->at("default");
          if (!dv.is_array()) r.bad(wf + ".default", "must be a list of numbers");
          for (const json& x : dv) {
            if (!x.is_number()) r.bad(wf + ".default", "must be a list of numbers");
            fd.default_value.push_back(x.get<double>());
          }
          if (fd.default_value.empty()) r.bad(wf + ".default", "is empty (leave it out for a required feature)");
        }
        sd.features[f.key()] = std::move(fd);
      }
      s.string_inputs[in.key()] = std::move(sd);
    }
  }
  if (j.contains("string_outputs")) {
    const std::string w = where + ".string_outputs";
    const json& outs = j.at("string_outputs");
    if (!outs.is_object()) r.bad(w, "must be an object: name -> string output");
    for (auto o = outs.begin(); o != outs.end(); ++o) {
      const std::string wo = w + "." + o.key();
      if (o.key().empty()) r.bad(w, "a string output's name is empty");
      if (r.str(r.field(*o, "kind", wo), wo + ".kind") != "vocabulary")
        r.bad(wo + ".kind", "must be \"vocabulary\" (an integer output's index -> string)");
      StringOutputDoc od;
      od.indices = r.name(r.field(*o, "indices", wo), wo + ".indices");
      const json& v = r.field(*o, "vocabulary", wo);
      if (!v.is_array()) r.bad(wo + ".vocabulary", "must be a list of strings");
      for (size_t i = 0; i < v.size(); ++i) od.vocabulary.push_back(r.str(v[i], wo + ".vocabulary[" + std::to_string(i) + "]"));
      if (o->contains("default")) od.default_value = r.str(o->at("default"), wo + ".default");
      s.string_outputs[o.key()] = std::move(od);
    }
  }
}

void write_string_parts(const SignatureDoc& s, json& out) {
  if (!s.string_inputs.empty()) {
    json ins = json::object();
    for (const auto& [name, in] : s.string_inputs) {
      json fs = json::object();
      for (const auto& [fname, f] : in.features) {
        json jf = {{"input", f.input}, {"dtype", dtype_name(f.dtype)}};
        if (!f.default_value.empty()) jf["default"] = f.default_value;
        fs[fname] = std::move(jf);
      }
      ins[name] = {{"kind", "tf_example"}, {"features", std::move(fs)}};
    }
    out["string_inputs"] = std::move(ins);
  }
  if (!s.string_outputs.empty()) {
    json outs = json::object();
    for (const auto& [name, o] : s.string_outputs)
      outs[name] = {{"kind", "vocabulary"}, {"indices", o.indices}, {"vocabulary", o.vocabulary}, {"default", o.default_value}};
    out["string_outputs"] = std::move(outs);
  }
}

json write_info(const TensorInfoDoc& t) {
  return {{"value", t.value}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}};
}

}  // namespace

Document parse(const std::string& text, const std::string& origin) {
  Reader r{origin};
  json j;
  try {
    j = json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) r.bad("(document)", "nested more than " + std::to_string(kMaxDepth) + " levels deep");
      return true;
    });
  } catch (const json::exception& e) {
    r.bad("(document)", std::string("not valid JSON: ") + e.what());
  }
  const std::string doc = "(document)";
  if (!j.is_object()) r.bad(doc, "must be an object");
  if (r.str(r.field(j, "format", doc), "format") != "xflow.meta_graph")
    r.bad("format", "must be \"xflow.meta_graph\" (is this a meta-graph file?)");
  const json& ver = r.field(j, "schema_version", doc);
  if (!ver.is_array() || ver.size() != 2 || !ver[0].is_number_integer() || !ver[1].is_number_integer())
    r.bad("schema_version", "must be [major, minor]");
  int64_t major = ver[0].get<int64_t>();
  if (major != kSchemaMajor)
    r.bad("schema_version", "major version " + std::to_string(major) + " is not supported (this build reads " +
                                std::to_string(kSchemaMajor) + ".x)");
  Document d;
  d.graph = r.graph_text(r.field(j, "graph", doc), "graph");
  if (j.contains("meta_info")) {
    const json& mi = j.at("meta_info");
    if (!mi.is_object()) r.bad("meta_info", "must be an object");
    if (mi.contains("tags")) d.tags = r.names(mi.at("tags"), "meta_info.tags");
  }
  if (j.contains("collections")) {
    const json& cs = j.at("collections");
    if (!cs.is_object()) r.bad("collections", "must be an object: name -> list of items");
    for (auto it = cs.begin(); it != cs.end(); ++it) {
      std::string where = "collections." + it.key();
      if (it.key().empty()) r.bad("collections", "a collection name is empty");
      if (!it->is_array()) r.bad(where, "must be a list of items");
      std::vector<Item>& items = d.collections[it.key()];
      for (size_t i = 0; i < it->size(); ++i) items.push_back(read_item(r, (*it)[i], where + "[" + std::to_string(i) + "]"));
    }
  }
  if (j.contains("variables")) {
    const json& vs = j.at("variables");
    if (!vs.is_array()) r.bad("variables", "must be a list");
    std::set<std::string> seen;
    for (size_t i = 0; i < vs.size(); ++i) {
      std::string where = "variables[" + std::to_string(i) + "]";
      const json& jv = vs[i];
      VariableDoc v;
      v.name = r.name(r.field(jv, "name", where), where + ".name");
      if (!seen.insert(v.name).second) r.bad(where + ".name", "variable '" + v.name + "' is listed twice");
      v.dtype = r.dtype(r.field(jv, "dtype", where), where + ".dtype");
      v.shape = r.shape(r.field(jv, "shape", where), where + ".shape");
      v.trainable = r.boolean(r.field(jv, "trainable", where), where + ".trainable");
      if (jv.contains("collections")) v.collections = r.names(jv.at("collections"), where + ".collections");
      const json& init = r.field(jv, "initializer", where);
      std::string kind = r.str(r.field(init, "kind", where + ".initializer"), where + ".initializer.kind");
      if (kind == "value") {
        int64_t want = r.bytes_of(v.shape, v.dtype, where + ".shape");
        std::string data = r.str(r.field(init, "data", where + ".initializer"), where + ".initializer.data");
        // Check the length before decoding: 4 characters per 3 bytes.
        if (static_cast<int64_t>(data.size()) != (want + 2) / 3 * 4)
          r.bad(where + ".initializer.data",
                std::to_string(data.size()) + " base64 characters cannot hold the " + std::to_string(want) +
                    " bytes of " + shape_str(v.shape) + " " + dtype_name(v.dtype));
        v.init_bytes = base64_decode(r, data, where + ".initializer.data");
        if (static_cast<int64_t>(v.init_bytes.size()) != want)
          r.bad(where + ".initializer.data", std::to_string(v.init_bytes.size()) + " bytes do not fill " +
                                                 shape_str(v.shape) + " " + dtype_name(v.dtype));
      } else if (kind == "graph") {
        v.init_is_graph = true;
        v.init_graph = r.graph_text(r.field(init, "graph", where + ".initializer"), where + ".initializer.graph");
      } else {
        r.bad(where + ".initializer.kind", "must be \"value\" or \"graph\", got '" + kind + "'");
      }
      d.variables.push_back(std::move(v));
    }
  }
  if (j.contains("signatures")) {
    const json& ss = j.at("signatures");
    if (!ss.is_object()) r.bad("signatures", "must be an object: name -> signature");
    for (auto it = ss.begin(); it != ss.end(); ++it) {
      std::string where = "signatures." + it.key();
      if (it.key().empty()) r.bad("signatures", "a signature name is empty");
      SignatureDoc s;
      s.method_name = r.str(r.field(*it, "method_name", where), where + ".method_name");
      if (s.method_name != "predict" && s.method_name != "classify" && s.method_name != "regress")
        r.bad(where + ".method_name", "must be predict, classify or regress, got '" + s.method_name + "'");
      for (const char* part : {"inputs", "outputs"}) {
        const json& io = r.field(*it, part, where);
        if (!io.is_object()) r.bad(where + "." + part, "must be an object: name -> tensor");
        std::vector<TensorInfoDoc>& list = std::string(part) == "inputs" ? s.inputs : s.outputs;
        for (auto t = io.begin(); t != io.end(); ++t) {
          if (t.key().empty()) r.bad(where + "." + part, "a tensor name is empty");
          list.push_back(read_info(r, t.key(), *t, where + "." + part + "." + t.key()));
        }
      }
      if (s.outputs.empty()) r.bad(where + ".outputs", "a signature needs at least one output");
      read_string_parts(r, *it, where, s);
      d.signatures.emplace(it.key(), std::move(s));
    }
  }
  if (j.contains("saver")) {
    const json& sv = j.at("saver");
    if (!sv.is_object()) r.bad("saver", "must be an object");
    d.saver = sv.dump();
  }
  return d;
}

std::string write(const Document& d, int indent) {
  json j;
  j["format"] = "xflow.meta_graph";
  j["schema_version"] = {kSchemaMajor, kSchemaMinor};
  j["meta_info"] = {{"tags", d.tags}};
  j["graph"] = json::parse(d.graph);
  json cs = json::object();
  for (const auto& [name, items] : d.collections) {
    json list = json::array();
    for (const Item& it : items) {
      json ji;
      ji["kind"] = it.is_op ? "op" : "value";
      if (!it.name.empty()) ji["name"] = it.name;
      if (it.is_op) ji["values"] = it.values;
      else ji["value"] = it.values.at(0);
      list.push_back(std::move(ji));
    }
    cs[name] = std::move(list);
  }
  j["collections"] = std::move(cs);
  json vs = json::array();
  for (const VariableDoc& v : d.variables) {
    json jv;
    jv["name"] = v.name;
    jv["dtype"] = dtype_name(v.dtype);
    jv["shape"] = v.shape;
    jv["trainable"] = v.trainable;
    jv["collections"] = v.collections;
    if (v.init_is_graph) jv["initializer"] = {{"kind", "graph"}, {"graph", json::parse(v.init_graph)}};
    else jv["initializer"] = {{"kind", "value"}, {"data", detail::base64_encode(v.init_bytes.data(), v.init_bytes.size())}};
    vs.push_back(std::move(jv));
  }
  j["variables"] = std::move(vs);
  json ss = json::object();
  for (const auto& [name, s] : d.signatures) {
    json ins = json::object(), outs = json::object();
    for (const TensorInfoDoc& t : s.inputs) ins[t.name] = write_info(t);
    for (const TensorInfoDoc& t : s.outputs) outs[t.name] = write_info(t);
    ss[name] = {{"method_name", s.method_name}, {"inputs", std::move(ins)}, {"outputs", std::move(outs)}};
    write_string_parts(s, ss[name]);
  }
  j["signatures"] = std::move(ss);
  if (!d.saver.empty()) j["saver"] = json::parse(d.saver);
  return j.dump(indent);
}

}  // namespace xf::train::format
