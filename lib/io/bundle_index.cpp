#include "io/bundle_index.hpp"

#include <algorithm>
#include <cstdio>

#include "io/proto/tensor_bundle.pb.h"
#include "io/table.hpp"
#include "xflow/error.hpp"

namespace xf::io::bundle {

namespace {

// TensorFlow's kTensorBundleVersion (the producer it writes) and kTensorBundleMinProducer.
constexpr int kVersion = 1;
constexpr int kMinProducer = 0;
// Element counts above this are damage, not tensors (and keep count * 16 bytes in int64).
constexpr int64_t kMaxElements = int64_t{1} << 58;

struct TfType {
  int number;
  const char* name;
  int size;
};
// TensorFlow's DataType numbers, Python names and element sizes (0: not fixed-size).
constexpr TfType kTfTypes[] = {
    {1, "float32", 4},   {2, "float64", 8},   {3, "int32", 4},       {4, "uint8", 1},
    {5, "int16", 2},     {6, "int8", 1},      {7, "string", 0},      {8, "complex64", 8},
    {9, "int64", 8},     {10, "bool", 1},     {11, "qint8", 1},      {12, "quint8", 1},
    {13, "qint32", 4},   {14, "bfloat16", 2}, {15, "qint16", 2},     {16, "quint16", 2},
    {17, "uint16", 2},   {18, "complex128", 16}, {19, "float16", 2}, {20, "resource", 0},
    {21, "variant", 0},  {22, "uint32", 4},   {23, "uint64", 8},     {24, "float8_e5m2", 1},
    {25, "float8_e4m3fn", 1}, {26, "float8_e4m3fnuz", 1}, {28, "float8_e5m2fnuz", 1},
    {29, "int4", 0},     {30, "uint4", 0},
};

const TfType* find_type(int number) {
  for (const auto& t : kTfTypes)
    if (t.number == number) return &t;
  return nullptr;
}

std::optional<DType> xflow_dtype(int tf) {
  switch (tf) {
    case tensorflow::DT_BOOL: return DType::bool_;
    case tensorflow::DT_UINT8: return DType::uint8;
    case tensorflow::DT_INT32: return DType::int32;
    case tensorflow::DT_INT64: return DType::int64;
    case tensorflow::DT_FLOAT: return DType::float32;
    case tensorflow::DT_DOUBLE: return DType::float64;
    default: return std::nullopt;
  }
}

std::string shape_text(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

std::string tf_dtype_name(int tf_dtype) {
  const TfType* t = find_type(tf_dtype);
  return t ? t->name : "DT_" + std::to_string(tf_dtype);
}

int tf_dtype_size(int tf_dtype) {
  const TfType* t = find_type(tf_dtype);
  return t ? t->size : 0;
}

int tf_dtype_of(DType d) {
  switch (d) {
    case DType::bool_: return tensorflow::DT_BOOL;
    case DType::uint8: return tensorflow::DT_UINT8;
    case DType::int32: return tensorflow::DT_INT32;
    case DType::int64: return tensorflow::DT_INT64;
    case DType::float32: return tensorflow::DT_FLOAT;
    case DType::float64: return tensorflow::DT_DOUBLE;
  }
  throw InvalidArgument("tf_dtype_of: unknown dtype");
}

std::string data_filename(const std::string& prefix, int32_t shard, int32_t num_shards) {
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, ".data-%05d-of-%05d", shard, num_shards);
  return prefix + suffix;
}

Index parse_index(std::string_view bytes, const std::string& name) {
  const auto kv = table::read_all(bytes, name);
  // TensorFlow seeks to "" and parses what it finds there as the header.
  if (kv.empty() || !kv.front().first.empty())
    throw DataLoss("Unable to read file (" + name + "): failed to seek to header entry");
  tensorflow::BundleHeaderProto header;
  if (!header.ParseFromString(kv.front().second))
    throw DataLoss("Unable to read file (" + name + "): unable to parse header");
  if (header.endianness() == tensorflow::BundleHeaderProto::BIG)
    throw Unimplemented(name + ": the bundle was written on a big-endian machine; xflow reads little-endian bundles only");
  if (header.endianness() != tensorflow::BundleHeaderProto::LITTLE)
    throw DataLoss("Unable to read file (" + name + "): unknown endianness " + std::to_string(header.endianness()));
  // TensorFlow's CheckVersions(version, kTensorBundleVersion, kTensorBundleMinProducer, ...).
  const auto& v = header.version();
  if (v.producer() < kMinProducer)
    throw InvalidArgument(name + ": Checkpoint producer version " + std::to_string(v.producer()) +
                          " below min producer " + std::to_string(kMinProducer) + " supported by xflow");
  if (v.min_consumer() > kVersion)
    throw InvalidArgument(name + ": Checkpoint min consumer version " + std::to_string(v.min_consumer()) +
                          " above current version " + std::to_string(kVersion) + " for xflow");
  for (int bad : v.bad_consumers())
    if (bad == kVersion)
      throw InvalidArgument(name + ": Checkpoint disallows consumer version " + std::to_string(bad));
  if (header.num_shards() <= 0)
    throw DataLoss("Unable to read file (" + name + "): num_shards is " + std::to_string(header.num_shards()));

  Index index;
  index.num_shards = header.num_shards();
  index.entries.reserve(kv.size() - 1);
  tensorflow::BundleEntryProto proto;
  for (size_t i = 1; i < kv.size(); ++i) {
    const std::string& key = kv[i].first;
    if (!proto.ParseFromString(kv[i].second)) throw DataLoss("Entry for key " + key + " not parseable.");
    BundleEntryInfo e;
    e.key = key;
    e.tf_dtype = proto.dtype();
    e.tf_dtype_name = tf_dtype_name(e.tf_dtype);
    e.dtype = xflow_dtype(e.tf_dtype);
    const auto& shape = proto.shape();
    if (shape.unknown_rank()) throw DataLoss("Invalid tensor shape: " + key + " (unknown rank)");
    int64_t elements = 1;
    for (const auto& d : shape.dim()) {
      if (d.size() < 0) throw DataLoss("Invalid tensor shape: " + key + " (dimension " + std::to_string(d.size()) + ")");
      e.shape.push_back(d.size());
      if (d.size() != 0 && elements > kMaxElements / d.size())
        throw DataLoss("Invalid tensor shape: " + key + " " + shape_text(e.shape) + "... has too many elements");
      elements *= d.size();
    }
    e.shard_id = proto.shard_id();
    e.offset = proto.offset();
    e.size = proto.size();
    e.crc32c = proto.crc32c();
    e.num_slices = proto.slices_size();
    // The location fields of a partitioned tensor's entry are ignored (each slice has its own).
    if (e.num_slices == 0) {
      if (e.shard_id < 0 || e.shard_id >= index.num_shards)
        throw DataLoss("Entry for key " + key + " names shard " + std::to_string(e.shard_id) + " of a bundle with " +
                       std::to_string(index.num_shards) + " shard(s)");
      if (e.offset < 0 || e.size < 0 || e.size > INT64_MAX - e.offset)
        throw DataLoss("Entry for key " + key + " has an invalid extent (offset " + std::to_string(e.offset) +
                       ", size " + std::to_string(e.size) + ")");
    }
    index.entries.push_back(std::move(e));
  }
  return index;
}

std::string build_index(std::vector<BundleEntryInfo> entries, bool snappy) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  std::vector<std::pair<std::string, std::string>> kv;
  kv.reserve(entries.size() + 1);
  // As TensorFlow's BundleWriter::Finish: num_shards 1, LITTLE (the default, not serialized),
  // version producer 1, min_consumer 0.
  tensorflow::BundleHeaderProto header;
  header.set_num_shards(1);
  header.set_endianness(tensorflow::BundleHeaderProto::LITTLE);
  header.mutable_version()->set_producer(kVersion);
  header.mutable_version()->set_min_consumer(0);
  kv.emplace_back("", header.SerializeAsString());
  for (const auto& e : entries) {
    if (e.key.empty()) throw InvalidArgument("build_index: the empty key is the header's");
    tensorflow::BundleEntryProto p;
    p.set_dtype(static_cast<tensorflow::DataType>(e.tf_dtype));
    auto* shape = p.mutable_shape();  // always present, as TensorShape::AsProto writes it
    for (int64_t d : e.shape) shape->add_dim()->set_size(d);
    p.set_shard_id(e.shard_id);
    p.set_offset(e.offset);
    p.set_size(e.size);
    p.set_crc32c(e.crc32c);
    kv.emplace_back(e.key, p.SerializeAsString());
  }
  table::BuildOptions options;
  options.snappy = snappy;
  return table::build(kv, options);
}

}  // namespace xf::io::bundle
