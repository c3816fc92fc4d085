// Internal: files that appear whole or not at all. Bytes go to "<path>.tmp<random>" in the same
// directory; commit() flushes, fsyncs, renames onto `path` and fsyncs the directory. A file that
// is destroyed without commit() removes its temporary.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

namespace xf::io {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  uint64_t size() const { return written_; }
  const std::string& temp_path() const { return temp_; }
  // `sync` false skips fsync (benchmarks report both).
  void commit(bool sync = true);

 private:
  std::string path_, temp_;
  int fd_ = -1;
  uint64_t written_ = 0;
};

// Writes `bytes` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, std::string_view bytes, bool sync = true);
// fsync of a directory (after a rename in it). Errors are reported, not ignored.
void sync_directory(const std::string& dir);

}  // namespace xf::io
