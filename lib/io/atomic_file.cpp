#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "xflow/error.hpp"

namespace xf::io {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  // The generator is seeded again in a forked child: otherwise every child of one parent draws
  // the same names, and a child killed mid-write leaves a temporary that its siblings then
  // collide with on every attempt (seen with the Saver's crash test).
  static thread_local std::mt19937_64 rng;
  static thread_local pid_t seeded_in = 0;
  if (seeded_in != ::getpid()) {
    seeded_in = ::getpid();
    rng.seed(std::random_device{}() ^ (static_cast<uint64_t>(seeded_in) << 32));
  }
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp%016llx", static_cast<unsigned long long>(rng()));
    temp_ = path_ + suffix;
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) throw NotFound("cannot create " + temp_ + ": " + errno_text());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t n) {
  if (fd_ < 0) throw FailedPrecondition("write to " + path_ + " after commit");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw DataLoss("cannot write " + temp_ + ": " + errno_text());
    }
    p += w;
    n -= static_cast<size_t>(w);
    written_ += static_cast<uint64_t>(w);
  }
}

void AtomicFile::commit(bool sync) {
  if (fd_ < 0) throw FailedPrecondition("commit of " + path_ + " twice");
  if (sync && ::fsync(fd_) != 0) throw DataLoss("cannot fsync " + temp_ + ": " + errno_text());
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    ::unlink(temp_.c_str());
    throw DataLoss("cannot close " + temp_ + ": " + errno_text());
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(temp_.c_str());
    throw DataLoss("cannot rename " + temp_ + " to " + path_ + ": " + why);
  }
  if (sync) sync_directory(dir_of(path_));
}

void write_file_atomically(const std::string& path, std::string_view bytes, bool sync) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit(sync);
}

void sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw NotFound("cannot open directory " + dir + ": " + errno_text());
  int rc = ::fsync(fd);
  std::string why = rc != 0 ? errno_text() : "";
  ::close(fd);
  if (rc != 0) throw DataLoss("cannot fsync directory " + dir + ": " + why);
}

}  // namespace xf::io
