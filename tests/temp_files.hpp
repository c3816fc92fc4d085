// A temporary directory for a test, removed with everything in it when the test ends. Header-only
// and free of xflow's headers, so any test can include it.
#pragma once
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
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

}  // namespace xf::testing
