// Graphviz export: name scopes become nested clusters (docs/dot.md).
#include "xflow/dot.hpp"

#include <charconv>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace xf {

namespace {

// Appends `s` to `out` as the inside of a DOT quoted string. Quotes and backslashes are escaped
// (so no escString sequence like \N or \G is ever formed by accident), a newline becomes the line
// break \n, other control characters and bytes that are not UTF-8 are shown, not emitted.
void append_escaped(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  auto show_byte = [&](unsigned char c) {
    out += "\\\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  };
  const size_t n = s.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      show_byte(c);
    } else if (c >= 0x80) {
      // A UTF-8 sequence: copy it when well formed, otherwise show the byte.
      size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
      bool ok = len != 0 && i + len <= n && c >= 0xc2 && c <= 0xf4;
      for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      if (ok && len == 3) {
        unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
        ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogate
      }
      if (ok && len == 4) {
        unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
        ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);  // overlong, beyond U+10FFFF
      }
      if (ok) {
        out.append(s, i, len);
        i += len;
        continue;
      }
      show_byte(c);
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  append_escaped(out, s);
  return out + "\"";
}

// A label of several lines: every line escaped, joined by DOT's centered line break.
std::string label_of(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += "\\n";
    append_escaped(out, lines[i]);
  }
  return out + "\"";
}

std::string spec_of(const GraphValue& v) { return shape_str(v.shape) + " " + dtype_name(v.dtype); }

// The value of a one-element constant, read from its buffer directly (not via item(), which would
// count as a host read if a trace is active).
std::string scalar_text(const Tensor& t) {
  char buf[64];
  std::to_chars_result r{buf, std::errc{}};
  switch (t.dtype()) {
    case DType::bool_: return *t.data<uint8_t>() ? "true" : "false";
    case DType::uint8: return std::to_string(*t.data<uint8_t>());
    case DType::int32: return std::to_string(*t.data<int32_t>());
    case DType::int64: return std::to_string(*t.data<int64_t>());
    case DType::float32: r = std::to_chars(buf, buf + sizeof buf, *t.data<float>()); break;
    case DType::float64: r = std::to_chars(buf, buf + sizeof buf, *t.data<double>()); break;
  }
  return r.ec == std::errc{} ? std::string(buf, r.ptr) : std::string("?");
}

std::vector<std::string> split_scope(const std::string& scope) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = scope.find('/', start);
    std::string part = scope.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

struct Cluster {
  std::string name;                // the scope component
  std::string path;                // "dense1/inner"
  std::vector<int> children;       // cluster indices, in order of first appearance
  std::vector<std::string> stmts;  // node statements placed in this cluster
};

class ClusterTree {
 public:
  ClusterTree() { clusters_.push_back(Cluster{}); }  // 0: the graph itself

  // The cluster for a scope path (the components of a scope without its leaf); creates it.
  int get(const std::vector<std::string>& path) {
    int cur = 0;
    for (const std::string& part : path) {
      auto key = std::make_pair(cur, part);
      auto it = index_.find(key);
      if (it == index_.end()) {
        Cluster c;
        c.name = part;
        c.path = clusters_[cur].path.empty() ? part : clusters_[cur].path + "/" + part;
        clusters_.push_back(std::move(c));
        int id = static_cast<int>(clusters_.size()) - 1;
        clusters_[cur].children.push_back(id);
        it = index_.emplace(key, id).first;
      }
      cur = it->second;
    }
    return cur;
  }

  void add(int cluster, std::string stmt) { clusters_[cluster].stmts.push_back(std::move(stmt)); }

  void emit(std::string& out, int cluster, int depth) const {
    const Cluster& c = clusters_[cluster];
    std::string pad(static_cast<size_t>(2 * depth), ' ');
    for (const std::string& s : c.stmts) out += pad + s + "\n";
    for (int child : c.children) {
      const Cluster& k = clusters_[child];
      out += pad + "subgraph cluster_" + std::to_string(child) + " {\n";
      out += pad + "  label=" + quoted(k.name) + ";\n";
      out += pad + "  tooltip=" + quoted(k.path) + ";\n";
      out += pad + "  style=\"rounded\";\n";
      out += pad + "  color=\"#9ca3af\";\n";
      emit(out, child, depth + 1);
      out += pad + "}\n";
    }
  }

 private:
  std::vector<Cluster> clusters_;
  std::map<std::pair<int, std::string>, int> index_;
};

}  // namespace

std::string to_dot(const Graph& g) {
  const int nv = static_cast<int>(g.values.size());
  const int nn = static_cast<int>(g.nodes.size());
  auto check_value = [&](int id, const std::string& where) {
    if (id < 0 || id >= nv)
      throw InvalidArgument("[to_dot] " + where + " refers to value " + std::to_string(id) + ", which does not exist");
  };
  for (const GraphValue& v : g.values)
    if (v.kind == GraphValue::Kind::node_output && (v.producer < 0 || v.producer >= nn))
      throw InvalidArgument("[to_dot] value " + std::to_string(v.id) + " is produced by node " +
                            std::to_string(v.producer) + ", which does not exist");
  for (const GraphNode& n : g.nodes)
    for (int id : n.inputs) check_value(id, "node " + std::to_string(n.id) + " (" + n.op.name() + ")");
  for (int id : g.outputs) check_value(id, "the graph's outputs");

  // Where each value comes from, as a DOT node id.
  auto source_of = [&](int value) {
    const GraphValue& v = g.values[value];
    return v.kind == GraphValue::Kind::node_output ? "n" + std::to_string(v.producer) : "v" + std::to_string(value);
  };
  std::set<std::string> output_sources;
  for (int id : g.outputs) output_sources.insert(source_of(id));
  auto bold = [&](const std::string& dot_id) { return output_sources.count(dot_id) ? ", penwidth=2" : ""; };

  ClusterTree tree;
  std::vector<std::vector<std::string>> node_path(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    std::vector<std::string> parts = split_scope(n.scope);
    std::string leaf;
    if (!parts.empty() && !n.scope.empty() && n.scope.back() != '/') {
      leaf = parts.back();
      parts.pop_back();
    }
    node_path[i] = parts;
    std::vector<std::string> label;
    if (!leaf.empty() && leaf != n.op) label.push_back(leaf);
    label.push_back(n.op.name());
    std::string tip = (n.scope.empty() ? std::string(n.op.name()) : n.scope) + " (node " + std::to_string(n.id) + ")";
    if (!n.file.empty()) tip += " at " + n.file + ":" + std::to_string(n.line);
    std::string id = "n" + std::to_string(i);
    tree.add(tree.get(parts), id + " [label=" + label_of(label) + ", tooltip=" + quoted(tip) +
                                  ", shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\"" + bold(id) + "];");
  }

  // A constant sits in the innermost scope that holds every node reading it.
  std::vector<std::vector<std::string>> const_path(g.values.size());
  std::vector<bool> const_used(g.values.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int id : g.nodes[i].inputs) {
      if (g.values[id].kind != GraphValue::Kind::constant) continue;
      if (!const_used[id]) {
        const_used[id] = true;
        const_path[id] = node_path[i];
      } else {
        std::vector<std::string>& p = const_path[id];
        size_t k = 0;
        while (k < p.size() && k < node_path[i].size() && p[k] == node_path[i][k]) ++k;
        p.resize(k);
      }
    }
  for (int id : g.outputs) const_path[id].clear();  // also read from outside: top level

  std::string out = "digraph xflow {\n";
  out += "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11];\n";
  out += "  node [fontname=\"Helvetica\", fontsize=10];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#4b5563\"];\n";
  for (const GraphValue& v : g.values) {
    std::string id = "v" + std::to_string(v.id);
    if (v.kind == GraphValue::Kind::placeholder) {
      std::string name = v.name.empty() ? "placeholder " + std::to_string(v.id) : v.name;
      out += "  " + id + " [label=" + label_of({name, spec_of(v)}) + ", tooltip=" +
             quoted("placeholder (value " + std::to_string(v.id) + ")") +
             ", shape=invhouse, style=filled, fillcolor=\"#dbeafe\"" + bold(id) + "];\n";
    } else if (v.kind == GraphValue::Kind::constant) {
      std::vector<std::string> label{"const"};
      if (v.constant.defined() && v.constant.size() == 1) label.push_back(scalar_text(v.constant));
      else label.push_back(spec_of(v));
      tree.add(tree.get(const_path[v.id]),
               id + " [label=" + label_of(label) + ", tooltip=" +
                   quoted("constant " + spec_of(v) + " (value " + std::to_string(v.id) + ")") +
                   ", shape=note, style=filled, fillcolor=\"#fef3c7\"" + bold(id) + "];");
    }
  }
  tree.emit(out, 0, 1);
  for (size_t k = 0; k < g.outputs.size(); ++k)
    out += "  out" + std::to_string(k) + " [label=" + quoted("output " + std::to_string(k)) +
           ", shape=oval, peripheries=2, style=filled, fillcolor=\"#dcfce7\"];\n";

  auto edge_label = [&](int value) {
    const GraphValue& v = g.values[value];
    std::string s = spec_of(v);
    if (v.kind == GraphValue::Kind::node_output && g.nodes[v.producer].outputs.size() > 1)
      s = ":" + std::to_string(v.output_index) + " " + s;
    return quoted(s);
  };
  for (const GraphNode& n : g.nodes)
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      int id = n.inputs[k];
      out += "  " + source_of(id) + " -> n" + std::to_string(n.id) + " [label=" + edge_label(id) + ", tooltip=" +
             quoted("value " + std::to_string(id) + " as input " + std::to_string(k)) + "];\n";
    }
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    int id = g.outputs[k];
    out += "  " + source_of(id) + " -> out" + std::to_string(k) + " [label=" + edge_label(id) + ", tooltip=" +
           quoted("value " + std::to_string(id)) + ", style=dashed];\n";
  }
  return out + "}\n";
}

}  // namespace xf
