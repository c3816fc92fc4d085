// Files in tests: a temporary directory removed with everything in it when the test ends, and
// whole-file reads and writes. Header-only and free of xflow's headers, so any test can include it.
#pragma once
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace xf::testing {

struct TempDir {
  std::filesystem::path path;
  // $TMPDIR (else /tmp)/xflow_<prefix>_XXXXXX.
  explicit TempDir(const std::string& prefix = "test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/xflow_" + prefix + "_XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// The bytes of a file; throws when it cannot be opened.
inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f.good()) throw std::runtime_error("cannot open " + p.string());
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The bytes of a file, or "" when there is none (yet): for files a child process may not have
// written.
inline std::string read_bytes_if_any(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  if (f.good()) ss << f.rdbuf();
  return ss.str();
}

// Replaces a file's contents; throws when it cannot be written.
inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << bytes;
  f.flush();
  if (!f.good()) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace xf::testing
