// BundleWriter: tensor bytes streamed to the data file's temporary in add order, the index built
// at finish() (bundle_index.cpp), both committed through AtomicFile: data first, then index.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "io/atomic_file.hpp"
#include "io/bundle_index.hpp"
#include "io/crc32c.hpp"
#include "xflow/checkpoint.hpp"
#include "xflow/error.hpp"

namespace xf::io {

namespace {

// mkdir -p of the directory part of `prefix`, as TensorFlow's BundleWriter does.
void create_parent_dirs(const std::string& prefix) {
  auto slash = prefix.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return;
  const std::string dir = prefix.substr(0, slash);
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
      throw NotFound("BundleWriter: cannot create directory " + part + ": " + std::strerror(errno));
  }
}

}  // namespace

struct BundleWriter::Impl {
  std::string prefix;
  BundleWriterOptions options;
  std::unique_ptr<AtomicFile> data;
  std::map<std::string, BundleEntryInfo> entries;
  int64_t size = 0;
  bool finished = false;
};

BundleWriter::BundleWriter(std::string prefix, BundleWriterOptions options) : impl_(new Impl) {
  try {
    impl_->prefix = std::move(prefix);
    impl_->options = options;
    if (impl_->prefix.empty()) throw InvalidArgument("BundleWriter: empty prefix");
    create_parent_dirs(impl_->prefix);
    impl_->data = std::make_unique<AtomicFile>(bundle::data_filename(impl_->prefix, 0, 1));
  } catch (...) {
    delete impl_;
    throw;
  }
}

BundleWriter::~BundleWriter() { delete impl_; }

void BundleWriter::add(const std::string& key, const Tensor& value) {
  if (impl_->finished) throw FailedPrecondition("BundleWriter: add(\"" + key + "\") after finish()");
  if (key.empty()) throw InvalidArgument("BundleWriter: the empty key is reserved for the bundle's header");
  if (!value.defined()) throw InvalidArgument("BundleWriter: the tensor for key " + key + " is undefined");
  if (impl_->entries.count(key)) throw InvalidArgument("Adding duplicate key: " + key);
  const Tensor t = value.contiguous();
  const size_t bytes = static_cast<size_t>(t.size()) * static_cast<size_t>(dtype_size(t.dtype()));
  BundleEntryInfo e;
  e.key = key;
  e.tf_dtype = bundle::tf_dtype_of(t.dtype());
  e.tf_dtype_name = bundle::tf_dtype_name(e.tf_dtype);
  e.dtype = t.dtype();
  e.shape = t.shape();
  e.shard_id = 0;
  e.offset = impl_->size;
  e.size = static_cast<int64_t>(bytes);
  if (bytes > 0) {
    impl_->data->write(t.raw_data(), bytes);
    e.crc32c = crc32c::mask(crc32c::value(t.raw_data(), bytes));
  } else {
    e.crc32c = crc32c::mask(0);
  }
  impl_->size += e.size;
  impl_->entries.emplace(key, std::move(e));
}

void BundleWriter::finish() {
  if (impl_->finished) throw FailedPrecondition("BundleWriter: finish() called twice for " + impl_->prefix);
  impl_->finished = true;
  impl_->data->commit(impl_->options.sync);
  std::vector<BundleEntryInfo> entries;
  entries.reserve(impl_->entries.size());
  for (auto& [k, e] : impl_->entries) entries.push_back(std::move(e));
  write_file_atomically(impl_->prefix + ".index", bundle::build_index(std::move(entries), impl_->options.snappy_index),
                       impl_->options.sync);
}

}  // namespace xf::io
