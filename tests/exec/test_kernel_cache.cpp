#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "exec/kernel_cache.hpp"
#include "xflow/xflow.hpp"

namespace fs = std::filesystem;
using namespace xf::detail;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "xflow-kcache-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
};

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void write_file(const fs::path& p, size_t bytes) { std::ofstream(p, std::ios::binary) << std::string(bytes, 'k'); }

void set_age(const fs::path& p, std::chrono::seconds age) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - age);
}

}  // namespace

TEST_CASE("the kernel cache and its missing parents are created private (0700)", "[kernel_cache]") {
  TempDir t;
  fs::path dir = t.path / "home" / ".cache" / "xflow" / "kernels";
  CHECK(prepare_kernel_cache(dir.string()).empty());
  CHECK(fs::is_directory(dir));
  for (fs::path p = dir; p != t.path; p = p.parent_path()) CHECK(mode_of(p) == 0700);
  // An existing private directory is accepted as it is.
  CHECK(prepare_kernel_cache(dir.string()).empty());
}

TEST_CASE("a kernel cache that others may write to is refused, with a one-line reason", "[kernel_cache]") {
  TempDir t;
  fs::path dir = t.path / "shared";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0777);
  std::string why = prepare_kernel_cache(dir.string());
  CHECK(why.find("writable by other users (mode 0777)") != std::string::npos);
  CHECK(why.find('\n') == std::string::npos);
  ::chmod(dir.c_str(), 0770);
  CHECK(prepare_kernel_cache(dir.string()).find("mode 0770") != std::string::npos);
  ::chmod(dir.c_str(), 0755);
  CHECK(prepare_kernel_cache(dir.string()).empty());
  // A file where the directory should be.
  write_file(t.path / "file", 1);
  CHECK(prepare_kernel_cache((t.path / "file").string()).find("not a directory") != std::string::npos);
  CHECK(prepare_kernel_cache("").find("no kernel cache directory") != std::string::npos);
}

TEST_CASE("a kernel cache owned by another user is refused", "[kernel_cache]") {
  // "/" belongs to root: for any other user it is another user's directory. As root, a directory
  // given to another uid shows the same refusal.
  if (::geteuid() != 0) {
    CHECK(prepare_kernel_cache("/").find("belongs to another user") != std::string::npos);
    return;
  }
  TempDir t;
  fs::path dir = t.path / "theirs";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0700);
  REQUIRE(::chown(dir.c_str(), 12345, 12345) == 0);
  CHECK(prepare_kernel_cache(dir.string()).find("belongs to another user (uid 12345)") != std::string::npos);
}

TEST_CASE("the cache location never falls back to a shared temporary directory", "[kernel_cache]") {
  std::string saved_cache = std::getenv("XFLOW_CACHE_DIR") ? std::getenv("XFLOW_CACHE_DIR") : "";
  std::string saved_xdg = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  std::string saved_home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::unsetenv("XFLOW_CACHE_DIR");
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/someone", 1);
  CHECK(kernel_cache_dir() == "/home/someone/.cache/xflow/kernels");
  ::setenv("XDG_CACHE_HOME", "/x", 1);
  CHECK(kernel_cache_dir() == "/x/xflow/kernels");
  ::setenv("XFLOW_CACHE_DIR", "/y", 1);
  CHECK(kernel_cache_dir() == "/y");
  ::unsetenv("XFLOW_CACHE_DIR");
  ::unsetenv("XDG_CACHE_HOME");
  ::unsetenv("HOME");
  CHECK(kernel_cache_dir().empty());
  auto restore = [](const char* k, const std::string& v) {
    if (v.empty()) ::unsetenv(k);
    else ::setenv(k, v.c_str(), 1);
  };
  restore("XFLOW_CACHE_DIR", saved_cache);
  restore("XDG_CACHE_HOME", saved_xdg);
  restore("HOME", saved_home);
}

TEST_CASE("the size bound evicts the least recently used kernels first", "[kernel_cache]") {
  TempDir t;
  fs::path d = t.path;
  write_file(d / "fused_a.so", 1000);
  write_file(d / "fused_b.so", 1000);
  write_file(d / "fused_c.so", 1000);
  write_file(d / "fused_d.so", 1000);
  write_file(d / "other.txt", 5000);  // not a kernel: never touched
  set_age(d / "fused_a.so", std::chrono::seconds(400));
  set_age(d / "fused_b.so", std::chrono::seconds(300));
  set_age(d / "fused_c.so", std::chrono::seconds(200));
  set_age(d / "fused_d.so", std::chrono::seconds(100));
  touch_kernel((d / "fused_a.so").string());  // a was just used: b is now the oldest
  CHECK(evict_kernel_cache(d.string(), 4000) == 0);
  CHECK(evict_kernel_cache(d.string(), 2500, (d / "fused_b.so").string()) == 2);
  CHECK(fs::exists(d / "fused_a.so"));
  CHECK(fs::exists(d / "fused_b.so"));  // kept: the kernel being loaded
  CHECK(!fs::exists(d / "fused_c.so"));
  CHECK(!fs::exists(d / "fused_d.so"));
  CHECK(fs::exists(d / "other.txt"));
  CHECK(evict_kernel_cache(d.string(), 0) == 0);  // 0: unbounded
}

TEST_CASE("leftovers of interrupted compilations are removed after an hour", "[kernel_cache]") {
  TempDir t;
  fs::path d = t.path;
  write_file(d / "fused_123_abc.cpp", 10);
  write_file(d / "fused_123_abc.so.tmp", 10);
  write_file(d / "fused_456_def.cpp", 10);  // a compilation still running
  set_age(d / "fused_123_abc.cpp", std::chrono::hours(2));
  set_age(d / "fused_123_abc.so.tmp", std::chrono::hours(2));
  CHECK(evict_kernel_cache(d.string(), int64_t{1} << 30) == 2);
  CHECK(fs::exists(d / "fused_456_def.cpp"));
}

TEST_CASE("XFLOW_KERNEL_CACHE_MAX_MB sets the bound", "[kernel_cache]") {
  ::setenv("XFLOW_KERNEL_CACHE_MAX_MB", "3", 1);
  CHECK(kernel_cache_max_bytes() == 3 << 20);
  ::setenv("XFLOW_KERNEL_CACHE_MAX_MB", "junk", 1);
  CHECK(kernel_cache_max_bytes() == 256 << 20);
  ::unsetenv("XFLOW_KERNEL_CACHE_MAX_MB");
  CHECK(kernel_cache_max_bytes() == 256 << 20);
}

TEST_CASE("a plan refuses a world-writable cache: its fused group runs interpreted, equal to eager",
          "[kernel_cache][codegen]") {
  TempDir t;
  fs::path dir = t.path / "cache";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0777);
  std::string saved = std::getenv("XFLOW_CACHE_DIR") ? std::getenv("XFLOW_CACHE_DIR") : "";
  ::setenv("XFLOW_CACHE_DIR", dir.c_str(), 1);
  auto fn = [](const std::vector<xf::Tensor>& in) {
    return std::vector<xf::Tensor>{xf::exp(in[0] * 0.5f) + xf::tanh(in[0]) * 3.0f};
  };
  xf::Tensor x = xf::Tensor::from_vector(std::vector<float>{0.5f, -1.0f, 2.0f, 3.5f, -0.25f}, {5});
  xf::PlanOptions o;
  o.codegen = true;
  xf::Plan plan(xf::trace_graph(fn, {x}), o);
  CHECK(xf::bitwise_equal(plan.run({x})[0], fn({x})[0]));
  CHECK(plan.provenance()[0].detail.find("interpreted") != std::string::npos);
  for (size_t s = 0; s < plan.steps().size(); ++s) CHECK(plan.kernel_hash(static_cast<int>(s)).empty());
  CHECK(fs::is_empty(dir));  // nothing was written into it
  if (saved.empty()) ::unsetenv("XFLOW_CACHE_DIR");
  else ::setenv("XFLOW_CACHE_DIR", saved.c_str(), 1);
}

TEST_CASE("precompiled preludes count toward the bound; a prelude header without its .gch goes after an hour",
          "[kernel_cache]") {
  TempDir t;
  fs::path d = t.path;
  write_file(d / "prelude_old.hpp", 10);
  write_file(d / "prelude_old.hpp.gch", 3000);
  write_file(d / "prelude_new.hpp", 10);
  write_file(d / "prelude_new.hpp.gch", 3000);
  write_file(d / "prelude_gone.hpp", 10);  // its .gch was evicted
  write_file(d / "prelude_new.hpp.gch.77.tmp", 10);
  set_age(d / "prelude_old.hpp.gch", std::chrono::hours(3));
  set_age(d / "prelude_gone.hpp", std::chrono::hours(2));
  set_age(d / "prelude_new.hpp.gch.77.tmp", std::chrono::hours(2));
  write_file(d / "fused_a.so", 1000);
  // 7000 bytes of artifacts, bound 5000: the oldest (the old prelude) goes; its header stays until
  // the next pass finds it without a .gch and older than an hour.
  CHECK(evict_kernel_cache(d.string(), 5000) == 3);
  CHECK(!fs::exists(d / "prelude_old.hpp.gch"));
  CHECK(!fs::exists(d / "prelude_gone.hpp"));
  CHECK(!fs::exists(d / "prelude_new.hpp.gch.77.tmp"));
  CHECK(fs::exists(d / "prelude_new.hpp.gch"));
  CHECK(fs::exists(d / "prelude_new.hpp"));
  CHECK(fs::exists(d / "fused_a.so"));
}

TEST_CASE("generated kernels compile against the precompiled prelude, made once per cache",
          "[kernel_cache][codegen]") {
  TempDir t;
  fs::path dir = t.path / "cache";
  std::string saved = std::getenv("XFLOW_CACHE_DIR") ? std::getenv("XFLOW_CACHE_DIR") : "";
  ::setenv("XFLOW_CACHE_DIR", dir.c_str(), 1);
  xf::Tensor x = xf::Tensor::from_vector(std::vector<float>{0.5f, -1.0f, 2.0f, 3.5f, -0.25f, 7.0f}, {6});
  xf::PlanOptions o;
  o.codegen = true;
  int preludes = 0;
  for (int k = 1; k <= 2; ++k) {  // two different kernels
    // Programs of this test alone (constants are kernel arguments): a kernel another test loaded
    // in this process is reused without touching this cache.
    auto fn = [k](const std::vector<xf::Tensor>& in) {
      xf::Tensor y = xf::exp(in[0]) * xf::tanh(in[0] * 1.5f) - 0.25f;
      return std::vector<xf::Tensor>{k == 1 ? y : xf::sigmoid(y) - in[0]};
    };
    xf::Plan plan(xf::trace_graph(fn, {x}), o);
    CHECK(xf::bitwise_equal(plan.run({x})[0], fn({x})[0]));
    CHECK(plan.provenance()[0].detail.find("interpreted") == std::string::npos);
    // The fused step keeps its kernel's cache key: the file it was loaded from, named in the
    // plan's provenance (which the viewer shows).
    std::vector<std::string> keys;
    for (size_t s = 0; s < plan.steps().size(); ++s) {
      std::string key = plan.kernel_hash(static_cast<int>(s));
      CHECK(key.empty() == !plan.steps()[s].fused);
      if (!key.empty()) keys.push_back(key);
    }
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(fs::exists(dir / ("fused_" + keys[0] + ".so")));
    CHECK(plan.provenance()[0].detail.find("one generated kernel [fused_" + keys[0] + "]: ") != std::string::npos);
    CHECK_THROWS_AS(plan.kernel_hash(static_cast<int>(plan.steps().size())), xf::InvalidArgument);
    CHECK_THROWS_AS(plan.kernel_hash(-1), xf::InvalidArgument);
    preludes = 0;
    int kernels = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (name.rfind("prelude_", 0) == 0 && e.path().extension() == ".gch") ++preludes;
      if (name.rfind("fused_", 0) == 0 && e.path().extension() == ".so") ++kernels;
    }
    CHECK(kernels == k);
  }
  CHECK(preludes == 1);
  if (saved.empty()) ::unsetenv("XFLOW_CACHE_DIR");
  else ::setenv("XFLOW_CACHE_DIR", saved.c_str(), 1);
}
