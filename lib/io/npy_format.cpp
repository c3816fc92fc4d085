#include "io/npy_format.hpp"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "xflow/error.hpp"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "xflow's .npy reader and writer assume a little-endian host"
#endif

namespace xf::io {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// ---- a Python literal, as much of one as an .npy header holds ----

struct PyValue {
  enum class Kind { string, boolean, integer, tuple, list, dict, none };
  Kind kind = Kind::none;
  std::string s;
  bool b = false;
  int64_t i = 0;
  bool int_overflow = false;  // an integer literal beyond int64
  std::vector<PyValue> items;  // tuple, list; dict: key, value, key, value...
};

const char* kind_name(PyValue::Kind k) {
  switch (k) {
    case PyValue::Kind::string: return "a string";
    case PyValue::Kind::boolean: return "a bool";
    case PyValue::Kind::integer: return "an integer";
    case PyValue::Kind::tuple: return "a tuple";
    case PyValue::Kind::list: return "a list";
    case PyValue::Kind::dict: return "a dict";
    case PyValue::Kind::none: return "None";
  }
  return "?";
}

// A recursive-descent reader of Python literals: strings ('...' or "...", escapes \\ \' \"),
// True/False/None, decimal integers (sign, Python 2's L suffix in 1.0/2.0 headers), tuples,
// lists and dicts. Anything else is a malformed header.
class LiteralParser {
 public:
  LiteralParser(std::string_view text, const std::string& what, bool allow_long_suffix)
      : t_(text), what_(what), allow_long_(allow_long_suffix) {}

  PyValue parse_all() {
    PyValue v = value(0);
    skip_space();
    if (p_ != t_.size()) fail("unexpected text after the header dict");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw InvalidArgument(what_ + ": malformed .npy header (" + why + " at character " + std::to_string(p_) +
                          ")");
  }
  void skip_space() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r' ||
                              t_[p_] == '\f' || t_[p_] == '\v'))
      ++p_;
  }
  bool eat(char c) {
    skip_space();
    if (p_ < t_.size() && t_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    if (t_.substr(p_, w.size()) != w) return false;
    size_t e = p_ + w.size();
    if (e < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[e])) || t_[e] == '_')) return false;
    p_ = e;
    return true;
  }

  PyValue value(int depth) {
    if (depth > 8) fail("nesting too deep");
    skip_space();
    if (p_ >= t_.size()) fail("unexpected end");
    char c = t_[p_];
    PyValue v;
    if (c == '\'' || c == '"' || ((c == 'u' || c == 'U') && p_ + 1 < t_.size() && (t_[p_ + 1] == '\'' || t_[p_ + 1] == '"'))) {
      if (c == 'u' || c == 'U') ++p_;
      v.kind = PyValue::Kind::string;
      v.s = string();
    } else if (c == '{') {
      ++p_;
      v.kind = PyValue::Kind::dict;
      while (!eat('}')) {
        v.items.push_back(value(depth + 1));
        if (!eat(':')) fail("expected ':' in a dict");
        v.items.push_back(value(depth + 1));
        if (!eat(',')) {
          if (!eat('}')) fail("expected ',' or '}' in a dict");
          break;
        }
      }
    } else if (c == '(' || c == '[') {
      char close = c == '(' ? ')' : ']';
      ++p_;
      v.kind = c == '(' ? PyValue::Kind::tuple : PyValue::Kind::list;
      bool comma = false;
      while (!eat(close)) {
        v.items.push_back(value(depth + 1));
        comma = eat(',');
        if (!comma) {
          if (!eat(close)) fail(std::string("expected ',' or '") + close + "'");
          break;
        }
      }
      // (x) is x, not a tuple.
      if (close == ')' && v.items.size() == 1 && !comma) {
        PyValue inner = std::move(v.items[0]);
        return inner;
      }
    } else if (word("True")) {
      v.kind = PyValue::Kind::boolean;
      v.b = true;
    } else if (word("False")) {
      v.kind = PyValue::Kind::boolean;
    } else if (word("None")) {
      v.kind = PyValue::Kind::none;
    } else if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
      v.kind = PyValue::Kind::integer;
      bool negative = false;
      while (p_ < t_.size() && (t_[p_] == '-' || t_[p_] == '+')) {
        if (t_[p_] == '-') negative = !negative;
        ++p_;
        skip_space();
      }
      if (p_ >= t_.size() || t_[p_] < '0' || t_[p_] > '9') fail("expected a digit");
      if (t_[p_] == '0' && p_ + 1 < t_.size() && t_[p_ + 1] >= '0' && t_[p_ + 1] <= '9')
        fail("an integer with a leading zero");
      uint64_t n = 0;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') {
        uint64_t d = static_cast<uint64_t>(t_[p_] - '0');
        if (n > (UINT64_MAX - d) / 10) v.int_overflow = true;
        else n = n * 10 + d;
        ++p_;
      }
      if (allow_long_ && p_ < t_.size() && (t_[p_] == 'L' || t_[p_] == 'l')) ++p_;
      if (p_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[p_])) || t_[p_] == '.' || t_[p_] == '_'))
        fail("not a decimal integer");
      if (n > static_cast<uint64_t>(INT64_MAX)) v.int_overflow = true;
      v.i = negative ? -static_cast<int64_t>(n & INT64_MAX) : static_cast<int64_t>(n & INT64_MAX);
    } else {
      fail("unexpected character");
    }
    return v;
  }

  std::string string() {
    char quote = t_[p_++];
    std::string out;
    while (true) {
      if (p_ >= t_.size()) fail("unterminated string");
      char c = t_[p_++];
      if (c == quote) break;
      if (c == '\n') fail("newline in a string");
      if (c == '\\') {
        if (p_ >= t_.size()) fail("unterminated string");
        char e = t_[p_++];
        if (e != '\\' && e != '\'' && e != '"') fail("unsupported escape in a string");
        c = e;
      }
      out += c;
    }
    return out;
  }

  std::string_view t_;
  const std::string& what_;
  bool allow_long_;
  size_t p_ = 0;
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
    if (out.size() > 64) return out + "...'";
  }
  return out + "'";
}

[[noreturn]] void unsupported_dtype(const std::string& what, const std::string& descr, const std::string& why) {
  throw Unimplemented(what + ": .npy dtype " + quoted(descr) + " is not supported: " + why);
}

// descr string -> dtype; byteswap when big-endian and multi-byte.
void parse_descr(const std::string& descr, NpyHeader& h, const std::string& what) {
  std::string s = descr;
  char order = '=';
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '=' || s[0] == '|')) {
    order = s[0];
    s = s.substr(1);
  }
  if (s == "?") s = "b1";
  if (s.empty()) throw InvalidArgument(what + ": .npy header has an empty descr");
  char kind = s[0];
  std::string digits = s.substr(1);
  bool all_digits = !digits.empty() && digits.size() <= 4;
  for (char c : digits) all_digits = all_digits && c >= '0' && c <= '9';
  switch (kind) {
    case 'O': unsupported_dtype(what, descr, "object arrays hold pickled Python objects, which xflow never loads");
    case 'S': case 'a': case 'U': unsupported_dtype(what, descr, "strings have no xflow dtype");
    case 'V': unsupported_dtype(what, descr, "void (raw or structured) records have no xflow dtype");
    case 'M': case 'm': unsupported_dtype(what, descr, "datetimes have no xflow dtype");
    case 'c': unsupported_dtype(what, descr, "complex numbers have no xflow dtype");
    default: break;
  }
  if (!all_digits || (kind != 'b' && kind != 'u' && kind != 'i' && kind != 'f'))
    throw InvalidArgument(what + ": .npy header descr " + quoted(descr) + " is not a dtype descriptor");
  int size = std::stoi(digits);
  if (kind == 'b' && size == 1) h.dtype = DType::bool_;
  else if (kind == 'u' && size == 1) h.dtype = DType::uint8;
  else if (kind == 'i' && size == 4) h.dtype = DType::int32;
  else if (kind == 'i' && size == 8) h.dtype = DType::int64;
  else if (kind == 'f' && size == 4) h.dtype = DType::float32;
  else if (kind == 'f' && size == 8) h.dtype = DType::float64;
  else if (kind == 'f' && size == 2) unsupported_dtype(what, descr, "float16 has no xflow dtype");
  else if (kind == 'f') unsupported_dtype(what, descr, "extended-precision floats have no xflow dtype");
  else if ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8))
    unsupported_dtype(what, descr, std::string(kind == 'i' ? "int" : "uint") + std::to_string(size * 8) + " has no xflow dtype");
  else
    throw InvalidArgument(what + ": .npy header descr " + quoted(descr) + " is not a dtype descriptor");
  h.byteswap = order == '>' && size > 1;
}

uint32_t read_le(const char* p, int n) {
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void byteswap_in_place(uint8_t* p, uint64_t count, int size) {
  for (uint64_t i = 0; i < count; ++i, p += size) {
    if (size == 4) {
      uint32_t v;
      std::memcpy(&v, p, 4);
      v = __builtin_bswap32(v);
      std::memcpy(p, &v, 4);
    } else if (size == 8) {
      uint64_t v;
      std::memcpy(&v, p, 8);
      v = __builtin_bswap64(v);
      std::memcpy(p, &v, 8);
    }
  }
}

}  // namespace

const char* npy_descr(DType d) {
  switch (d) {
    case DType::bool_: return "|b1";
    case DType::uint8: return "|u1";
    case DType::int32: return "<i4";
    case DType::int64: return "<i8";
    case DType::float32: return "<f4";
    case DType::float64: return "<f8";
  }
  return "?";
}

uint64_t npy_header_length(std::string_view first, uint64_t total, const std::string& what) {
  if (first.size() < kMagicLen || std::memcmp(first.data(), kMagic, kMagicLen) != 0) {
    if (total < kMagicLen && std::memcmp(first.data(), kMagic, first.size()) == 0)
      throw DataLoss(what + ": truncated .npy file (" + std::to_string(total) + " bytes, no complete magic string)");
    throw InvalidArgument(what + ": not an .npy file (the magic string \\x93NUMPY is missing)");
  }
  if (first.size() < 8) throw DataLoss(what + ": truncated .npy file (ends in the version)");
  int major = static_cast<unsigned char>(first[6]), minor = static_cast<unsigned char>(first[7]);
  if (!((major == 1 || major == 2 || major == 3) && minor == 0))
    throw Unimplemented(what + ": .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                        " is not supported (only 1.0, 2.0 and 3.0)");
  size_t len_bytes = major == 1 ? 2 : 4;
  if (first.size() < 8 + len_bytes) throw DataLoss(what + ": truncated .npy file (ends in the header length)");
  uint64_t len = read_le(first.data() + 8, static_cast<int>(len_bytes));
  if (len > kNpyMaxHeaderBytes)
    throw InvalidArgument(what + ": .npy header of " + std::to_string(len) + " bytes is larger than the " +
                          std::to_string(kNpyMaxHeaderBytes) + " accepted");
  uint64_t offset = 8 + len_bytes + len;
  if (offset > total)
    throw DataLoss(what + ": truncated .npy file (the header says " + std::to_string(len) + " bytes, the file has " +
                   std::to_string(total) + " in all)");
  return offset;
}

NpyHeader parse_npy_header(std::string_view bytes, uint64_t total, const std::string& what) {
  NpyHeader h;
  h.data_offset = npy_header_length(bytes, total, what);
  if (bytes.size() < h.data_offset) throw Internal(what + ": parse_npy_header given a partial header");
  h.major = static_cast<unsigned char>(bytes[6]);
  h.minor = static_cast<unsigned char>(bytes[7]);
  size_t start = h.major == 1 ? 10 : 12;
  std::string_view text = bytes.substr(start, h.data_offset - start);
  if (h.major == 3) {
    // UTF-8: check it is well formed (the keys and supported descrs are ASCII anyway).
    for (size_t i = 0; i < text.size();) {
      unsigned char c = static_cast<unsigned char>(text[i]);
      size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      if (n == 0 || i + n > text.size()) throw InvalidArgument(what + ": .npy 3.0 header is not valid UTF-8");
      for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2)
          throw InvalidArgument(what + ": .npy 3.0 header is not valid UTF-8");
      i += n;
    }
  }
  PyValue d = LiteralParser(text, what, h.major <= 2).parse_all();
  if (d.kind != PyValue::Kind::dict)
    throw InvalidArgument(what + ": malformed .npy header (" + kind_name(d.kind) + ", not a dict)");
  const PyValue *descr = nullptr, *fortran = nullptr, *shape = nullptr;
  for (size_t k = 0; k + 1 < d.items.size(); k += 2) {
    const PyValue& key = d.items[k];
    const PyValue* slot = &d.items[k + 1];
    const PyValue** dest = nullptr;
    if (key.kind == PyValue::Kind::string && key.s == "descr") dest = &descr;
    else if (key.kind == PyValue::Kind::string && key.s == "fortran_order") dest = &fortran;
    else if (key.kind == PyValue::Kind::string && key.s == "shape") dest = &shape;
    else
      throw InvalidArgument(what + ": malformed .npy header (unexpected key " +
                            (key.kind == PyValue::Kind::string ? quoted(key.s) : std::string(kind_name(key.kind))) +
                            "; the keys are 'descr', 'fortran_order' and 'shape')");
    if (*dest) throw InvalidArgument(what + ": malformed .npy header (key " + quoted(key.s) + " twice)");
    *dest = slot;
  }
  if (!descr || !fortran || !shape)
    throw InvalidArgument(what + ": malformed .npy header (missing key '" +
                          std::string(!descr ? "descr" : !fortran ? "fortran_order" : "shape") + "')");
  if (descr->kind == PyValue::Kind::list)
    throw Unimplemented(what + ": .npy structured dtypes (a list descr) are not supported: xflow tensors have one dtype");
  if (descr->kind != PyValue::Kind::string)
    throw InvalidArgument(what + ": malformed .npy header ('descr' is " + kind_name(descr->kind) + ", not a string)");
  if (fortran->kind != PyValue::Kind::boolean)
    throw InvalidArgument(what + ": malformed .npy header ('fortran_order' is " + kind_name(fortran->kind) +
                          ", not True or False)");
  if (shape->kind != PyValue::Kind::tuple)
    throw InvalidArgument(what + ": malformed .npy header ('shape' is " + kind_name(shape->kind) + ", not a tuple)");
  parse_descr(descr->s, h, what);
  h.fortran_order = fortran->b;
  if (shape->items.size() > kNpyMaxRank)
    throw InvalidArgument(what + ": .npy header has rank " + std::to_string(shape->items.size()) +
                          ", over NumPy's limit of 32 dimensions");
  uint64_t elements = 1;
  bool overflow = false, empty = false;
  for (const PyValue& dim : shape->items) {
    if (dim.kind != PyValue::Kind::integer)
      throw InvalidArgument(what + ": malformed .npy header (a dimension is " + kind_name(dim.kind) +
                            ", not an integer)");
    if (dim.int_overflow || dim.i < 0)
      throw InvalidArgument(what + ": .npy header has a " + (dim.i < 0 ? "negative" : "huge") + " dimension");
    h.shape.push_back(dim.i);
    // The product of the non-zero dimensions must fit even when another is 0: strides of the
    // (empty) tensor are products of dimensions too.
    uint64_t n = static_cast<uint64_t>(dim.i);
    if (n == 0) empty = true;
    else if (elements > (uint64_t{1} << 62) / n) overflow = true;
    else elements *= n;
  }
  uint64_t itemsize = static_cast<uint64_t>(dtype_size(h.dtype));
  if (!overflow && elements > (uint64_t{1} << 62) / itemsize) overflow = true;
  if (overflow)
    throw InvalidArgument(what + ": .npy header shape " + shape_str(h.shape) + " has more elements than can exist");
  h.data_bytes = empty ? 0 : elements * itemsize;
  uint64_t available = total - h.data_offset;
  if (available < h.data_bytes)
    throw DataLoss(what + ": truncated .npy data (shape " + shape_str(h.shape) + " of " + dtype_name(h.dtype) +
                   " needs " + std::to_string(h.data_bytes) + " bytes, the file has " + std::to_string(available) +
                   " after the header)");
  if (available > h.data_bytes)
    throw DataLoss(what + ": .npy file has " + std::to_string(available - h.data_bytes) +
                   " bytes after the data its header describes (shape " + shape_str(h.shape) + " of " +
                   dtype_name(h.dtype) + ", " + std::to_string(h.data_bytes) + " bytes)");
  return h;
}

void npy_data_to_native(const NpyHeader& h, const uint8_t* in, uint8_t* out) {
  const int size = dtype_size(h.dtype);
  const uint64_t count = h.data_bytes / static_cast<uint64_t>(size);
  if (count == 0) return;
  if (h.fortran_order && h.shape.size() > 1) {
    // Column-major to row-major: walk the output in row-major order, the input by the strides of
    // a column-major layout (the first axis is contiguous).
    const size_t rank = h.shape.size();
    std::vector<uint64_t> in_stride(rank);
    uint64_t s = static_cast<uint64_t>(size);
    for (size_t a = 0; a < rank; ++a) {
      in_stride[a] = s;
      s *= static_cast<uint64_t>(h.shape[a]);
    }
    std::vector<int64_t> index(rank, 0);
    const int64_t inner = h.shape[rank - 1];
    const uint64_t inner_stride = in_stride[rank - 1];
    uint64_t in_off = 0;
    uint8_t* o = out;
    for (uint64_t done = 0; done < count; done += static_cast<uint64_t>(inner)) {
      const uint8_t* src = in + in_off;
      for (int64_t k = 0; k < inner; ++k, o += size, src += inner_stride) std::memcpy(o, src, static_cast<size_t>(size));
      // Advance the outer index (all but the last axis) like an odometer.
      for (size_t a = rank - 1; a-- > 0;) {
        if (++index[a] < h.shape[a]) {
          in_off += in_stride[a];
          break;
        }
        in_off -= in_stride[a] * static_cast<uint64_t>(h.shape[a] - 1);
        index[a] = 0;
      }
    }
  } else if (in != out) {
    std::memcpy(out, in, h.data_bytes);
  }
  if (h.byteswap) byteswap_in_place(out, count, size);
  if (h.dtype == DType::bool_)
    for (uint64_t i = 0; i < count; ++i) out[i] = out[i] != 0;
}

std::string npy_header(DType dtype, const Shape& shape, const std::string& what) {
  if (shape.size() > kNpyMaxRank)
    throw InvalidArgument(what + ": cannot write a tensor of rank " + std::to_string(shape.size()) +
                          " as .npy (NumPy reads at most 32 dimensions)");
  std::string shape_repr = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) shape_repr += ", ";
    shape_repr += std::to_string(shape[i]);
  }
  if (shape.size() == 1) shape_repr += ",";
  shape_repr += ")";
  std::string text = std::string("{'descr': '") + npy_descr(dtype) + "', 'fortran_order': False, 'shape': " +
                     shape_repr + ", }";
  // NumPy's room to grow the first axis in place (GROWTH_AXIS_MAX_DIGITS = 21).
  if (!shape.empty()) text.append(21 - std::to_string(shape[0]).size(), ' ');
  // Padding: magic + version + length + text + padding + '\n' is a multiple of 64 (a full 64
  // when it already was, as NumPy computes it).
  auto wrap = [&](int major, size_t len_bytes) {
    size_t hlen = text.size() + 1;
    size_t pad = 64 - ((kMagicLen + 2 + len_bytes + hlen) % 64);
    uint64_t total_len = hlen + pad;
    std::string out(kMagic, kMagicLen);
    out += static_cast<char>(major);
    out += '\0';
    for (size_t b = 0; b < len_bytes; ++b) out += static_cast<char>((total_len >> (8 * b)) & 0xff);
    out += text;
    out.append(pad, ' ');
    out += '\n';
    return out;
  };
  std::string h1 = wrap(1, 2);
  if (h1.size() - 10 <= 0xffff) return h1;
  return wrap(2, 4);
}

}  // namespace xf::io
