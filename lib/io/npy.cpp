// .npy and .npz files of tensors: the byte-level work is in npy_format.cpp and npz_archive.cpp.
#include "xflow/npy.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <deque>
#include <random>
#include <set>

#include "io/atomic_file.hpp"
#include "io/npy_format.hpp"
#include "io/npz_archive.hpp"
#include "xflow/error.hpp"

namespace xf::io {

namespace {

std::string errno_text() { return std::strerror(errno); }

uint8_t* tensor_bytes(const Tensor& t) { return static_cast<uint8_t*>(t.raw_data()); }

uint64_t data_size(const Tensor& t) {
  return static_cast<uint64_t>(t.size()) * static_cast<uint64_t>(dtype_size(t.dtype()));
}

// A tensor for the header, its data filled in by `fill(destination)`.
Tensor allocate(const NpyHeader& h) { return Tensor::empty(h.shape, h.dtype); }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly n bytes at the current position; DataLoss when the file ends first.
void read_exact(int fd, uint8_t* p, uint64_t n, const std::string& path) {
  while (n > 0) {
    ssize_t r = ::read(fd, p, std::min<uint64_t>(n, uint64_t{1} << 30));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw DataLoss(path + ": cannot read: " + errno_text());
    }
    if (r == 0) throw DataLoss(path + ": truncated .npy file (it shrank while being read)");
    p += r;
    n -= static_cast<uint64_t>(r);
  }
}

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void check_names(const NamedTensors& arrays, const std::string& path) {
  std::set<std::string> seen;
  for (const auto& [name, t] : arrays) {
    if (name.empty()) throw InvalidArgument(path + ": an .npz array needs a non-empty name");
    if (name.find('\0') != std::string::npos) throw InvalidArgument(path + ": an .npz array name holds a NUL byte");
    if (!seen.insert(name).second) throw InvalidArgument(path + ": array name '" + name + "' given twice");
    if (!t.defined()) throw InvalidArgument(path + ": array '" + name + "' is an empty Tensor handle");
  }
}

// The archive libzip writes: a source over our own temporary file, so that libzip's small writes
// (8 KiB, 4 KiB through stdio in its own file source) reach the kernel as 4 MiB ones, and so
// that the file is fsync'ed before it is renamed into place. libzip seeks back to complete each
// member's local header; the buffer holds one contiguous run of bytes and is flushed first.
class ZipOutput {
 public:
  ZipOutput(std::string temp, bool sync) : temp_(std::move(temp)), sync_(sync) { zip_error_init(&error_); }
  ~ZipOutput() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temp_.c_str());
    }
    zip_error_fini(&error_);
  }
  static zip_int64_t callback(void* self, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    return static_cast<ZipOutput*>(self)->handle(data, len, cmd);
  }
  bool committed() const { return committed_; }

 private:
  zip_int64_t fail(int zip_code, int sys_code) {
    zip_error_set(&error_, zip_code, sys_code);
    return -1;
  }
  bool flush() {
    size_t done = 0;
    while (done < buf_.size()) {
      ssize_t w = ::pwrite(fd_, buf_.data() + done, buf_.size() - done, static_cast<off_t>(buf_start_ + done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      done += static_cast<size_t>(w);
    }
    buf_start_ += buf_.size();
    buf_.clear();
    return true;
  }
  zip_int64_t handle(void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    switch (cmd) {
      case ZIP_SOURCE_SUPPORTS:
        return ZIP_SOURCE_SUPPORTS_WRITABLE;
      case ZIP_SOURCE_STAT:
        // No archive yet: libzip starts a new one.
        return fail(ZIP_ER_READ, ENOENT);
      case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&error_, data, len);
      case ZIP_SOURCE_FREE:
        return 0;
      case ZIP_SOURCE_BEGIN_WRITE:
        fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd_ < 0) return fail(ZIP_ER_TMPOPEN, errno);
        buf_.reserve(kBuffer);
        return 0;
      case ZIP_SOURCE_WRITE: {
        const uint8_t* p = static_cast<const uint8_t*>(data);
        if (!buf_.empty() && pos_ != buf_start_ + buf_.size() && !flush()) return fail(ZIP_ER_WRITE, errno);
        if (buf_.empty()) buf_start_ = pos_;
        if (buf_.size() + len > kBuffer) {
          if (!flush()) return fail(ZIP_ER_WRITE, errno);
          buf_start_ = pos_;
        }
        if (len >= kBuffer) {
          buf_.assign(p, p + len);  // rare: libzip writes in small pieces
          if (!flush()) return fail(ZIP_ER_WRITE, errno);
        } else {
          buf_.insert(buf_.end(), p, p + len);
        }
        pos_ += len;
        end_ = std::max(end_, pos_);
        return static_cast<zip_int64_t>(len);
      }
      case ZIP_SOURCE_SEEK_WRITE: {
        zip_int64_t off = zip_source_seek_compute_offset(pos_, end_, data, len, &error_);
        if (off < 0) return -1;
        pos_ = static_cast<uint64_t>(off);
        return 0;
      }
      case ZIP_SOURCE_TELL_WRITE:
        return static_cast<zip_int64_t>(pos_);
      case ZIP_SOURCE_COMMIT_WRITE: {
        if (!flush()) return fail(ZIP_ER_WRITE, errno);
        if (sync_ && ::fsync(fd_) != 0) return fail(ZIP_ER_WRITE, errno);
        int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) {
          ::unlink(temp_.c_str());
          return fail(ZIP_ER_CLOSE, errno);
        }
        committed_ = true;
        return 0;
      }
      case ZIP_SOURCE_ROLLBACK_WRITE:
      case ZIP_SOURCE_REMOVE:
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        ::unlink(temp_.c_str());
        return 0;
      default:
        return fail(ZIP_ER_OPNOTSUPP, 0);
    }
  }

  static constexpr size_t kBuffer = size_t{4} << 20;
  std::string temp_;
  bool sync_;
  int fd_ = -1;
  zip_error_t error_;
  std::vector<uint8_t> buf_;
  uint64_t buf_start_ = 0, pos_ = 0, end_ = 0;
  bool committed_ = false;
};

void write_npz(const std::string& path, const NamedTensors& arrays, bool compressed, bool sync) {
  check_names(arrays, path);
  if (arrays.empty()) {
    // libzip writes no file for an archive without entries; NumPy writes the bare end record.
    static const char kEmptyZip[22] = {'P', 'K', 5, 6};
    write_file_atomically(path, std::string_view(kEmptyZip, sizeof kEmptyZip), sync);
    return;
  }
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp%016llx", static_cast<unsigned long long>(rng()));
  ZipOutput out(path + suffix, sync);
  zip_error_t e;
  zip_error_init(&e);
  zip_source_t* archive = zip_source_function_create(&ZipOutput::callback, &out, &e);
  zip_t* za = archive ? zip_open_from_source(archive, ZIP_CREATE | ZIP_TRUNCATE, &e) : nullptr;
  if (!za) {
    std::string why = zip_error_strerror(&e);
    zip_error_fini(&e);
    if (archive) zip_source_free(archive);
    throw DataLoss("cannot write " + path + ": " + why);
  }
  zip_error_fini(&e);
  // Headers and contiguous tensors stay alive until zip_close has copied them.
  std::deque<std::string> headers;
  std::vector<Tensor> datas;
  datas.reserve(arrays.size());
  auto fail = [&](const std::string& why) {
    zip_discard(za);
    throw DataLoss("cannot write " + path + ": " + why);
  };
  for (const auto& [name, tensor] : arrays) {
    datas.push_back(tensor.contiguous());
    const Tensor& t = datas.back();
    headers.push_back(npy_header(t.dtype(), t.shape(), path + ": array '" + name + "'"));
    const std::string& header = headers.back();
    zip_buffer_fragment_t fragments[2] = {
        {reinterpret_cast<zip_uint8_t*>(const_cast<char*>(header.data())), header.size()},
        {tensor_bytes(t), data_size(t)}};
    zip_error_init(&e);
    zip_source_t* src = zip_source_buffer_fragment_create(fragments, data_size(t) > 0 ? 2 : 1, 0, &e);
    if (!src) {
      std::string why = zip_error_strerror(&e);
      zip_error_fini(&e);
      fail(why);
    }
    zip_error_fini(&e);
    std::string member = name + ".npy";
    zip_int64_t idx = zip_file_add(za, member.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      fail(std::string("cannot add '") + member + "': " + zip_strerror(za));
    }
    if (zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), compressed ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                 compressed ? 6 : 0) != 0)
      fail(std::string("cannot set the compression of '") + member + "': " + zip_strerror(za));
  }
  if (zip_close(za) != 0) fail(zip_strerror(za));
  if (!out.committed()) throw DataLoss("cannot write " + path + ": libzip did not finish the archive");
  const std::string temp = path + suffix;
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(temp.c_str());
    throw DataLoss("cannot rename " + temp + " to " + path + ": " + why);
  }
  if (sync) sync_directory(dir_of(path));
}

}  // namespace

// ---- .npy ----

std::string npy_bytes(const Tensor& tensor) {
  if (!tensor.defined()) throw InvalidArgument("npy_bytes: an empty Tensor handle");
  Tensor t = tensor.contiguous();
  std::string out = npy_header(t.dtype(), t.shape(), "npy_bytes");
  out.append(reinterpret_cast<const char*>(tensor_bytes(t)), static_cast<size_t>(data_size(t)));
  return out;
}

void save_npy(const std::string& path, const Tensor& tensor, bool sync) {
  if (!tensor.defined()) throw InvalidArgument(path + ": cannot save an empty Tensor handle");
  Tensor t = tensor.contiguous();
  std::string header = npy_header(t.dtype(), t.shape(), path);
  AtomicFile f(path);
  f.write(header);
  f.write(tensor_bytes(t), static_cast<size_t>(data_size(t)));
  f.commit(sync);
}

Tensor tensor_from_npy(std::string_view bytes, const std::string& label) {
  uint64_t header_len = npy_header_length(bytes, bytes.size(), label);
  NpyHeader h = parse_npy_header(bytes.substr(0, static_cast<size_t>(header_len)), bytes.size(), label);
  Tensor t = allocate(h);
  npy_data_to_native(h, reinterpret_cast<const uint8_t*>(bytes.data()) + h.data_offset, tensor_bytes(t));
  return t;
}

Tensor load_npy(const std::string& path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) throw NotFound(path + ": cannot open .npy file (" + errno_text() + ")");
  struct stat st;
  if (::fstat(f.fd, &st) != 0) throw DataLoss(path + ": cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) throw InvalidArgument(path + ": not a regular file");
  const uint64_t total = static_cast<uint64_t>(st.st_size);
  std::string head(static_cast<size_t>(std::min<uint64_t>(total, kNpyPrefixBytes)), '\0');
  read_exact(f.fd, reinterpret_cast<uint8_t*>(head.data()), head.size(), path);
  uint64_t header_len = npy_header_length(head, total, path);
  size_t prefix = head.size();
  head.resize(static_cast<size_t>(header_len));
  read_exact(f.fd, reinterpret_cast<uint8_t*>(head.data()) + prefix, header_len - prefix, path);
  NpyHeader h = parse_npy_header(head, total, path);
  // The size checks are done: the file holds exactly the data the header describes.
  Tensor t = allocate(h);
  if (h.fortran_order && h.shape.size() > 1) {
    std::vector<uint8_t> column_major(static_cast<size_t>(h.data_bytes));
    read_exact(f.fd, column_major.data(), h.data_bytes, path);
    npy_data_to_native(h, column_major.data(), tensor_bytes(t));
  } else {
    read_exact(f.fd, tensor_bytes(t), h.data_bytes, path);
    npy_data_to_native(h, tensor_bytes(t), tensor_bytes(t));
  }
  return t;
}

// ---- .npz ----

void save_npz(const std::string& path, const NamedTensors& arrays, bool sync) {
  write_npz(path, arrays, false, sync);
}

void savez_compressed(const std::string& path, const NamedTensors& arrays, bool sync) {
  write_npz(path, arrays, true, sync);
}

struct NpzReader::Impl {
  std::string bytes;  // the archive, when read from memory
  std::unique_ptr<NpzArchive> archive;

  Tensor read(size_t i) const {
    Tensor t;
    archive->read(i, [&](const NpyHeader& h) {
      t = allocate(h);
      return tensor_bytes(t);
    });
    return t;
  }
};

NpzReader::NpzReader(const std::string& path) : impl_(new Impl) {
  try {
    impl_->archive = NpzArchive::open_file(path);
  } catch (...) {
    delete impl_;
    throw;
  }
}

NpzReader NpzReader::from_bytes(std::string_view bytes, const std::string& label) {
  NpzReader r;
  r.impl_ = new Impl;
  r.impl_->bytes.assign(bytes.data(), bytes.size());
  r.impl_->archive = NpzArchive::open_bytes(r.impl_->bytes, label);
  return r;
}

NpzReader::~NpzReader() { delete impl_; }
NpzReader::NpzReader(NpzReader&& o) noexcept : impl_(o.impl_) { o.impl_ = nullptr; }
NpzReader& NpzReader::operator=(NpzReader&& o) noexcept {
  std::swap(impl_, o.impl_);
  return *this;
}

std::vector<std::string> NpzReader::names() const {
  std::vector<std::string> out;
  for (const NpzMember& m : impl_->archive->members()) out.push_back(m.name);
  return out;
}

bool NpzReader::contains(const std::string& name) const { return impl_->archive->find(name) >= 0; }

Tensor NpzReader::read(const std::string& name) const {
  int64_t i = impl_->archive->find(name);
  if (i < 0) throw NotFound(impl_->archive->label() + ": no array '" + name + "' in the .npz archive");
  return impl_->read(static_cast<size_t>(i));
}

NamedTensors NpzReader::read_all() const {
  NamedTensors out;
  const auto& members = impl_->archive->members();
  for (size_t i = 0; i < members.size(); ++i) out.emplace_back(members[i].name, impl_->read(i));
  return out;
}

std::map<std::string, Tensor> load_npz(const std::string& path) {
  NpzReader r(path);
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : r.read_all()) out.emplace(name, std::move(t));
  return out;
}

}  // namespace xf::io
