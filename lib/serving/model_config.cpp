// The model config file: TF Serving's ModelServerConfig (model_server_config.proto) in protobuf
// text format, or the same message in protobuf's JSON mapping (docs/serving.md).
#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "xflow/error.hpp"
#include "xflow/serving.hpp"

namespace xf::serving {

namespace {

using json = nlohmann::json;

// A message as the text format or JSON gives it: repeated fields by name, scalars as text.
struct Node {
  bool message = false;
  std::string scalar;
  int line = 0;
  std::multimap<std::string, Node> fields;
};

class TextParser {
 public:
  TextParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Node parse() {
    Node root;
    root.message = true;
    fields(root, false);
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InvalidArgument("[serving] " + path_ + ":" + std::to_string(line_) + ": " + what);
  }
  void skip() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '\n') ++line_;
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == ';') {
        ++i_;
      } else {
        break;
      }
    }
  }
  std::string ident() {
    size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '.' || s_[i_] == '-' || s_[i_] == '+'))
      ++i_;
    if (b == i_) fail(std::string("unexpected '") + s_[i_] + "'");
    return s_.substr(b, i_ - b);
  }
  std::string quoted() {
    char q = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\n') fail("a string does not end on its line");
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      out += s_[i_++];
    }
    if (i_ >= s_.size()) fail("a string does not end");
    ++i_;
    return out;
  }
  void fields(Node& into, bool nested) {
    for (;;) {
      skip();
      if (i_ >= s_.size()) {
        if (nested) fail("a message is not closed ('}' missing)");
        return;
      }
      if (s_[i_] == '}' || s_[i_] == '>') {
        if (!nested) fail("unexpected '}'");
        ++i_;
        return;
      }
      if (++depth_ > 32) fail("messages nested too deep");
      Node n;
      n.line = line_;
      std::string name = ident();
      skip();
      bool colon = i_ < s_.size() && s_[i_] == ':';
      if (colon) {
        ++i_;
        skip();
      }
      if (i_ < s_.size() && (s_[i_] == '{' || s_[i_] == '<')) {
        ++i_;
        n.message = true;
        fields(n, true);
      } else if (!colon) {
        fail("expected ':' or '{' after '" + name + "'");
      } else if (i_ < s_.size() && (s_[i_] == '\'' || s_[i_] == '"')) {
        n.scalar = quoted();
      } else {
        n.scalar = ident();
      }
      --depth_;
      into.fields.emplace(name, std::move(n));
    }
  }
  const std::string& s_;
  std::string path_;
  size_t i_ = 0;
  int line_ = 1;
  int depth_ = 0;
};

// JSON (protobuf's mapping: lowerCamelCase or the original names; maps as objects) to a Node.
std::string snake(const std::string& k) {
  std::string out;
  for (char c : k) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

Node from_json(const json& j, const std::string& key) {
  Node n;
  if (j.is_object()) {
    n.message = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string k = snake(it.key());
      if (k == "version_labels" && it->is_object()) {
        for (auto l = it->begin(); l != it->end(); ++l) {
          Node e;
          e.message = true;
          Node kn, vn;
          kn.scalar = l.key();
          vn.scalar = l->is_string() ? l->get<std::string>() : l->dump();
          e.fields.emplace("key", kn);
          e.fields.emplace("value", vn);
          n.fields.emplace(k, e);
        }
        continue;
      }
      if (it->is_array()) {
        for (const json& e : *it) n.fields.emplace(k, from_json(e, k));
      } else {
        n.fields.emplace(k, from_json(*it, k));
      }
    }
  } else if (j.is_string()) {
    n.scalar = j.get<std::string>();
  } else {
    n.scalar = j.dump();
  }
  (void)key;
  return n;
}

int64_t to_int(const Node& n, const std::string& what, const std::string& path) {
  const std::string& s = n.scalar;
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    throw InvalidArgument("[serving] " + path + ":" + std::to_string(n.line) + ": " + what + " must be a version number, got '" + s + "'");
  return std::stoll(s);
}

const Node* one(const Node& m, const std::string& name) {
  auto it = m.fields.find(name);
  return it == m.fields.end() ? nullptr : &it->second;
}

}  // namespace

std::vector<ModelConfig> parse_model_config(const std::string& text, const std::string& path) {
  Node root;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    json j;
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      throw InvalidArgument("[serving] " + path + ": not valid JSON: " + e.what());
    }
    root = from_json(j, "");
  } else {
    root = TextParser(text, path).parse();
  }
  auto where = [&](const Node& n) { return path + ":" + std::to_string(n.line) + ": "; };
  for (const auto& [k, v] : root.fields)
    if (k != "model_config_list")
      throw InvalidArgument("[serving] " + where(v) + "'" + k + "' is not supported (only model_config_list)");
  const Node* list = one(root, "model_config_list");
  if (!list || !list->message) throw InvalidArgument("[serving] " + path + ": no model_config_list");
  std::vector<ModelConfig> out;
  for (const auto& [k, c] : list->fields) {
    if (k != "config" || !c.message) throw InvalidArgument("[serving] " + where(c) + "model_config_list has '" + k + "'; expected config { ... }");
    ModelConfig m;
    for (const auto& [f, v] : c.fields) {
      if (f == "name") {
        m.name = v.scalar;
      } else if (f == "base_path") {
        m.base_path = v.scalar;
      } else if (f == "model_platform") {
        if (v.scalar != "tensorflow") throw InvalidArgument("[serving] " + where(v) + "model_platform '" + v.scalar + "': only 'tensorflow' is served");
      } else if (f == "model_version_policy") {
        if (v.fields.size() != 1) throw InvalidArgument("[serving] " + where(v) + "model_version_policy needs one of latest, all, specific");
        const auto& [kind, p] = *v.fields.begin();
        if (kind == "latest") {
          m.policy.kind = VersionPolicy::Kind::latest;
          if (const Node* n = one(p, "num_versions")) m.policy.num_versions = static_cast<int>(std::min<int64_t>(to_int(*n, "num_versions", path), 1 << 20));
          if (m.policy.num_versions < 1) throw InvalidArgument("[serving] " + where(p) + "num_versions must be at least 1");
        } else if (kind == "all") {
          m.policy.kind = VersionPolicy::Kind::all;
        } else if (kind == "specific") {
          m.policy.kind = VersionPolicy::Kind::specific;
          for (const auto& [vk, vv] : p.fields) {
            if (vk != "versions") throw InvalidArgument("[serving] " + where(vv) + "specific has '" + vk + "'");
            m.policy.versions.push_back(to_int(vv, "versions", path));
          }
          if (m.policy.versions.empty()) throw InvalidArgument("[serving] " + where(p) + "specific lists no versions");
        } else {
          throw InvalidArgument("[serving] " + where(p) + "model_version_policy '" + kind + "': expected latest, all or specific");
        }
      } else if (f == "version_labels") {
        const Node* key = one(v, "key");
        const Node* value = one(v, "value");
        if (!key || !value) throw InvalidArgument("[serving] " + where(v) + "version_labels needs key and value");
        m.labels[key->scalar] = to_int(*value, "a version label's value", path);
      } else {
        throw InvalidArgument("[serving] " + where(v) + "config field '" + f + "' is not supported");
      }
    }
    if (m.name.empty() || m.base_path.empty()) throw InvalidArgument("[serving] " + where(c) + "a config needs name and base_path");
    out.push_back(std::move(m));
  }
  if (out.empty()) throw InvalidArgument("[serving] " + path + ": model_config_list has no config");
  return out;
}

}  // namespace xf::serving
