// The `checkpoint` state file (TensorFlow's CheckpointState text proto) and Python's os.path
// functions that TensorFlow's checkpoint_management.py applies to its paths. The byte-level parts
// (text writer and parser, path functions) use only the standard library and xflow's errors, so the
// fuzz target links this file alone with lib/core/error.cpp and lib/io/atomic_file.cpp.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "io/atomic_file.hpp"
#include "xflow/checkpoint.hpp"
#include "xflow/error.hpp"

namespace xf::io {

// ---- os.path (POSIX) ----
namespace path {

bool is_absolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

std::string join(const std::string& a, const std::string& b) {
  if (is_absolute(b) || a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string dirname(const std::string& p) {
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return "";
  std::string head = p.substr(0, slash + 1);
  // Trailing slashes are removed unless the head is all slashes.
  if (head.find_first_not_of('/') != std::string::npos) {
    while (!head.empty() && head.back() == '/') head.pop_back();
  }
  return head;
}

std::string basename(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

namespace {
std::vector<std::string> components(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string current_dir() {
  std::string buf(4096, '\0');
  while (::getcwd(buf.data(), buf.size()) == nullptr) {
    if (errno != ERANGE) throw NotFound(std::string("cannot read the current directory: ") + std::strerror(errno));
    buf.resize(buf.size() * 2);
  }
  return std::string(buf.c_str());
}

std::string abspath(const std::string& p) { return normpath(is_absolute(p) ? p : join(current_dir(), p)); }
}  // namespace

std::string normpath(const std::string& p) {
  if (p.empty()) return ".";
  // POSIX allows one implementation-defined leading "//"; Python keeps exactly two slashes.
  int initial = 0;
  if (p[0] == '/') initial = (p.size() >= 2 && p[1] == '/' && (p.size() == 2 || p[2] != '/')) ? 2 : 1;
  std::vector<std::string> out;
  for (const std::string& c : components(p)) {
    if (c == ".") continue;
    if (c != ".." || (!initial && out.empty()) || (!out.empty() && out.back() == "..")) {
      out.push_back(c);
    } else if (!out.empty()) {
      out.pop_back();
    }
  }
  std::string r(static_cast<size_t>(initial), '/');
  for (size_t i = 0; i < out.size(); ++i) r += (i ? "/" : "") + out[i];
  return r.empty() ? "." : r;
}

std::string relpath(const std::string& p, const std::string& start) {
  if (p.empty()) throw InvalidArgument("relpath: no path specified");
  std::vector<std::string> s = components(abspath(start.empty() ? "." : start)), t = components(abspath(p));
  size_t i = 0;
  while (i < s.size() && i < t.size() && s[i] == t[i]) ++i;
  std::string r;
  for (size_t k = i; k < s.size(); ++k) r += r.empty() ? ".." : "/..";
  for (size_t k = i; k < t.size(); ++k) r += (r.empty() ? "" : "/") + t[k];
  return r.empty() ? "." : r;
}

}  // namespace path

// ---- text format ----
namespace {

// Python's CEscape with as_utf8=False: bytes outside printable ASCII as three-digit octal.
void append_escaped(std::string& out, const std::string& s) {
  for (unsigned char c : s) {
    switch (c) {
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 32 && c < 127) {
          out += static_cast<char>(c);
        } else {
          char buf[5];
          std::snprintf(buf, sizeof buf, "\\%03o", c);
          out += buf;
        }
    }
  }
}

// Python's repr(float) (what text_format prints for a double field): the shortest digits that
// round-trip, fixed notation for decimal exponents -4..15 (with ".0" when integral), otherwise
// d.ddde+XX.
std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-1.2345e+09"
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp10 = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  if (exp10 >= -4 && exp10 < 16) {
    std::string r;
    if (exp10 < 0) {
      r = "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exp10 + 1) {
      r = digits + std::string(static_cast<size_t>(exp10 + 1) - digits.size(), '0') + ".0";
    } else {
      r = digits.substr(0, static_cast<size_t>(exp10 + 1)) + "." + digits.substr(static_cast<size_t>(exp10 + 1));
    }
    return sign + r;
  }
  std::string r = digits.substr(0, 1);
  if (digits.size() > 1) r += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
  return sign + r + ebuf;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' || c == '.';
}

// A tokenizer with the token classes of Python's text_format.Tokenizer: identifiers, numbers,
// quoted strings (one line each), single characters; whitespace and `#` comments between them.
class Tokenizer {
 public:
  explicit Tokenizer(const std::string& text) : s_(text) { next(); }

  const std::string& token() const { return tok_; }
  bool at_end() const { return tok_.empty() && pos_ >= s_.size(); }

  // "line:column : message", 1-based, at the current token (or the one before it).
  [[noreturn]] void fail(const std::string& what, bool previous = false) const {
    int l = previous ? prev_line_ : tok_line_, c = previous ? prev_col_ : tok_col_;
    throw InvalidArgument(std::to_string(l) + ":" + std::to_string(c + 1) + " : " + what);
  }

  bool try_consume(const std::string& t) {
    if (tok_ != t) return false;
    next();
    return true;
  }
  void consume(const std::string& t) {
    if (!try_consume(t)) fail("Expected \"" + t + "\".");
  }

  std::string consume_identifier() {
    if (tok_.empty() || !is_ident_start(tok_[0])) fail("Expected identifier or number, got " + tok_ + ".");
    std::string r = tok_;
    next();
    return r;
  }

  // One or more adjacent string literals, concatenated, unescaped; must be UTF-8 (proto3 string).
  std::string consume_string() {
    if (tok_.empty() || (tok_[0] != '"' && tok_[0] != '\'')) fail("Expected string but found: '" + tok_ + "'");
    std::string out;
    while (!tok_.empty() && (tok_[0] == '"' || tok_[0] == '\'')) {
      if (tok_.size() < 2 || tok_.back() != tok_[0]) fail("String missing ending quote: '" + tok_ + "'");
      unescape(tok_.substr(1, tok_.size() - 2), out);
      next();
    }
    if (!valid_utf8(out)) fail("Invalid UTF-8 in a string field");
    return out;
  }

  double consume_double() {
    double v = 0;
    if (!parse_double(tok_, v)) fail("Couldn't parse float: " + tok_);
    next();
    return v;
  }

 private:
  void skip_space() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') advance();
      } else if (is_space(c)) {
        advance();
      } else {
        break;
      }
    }
  }
  void advance() {
    if (s_[pos_] == '\n') {
      ++line_;
      col_ = 0;
    } else {
      ++col_;
    }
    ++pos_;
  }

  void next() {
    prev_line_ = tok_line_;
    prev_col_ = tok_col_;
    for (size_t k = 0; k < tok_.size(); ++k) advance();
    skip_space();
    tok_line_ = line_;
    tok_col_ = col_;
    tok_.clear();
    if (pos_ >= s_.size()) return;
    char c = s_[pos_];
    size_t end = pos_ + 1;
    if (is_ident_start(c)) {
      while (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_' ||
                                 s_[end] == '+' || s_[end] == '-'))
        ++end;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
               (c == '.' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      while (end < s_.size() && is_word(s_[end])) ++end;
    } else if (c == '"' || c == '\'') {
      // Up to the closing quote on this line, or to the end of the line (an unterminated string).
      while (end < s_.size() && s_[end] != '\n' && s_[end] != c) {
        if (s_[end] == '\\' && end + 1 < s_.size() && s_[end + 1] != '\n') ++end;
        ++end;
      }
      if (end < s_.size() && s_[end] == c) ++end;
    }
    tok_ = s_.substr(pos_, end - pos_);
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Python's CUnescape (the 'unicode_escape' codec on the literal's bytes).
  void unescape(const std::string& t, std::string& out) const {
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] != '\\') {
        out += t[i];
        continue;
      }
      if (++i >= t.size()) fail("\\ at end of string");
      char c = t[i];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'x': {
          int v = 0, n = 0;
          while (n < 2 && i + 1 < t.size() && hex(t[i + 1]) >= 0) v = v * 16 + hex(t[++i]), ++n;
          if (n == 0) fail("truncated \\x escape");
          out += static_cast<char>(v);
          break;
        }
        case 'u':
        case 'U': {
          int want = c == 'u' ? 4 : 8;
          uint32_t v = 0;
          for (int n = 0; n < want; ++n) {
            if (i + 1 >= t.size() || hex(t[i + 1]) < 0) fail(std::string("truncated \\") + c + " escape");
            v = v * 16 + static_cast<uint32_t>(hex(t[++i]));
          }
          if (v > 0x10FFFF) fail("illegal Unicode character");
          if (v < 256) {
            out += static_cast<char>(v);
          } else {  // raw_unicode_escape writes the escape back as text
            char buf[16];
            std::snprintf(buf, sizeof buf, v < 0x10000 ? "\\u%04x" : "\\U%08x", v);
            out += buf;
          }
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            int v = c - '0', n = 1;
            while (n < 3 && i + 1 < t.size() && t[i + 1] >= '0' && t[i + 1] <= '7') v = v * 8 + (t[++i] - '0'), ++n;
            if (v > 255) fail("octal escape out of range");
            out += static_cast<char>(v);
          } else {  // an unknown escape stays as written
            out += '\\';
            out += c;
          }
      }
    }
  }

  static bool valid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        ++i;
        continue;
      }
      size_t n;
      uint32_t cp;
      if ((c >> 5) == 6) n = 1, cp = c & 0x1F;
      else if ((c >> 4) == 14) n = 2, cp = c & 0x0F;
      else if ((c >> 3) == 30) n = 3, cp = c & 0x07;
      else return false;
      if (i + n >= s.size()) return false;
      for (size_t k = 1; k <= n; ++k) {
        unsigned char d = static_cast<unsigned char>(s[i + k]);
        if ((d >> 6) != 2) return false;
        cp = (cp << 6) | (d & 0x3F);
      }
      if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
          (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
      i += n + 1;
    }
    return true;
  }

  // Python's float() on the token, then text_format's spellings: [-]inf[inity][f], nan[f], a
  // trailing 'f'.
  static bool parse_double(std::string t, double& v) {
    auto lower = [](std::string x) {
      for (char& c : x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return x;
    };
    auto plain = [&](const std::string& x) {
      std::string l = lower(x);
      size_t i = 0;
      bool neg = false;
      if (i < l.size() && (l[i] == '+' || l[i] == '-')) neg = l[i++] == '-';
      std::string rest = l.substr(i);
      if (rest == "inf" || rest == "infinity") {
        v = neg ? -HUGE_VAL : HUGE_VAL;
        return true;
      }
      if (rest == "nan") {
        v = std::nan("");
        return true;
      }
      // [digits][.digits][e[+-]digits], at least one digit in the mantissa.
      size_t j = 0, mant = 0;
      while (j < rest.size() && std::isdigit(static_cast<unsigned char>(rest[j]))) ++j, ++mant;
      if (j < rest.size() && rest[j] == '.') {
        ++j;
        while (j < rest.size() && std::isdigit(static_cast<unsigned char>(rest[j]))) ++j, ++mant;
      }
      if (mant == 0) return false;
      if (j < rest.size() && rest[j] == 'e') {
        ++j;
        if (j < rest.size() && (rest[j] == '+' || rest[j] == '-')) ++j;
        size_t ed = 0;
        while (j < rest.size() && std::isdigit(static_cast<unsigned char>(rest[j]))) ++j, ++ed;
        if (ed == 0) return false;
      }
      if (j != rest.size()) return false;
      v = std::strtod(x.c_str(), nullptr);
      return true;
    };
    if (plain(t)) return true;
    std::string l = lower(t);
    std::string body = l[0] == '-' ? l.substr(1) : l;
    if (body == "inf" || body == "inff" || body == "infinity" || body == "infinityf") {
      v = l[0] == '-' ? -HUGE_VAL : HUGE_VAL;
      return true;
    }
    if (l == "nan" || l == "nanf") {
      v = std::nan("");
      return true;
    }
    while (!t.empty() && t.back() == 'f') t.pop_back();
    return !t.empty() && plain(t);
  }

  const std::string& s_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 0, tok_line_ = 1, tok_col_ = 0, prev_line_ = 1, prev_col_ = 0;
  std::string tok_;
};

std::string read_file(const std::string& p, bool* ok) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  *ok = static_cast<bool>(f) || f.eof();
  if (f.bad()) *ok = false;
  return ss.str();
}

bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

std::string checkpoint_state_text(const CheckpointState& state) {
  std::string out;
  auto field = [&](const char* name, const std::string& v) {
    out += name;
    out += ": \"";
    append_escaped(out, v);
    out += "\"\n";
  };
  // proto3: a singular field at its default (empty, 0) is not printed.
  if (!state.model_checkpoint_path.empty()) field("model_checkpoint_path", state.model_checkpoint_path);
  for (const auto& p : state.all_model_checkpoint_paths) field("all_model_checkpoint_paths", p);
  for (double t : state.all_model_checkpoint_timestamps)
    out += "all_model_checkpoint_timestamps: " + python_float_repr(t) + "\n";
  uint64_t bits;
  std::memcpy(&bits, &state.last_preserved_timestamp, sizeof bits);
  if (bits != 0) out += "last_preserved_timestamp: " + python_float_repr(state.last_preserved_timestamp) + "\n";
  return out;
}

CheckpointState parse_checkpoint_state(const std::string& text) {
  CheckpointState st;
  Tokenizer tk(text);
  while (!tk.at_end()) {
    std::string name = tk.consume_identifier();
    bool repeated = name == "all_model_checkpoint_paths" || name == "all_model_checkpoint_timestamps";
    bool is_string = name == "model_checkpoint_path" || name == "all_model_checkpoint_paths";
    if (!repeated && !is_string && name != "last_preserved_timestamp")
      tk.fail("Message type \"tensorflow.CheckpointState\" has no field named \"" + name + "\".",
              /*previous=*/true);
    tk.consume(":");
    auto one = [&] {
      if (name == "model_checkpoint_path") st.model_checkpoint_path = tk.consume_string();
      else if (name == "all_model_checkpoint_paths") st.all_model_checkpoint_paths.push_back(tk.consume_string());
      else if (name == "all_model_checkpoint_timestamps") st.all_model_checkpoint_timestamps.push_back(tk.consume_double());
      else st.last_preserved_timestamp = tk.consume_double();
    };
    if (repeated && tk.try_consume("[")) {
      if (!tk.try_consume("]")) {
        while (true) {
          one();
          if (tk.try_consume("]")) break;
          tk.consume(",");
        }
      }
    } else {
      one();
    }
    if (!tk.try_consume(",")) tk.try_consume(";");
  }
  return st;
}

std::optional<CheckpointState> get_checkpoint_state(const std::string& dir, const std::string& latest_filename) {
  std::string file = path::join(dir, latest_filename.empty() ? "checkpoint" : latest_filename);
  if (!exists(file)) return std::nullopt;
  bool ok = false;
  std::string text = read_file(file, &ok);
  CheckpointState st;
  try {
    if (!ok) throw InvalidArgument("cannot read the file");
    st = parse_checkpoint_state(text);
  } catch (const InvalidArgument& e) {
    std::cerr << "[checkpoint] warning: " << file << ": " << e.what() << "; checkpoint ignored\n";
    return std::nullopt;
  }
  if (st.model_checkpoint_path.empty()) throw InvalidArgument("Invalid checkpoint state loaded from " + dir);
  if (!path::is_absolute(st.model_checkpoint_path)) st.model_checkpoint_path = path::join(dir, st.model_checkpoint_path);
  for (auto& p : st.all_model_checkpoint_paths)
    if (!path::is_absolute(p)) p = path::join(dir, p);
  return st;
}

void update_checkpoint_state(const std::string& dir, const CheckpointState& state, const std::string& latest_filename,
                             bool save_relative_paths) {
  CheckpointState st = state;
  if (st.model_checkpoint_path.empty())
    throw InvalidArgument("update_checkpoint_state: model_checkpoint_path is empty (dir " + dir + ")");
  if (save_relative_paths) {
    if (path::is_absolute(st.model_checkpoint_path)) st.model_checkpoint_path = path::relpath(st.model_checkpoint_path, dir);
    for (auto& p : st.all_model_checkpoint_paths)
      if (path::is_absolute(p)) p = path::relpath(p, dir);
  }
  // generate_checkpoint_state_proto
  if (st.all_model_checkpoint_paths.empty() || st.all_model_checkpoint_paths.back() != st.model_checkpoint_path)
    st.all_model_checkpoint_paths.push_back(st.model_checkpoint_path);
  if (!st.all_model_checkpoint_timestamps.empty() &&
      st.all_model_checkpoint_timestamps.size() != st.all_model_checkpoint_paths.size())
    throw InvalidArgument("Checkpoint timestamps, if provided, must match checkpoint paths (got " +
                          std::to_string(st.all_model_checkpoint_paths.size()) + " paths and " +
                          std::to_string(st.all_model_checkpoint_timestamps.size()) + " timestamps)");
  if (!path::is_absolute(dir)) {
    if (!path::is_absolute(st.model_checkpoint_path)) st.model_checkpoint_path = path::relpath(st.model_checkpoint_path, dir);
    for (auto& p : st.all_model_checkpoint_paths)
      if (p.empty()) throw InvalidArgument("update_checkpoint_state: an empty checkpoint path (dir " + dir + ")");
      else if (!path::is_absolute(p)) p = path::relpath(p, dir);
  }
  std::string file = path::join(dir, latest_filename.empty() ? "checkpoint" : latest_filename);
  if (file == st.model_checkpoint_path)
    throw InvalidArgument("Save path '" + state.model_checkpoint_path +
                          "' conflicts with path used for checkpoint state.  Please use a different save path.");
  write_file_atomically(file, checkpoint_state_text(st));
}

std::string latest_checkpoint(const std::string& dir, const std::string& latest_filename) {
  auto st = get_checkpoint_state(dir, latest_filename);
  if (!st || st->model_checkpoint_path.empty()) return "";
  if (checkpoint_exists(st->model_checkpoint_path)) return st->model_checkpoint_path;
  std::cerr << "[checkpoint] error: couldn't match files for checkpoint " << st->model_checkpoint_path << "\n";
  return "";
}

bool checkpoint_exists(const std::string& prefix) {
  if (prefix.empty()) return false;
  return exists(prefix + ".index") || exists(prefix);
}

}  // namespace xf::io
