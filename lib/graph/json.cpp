// Graph <-> JSON (docs/graph-json.md). Attributes go through the primitives' visit(), so this
// file knows no op by name. Constants are base64 bytes with dtype and shape: NaN and Inf
// survive, and round trips are exact.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base64.hpp"
#include "graph/node.hpp"
#include "xflow/graph.hpp"

namespace xf {

namespace {

using nlohmann::json;

constexpr int kSchemaMajor = 1;
constexpr int kSchemaMinor = 3;
// 1.1: read_variable and assign nodes carry the variable's name (attrs.name). 1.0 documents,
// which lack it, still load (the name is then empty).
// 1.2: conv2d and its two backprops carry `dilations`; older documents, which lack it, load as
// {1, 1} (the only convolution they could describe).
// 1.3: svd carries `full_matrices`; older documents, which lack it, load as false (the only svd
// they could describe).

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw InvalidArgument("[graph_json] " + field + ": " + what);
}

// ---- base64 ----
std::vector<unsigned char> base64_decode(const std::string& s, const std::string& field) {
  std::string bytes;
  xf::detail::Base64Result r = xf::detail::base64_decode(s, xf::detail::Base64Padding::required, bytes);
  if (r.error == xf::detail::Base64Error::character)
    bad(field, std::string("invalid base64 character '") + r.bad_char + "'");
  if (!r.ok()) bad(field, detail::base64_error_text(r.error));
  return std::vector<unsigned char>(bytes.begin(), bytes.end());
}

// ---- attributes ----
struct AttrWriter : AttrVisitor {
  json out = json::object();
  void on(const char* n, bool& v) override { out[n] = v; }
  void on(const char* n, int64_t& v) override { out[n] = v; }
  void on(const char* n, double& v) override {
    if (std::isfinite(v)) out[n] = v;
    else out[n] = std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  }
  void on(const char* n, DType& v) override { out[n] = dtype_name(v); }
  void on(const char* n, std::vector<int64_t>& v) override { out[n] = v; }
  void on(const char* n, std::string& v) override { out[n] = v; }
};

struct AttrReader : AttrVisitor {
  const json& in;
  std::string field;
  bool before_1_1 = false;  // a 1.0 document: string attributes added in 1.1 may be missing
  bool before_1_2 = false;  // a 1.0 or 1.1 document: conv2d's dilations may be missing
  bool before_1_3 = false;  // a 1.0 to 1.2 document: svd's full_matrices may be missing
  AttrReader(const json& j, std::string f) : in(j), field(std::move(f)) {}
  const json& get(const char* n) {
    if (!in.contains(n)) bad(field + "." + n, "missing");
    return in.at(n);
  }
  void on(const char* n, bool& v) override {
    if (before_1_3 && !in.contains(n) && std::string(n) == "full_matrices") return;  // keeps false
    const json& j = get(n);
    if (!j.is_boolean()) bad(field + "." + n, "must be a boolean");
    v = j.get<bool>();
  }
  void on(const char* n, int64_t& v) override {
    const json& j = get(n);
    if (!j.is_number_integer()) bad(field + "." + n, "must be an integer");
    v = j.get<int64_t>();
  }
  void on(const char* n, double& v) override {
    const json& j = get(n);
    if (j.is_number()) v = j.get<double>();
    else if (j == "nan") v = std::nan("");
    else if (j == "inf") v = HUGE_VAL;
    else if (j == "-inf") v = -HUGE_VAL;
    else bad(field + "." + n, "must be a number");
  }
  void on(const char* n, DType& v) override {
    const json& j = get(n);
    if (!j.is_string()) bad(field + "." + n, "must be a dtype name");
    try {
      v = dtype_from_name(j.get<std::string>());
    } catch (const InvalidArgument&) {
      bad(field + "." + n, "unknown dtype '" + j.get<std::string>() + "'");
    }
  }
  void on(const char* n, std::vector<int64_t>& v) override {
    if (before_1_2 && !in.contains(n) && std::string(n) == "dilations") return;  // keeps the default {1, 1}
    const json& j = get(n);
    if (!j.is_array()) bad(field + "." + n, "must be a list of integers");
    v.clear();
    for (const json& e : j) {
      if (!e.is_number_integer()) bad(field + "." + n, "must be a list of integers");
      v.push_back(e.get<int64_t>());
    }
  }
  void on(const char* n, std::string& v) override {
    if (before_1_1 && !in.contains(n) && std::string(n) == "name") return;  // a variable's name, new in 1.1
    const json& j = get(n);
    if (!j.is_string()) bad(field + "." + n, "must be a string");
    v = j.get<std::string>();
  }
};

const char* kind_name(GraphValue::Kind k) {
  switch (k) {
    case GraphValue::Kind::placeholder: return "placeholder";
    case GraphValue::Kind::constant: return "constant";
    case GraphValue::Kind::node_output: return "node_output";
  }
  return "";
}

// ---- typed field access ----
const json& field(const json& j, const char* name, const std::string& where) {
  if (!j.is_object()) bad(where, "must be an object");
  if (!j.contains(name)) bad(where + "." + name, "missing");
  return j.at(name);
}
int64_t int_field(const json& j, const char* name, const std::string& where) {
  const json& f = field(j, name, where);
  if (!f.is_number_integer()) bad(where + "." + name, "must be an integer");
  return f.get<int64_t>();
}
std::string str_field(const json& j, const char* name, const std::string& where) {
  const json& f = field(j, name, where);
  if (!f.is_string()) bad(where + "." + name, "must be a string");
  return f.get<std::string>();
}
std::vector<int64_t> ints_field(const json& j, const char* name, const std::string& where) {
  const json& f = field(j, name, where);
  if (!f.is_array()) bad(where + "." + name, "must be a list of integers");
  std::vector<int64_t> out;
  for (const json& e : f) {
    if (!e.is_number_integer()) bad(where + "." + name, "must be a list of integers");
    out.push_back(e.get<int64_t>());
  }
  return out;
}
std::vector<int> ids_field(const json& j, const char* name, const std::string& where) {
  std::vector<int> out;
  for (int64_t v : ints_field(j, name, where)) {
    if (v < 0 || v > (1 << 30)) bad(where + "." + name, "id " + std::to_string(v) + " is out of range");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

}  // namespace

std::string Graph::to_json(int indent) const {
  json j;
  j["format"] = "xflow.graph";
  j["schema_version"] = {kSchemaMajor, kSchemaMinor};
  j["inputs"] = inputs;
  j["outputs"] = outputs;
  json vals = json::array();
  for (const GraphValue& v : values) {
    json jv;
    jv["id"] = v.id;
    jv["kind"] = kind_name(v.kind);
    jv["dtype"] = dtype_name(v.dtype);
    jv["shape"] = v.shape;
    jv["bytes"] = numel(v.shape) * dtype_size(v.dtype);
    if (!v.name.empty()) jv["name"] = v.name;
    if (v.kind == GraphValue::Kind::node_output) {
      jv["producer"] = v.producer;
      jv["output_index"] = v.output_index;
    }
    if (v.kind == GraphValue::Kind::constant) {
      Tensor c = v.constant.contiguous();
      jv["data"] = detail::base64_encode(c.raw_data(), static_cast<size_t>(c.size()) * dtype_size(c.dtype()));
    }
    vals.push_back(std::move(jv));
  }
  j["values"] = std::move(vals);
  json nds = json::array();
  for (const GraphNode& n : nodes) {
    json jn;
    jn["id"] = n.id;
    jn["op"] = n.op.name();
    const OpDef& def = def_of(n);
    AttrWriter w;
    def.visit_attrs(const_cast<void*>(n.attrs.get()), w);  // the writer only reads
    jn["attrs"] = std::move(w.out);
    jn["inputs"] = n.inputs;
    jn["outputs"] = n.outputs;
    jn["meta"] = {{"scope", n.scope}, {"file", n.file}, {"line", n.line}};
    nds.push_back(std::move(jn));
  }
  j["nodes"] = std::move(nds);
  if (!guards.empty()) {
    json gs = json::array();
    for (const GraphGuard& g : guards) {
      Tensor c = g.expected.contiguous();
      gs.push_back({{"value", g.value},
                    {"dtype", dtype_name(c.dtype())},
                    {"shape", c.shape()},
                    {"expected", detail::base64_encode(c.raw_data(),
                                                       static_cast<size_t>(c.size()) * dtype_size(c.dtype()))},
                    {"file", g.file},
                    {"line", g.line}});
    }
    j["guards"] = std::move(gs);
  }
  if (!provenance.empty()) {
    json ps = json::array();
    for (const GraphProvenance& p : provenance)
      ps.push_back({{"pass", p.pass}, {"action", p.action}, {"nodes", p.nodes}, {"detail", p.detail}});
    j["provenance"] = std::move(ps);
  }
  return j.dump(indent);
}

Graph Graph::from_json(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    bad("(document)", std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad("(document)", "must be an object");
  if (str_field(j, "format", "(document)") != "xflow.graph") bad("format", "must be \"xflow.graph\"");
  std::vector<int64_t> ver = ints_field(j, "schema_version", "(document)");
  if (ver.size() != 2) bad("schema_version", "must be [major, minor]");
  if (ver[0] > kSchemaMajor || ver[0] < 1)
    bad("schema_version", "major version " + std::to_string(ver[0]) + " is not supported (this build reads " +
                              std::to_string(kSchemaMajor) + ".x)");
  Graph g;
  const json& vals = field(j, "values", "(document)");
  if (!vals.is_array()) bad("values", "must be a list");
  for (size_t i = 0; i < vals.size(); ++i) {
    std::string where = "values[" + std::to_string(i) + "]";
    const json& jv = vals[i];
    GraphValue v;
    v.id = static_cast<int>(int_field(jv, "id", where));
    std::string kind = str_field(jv, "kind", where);
    try {
      v.dtype = dtype_from_name(str_field(jv, "dtype", where));
    } catch (const InvalidArgument& e) {
      if (std::string(e.what()).rfind("[graph_json]", 0) == 0) throw;
      bad(where + ".dtype", "unknown dtype");
    }
    v.shape = ints_field(jv, "shape", where);
    for (int64_t d : v.shape)
      if (d < 0) bad(where + ".shape", "negative dimension");
    if (jv.contains("name")) v.name = str_field(jv, "name", where);
    if (kind == "placeholder") {
      v.kind = GraphValue::Kind::placeholder;
    } else if (kind == "constant") {
      v.kind = GraphValue::Kind::constant;
      std::vector<unsigned char> bytes = base64_decode(str_field(jv, "data", where), where + ".data");
      if (bytes.size() != static_cast<size_t>(numel(v.shape)) * dtype_size(v.dtype))
        bad(where + ".data", std::to_string(bytes.size()) + " bytes do not fill " + shape_str(v.shape) + " " + dtype_name(v.dtype));
      v.constant = Tensor::from_bytes(bytes.data(), static_cast<size_t>(numel(v.shape)), v.dtype, v.shape);
    } else if (kind == "node_output") {
      v.kind = GraphValue::Kind::node_output;
      v.producer = static_cast<int>(int_field(jv, "producer", where));
      v.output_index = static_cast<int>(int_field(jv, "output_index", where));
    } else {
      bad(where + ".kind", "unknown kind '" + kind + "'");
    }
    g.values.push_back(std::move(v));
  }
  const json& nds = field(j, "nodes", "(document)");
  if (!nds.is_array()) bad("nodes", "must be a list");
  for (size_t i = 0; i < nds.size(); ++i) {
    std::string where = "nodes[" + std::to_string(i) + "]";
    const json& jn = nds[i];
    GraphNode n;
    n.id = static_cast<int>(int_field(jn, "id", where));
    std::string op = str_field(jn, "op", where);
    try {
      n.op = OpId::from_name(op);
    } catch (const NotFound&) {
      bad(where + ".op", "unknown op '" + op + "'");
    }
    const OpDef& def = def_of(n);
    std::shared_ptr<void> attrs = def.new_attrs();
    const json& ja = field(jn, "attrs", where);
    if (!ja.is_object()) bad(where + ".attrs", "must be an object");
    AttrReader r(ja, where + ".attrs");
    r.before_1_1 = ver[0] == 1 && ver[1] < 1;
    r.before_1_2 = ver[0] == 1 && ver[1] < 2;
    r.before_1_3 = ver[0] == 1 && ver[1] < 3;
    def.visit_attrs(attrs.get(), r);
    n.attrs = attrs;
    n.inputs = ids_field(jn, "inputs", where);
    n.outputs = ids_field(jn, "outputs", where);
    if (jn.contains("meta")) {
      const json& m = jn.at("meta");
      if (m.contains("scope")) n.scope = str_field(m, "scope", where + ".meta");
      if (m.contains("file")) n.file = str_field(m, "file", where + ".meta");
      if (m.contains("line")) n.line = static_cast<int>(int_field(m, "line", where + ".meta"));
    }
    g.nodes.push_back(std::move(n));
  }
  g.inputs = ids_field(j, "inputs", "(document)");
  g.outputs = ids_field(j, "outputs", "(document)");
  if (j.contains("guards")) {
    const json& gs = j.at("guards");
    if (!gs.is_array()) bad("guards", "must be a list");
    for (size_t i = 0; i < gs.size(); ++i) {
      std::string where = "guards[" + std::to_string(i) + "]";
      GraphGuard gd;
      gd.value = static_cast<int>(int_field(gs[i], "value", where));
      DType d = DType::float32;
      std::string dname = str_field(gs[i], "dtype", where);
      try {
        d = dtype_from_name(dname);
      } catch (const InvalidArgument&) {
        bad(where + ".dtype", "unknown dtype '" + dname + "'");
      }
      Shape shape = ints_field(gs[i], "shape", where);
      for (int64_t dim : shape)
        if (dim < 0) bad(where + ".shape", "negative dimension");
      std::vector<unsigned char> bytes = base64_decode(str_field(gs[i], "expected", where), where + ".expected");
      if (bytes.size() != static_cast<size_t>(numel(shape)) * dtype_size(d))
        bad(where + ".expected", "bytes do not fill " + shape_str(shape) + " " + dtype_name(d));
      gd.expected = Tensor::from_bytes(bytes.data(), static_cast<size_t>(numel(shape)), d, shape);
      gd.file = str_field(gs[i], "file", where);
      gd.line = static_cast<int>(int_field(gs[i], "line", where));
      g.guards.push_back(std::move(gd));
    }
  }
  if (j.contains("provenance")) {
    const json& ps = j.at("provenance");
    if (!ps.is_array()) bad("provenance", "must be a list");
    for (size_t i = 0; i < ps.size(); ++i) {
      std::string where = "provenance[" + std::to_string(i) + "]";
      GraphProvenance p;
      p.pass = str_field(ps[i], "pass", where);
      p.action = str_field(ps[i], "action", where);
      p.nodes = ids_field(ps[i], "nodes", where);
      p.detail = str_field(ps[i], "detail", where);
      g.provenance.push_back(std::move(p));
    }
  }
  g.validate();
  return g;
}

void Graph::save(const std::string& path) const {
  std::string text = to_json();
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw NotFound("[graph.save] cannot write '" + tmp + "'");
    f << text;
    if (!f) throw DataLoss("[graph.save] writing '" + tmp + "' failed");
  }
  // Rename so that a crash never leaves a half-written graph where a good one was.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw DataLoss("[graph.save] cannot replace '" + path + "'");
}

Graph Graph::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NotFound("[graph.load] cannot open '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return from_json(ss.str());
}

}  // namespace xf
