// TFRecord files (include/xflow/tfrecord.hpp): TensorFlow's record_writer.cc / record_reader.cc
// restated, with zlib streams as TensorFlow's ZlibOutputBuffer / ZlibInputStream write and read
// them. docs/tfrecord.md.
#include "xflow/tfrecord.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "io/crc32c.hpp"
#include "xflow/error.hpp"

namespace xf::io {

namespace {

constexpr size_t kHeaderSize = 12;  // uint64 length + uint32 masked CRC of the length
constexpr size_t kFooterSize = 4;   // uint32 masked CRC of the data
// TensorFlow's ZlibCompressionOptions: 256 KiB input and output buffers, memLevel 9.
constexpr size_t kZlibBufferSize = 256 << 10;
constexpr int kZlibMemLevel = 9;
constexpr size_t kReadBufferSize = 256 << 10;

void put32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void put64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void header_for(char* h, size_t n) {
  put64(h, n);
  put32(h + 8, crc32c::mask(crc32c::value(h, 8)));
}

// The exception for an errno met while working on `path`.
[[noreturn]] void throw_errno(int err, const std::string& what, const std::string& path) {
  std::string msg = path + ": " + what + " (" + std::strerror(err) + ")";
  if (err == ENOENT || err == ENOTDIR) throw NotFound(msg);
  if (err == ENOSPC || err == EDQUOT) throw ResourceExhausted(msg);
  if (err == EACCES || err == EPERM || err == EISDIR || err == EROFS) throw FailedPrecondition(msg);
  throw Internal(msg);
}

int window_bits(Compression c) { return c == Compression::gzip ? MAX_WBITS + 16 : MAX_WBITS; }

std::string zlib_message(const z_stream& z, int code) {
  std::string m = z.msg ? z.msg : zError(code);
  return m;
}

}  // namespace

Compression compression_from_name(const std::string& s) {
  if (s.empty() || s == "NONE") return Compression::none;
  if (s == "ZLIB") return Compression::zlib;
  if (s == "GZIP") return Compression::gzip;
  throw InvalidArgument("unknown TFRecord compression type \"" + s + "\" (expected \"\", \"ZLIB\" or \"GZIP\")");
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::zlib:
      return "ZLIB";
    case Compression::gzip:
      return "GZIP";
    default:
      return "";
  }
}

std::string tfrecord_frame(std::string_view record) {
  std::string out(kHeaderSize + record.size() + kFooterSize, '\0');
  header_for(out.data(), record.size());
  if (!record.empty()) std::memcpy(out.data() + kHeaderSize, record.data(), record.size());
  put32(out.data() + kHeaderSize + record.size(), crc32c::mask(crc32c::value(record.data(), record.size())));
  return out;
}

// ---- Writer ----

struct TFRecordWriter::Impl {
  std::string path;
  TFRecordOptions options;
  int fd = -1;
  bool closed = false;
  std::string pending;  // uncompressed: bytes not yet written; compressed: input not yet deflated
  z_stream z{};
  bool z_live = false;
  std::vector<unsigned char> zout;

  void write_fd(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw_errno(errno, "cannot write TFRecord file", path);
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

  // Runs deflate over `pending` with `flush`, writing the output as it fills.
  void deflate_pending(int flush) {
    z.next_in = reinterpret_cast<Bytef*>(pending.data());
    z.avail_in = static_cast<uInt>(pending.size());
    for (;;) {
      z.next_out = zout.data();
      z.avail_out = static_cast<uInt>(zout.size());
      int rc = ::deflate(&z, flush);
      if (rc != Z_OK && rc != Z_BUF_ERROR && !(rc == Z_STREAM_END && flush == Z_FINISH))
        throw DataLoss("deflate() failed with error " + std::to_string(rc) + ": " + zlib_message(z, rc));
      size_t produced = zout.size() - z.avail_out;
      if (produced > 0) write_fd(reinterpret_cast<const char*>(zout.data()), produced);
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) break;
    }
    pending.clear();
  }

  void append(const char* p, size_t n) {
    pending.append(p, n);
    if (pending.size() >= (options.compression == Compression::none ? size_t{64 << 10} : kZlibBufferSize))
      drain(Z_NO_FLUSH);
  }

  void drain(int flush) {
    if (options.compression == Compression::none) {
      write_fd(pending.data(), pending.size());
      pending.clear();
    } else {
      deflate_pending(flush);
    }
  }

  void check_open(const char* op) const {
    if (closed) throw FailedPrecondition("TFRecordWriter::" + std::string(op) + ": " + path + ": Writer is closed.");
  }
};

TFRecordWriter::TFRecordWriter(const std::string& path, TFRecordOptions options) : impl_(new Impl) {
  impl_->path = path;
  impl_->options = options;
  if (options.compression_level < -1 || options.compression_level > 9)
    throw InvalidArgument("TFRecordWriter: compression_level must be -1 (default) or 0..9, got " +
                          std::to_string(options.compression_level));
  if (options.compression != Compression::none) {
    int rc = deflateInit2(&impl_->z, options.compression_level, Z_DEFLATED, window_bits(options.compression),
                          kZlibMemLevel, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) throw Internal("TFRecordWriter: deflateInit2 failed with error " + std::to_string(rc));
    impl_->z_live = true;
    impl_->zout.resize(kZlibBufferSize);
  }
  impl_->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (impl_->fd < 0) {
    int err = errno;
    if (impl_->z_live) deflateEnd(&impl_->z);
    throw_errno(err, "cannot create TFRecord file", path);
  }
}

TFRecordWriter::~TFRecordWriter() {
  if (!impl_) return;
  try {
    close();
  } catch (...) {
    // Destructors do not throw; close() reports the error to callers who ask.
  }
  if (impl_->fd >= 0) ::close(impl_->fd);
  if (impl_->z_live) deflateEnd(&impl_->z);
}

TFRecordWriter::TFRecordWriter(TFRecordWriter&&) noexcept = default;
TFRecordWriter& TFRecordWriter::operator=(TFRecordWriter&& o) noexcept {
  if (this != &o) {
    TFRecordWriter dead(std::move(*this));
    impl_ = std::move(o.impl_);
  }
  return *this;
}

void TFRecordWriter::write(std::string_view record) {
  impl_->check_open("write");
  char header[kHeaderSize];
  char footer[kFooterSize];
  header_for(header, record.size());
  put32(footer, crc32c::mask(crc32c::value(record.data(), record.size())));
  impl_->append(header, kHeaderSize);
  impl_->append(record.data(), record.size());
  impl_->append(footer, kFooterSize);
}

void TFRecordWriter::flush() {
  impl_->check_open("flush");
  impl_->drain(Z_PARTIAL_FLUSH);
}

void TFRecordWriter::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  impl_->drain(Z_FINISH);
  if (impl_->z_live) {
    deflateEnd(&impl_->z);
    impl_->z_live = false;
  }
  int fd = impl_->fd;
  impl_->fd = -1;
  if (::close(fd) != 0) throw_errno(errno, "cannot close TFRecord file", impl_->path);
}

bool TFRecordWriter::closed() const { return impl_->closed; }
const std::string& TFRecordWriter::path() const { return impl_->path; }

// ---- Reader ----

namespace {

// A stream of bytes: a file, bytes in memory, or the inflated form of another stream.
class Source {
 public:
  virtual ~Source() = default;
  // Up to n bytes into dst; 0 only at the end.
  virtual size_t read(char* dst, size_t n) = 0;
  // True when the source knows (a file, memory) that fewer than n bytes are left; an inflated
  // stream does not know.
  virtual bool known_short(uint64_t /*n*/) { return false; }
  bool bounded() const { return bounded_; }

 protected:
  bool bounded_ = false;  // known_short() answers
};

class FileSource : public Source {
 public:
  explicit FileSource(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw_errno(errno, "cannot open TFRecord file", path);
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
      int err = errno;
      ::close(fd_);
      throw_errno(err, "cannot stat TFRecord file", path);
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd_);
      throw FailedPrecondition(path + ": is a directory, not a TFRecord file");
    }
    regular_ = S_ISREG(st.st_mode);
    bounded_ = regular_;
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~FileSource() override { ::close(fd_); }

  size_t read(char* dst, size_t n) override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(fd_, dst + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw_errno(errno, "cannot read TFRecord file", path_);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    consumed_ += got;
    return got;
  }

  bool known_short(uint64_t n) override {
    if (!regular_ || size_ - std::min(size_, consumed_) >= n) return false;
    // The file may have grown since it was opened (an event file still being written).
    struct stat st;
    if (::fstat(fd_, &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
    return size_ - std::min(size_, consumed_) < n;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool regular_ = false;
  uint64_t size_ = 0;
  uint64_t consumed_ = 0;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) { bounded_ = true; }
  size_t read(char* dst, size_t n) override {
    size_t k = std::min(n, bytes_.size() - pos_);
    if (k) std::memcpy(dst, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  bool known_short(uint64_t n) override { return bytes_.size() - pos_ < n; }

 private:
  std::string bytes_;
  size_t pos_ = 0;
};

// The inflated bytes of a zlib or gzip stream; concatenated streams (gzip members) are read one
// after the other. A stream that stops before its end gives the bytes inflated so far and then
// ends (as TensorFlow's ZlibInputStream, which reports the end of its input as the end).
class InflateSource : public Source {
 public:
  InflateSource(std::unique_ptr<Source> inner, Compression c) : inner_(std::move(inner)), in_(kZlibBufferSize) {
    int rc = inflateInit2(&z_, window_bits(c));
    if (rc != Z_OK) throw Internal("TFRecordReader: inflateInit2 failed with error " + std::to_string(rc));
  }
  ~InflateSource() override { inflateEnd(&z_); }

  size_t read(char* dst, size_t n) override {
    size_t got = 0;
    while (got < n && !done_) {
      if (z_.avail_in == 0) {
        size_t k = inner_->read(in_.data(), in_.size());
        if (k == 0) {
          done_ = true;
          break;
        }
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(k);
      }
      if (member_ended_) {
        // Another member follows the one that ended.
        inflateReset(&z_);
        member_ended_ = false;
      }
      z_.next_out = reinterpret_cast<Bytef*>(dst + got);
      z_.avail_out = static_cast<uInt>(std::min<size_t>(n - got, 1u << 30));
      int rc = ::inflate(&z_, Z_NO_FLUSH);
      got = static_cast<size_t>(reinterpret_cast<char*>(z_.next_out) - dst);
      if (rc == Z_STREAM_END) {
        member_ended_ = true;
      } else if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR) {
        std::string m = zlib_message(z_, rc == Z_NEED_DICT ? Z_DATA_ERROR : rc);
        throw DataLoss("inflate() failed with error " + std::to_string(rc) + ": " + m);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw DataLoss("inflate() failed with error " + std::to_string(rc) + ": " + zlib_message(z_, rc));
      }
    }
    return got;
  }

 private:
  std::unique_ptr<Source> inner_;
  std::vector<char> in_;
  z_stream z_{};
  bool done_ = false;
  bool member_ended_ = false;
};

std::unique_ptr<Source> wrap(std::unique_ptr<Source> s, Compression c) {
  if (c == Compression::none) return s;
  return std::make_unique<InflateSource>(std::move(s), c);
}

std::string at_offset(const char* what, uint64_t offset) {
  std::string m = std::string(what) + " at " + std::to_string(offset);
  // TFRecord files carry no magic number; TensorFlow reminds of the format at offset 0.
  if (offset == 0) m += " (Is this even a TFRecord file?)";
  return m;
}

}  // namespace

struct TFRecordReader::Impl {
  std::unique_ptr<Source> src;
  std::vector<char> buf = std::vector<char>(kReadBufferSize);
  size_t pos = 0, end = 0;
  bool src_done = false;
  uint64_t offset = 0;
  int64_t count = 0;
  std::optional<DataLoss> error;

  // At least n (<= buffer size) bytes buffered, or fewer at the end of the source.
  size_t ensure(size_t n) {
    if (end - pos >= n || src_done) return end - pos;
    if (pos > 0) {
      std::memmove(buf.data(), buf.data() + pos, end - pos);
      end -= pos;
      pos = 0;
    }
    while (end < n) {
      size_t k = src->read(buf.data() + end, buf.size() - end);
      if (k == 0) {
        src_done = true;
        break;
      }
      end += k;
    }
    return end - pos;
  }

  [[noreturn]] void fail(std::string msg) {
    error.emplace(msg);
    throw *error;
  }

  bool read(std::string& record) {
    if (error) throw *error;
    size_t have = ensure(kHeaderSize);
    // Nothing, or part of a header: the end of the file (TensorFlow's OutOfRange).
    if (have < kHeaderSize) return false;
    const char* h = buf.data() + pos;
    if (crc32c::unmask(get32(h + 8)) != crc32c::value(h, 8)) fail(at_offset("corrupted record", offset));
    const uint64_t length = get64(h);
    const uint64_t data_offset = offset + kHeaderSize;
    if (length >= SIZE_MAX - kFooterSize) fail("record size too large");
    pos += kHeaderSize;
    // A length beyond what the file still holds is a truncated record: known without reading
    // (and without allocating) it.
    const uint64_t buffered = end - pos;
    if (length + kFooterSize > buffered && src->known_short(length + kFooterSize - buffered))
      fail("truncated record at " + std::to_string(offset));
    if (src->bounded()) record.reserve(length);
    record.clear();
    uint32_t crc = 0;
    uint64_t left = length;
    while (left > 0) {
      if (pos == end && ensure(1) == 0) fail("truncated record at " + std::to_string(offset));
      size_t k = static_cast<size_t>(std::min<uint64_t>(left, end - pos));
      crc = crc32c::extend(crc, buf.data() + pos, k);
      record.append(buf.data() + pos, k);
      pos += k;
      left -= k;
    }
    if (ensure(kFooterSize) < kFooterSize) fail("truncated record at " + std::to_string(offset));
    uint32_t stored = get32(buf.data() + pos);
    pos += kFooterSize;
    if (crc32c::unmask(stored) != crc) fail(at_offset("corrupted record", data_offset));
    offset = data_offset + length + kFooterSize;
    ++count;
    return true;
  }
};

TFRecordReader::TFRecordReader(const std::string& path, Compression c) : impl_(new Impl) {
  impl_->src = wrap(std::make_unique<FileSource>(path), c);
}

TFRecordReader::TFRecordReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TFRecordReader TFRecordReader::from_bytes(std::string bytes, Compression c) {
  auto impl = std::make_unique<Impl>();
  impl->src = wrap(std::make_unique<MemorySource>(std::move(bytes)), c);
  return TFRecordReader(std::move(impl));
}

TFRecordReader::~TFRecordReader() = default;
TFRecordReader::TFRecordReader(TFRecordReader&&) noexcept = default;
TFRecordReader& TFRecordReader::operator=(TFRecordReader&&) noexcept = default;

bool TFRecordReader::read(std::string& record) { return impl_->read(record); }
uint64_t TFRecordReader::offset() const { return impl_->offset; }
int64_t TFRecordReader::records_read() const { return impl_->count; }

// ---- Iteration ----

tf_record_iterator::tf_record_iterator(const std::string& path, Compression c) : reader_(path, c) {}

tf_record_iterator::iterator tf_record_iterator::begin() {
  if (started_) throw FailedPrecondition("tf_record_iterator: begin() called twice (the records are read once)");
  started_ = true;
  return reader_.read(record_) ? iterator(this) : iterator();
}

tf_record_iterator::iterator& tf_record_iterator::iterator::operator++() {
  if (!owner_->reader_.read(owner_->record_)) owner_ = nullptr;
  return *this;
}

std::vector<std::string> read_tfrecord_file(const std::string& path, Compression c) {
  TFRecordReader r(path, c);
  std::vector<std::string> out;
  std::string rec;
  while (r.read(rec)) out.push_back(rec);
  return out;
}

}  // namespace xf::io
