#include "exec/kernel_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace xf::detail {

namespace fs = std::filesystem;

std::string kernel_cache_dir() {
  if (const char* d = std::getenv("XFLOW_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/xflow/kernels";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/xflow/kernels";
  return "";
}

namespace {

std::string mode_str(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

}  // namespace

std::string prepare_kernel_cache(const std::string& dir) {
  if (dir.empty()) return "no kernel cache directory (set XFLOW_CACHE_DIR or HOME)";
  // Missing components are created private; existing ones are left as they are (a user's
  // ~/.cache is theirs to set up), only the cache directory itself is checked.
  fs::path p(dir), sofar;
  for (const auto& part : p) {
    sofar /= part;
    if (sofar.empty() || sofar == sofar.root_path()) continue;
    if (::mkdir(sofar.c_str(), 0700) != 0 && errno != EEXIST) {
      return "cannot create the kernel cache '" + dir + "': " + std::strerror(errno);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return "cannot use the kernel cache '" + dir + "': " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "the kernel cache '" + dir + "' is not a directory";
  if (st.st_uid != ::geteuid()) {
    return "the kernel cache '" + dir + "' belongs to another user (uid " + std::to_string(st.st_uid) +
           "); set XFLOW_CACHE_DIR to a directory of your own";
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return "the kernel cache '" + dir + "' is writable by other users (mode " + mode_str(st.st_mode) +
           "); make it private (chmod 700) or set XFLOW_CACHE_DIR";
  }
  return "";
}

int64_t kernel_cache_max_bytes() {
  const char* e = std::getenv("XFLOW_KERNEL_CACHE_MAX_MB");
  if (!e || !*e) return int64_t{256} << 20;
  char* end = nullptr;
  long long mb = std::strtoll(e, &end, 10);
  if (end == e || *end != '\0' || mb < 0) return int64_t{256} << 20;
  return static_cast<int64_t>(std::min<long long>(mb, 1LL << 30)) << 20;
}

void touch_kernel(const std::string& path) {
  std::error_code ec;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
}

int evict_kernel_cache(const std::string& dir, int64_t max_bytes, const std::string& keep) {
  struct Kernel {
    fs::path path;
    fs::file_time_type used;
    int64_t bytes;
  };
  std::vector<Kernel> kernels;
  int64_t total = 0;
  int removed = 0;
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    auto ends = [&](const char* suffix) {
      size_t n = std::char_traits<char>::length(suffix);
      return name.size() > n && name.compare(name.size() - n, n, suffix) == 0;
    };
    bool kernel = name.rfind("fused_", 0) == 0;
    bool prelude = name.rfind("prelude_", 0) == 0;
    if (!kernel && !prelude) continue;
    std::error_code e2;
    auto t = fs::last_write_time(p, e2);
    if (e2) continue;
    // Kernels (.so) and precompiled preludes (.gch) count toward the bound; a prelude's header
    // stays while its .gch does.
    bool so = kernel ? ends(".so") : ends(".gch");
    if (prelude && ends(".hpp")) {
      if (!fs::exists(fs::path(p.string() + ".gch"), e2) && now - t > std::chrono::hours(1) && fs::remove(p, e2))
        ++removed;
      continue;
    }
    if (!so) {
      // A source or .so.tmp left by a compilation that never finished (killed process).
      if (now - t > std::chrono::hours(1) && fs::remove(p, e2)) ++removed;
      continue;
    }
    auto bytes = static_cast<int64_t>(fs::file_size(p, e2));
    if (e2) continue;
    kernels.push_back({p, t, bytes});
    total += bytes;
  }
  if (max_bytes <= 0 || total <= max_bytes) return removed;
  std::sort(kernels.begin(), kernels.end(), [](const Kernel& a, const Kernel& b) { return a.used < b.used; });
  for (const Kernel& k : kernels) {
    if (total <= max_bytes) break;
    if (!keep.empty() && k.path == fs::path(keep)) continue;
    std::error_code e2;
    // A process that has the kernel loaded keeps its mapping; the next one compiles it again.
    if (fs::remove(k.path, e2)) {
      total -= k.bytes;
      ++removed;
    }
  }
  return removed;
}

}  // namespace xf::detail
