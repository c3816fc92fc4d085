// BundleReader: PREFIX.index parsed once (bundle_index.cpp), tensors read on demand with pread.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "io/bundle_index.hpp"
#include "io/crc32c.hpp"
#include "io/table.hpp"
#include "xflow/checkpoint.hpp"
#include "xflow/error.hpp"

namespace xf::io {

namespace {

// An open file descriptor, closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool regular_file(const std::string& path, int64_t* size = nullptr) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (size) *size = st.st_size;
  return true;
}

// Reads [offset, offset + n) of `fd` into `out`; false when the file ends first.
bool pread_all(int fd, void* out, size_t n, int64_t offset) {
  char* p = static_cast<char*>(out);
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, offset);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    offset += r;
  }
  return true;
}

// The whole file, or NotFound. The size read is the file's own, never a stored one.
std::string read_whole(const std::string& path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) throw NotFound(path + " not found: " + std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) throw NotFound(path + ": " + std::strerror(errno));
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  if (!pread_all(f.fd, bytes.data(), bytes.size(), 0)) throw DataLoss(path + ": short read");
  return bytes;
}

}  // namespace

struct BundleReader::Impl {
  std::string prefix;
  int32_t num_shards = 1;
  std::vector<BundleEntryInfo> entries;
};

BundleReader::BundleReader(const std::string& prefix) : impl_(new Impl) {
  try {
    impl_->prefix = prefix;
    const std::string index_path = prefix + ".index";
    if (!regular_file(index_path)) {
      // A V1 checkpoint is one table file named by the prefix itself (or PREFIX-NNNNN-of-MMMMM).
      int64_t size = 0;
      if (regular_file(prefix, &size)) {
        if (table::has_table_magic(read_whole(prefix)))
          throw Unimplemented(prefix + " is a V1 (tensor-slice) checkpoint; V1 checkpoints are not supported: "
                              "re-save it in the V2 format (TensorFlow's tf.train.Saver(write_version=V2))");
      }
      throw NotFound("Failed to find any matching files for " + prefix + ": " + index_path + " not found");
    }
    auto index = bundle::parse_index(read_whole(index_path), index_path);
    impl_->num_shards = index.num_shards;
    impl_->entries = std::move(index.entries);
  } catch (...) {
    delete impl_;
    throw;
  }
}

BundleReader::~BundleReader() { delete impl_; }

const std::string& BundleReader::prefix() const { return impl_->prefix; }

const std::vector<BundleEntryInfo>& BundleReader::entries() const { return impl_->entries; }

bool BundleReader::contains(const std::string& key) const {
  const auto& es = impl_->entries;
  auto it = std::lower_bound(es.begin(), es.end(), key, [](const BundleEntryInfo& e, const std::string& k) { return e.key < k; });
  return it != es.end() && it->key == key;
}

const BundleEntryInfo& BundleReader::entry(const std::string& key) const {
  const auto& es = impl_->entries;
  auto it = std::lower_bound(es.begin(), es.end(), key, [](const BundleEntryInfo& e, const std::string& k) { return e.key < k; });
  if (it == es.end() || it->key != key) throw NotFound("Key " + key + " not found in checkpoint");
  return *it;
}

Tensor BundleReader::read(const std::string& key) const {
  const BundleEntryInfo& e = entry(key);
  if (e.num_slices > 0)
    throw Unimplemented("Key " + key + " is a partitioned tensor stored in " + std::to_string(e.num_slices) +
                        " slices; xflow does not read partitioned tensors");
  if (!e.dtype)
    throw Unimplemented("Key " + key + " has dtype " + e.tf_dtype_name + " (TensorFlow DataType " +
                        std::to_string(e.tf_dtype) + "), which xflow cannot read");
  int64_t elements = 1;
  for (int64_t d : e.shape) elements *= d;  // bounded by parse_index
  const int64_t expected = elements * dtype_size(*e.dtype);
  if (e.size != expected)
    throw DataLoss("Invalid size in bundle entry: key " + key + "; stored size " + std::to_string(e.size) +
                   "; expected size " + std::to_string(expected));
  const std::string path = bundle::data_filename(impl_->prefix, e.shard_id, impl_->num_shards);
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) throw NotFound("Key " + key + ": data file " + path + " not found: " + std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) throw DataLoss("Key " + key + ": cannot stat " + path + ": " + std::strerror(errno));
  // Checked against the file's size before anything is allocated.
  if (e.offset > st.st_size || e.size > st.st_size - e.offset)
    throw DataLoss("Key " + key + ": data file " + path + " is truncated: the entry needs bytes [" +
                   std::to_string(e.offset) + ", " + std::to_string(e.offset + e.size) + ") but the file has " +
                   std::to_string(st.st_size) + " bytes");
  Tensor t = Tensor::empty(e.shape, *e.dtype);
  if (e.size > 0 && !pread_all(f.fd, t.raw_data(), static_cast<size_t>(e.size), e.offset))
    throw DataLoss("Key " + key + ": data file " + path + " ended early");
  const uint32_t actual = e.size > 0 ? crc32c::value(t.raw_data(), static_cast<size_t>(e.size)) : 0;
  const uint32_t stored = crc32c::unmask(e.crc32c);
  if (actual != stored) {
    char text[64];
    std::snprintf(text, sizeof text, "%08u", stored);
    throw DataLoss("TensorBundle at " + impl_->prefix + " shard " + std::to_string(e.shard_id) + " (" +
                   std::to_string(e.size) + " bytes): Checksum does not match: stored " + text +
                   " vs. calculated on the restored bytes " + std::to_string(actual) + " (key " + key + ")");
  }
  if (*e.dtype == DType::bool_) {  // xflow's bool_ bytes are 0 or 1
    auto* p = static_cast<unsigned char*>(t.raw_data());
    for (int64_t i = 0; i < elements; ++i) p[i] = p[i] != 0;
  }
  return t;
}

}  // namespace xf::io
