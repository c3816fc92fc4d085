// tf.train.Example / SequenceExample (docs/example.md). The Example and SequenceExample classes
// go through the protobuf messages (lib/io/proto/example.proto); parse_example and its relatives
// read the wire format directly (as TensorFlow's example_proto_fast_parsing.cc does): views into
// the serialized bytes, values written straight into the batched outputs, nothing allocated per
// feature. Bad bytes are an InvalidArgument, never a read past the end.
#include "xflow/example.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include "io/proto/example.pb.h"

namespace xf::io {

namespace {

// ---------------------------------------------------------------------------------------------
// Feature <-> protobuf

void to_proto(const Feature& f, tensorflow::Feature* p) {
  switch (f.kind) {
    case Feature::Kind::none: break;
    case Feature::Kind::bytes_list: {
      auto* l = p->mutable_bytes_list();
      for (const auto& s : f.bytes) l->add_value(s);
      break;
    }
    case Feature::Kind::float_list: {
      auto* l = p->mutable_float_list()->mutable_value();
      l->Reserve(static_cast<int>(f.floats.size()));
      for (float v : f.floats) l->Add(v);
      break;
    }
    case Feature::Kind::int64_list: {
      auto* l = p->mutable_int64_list()->mutable_value();
      l->Reserve(static_cast<int>(f.int64s.size()));
      for (int64_t v : f.int64s) l->Add(v);
      break;
    }
  }
}

Feature from_proto(const tensorflow::Feature& p) {
  Feature f;
  switch (p.kind_case()) {
    case tensorflow::Feature::kBytesList:
      f.kind = Feature::Kind::bytes_list;
      f.bytes.assign(p.bytes_list().value().begin(), p.bytes_list().value().end());
      break;
    case tensorflow::Feature::kFloatList:
      f.kind = Feature::Kind::float_list;
      f.floats.assign(p.float_list().value().begin(), p.float_list().value().end());
      break;
    case tensorflow::Feature::kInt64List:
      f.kind = Feature::Kind::int64_list;
      f.int64s.assign(p.int64_list().value().begin(), p.int64_list().value().end());
      break;
    default: break;
  }
  return f;
}

void to_proto(const Example& ex, tensorflow::Features* p) {
  auto* m = p->mutable_feature();
  for (const auto& [name, f] : ex.features()) to_proto(f, &(*m)[name]);
}

void from_proto(const tensorflow::Features& p, Example& ex) {
  for (const auto& [name, f] : p.feature()) ex.set(name, from_proto(f));
}

std::string serialize_deterministic(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);  // map entries in key order
    m.SerializeToCodedStream(&cos);
  }
  return out;
}

bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// ---------------------------------------------------------------------------------------------
// The wire format, read directly.

enum WireType { kVarint = 0, kFixed64 = 1, kDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

// The small readers are forced inline: they run for every field of every example.
#define XF_WIRE_INLINE inline __attribute__((always_inline))

struct Wire {
  const uint8_t* p;
  const uint8_t* end;
  explicit Wire(std::string_view s)
      : p(reinterpret_cast<const uint8_t*>(s.data())), end(reinterpret_cast<const uint8_t*>(s.data()) + s.size()) {}
  bool done() const { return p >= end; }

  XF_WIRE_INLINE bool varint(uint64_t& v) {
    if (p < end && *p < 0x80) {  // the common one-byte case
      v = *p++;
      return true;
    }
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) return false;
      uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return true;
    }
    return false;  // more than 10 bytes
  }
  XF_WIRE_INLINE bool tag(uint32_t& field, int& wt) {
    if (p < end && *p < 0x80) {  // fields 1 to 15
      field = *p >> 3;
      wt = *p++ & 7;
      return field != 0;
    }
    uint64_t t;
    if (!varint(t) || t > 0xffffffffu) return false;
    field = static_cast<uint32_t>(t >> 3);
    wt = static_cast<int>(t & 7);
    return field != 0;
  }
  XF_WIRE_INLINE bool delimited(std::string_view& out) {
    uint64_t n;
    if (!varint(n) || n > static_cast<uint64_t>(end - p)) return false;
    out = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    p += n;
    return true;
  }
  // Skips the value of a field of wire type `wt` (an unknown field, as protobuf does).
  bool skip(int wt, uint32_t field, int depth = 0) {
    switch (wt) {
      case kVarint: {
        uint64_t v;
        return varint(v);
      }
      case kFixed64:
        if (end - p < 8) return false;
        p += 8;
        return true;
      case kDelimited: {
        std::string_view s;
        return delimited(s);
      }
      case kFixed32:
        if (end - p < 4) return false;
        p += 4;
        return true;
      case kStartGroup: {
        if (depth > 64) return false;
        while (true) {
          uint32_t f;
          int w;
          if (!tag(f, w)) return false;
          if (w == kEndGroup) return f == field;
          if (!skip(w, f, depth + 1)) return false;
        }
      }
      default: return false;  // end group without start, 6, 7
    }
  }
};

// The bytes of one map entry's key (field 1) and value (field 2).
bool parse_map_entry(std::string_view entry, std::string_view& key, std::string_view& value) {
  Wire w(entry);
  key = {};
  value = {};
  while (!w.done()) {
    uint32_t f;
    int wt;
    if (!w.tag(f, wt)) return false;
    if (f == 1 && wt == kDelimited) {
      if (!w.delimited(key)) return false;
    } else if (f == 2 && wt == kDelimited) {
      if (!w.delimited(value)) return false;
    } else if (!w.skip(wt, f)) {
      return false;
    }
  }
  return true;
}

using Entries = std::vector<std::pair<std::string_view, std::string_view>>;

// The entries of a map field (`Features.feature`, `FeatureLists.feature_list`) in wire order.
bool parse_map(std::string_view msg, Entries& out) {
  Wire w(msg);
  while (!w.done()) {
    uint32_t f;
    int wt;
    if (!w.tag(f, wt)) return false;
    if (f == 1 && wt == kDelimited) {
      std::string_view entry, k, v;
      if (!w.delimited(entry) || !parse_map_entry(entry, k, v)) return false;
      out.emplace_back(k, v);
    } else if (!w.skip(wt, f)) {
      return false;
    }
  }
  return true;
}

// Example: features (1); SequenceExample: context (1), feature_lists (2). Each is a map message,
// and a message field given several times is merged (its entries concatenated).
bool parse_top(std::string_view msg, Entries& field1, Entries* field2) {
  Wire w(msg);
  while (!w.done()) {
    uint32_t f;
    int wt;
    if (!w.tag(f, wt)) return false;
    if ((f == 1 || (f == 2 && field2)) && wt == kDelimited) {
      std::string_view sub;
      if (!w.delimited(sub) || !parse_map(sub, f == 1 ? field1 : *field2)) return false;
    } else if (!w.skip(wt, f)) {
      return false;
    }
  }
  return true;
}

// A Feature's kind (the last list field in it: a oneof keeps the last one set) and where the
// fields of that kind start. Lists of the same kind given twice merge.
struct FeatureKind {
  Feature::Kind kind = Feature::Kind::none;
  std::string_view rest;  // from the first field of the final kind
};

bool feature_kind(std::string_view feature, FeatureKind& out) {
  Wire w(feature);
  out = FeatureKind{};
  while (!w.done()) {
    const uint8_t* at = w.p;
    uint32_t f;
    int wt;
    if (!w.tag(f, wt)) return false;
    if (f >= 1 && f <= 3 && wt == kDelimited) {
      Feature::Kind k = static_cast<Feature::Kind>(f);  // bytes 1, float 2, int64 3
      std::string_view s;
      if (!w.delimited(s)) return false;
      if (k != out.kind) {
        out.kind = k;
        out.rest = std::string_view(reinterpret_cast<const char*>(at), static_cast<size_t>(w.end - at));
      }
    } else if (!w.skip(wt, f)) {
      return false;
    }
  }
  return true;
}

// Calls `list(bytes)` for each list message of kind `k` in `rest`.
template <class F>
bool for_each_list(std::string_view rest, Feature::Kind k, F&& list) {
  Wire w(rest);
  const uint32_t want = static_cast<uint32_t>(k);
  while (!w.done()) {
    uint32_t f;
    int wt;
    if (!w.tag(f, wt)) return false;
    if (f == want && wt == kDelimited) {
      std::string_view s;
      if (!w.delimited(s) || !list(s)) return false;
    } else if (!w.skip(wt, f)) {
      return false;
    }
  }
  return true;
}

// Field 1 of one Int64List / FloatList / BytesList message: a delimited run goes to
// delimited(bytes) (a packed run, or one bytes value), a field of wire type `single_wt` to
// single(w) (one unpacked value, read from w); other fields are skipped. False on malformed data.
template <class Delimited, class Single>
bool for_each_value_field(std::string_view list, int single_wt, Delimited&& delimited, Single&& single) {
  Wire w(list);
  while (!w.done()) {
    uint32_t f;
    int wt;
    if (!w.tag(f, wt)) return false;
    if (f == 1 && wt == kDelimited) {
      std::string_view run;
      if (!w.delimited(run) || !delimited(run)) return false;
    } else if (f == 1 && wt == single_wt) {
      if (!single(w)) return false;
    } else if (!w.skip(wt, f)) {
      return false;
    }
  }
  return true;
}

// Appends the values of the feature to `out` (int64_t, float or std::string).
bool read_values(const FeatureKind& fk, std::vector<int64_t>& out) {
  return for_each_list(fk.rest, Feature::Kind::int64_list, [&](std::string_view list) {
    return for_each_value_field(
        list, kVarint,
        [&](std::string_view packed) {
          Wire pw(packed);
          while (!pw.done()) {
            uint64_t v;
            if (!pw.varint(v)) return false;
            out.push_back(static_cast<int64_t>(v));
          }
          return true;
        },
        [&](Wire& w) {
          uint64_t v;
          if (!w.varint(v)) return false;
          out.push_back(static_cast<int64_t>(v));
          return true;
        });
  });
}

bool read_values(const FeatureKind& fk, std::vector<float>& out) {
  return for_each_list(fk.rest, Feature::Kind::float_list, [&](std::string_view list) {
    return for_each_value_field(
        list, kFixed32,
        [&](std::string_view packed) {
          if (packed.size() % 4 != 0) return false;
          size_t n = packed.size() / 4, old = out.size();
          out.resize(old + n);
          // Little-endian on the wire and on the hosts we build for: the bits copied as they are.
          if (n) std::memcpy(out.data() + old, packed.data(), packed.size());
          return true;
        },
        [&](Wire& w) {
          if (w.end - w.p < 4) return false;
          float v;
          std::memcpy(&v, w.p, 4);
          w.p += 4;
          out.push_back(v);
          return true;
        });
  });
}

// A bytes value is always delimited; no other wire type of field 1 is a value (-1 matches none).
bool read_values(const FeatureKind& fk, std::vector<std::string>& out) {
  return for_each_list(fk.rest, Feature::Kind::bytes_list, [&](std::string_view list) {
    return for_each_value_field(
        list, -1,
        [&](std::string_view s) {
          out.emplace_back(s);
          return true;
        },
        [](Wire&) { return false; });
  });
}

// ---------------------------------------------------------------------------------------------
// Strict recognition (classify_record): no unknown field, no wrong wire type, at any level.

template <class F>
bool strict_fields(std::string_view msg, F&& on_field) {
  Wire w(msg);
  while (!w.done()) {
    uint32_t f;
    int wt;
    if (!w.tag(f, wt) || !on_field(w, f, wt)) return false;
  }
  return true;
}

bool strict_list(std::string_view list, uint32_t kind) {
  return strict_fields(list, [&](Wire& w, uint32_t f, int wt) {
    if (f != 1) return false;
    std::string_view s;
    if (wt == kDelimited) {
      if (!w.delimited(s)) return false;
      if (kind == 2) return s.size() % 4 == 0;
      if (kind == 3) {
        Wire pw(s);
        uint64_t v;
        while (!pw.done()) {
          if (!pw.varint(v)) return false;
        }
      }
      return true;
    }
    if (kind == 2 && wt == kFixed32) return w.skip(wt, f);
    if (kind == 3 && wt == kVarint) return w.skip(wt, f);
    return false;
  });
}

bool strict_feature(std::string_view feature) {
  return strict_fields(feature, [](Wire& w, uint32_t f, int wt) {
    std::string_view s;
    return f >= 1 && f <= 3 && wt == kDelimited && w.delimited(s) && strict_list(s, f);
  });
}

template <class V>
bool strict_map(std::string_view msg, V&& value_ok) {
  return strict_fields(msg, [&](Wire& w, uint32_t f, int wt) {
    std::string_view entry;
    if (f != 1 || wt != kDelimited || !w.delimited(entry)) return false;
    return strict_fields(entry, [&](Wire& ew, uint32_t ef, int ewt) {
      std::string_view s;
      if ((ef != 1 && ef != 2) || ewt != kDelimited || !ew.delimited(s)) return false;
      return ef == 1 || value_ok(s);
    });
  });
}

bool strict_features(std::string_view msg) { return strict_map(msg, strict_feature); }

bool strict_feature_lists(std::string_view msg) {
  return strict_map(msg, [](std::string_view list) {
    return strict_fields(list, [](Wire& w, uint32_t f, int wt) {
      std::string_view s;
      return f == 1 && wt == kDelimited && w.delimited(s) && strict_feature(s);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Parse configuration.

// TensorFlow's DataTypeString of the three feature types.
const char* tf_type_name(Feature::Kind k) {
  switch (k) {
    case Feature::Kind::bytes_list: return "string";
    case Feature::Kind::float_list: return "float";
    case Feature::Kind::int64_list: return "int64";
    default: return "invalid";
  }
}

// TensorShape::DebugString: "[2,3]".
std::string tf_shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

Feature::Kind kind_of(const ValueType& t, const std::string& name, const char* op) {
  if (t.is_string()) return Feature::Kind::bytes_list;
  DType d = t.dtype();
  if (d == DType::int64) return Feature::Kind::int64_list;
  if (d == DType::float32) return Feature::Kind::float_list;
  throw InvalidArgument(std::string("[") + op + "] feature '" + name + "' has dtype " + t.name() +
                        "; a feature is int64, float32 or string");
}

enum class SpecKind { fixed, var, seq };

// Values of one dense feature, kept as the output's element type.
struct Column {
  Feature::Kind kind = Feature::Kind::none;
  std::vector<int64_t> i;
  std::vector<float> f;
  std::vector<std::string> s;
  size_t size() const { return kind == Feature::Kind::int64_list ? i.size() : kind == Feature::Kind::float_list ? f.size() : s.size(); }
  void clear() { i.clear(); f.clear(); s.clear(); }
  bool read(const FeatureKind& fk) {
    if (kind == Feature::Kind::int64_list) return read_values(fk, i);
    if (kind == Feature::Kind::float_list) return read_values(fk, f);
    return read_values(fk, s);
  }
  void append(const Column& o, size_t from, size_t n) {
    if (kind == Feature::Kind::int64_list) i.insert(i.end(), o.i.begin() + from, o.i.begin() + from + n);
    else if (kind == Feature::Kind::float_list) f.insert(f.end(), o.f.begin() + from, o.f.begin() + from + n);
    else s.insert(s.end(), o.s.begin() + from, o.s.begin() + from + n);
  }
  void append_repeated(const Column& o, size_t n) {  // o has 1 value
    if (kind == Feature::Kind::int64_list) i.insert(i.end(), n, o.i[0]);
    else if (kind == Feature::Kind::float_list) f.insert(f.end(), n, o.f[0]);
    else s.insert(s.end(), n, o.s[0]);
  }
  Value to_value(const Shape& shape) {
    if (kind == Feature::Kind::int64_list) return Tensor::from_bytes(i.data(), i.size(), DType::int64, shape);
    if (kind == Feature::Kind::float_list) return Tensor::from_bytes(f.data(), f.size(), DType::float32, shape);
    return StringTensor(std::move(s), shape);
  }
};

// A default value as a column of the feature's kind: numel values, or one broadcast.
Column default_column(const std::optional<Value>& dv, Feature::Kind kind, int64_t numel_, const std::string& name,
                      const char* op) {
  Column c;
  c.kind = kind;
  if (!dv) return c;
  const Value& v = *dv;
  auto bad = [&](const std::string& why) {
    throw InvalidArgument(std::string("[") + op + "] default value of feature '" + name + "': " + why);
  };
  if (kind == Feature::Kind::bytes_list) {
    if (!v.is_string()) bad("a " + v.describe() + " for a string feature");
    c.s = v.strings().values();
  } else {
    if (v.is_string()) bad("a string value for a numeric feature");
    if (kind == Feature::Kind::int64_list) {
      if (is_floating(v.tensor().dtype())) bad("a " + v.describe() + " for an int64 feature");
      c.i = v.tensor().to_vector<int64_t>();
    } else {
      c.f = v.tensor().to_vector<float>();
    }
  }
  int64_t n = static_cast<int64_t>(c.size());
  if (n != numel_ && n != 1) {
    bad(std::to_string(n) + " values; the shape holds " + std::to_string(numel_));
  }
  if (n == 1 && numel_ != 1) {
    Column b;
    b.kind = kind;
    b.append_repeated(c, static_cast<size_t>(numel_));
    return b;
  }
  return c;
}

struct Slot {
  std::string name;
  SpecKind spec;
  Feature::Kind kind;
  Shape shape;     // element shape
  int64_t numel;   // numel(shape)
  bool required;   // fixed without default; seq without allow_missing
  bool has_default;
  Column deflt;    // fixed: numel values; seq: one padding value (or zero / "")
  // Results.
  Column values;
  std::vector<int64_t> counts;       // per example: values (var, seq in parse_example) or steps (seq in sequence)
  std::vector<int64_t> indices;      // var: flattened indices
  int64_t max_count = 0, max_inner = 0;
};

std::vector<Slot> make_slots(const FeatureMap& features, const char* op, bool sequence) {
  std::vector<Slot> slots;
  for (const auto& [name, spec] : features) {
    Slot s;
    s.name = name;
    if (auto* fx = std::get_if<FixedLenFeature>(&spec)) {
      if (sequence) throw InvalidArgument(std::string("[") + op + "] sequence feature '" + name +
                                          "' is a FixedLenFeature; use FixedLenSequenceFeature or VarLenFeature");
      s.spec = SpecKind::fixed;
      s.kind = kind_of(fx->dtype, name, op);
      s.shape = fx->shape;
      for (int64_t d : s.shape) {
        if (d < 0) throw InvalidArgument(std::string("[") + op + "] feature '" + name + "' has shape " +
                                         shape_str(s.shape) + "; a FixedLenFeature's shape is fully defined");
      }
      s.numel = numel(s.shape);
      s.has_default = fx->default_value.has_value();
      s.required = !s.has_default;
      s.deflt = default_column(fx->default_value, s.kind, s.numel, name, op);
    } else if (auto* vl = std::get_if<VarLenFeature>(&spec)) {
      s.spec = SpecKind::var;
      s.kind = kind_of(vl->dtype, name, op);
      s.numel = 1;
      s.required = false;
      s.has_default = false;
    } else {
      const auto& sq = std::get<FixedLenSequenceFeature>(spec);
      s.spec = SpecKind::seq;
      s.kind = kind_of(sq.dtype, name, op);
      s.shape = sq.shape;
      for (int64_t d : s.shape) {
        if (d < 0) throw InvalidArgument(std::string("[") + op + "] feature '" + name + "' has shape " +
                                         shape_str(s.shape) + "; the element shape is fully defined");
      }
      s.numel = numel(s.shape);
      if (!sequence && !sq.allow_missing) {
        throw InvalidArgument(std::string("[") + op + "] FixedLenSequenceFeature '" + name +
                              "' requires allow_missing to be True.");
      }
      s.required = !sq.allow_missing;
      s.has_default = sq.default_value.has_value();
      Column d;
      d.kind = s.kind;
      if (sq.default_value) {
        d = default_column(sq.default_value, s.kind, 1, name, op);
      } else if (s.kind == Feature::Kind::int64_list) {
        d.i = {0};
      } else if (s.kind == Feature::Kind::float_list) {
        d.f = {0.0f};
      } else {
        d.s = {""};
      }
      s.deflt = std::move(d);
    }
    s.values.kind = s.kind;
    slots.push_back(std::move(s));
  }
  return slots;
}

std::string example_name(const StringTensor& names, int64_t e) {
  if (names.size() > e) return names.values()[static_cast<size_t>(e)];
  return std::to_string(e);
}

[[noreturn]] void example_error(const std::string& name, const std::string& key, int64_t index,
                                const std::string& suffix) {
  throw InvalidArgument("Name: " + name + ", Key: " + key + ", Index: " + std::to_string(index) + ".  " + suffix);
}

std::string preview(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  size_t n = std::min<size_t>(s.size(), 64);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > n) out += "...";
  return out;
}

// Looks up slots by feature name (names are unique: they come from a std::map). Examples of one
// batch usually list their features in the same order, so the slot found at each position is
// remembered and checked first: one compare instead of a hash.
struct SlotIndex {
  static constexpr size_t kNone = static_cast<size_t>(-1);
  std::unordered_map<std::string_view, size_t> map;
  std::vector<std::string_view> names;
  std::vector<size_t> at_position;  // slot of the previous example's entry at each position
  explicit SlotIndex(const std::vector<Slot>& slots) {
    map.reserve(slots.size() * 2);
    for (size_t i = 0; i < slots.size(); ++i) {
      map.emplace(slots[i].name, i);
      names.emplace_back(slots[i].name);
    }
  }
  // The chosen feature bytes per slot: the last entry of a name wins (protobuf map semantics).
  void assign(const Entries& entries, std::vector<const std::string_view*>& found) {
    std::fill(found.begin(), found.end(), nullptr);
    if (at_position.size() < entries.size()) at_position.resize(entries.size(), kNone);
    for (size_t j = 0; j < entries.size(); ++j) {
      const auto& e = entries[j];
      size_t k = at_position[j];
      if (k == kNone || names[k] != e.first) {
        auto it = map.find(e.first);
        k = it == map.end() ? kNone : it->second;
        at_position[j] = k;
      }
      if (k != kNone) found[k] = &e.second;
    }
  }
};

// One example's context features (or an Example's features) into the slots.
void parse_features_into(std::vector<Slot>& slots, const std::vector<const std::string_view*>& found,
                         const StringTensor& names, int64_t e) {
  for (size_t k = 0; k < slots.size(); ++k) {
    Slot& s = slots[k];
    FeatureKind fk;
    bool present = false;
    if (found[k]) {
      if (!feature_kind(*found[k], fk)) example_error(example_name(names, e), s.name, e, "Can't parse serialized Example.");
      present = fk.kind != Feature::Kind::none;  // an empty Feature counts as missing (as TensorFlow)
    }
    if (present && fk.kind != s.kind) {
      if (s.spec == SpecKind::var) {
        example_error(example_name(names, e), s.name, e, std::string("Data types don't match. Expected type: ") + tf_type_name(s.kind) +
                                            ", Actual type: " + tf_type_name(fk.kind));
      }
      example_error(example_name(names, e), s.name, e, std::string("Data types don't match. Data type: ") + tf_type_name(fk.kind) +
                                          " but expected type: " + tf_type_name(s.kind));
    }
    if (!present) {
      if (s.spec == SpecKind::fixed) {
        if (!s.has_default) {
          throw InvalidArgument("Name: " + example_name(names, e) + ", Feature: " + s.name + " (data type: " + tf_type_name(s.kind) +
                                ") is required but could not be found.");
        }
        s.values.append(s.deflt, 0, static_cast<size_t>(s.numel));
      } else {
        s.counts.push_back(0);
      }
      continue;
    }
    if (s.spec == SpecKind::fixed) {
      size_t before = s.values.size();
      if (!s.values.read(fk)) example_error(example_name(names, e), s.name, e, "Can't parse serialized Example.");
      size_t n = s.values.size() - before;
      if (static_cast<int64_t>(n) != s.numel) {
        const char* t = s.kind == Feature::Kind::int64_list ? "int64" : s.kind == Feature::Kind::float_list ? "float" : "bytes";
        example_error(example_name(names, e), s.name, e, std::string("Number of ") + t + " values != expected.  Values size: " +
                                            std::to_string(n) + " but output shape: " + tf_shape_str(s.shape));
      }
    } else {
      size_t before = s.values.size();
      if (!s.values.read(fk)) example_error(example_name(names, e), s.name, e, "Can't parse serialized Example.");
      int64_t n = static_cast<int64_t>(s.values.size() - before);
      if (s.spec == SpecKind::seq && s.numel > 0 && n % s.numel != 0) {
        const char* t = s.kind == Feature::Kind::int64_list ? "int64" : s.kind == Feature::Kind::float_list ? "float" : "bytes";
        example_error(example_name(names, e), s.name, e, std::string("Number of ") + t +
                                            " values is not a multiple of stride length. Saw " + std::to_string(n) +
                                            " values but output shape is: " + tf_shape_str(s.shape));
      }
      if (s.spec == SpecKind::seq && s.numel == 0 && n != 0) {
        example_error(example_name(names, e), s.name, e, "Number of values is not zero but the element shape holds none.");
      }
      s.counts.push_back(n);
      s.max_count = std::max(s.max_count, n);
    }
  }
}

// Dense / sparse results of the slots, batched (B examples) or not.
void finish(std::vector<Slot>& slots, int64_t batch, bool batched, ParsedFeatures& out) {
  for (Slot& s : slots) {
    if (s.spec == SpecKind::fixed) {
      Shape shape = s.shape;  // dense results always get the batch axis (unbatch drops it)
      shape.insert(shape.begin(), batch);
      out.dense[s.name] = s.values.to_value(shape);
    } else if (s.spec == SpecKind::var) {
      int64_t total = static_cast<int64_t>(s.values.size());
      int64_t rank = batched ? 2 : 1;
      std::vector<int64_t> idx(static_cast<size_t>(total * rank));
      size_t w = 0;
      for (int64_t e = 0; e < static_cast<int64_t>(s.counts.size()); ++e) {
        for (int64_t j = 0; j < s.counts[static_cast<size_t>(e)]; ++j) {
          if (batched) idx[w++] = e;
          idx[w++] = j;
        }
      }
      SparseValue sv;
      sv.indices = Tensor::from_bytes(idx.data(), idx.size(), DType::int64, Shape{total, rank});
      sv.values = s.values.to_value(Shape{total});
      std::vector<int64_t> ds;
      if (batched) ds.push_back(batch);
      ds.push_back(s.max_count);
      sv.dense_shape = Tensor::from_bytes(ds.data(), ds.size(), DType::int64, Shape{rank});
      out.sparse[s.name] = std::move(sv);
    } else {
      // Padded to the longest: [B, max_elements, *shape].
      int64_t max_elems = s.numel ? s.max_count / s.numel : 0;
      Column c;
      c.kind = s.kind;
      size_t off = 0;
      for (int64_t n : s.counts) {
        c.append(s.values, off, static_cast<size_t>(n));
        off += static_cast<size_t>(n);
        int64_t pad = max_elems * s.numel - n;
        if (pad > 0) c.append_repeated(s.deflt, static_cast<size_t>(pad));
      }
      Shape shape = s.shape;
      shape.insert(shape.begin(), max_elems);
      shape.insert(shape.begin(), batch);
      out.dense[s.name] = c.to_value(shape);
    }
  }
}

void check_batch(const StringTensor& serialized, const StringTensor& names, const char* op) {
  if (serialized.rank() != 1) {
    throw InvalidArgument(std::string("[") + op + "] serialized must be a vector (1-D), got shape " +
                          shape_str(serialized.shape()));
  }
  if (names.size() != 0 && names.size() != serialized.size()) {
    throw InvalidArgument(std::string("[") + op + "] names has " + std::to_string(names.size()) +
                          " entries for " + std::to_string(serialized.size()) + " examples");
  }
}

ParsedFeatures parse_examples(const std::vector<std::string>& serialized, const FeatureMap& features,
                              const StringTensor& names, bool batched) {
  const char* op = "parse_example";
  std::vector<Slot> slots = make_slots(features, op, false);
  SlotIndex index(slots);
  std::vector<const std::string_view*> found(slots.size());
  Entries entries;
  const int64_t batch = static_cast<int64_t>(serialized.size());
  // Room for the dense values, but never more than the bytes could hold (or the defaults fill).
  size_t total_bytes = 0;
  for (const auto& b : serialized) total_bytes += b.size();
  for (Slot& s : slots) {
    if (s.spec == SpecKind::fixed) {
      size_t n = std::min(static_cast<size_t>(batch) * static_cast<size_t>(s.numel), total_bytes + 16);
      if (s.kind == Feature::Kind::int64_list) s.values.i.reserve(n);
      else if (s.kind == Feature::Kind::float_list) s.values.f.reserve(n);
      else s.values.s.reserve(n);
    }
  }
  for (int64_t e = 0; e < batch; ++e) {
    const std::string& bytes = serialized[static_cast<size_t>(e)];
    entries.clear();
    if (!parse_top(bytes, entries, nullptr)) {
      throw InvalidArgument("Name: " + example_name(names, e) + ", Index: " + std::to_string(e) +
                            ".  Could not parse example input, value: '" + preview(bytes) + "'");
    }
    index.assign(entries, found);
    parse_features_into(slots, found, names, e);
  }
  ParsedFeatures out;
  finish(slots, batch, batched, out);
  return out;
}

// Drops the batch axis of the dense results of a batch of one.
void unbatch(ParsedFeatures& p) {
  for (auto& [name, v] : p.dense) {
    if (v.is_string()) v = v.strings()[0];
    else {
      const Tensor& t = v.tensor();
      Shape rest(t.shape().begin() + 1, t.shape().end());
      v = Tensor::view(t.buffer(), t.dtype(), rest, contiguous_strides(rest), t.offset());
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Feature

Feature Feature::from_int64s(std::vector<int64_t> v) {
  Feature f;
  f.kind = Kind::int64_list;
  f.int64s = std::move(v);
  return f;
}
Feature Feature::from_floats(std::vector<float> v) {
  Feature f;
  f.kind = Kind::float_list;
  f.floats = std::move(v);
  return f;
}
Feature Feature::from_bytes(std::vector<std::string> v) {
  Feature f;
  f.kind = Kind::bytes_list;
  f.bytes = std::move(v);
  return f;
}

Feature Feature::from_value(const Value& v) {
  if (v.is_string()) return from_bytes(v.strings().values());
  const Tensor& t = v.tensor();
  if (is_floating(t.dtype())) return from_floats(t.to_vector<float>());
  return from_int64s(t.to_vector<int64_t>());
}

int64_t Feature::size() const {
  switch (kind) {
    case Kind::bytes_list: return static_cast<int64_t>(bytes.size());
    case Kind::float_list: return static_cast<int64_t>(floats.size());
    case Kind::int64_list: return static_cast<int64_t>(int64s.size());
    default: return 0;
  }
}

Value Feature::value() const {
  switch (kind) {
    case Kind::bytes_list: return StringTensor::vector(bytes);
    case Kind::int64_list:
      return Tensor::from_bytes(int64s.data(), int64s.size(), DType::int64, Shape{size()});
    case Kind::float_list:
      return Tensor::from_bytes(floats.data(), floats.size(), DType::float32, Shape{size()});
    default: return Tensor::from_bytes(nullptr, 0, DType::float32, Shape{0});
  }
}

bool Feature::operator==(const Feature& o) const {
  return kind == o.kind && bytes == o.bytes && int64s == o.int64s && bits_equal(floats, o.floats);
}

const char* feature_kind_name(Feature::Kind k) {
  switch (k) {
    case Feature::Kind::bytes_list: return "bytes_list";
    case Feature::Kind::float_list: return "float_list";
    case Feature::Kind::int64_list: return "int64_list";
    default: return "none";
  }
}

// ---------------------------------------------------------------------------------------------
// Example

namespace {

// protobuf's parse, without its log line for a map key that is not UTF-8 (proto3 checks `string`
// fields and fails the parse; the exception says so instead).
bool proto_parse(std::string_view bytes, google::protobuf::MessageLite* m) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  google::protobuf::LogSilencer quiet;
  return m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

// Why protobuf refused bytes the wire format accepts: a feature name that is not UTF-8.
std::string utf8_note(std::string_view bytes, bool sequence) {
  Entries a, b;
  return parse_top(bytes, a, sequence ? &b : nullptr) ? " (a feature name is not valid UTF-8)" : "";
}

}  // namespace

void Example::set(const std::string& name, const Tensor& t) { features_[name] = Feature::from_value(t); }
void Example::set(const std::string& name, const StringTensor& s) { features_[name] = Feature::from_bytes(s.values()); }
void Example::set(const std::string& name, const Value& v) { features_[name] = Feature::from_value(v); }
void Example::set(const std::string& name, Feature f) { features_[name] = std::move(f); }
void Example::set_int64s(const std::string& name, std::vector<int64_t> v) { features_[name] = Feature::from_int64s(std::move(v)); }
void Example::set_floats(const std::string& name, std::vector<float> v) { features_[name] = Feature::from_floats(std::move(v)); }
void Example::set_bytes(const std::string& name, std::vector<std::string> v) { features_[name] = Feature::from_bytes(std::move(v)); }
void Example::erase(const std::string& name) { features_.erase(name); }

const Feature& Example::feature(const std::string& name, Loc loc) const {
  auto it = features_.find(name);
  if (it == features_.end()) raise(ErrorCode::not_found, "Example", "no feature named '" + name + "'", loc);
  return it->second;
}

Value Example::get(const std::string& name, Loc loc) const { return feature(name, loc).value(); }

namespace {
const Feature& feature_of_kind(const Example& ex, const std::string& name, Feature::Kind k, Loc loc) {
  const Feature& f = ex.feature(name, loc);
  if (f.kind != k) {
    raise(ErrorCode::dtype, "Example", "feature '" + name + "' is a " + feature_kind_name(f.kind) + ", not a " +
                                           feature_kind_name(k), loc);
  }
  return f;
}
}  // namespace

Tensor Example::int64s(const std::string& name, Loc loc) const {
  return feature_of_kind(*this, name, Feature::Kind::int64_list, loc).value().tensor();
}
Tensor Example::floats(const std::string& name, Loc loc) const {
  return feature_of_kind(*this, name, Feature::Kind::float_list, loc).value().tensor();
}
StringTensor Example::bytes(const std::string& name, Loc loc) const {
  return feature_of_kind(*this, name, Feature::Kind::bytes_list, loc).value().strings();
}

std::string Example::serialize() const {
  tensorflow::Example p;
  to_proto(*this, p.mutable_features());
  return serialize_deterministic(p);
}

Example Example::parse(std::string_view bytes, Loc loc) {
  google::protobuf::Arena arena;
  auto* p = google::protobuf::Arena::CreateMessage<tensorflow::Example>(&arena);
  if (!proto_parse(bytes, p)) {
    raise(ErrorCode::invalid_argument, "Example.parse",
          std::string("Could not parse example input") + utf8_note(bytes, false) + ", value: '" + preview(bytes) + "'",
          loc);
  }
  Example ex;
  from_proto(p->features(), ex);
  return ex;
}

// ---------------------------------------------------------------------------------------------
// SequenceExample

void SequenceExample::set_sequence(const std::string& name, const Value& v) {
  std::vector<Feature> steps;
  if (v.shape().empty()) {
    steps.push_back(Feature::from_value(v));
  } else if (v.is_string()) {
    for (int64_t i = 0; i < v.shape()[0]; ++i) steps.push_back(Feature::from_bytes(v.strings()[i].values()));
  } else {
    Feature all = Feature::from_value(v);
    int64_t n = v.shape()[0], per = n ? all.size() / n : 0;
    for (int64_t i = 0; i < n; ++i) {
      Feature f;
      f.kind = all.kind;
      if (all.kind == Feature::Kind::float_list) f.floats.assign(all.floats.begin() + i * per, all.floats.begin() + (i + 1) * per);
      else f.int64s.assign(all.int64s.begin() + i * per, all.int64s.begin() + (i + 1) * per);
      steps.push_back(std::move(f));
    }
  }
  lists_[name] = std::move(steps);
}

void SequenceExample::set_feature_list(const std::string& name, std::vector<Feature> steps) { lists_[name] = std::move(steps); }
void SequenceExample::add_step(const std::string& name, Feature step) { lists_[name].push_back(std::move(step)); }

const std::vector<Feature>& SequenceExample::feature_list(const std::string& name, Loc loc) const {
  auto it = lists_.find(name);
  if (it == lists_.end()) raise(ErrorCode::not_found, "SequenceExample", "no feature list named '" + name + "'", loc);
  return it->second;
}

Value SequenceExample::sequence(const std::string& name, Loc loc) const {
  const auto& steps = feature_list(name, loc);
  Feature::Kind k = steps.empty() ? Feature::Kind::float_list : steps[0].kind;
  int64_t per = steps.empty() ? 0 : steps[0].size();
  Feature all;
  all.kind = k;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].kind != k || steps[i].size() != per) {
      raise(ErrorCode::invalid_argument, "SequenceExample",
            "feature list '" + name + "': step " + std::to_string(i) + " is a " + feature_kind_name(steps[i].kind) +
                " of " + std::to_string(steps[i].size()) + " values, step 0 a " + feature_kind_name(k) + " of " +
                std::to_string(per) + "; only equal steps stack",
            loc);
    }
    all.bytes.insert(all.bytes.end(), steps[i].bytes.begin(), steps[i].bytes.end());
    all.floats.insert(all.floats.end(), steps[i].floats.begin(), steps[i].floats.end());
    all.int64s.insert(all.int64s.end(), steps[i].int64s.begin(), steps[i].int64s.end());
  }
  Shape shape{static_cast<int64_t>(steps.size()), per};
  switch (k) {
    case Feature::Kind::bytes_list: return StringTensor(std::move(all.bytes), shape);
    case Feature::Kind::int64_list: return Tensor::from_bytes(all.int64s.data(), all.int64s.size(), DType::int64, shape);
    default: return Tensor::from_bytes(all.floats.data(), all.floats.size(), DType::float32, shape);
  }
}

std::string SequenceExample::serialize() const {
  tensorflow::SequenceExample p;
  to_proto(context_, p.mutable_context());
  auto* m = p.mutable_feature_lists()->mutable_feature_list();
  for (const auto& [name, steps] : lists_) {
    auto& fl = (*m)[name];
    for (const auto& f : steps) to_proto(f, fl.add_feature());
  }
  return serialize_deterministic(p);
}

SequenceExample SequenceExample::parse(std::string_view bytes, Loc loc) {
  google::protobuf::Arena arena;
  auto* p = google::protobuf::Arena::CreateMessage<tensorflow::SequenceExample>(&arena);
  if (!proto_parse(bytes, p)) {
    raise(ErrorCode::invalid_argument, "SequenceExample.parse",
          std::string("Could not parse sequence example input") + utf8_note(bytes, true) + ", value: '" +
              preview(bytes) + "'",
          loc);
  }
  SequenceExample ex;
  from_proto(p->context(), ex.context_);
  for (const auto& [name, fl] : p->feature_lists().feature_list()) {
    std::vector<Feature> steps;
    steps.reserve(static_cast<size_t>(fl.feature_size()));
    for (const auto& f : fl.feature()) steps.push_back(from_proto(f));
    ex.lists_[name] = std::move(steps);
  }
  return ex;
}

RecordKind classify_record(std::string_view bytes) {
  bool lists = false;
  bool ok = strict_fields(bytes, [&](Wire& w, uint32_t f, int wt) {
    std::string_view s;
    if ((f != 1 && f != 2) || wt != kDelimited || !w.delimited(s)) return false;
    if (f == 2) lists = true;
    return f == 1 ? strict_features(s) : strict_feature_lists(s);
  });
  if (!ok) return RecordKind::other;
  return lists ? RecordKind::sequence_example : RecordKind::example;
}

// ---------------------------------------------------------------------------------------------
// parse_example and relatives

const Value& ParsedFeatures::at(const std::string& name) const {
  auto it = dense.find(name);
  if (it == dense.end()) throw NotFound("[ParsedFeatures] no dense feature named '" + name + "'");
  return it->second;
}

const SparseValue& ParsedFeatures::sparse_at(const std::string& name) const {
  auto it = sparse.find(name);
  if (it == sparse.end()) throw NotFound("[ParsedFeatures] no sparse feature named '" + name + "'");
  return it->second;
}

ParsedFeatures parse_example(const StringTensor& serialized, const FeatureMap& features, const StringTensor& names) {
  check_batch(serialized, names, "parse_example");
  return parse_examples(serialized.values(), features, names, true);
}

ParsedFeatures parse_single_example(const std::string& serialized, const FeatureMap& features) {
  ParsedFeatures p = parse_examples({serialized}, features, StringTensor(std::vector<std::string>{}, Shape{0}), false);
  unbatch(p);
  return p;
}

namespace {

ParsedSequence parse_sequences(const std::vector<std::string>& serialized, const FeatureMap& context_features,
                               const FeatureMap& sequence_features, const StringTensor& names, bool batched) {
  const char* op = "parse_sequence_example";
  for (const auto& [name, spec] : context_features) {
    if (std::holds_alternative<FixedLenSequenceFeature>(spec)) {
      throw InvalidArgument(std::string("[") + op + "] context feature '" + name +
                            "' is a FixedLenSequenceFeature; context features are FixedLenFeature or VarLenFeature");
    }
  }
  std::vector<Slot> ctx = make_slots(context_features, op, false);
  std::vector<Slot> seq = make_slots(sequence_features, op, true);
  SlotIndex ctx_index(ctx), seq_index(seq);
  std::vector<const std::string_view*> ctx_found(ctx.size()), seq_found(seq.size());
  Entries ctx_entries, seq_entries;
  const int64_t batch = static_cast<int64_t>(serialized.size());
  for (int64_t e = 0; e < batch; ++e) {
    const std::string& bytes = serialized[static_cast<size_t>(e)];
    const std::string ename = example_name(names, e);
    ctx_entries.clear();
    seq_entries.clear();
    if (!parse_top(bytes, ctx_entries, &seq_entries)) {
      throw InvalidArgument("Name: " + ename + ", Index: " + std::to_string(e) +
                            ".  Could not parse sequence example input, value: '" + preview(bytes) + "'");
    }
    ctx_index.assign(ctx_entries, ctx_found);
    parse_features_into(ctx, ctx_found, names, e);
    seq_index.assign(seq_entries, seq_found);
    for (size_t k = 0; k < seq.size(); ++k) {
      Slot& s = seq[k];
      if (!seq_found[k]) {
        if (s.required) {
          throw InvalidArgument("Name: " + ename + ", Feature list '" + s.name +
                                "' is required but could not be found.  Did you mean to include it in "
                                "feature_list_dense_missing_assumed_empty or feature_list_dense_defaults?");
        }
        s.counts.push_back(0);
        continue;
      }
      // FeatureList: repeated Feature feature = 1.
      Wire w(*seq_found[k]);
      int64_t steps = 0, inner_total = 0;
      while (!w.done()) {
        uint32_t f;
        int wt;
        if (!w.tag(f, wt)) example_error(ename, s.name, e, "Can't parse serialized SequenceExample.");
        if (!(f == 1 && wt == kDelimited)) {
          if (!w.skip(wt, f)) example_error(ename, s.name, e, "Can't parse serialized SequenceExample.");
          continue;
        }
        std::string_view fb;
        FeatureKind fk;
        if (!w.delimited(fb) || !feature_kind(fb, fk)) {
          example_error(ename, s.name, e, "Can't parse serialized SequenceExample.");
        }
        if (fk.kind != Feature::Kind::none && fk.kind != s.kind) {
          throw InvalidArgument("Name: " + ename + ", Feature list: " + s.name + ", Index: " + std::to_string(steps) +
                                ".  Data types don't match. Expected type: " + tf_type_name(s.kind));
        }
        size_t before = s.values.size();
        if (fk.kind != Feature::Kind::none && !s.values.read(fk)) {
          example_error(ename, s.name, e, "Can't parse serialized SequenceExample.");
        }
        int64_t n = static_cast<int64_t>(s.values.size() - before);
        if (s.spec == SpecKind::seq && n != s.numel) {
          const char* t = s.kind == Feature::Kind::int64_list ? "int64" : s.kind == Feature::Kind::float_list ? "float" : "bytes";
          throw InvalidArgument("Name: " + ename + ", Key: " + s.name + ", Index: " + std::to_string(steps) +
                                ".  Number of " + t + " values != expected.  values size: " + std::to_string(n) +
                                " but output shape: " + tf_shape_str(s.shape));
        }
        if (s.spec == SpecKind::var) {
          for (int64_t j = 0; j < n; ++j) {
            if (batched) s.indices.push_back(e);
            s.indices.push_back(steps);
            s.indices.push_back(j);
          }
          s.max_inner = std::max(s.max_inner, n);
        }
        inner_total += n;
        ++steps;
      }
      (void)inner_total;
      s.counts.push_back(steps);
      s.max_count = std::max(s.max_count, steps);
    }
  }
  ParsedSequence out;
  finish(ctx, batch, batched, out.context);
  for (Slot& s : seq) {
    if (s.spec == SpecKind::seq) {
      Column c;
      c.kind = s.kind;
      size_t off = 0;
      for (int64_t steps : s.counts) {
        size_t n = static_cast<size_t>(steps * s.numel);
        c.append(s.values, off, n);
        off += n;
        int64_t pad = (s.max_count - steps) * s.numel;
        if (pad > 0) c.append_repeated(s.deflt, static_cast<size_t>(pad));
      }
      Shape shape = s.shape;
      shape.insert(shape.begin(), s.max_count);
      shape.insert(shape.begin(), batch);
      out.sequence.dense[s.name] = c.to_value(shape);
      if (batched) {
        out.lengths[s.name] = Tensor::from_bytes(s.counts.data(), s.counts.size(), DType::int64, Shape{batch});
      }
    } else {
      int64_t rank = batched ? 3 : 2;
      int64_t total = static_cast<int64_t>(s.values.size());
      SparseValue sv;
      sv.indices = Tensor::from_bytes(s.indices.data(), s.indices.size(), DType::int64, Shape{total, rank});
      sv.values = s.values.to_value(Shape{total});
      std::vector<int64_t> ds;
      if (batched) ds.push_back(batch);
      ds.push_back(s.max_count);
      ds.push_back(s.max_inner);
      sv.dense_shape = Tensor::from_bytes(ds.data(), ds.size(), DType::int64, Shape{rank});
      out.sequence.sparse[s.name] = std::move(sv);
    }
  }
  return out;
}

}  // namespace

ParsedSequence parse_sequence_example(const StringTensor& serialized, const FeatureMap& context_features,
                                      const FeatureMap& sequence_features, const StringTensor& names) {
  check_batch(serialized, names, "parse_sequence_example");
  return parse_sequences(serialized.values(), context_features, sequence_features, names, true);
}

ParsedSequence parse_single_sequence_example(const std::string& serialized, const FeatureMap& context_features,
                                             const FeatureMap& sequence_features) {
  ParsedSequence p = parse_sequences({serialized}, context_features, sequence_features,
                                     StringTensor(std::vector<std::string>{}, Shape{0}), false);
  unbatch(p.context);
  unbatch(p.sequence);
  return p;
}

}  // namespace xf::io
