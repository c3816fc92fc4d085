// xflow used from another project: `meson install` into a staging directory (DESTDIR), a program
// built out of tree with `c++ prog.cpp $(pkg-config --cflags --libs xflow)` against it, run with
// generated kernels on: it must compile fused kernels against the installed kernel headers.
// The build directory is not reconfigured: `meson install --no-rebuild` copies what is built.
// Paths come from meson (tests/meson.build). Not built in the sanitizer builds.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "process.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int rc = -1;
  std::string out;
};

Result sh(const std::string& cmd) {
  xf::testing::CommandResult c = xf::testing::run_command(cmd + " 2>&1");
  Result r;
  r.out = c.output;
  r.rc = c.exit_code;
  return r;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

const fs::path kWork = fs::path(XFLOW_TEST_BUILD_DIR) / "install-check";
const fs::path kStage = kWork / "stage";
// <stage>/<prefix>: where the install lands.
fs::path staged(const std::string& dir) {
  fs::path d(dir);
  fs::path prefix(XFLOW_PREFIX);
  return kStage / prefix.relative_path() / (d.is_absolute() ? d.relative_path() : d);
}

// The install runs once, for every test case.
const Result& install() {
  static Result r = [] {
    std::error_code ec;
    fs::remove_all(kWork, ec);
    fs::create_directories(kWork);
    return sh("'" XFLOW_MESON "' install -C '" XFLOW_BUILD_ROOT "' --no-rebuild --quiet --destdir " + q(kStage));
  }();
  return r;
}

const char* kProgram = R"(// A user's program: only the installed headers and libxflow.a.
#include <xflow/checkpoint.hpp>
#include <xflow/xflow.hpp>

#include <cstdio>
#include <cstring>

int main() {
  auto chain = [](const std::vector<xf::Tensor>& in) {
    const xf::Tensor& x = in[0];
    return std::vector<xf::Tensor>{xf::tanh(x * 0.5f + 1.0f) * xf::sigmoid(x) - (x * x) / 3.0f};
  };
  xf::Tensor x = xf::linspace(-3.0, 3.0, 1000);
  auto step = xf::trace(chain);
  xf::Tensor eager = chain({x})[0];
  step({x});
  xf::Tensor replay = step({x})[0];
  bool generated = false;
  for (const auto& p : step.plan_for({x})->provenance())
    if (p.detail.find("generated") != std::string::npos) generated = true;
  auto a = eager.to_vector<float>(), b = replay.to_vector<float>();
  bool equal = a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  // A checkpoint round trip: protobuf, leveldb and snappy come through pkg-config's flags.
  const std::string prefix = "ckpt/model";
  {
    xf::io::BundleWriter w(prefix);
    w.add("x", x);
    w.finish();
  }
  xf::Tensor back = xf::io::BundleReader(prefix).read("x");
  bool restored = back.to_vector<float>() == x.to_vector<float>();
  std::printf("generated %d, bitwise equal %d, replays %lld, checkpoint %d\n", generated, equal,
              static_cast<long long>(step.stats().replays), restored);
  return generated && equal && restored ? 0 : 1;
}
)";

}  // namespace

TEST_CASE("meson install puts headers, libxflow.a, pkg-config, kernel headers and the command under the prefix",
          "[install]") {
  const Result& r = install();
  INFO(r.out);
  REQUIRE(r.rc == 0);
  for (const char* h : {"xflow.hpp", "tensor.hpp", "ops.hpp", "trace.hpp", "plan.hpp", "name_scope.hpp", "threads.hpp"})
    CHECK(fs::is_regular_file(staged(XFLOW_INCLUDEDIR) / "xflow" / h));
  CHECK(fs::is_regular_file(staged(XFLOW_LIBDIR) / "libxflow.a"));
  CHECK(fs::is_regular_file(staged(XFLOW_LIBDIR) / "pkgconfig" / "xflow.pc"));
  CHECK(fs::is_regular_file(staged(XFLOW_DATADIR) / "xflow" / "kernels" / "ops" / "elementwise_loops.hpp"));
  CHECK(fs::is_regular_file(staged(XFLOW_DATADIR) / "xflow" / "kernels" / "ops" / "elementwise_fns.hpp"));
  // Internal headers stay out of the public include directory.
  CHECK_FALSE(fs::exists(staged(XFLOW_INCLUDEDIR) / "xflow" / "ops"));
  // The viewer page is installed when it was built (./dev.sh test builds it before the tests).
  if (fs::is_regular_file(XFLOW_VIEWER_SOURCE_PAGE))
    CHECK(fs::is_regular_file(staged(XFLOW_DATADIR) / "xflow" / "viewer" / "index.html"));
  fs::path cli = staged(XFLOW_BINDIR) / "xflow";
  REQUIRE(fs::is_regular_file(cli));
  Result help = sh(q(cli) + " --help");
  INFO(help.out);
  CHECK(help.rc == 0);
}

TEST_CASE("a program built out of tree with pkg-config runs and generates fused kernels from the installed headers",
          "[install]") {
  REQUIRE(install().rc == 0);
  fs::path dir = kWork / "consumer";
  fs::create_directories(dir / "cache");
  std::ofstream(dir / "main.cpp") << kProgram;
  // A compiler wrapper that records how generated kernels are compiled.
  {
    std::ofstream w(dir / "cxx");
    w << "#!/bin/sh\necho \"$@\" >> " << q(dir / "cxx.log") << "\nexec c++ \"$@\"\n";
  }
  fs::permissions(dir / "cxx", fs::perms::owner_all);
  // xflow.pc is relocatable (prefix=${pcfiledir}/...), so it works from the staging directory as
  // it is. A build directory configured before pkgconfig.relocatable became a default option has
  // a fixed prefix: then the prefix is moved to the staging directory on the command line.
  fs::path pc_dir = staged(XFLOW_LIBDIR) / "pkgconfig";
  std::ifstream pc_file(pc_dir / "xflow.pc");
  std::string pc_text((std::istreambuf_iterator<char>(pc_file)), std::istreambuf_iterator<char>());
  bool relocatable = pc_text.find("${pcfiledir}") != std::string::npos;
  std::string pkg_config = "PKG_CONFIG_PATH=" + q(pc_dir) + " pkg-config" +
                           (relocatable ? "" : " --define-variable=prefix=" + q(kStage / fs::path(XFLOW_PREFIX).relative_path()));
  Result flags = sh(pkg_config + " --cflags --libs xflow");
  INFO("pkg-config: " << flags.out);
  REQUIRE(flags.rc == 0);
  // The flags point into the staging directory, not at the configured prefix.
  CHECK(flags.out.find("-I" + kStage.string()) != std::string::npos);
  Result build = sh("cd " + q(dir) + " && c++ main.cpp -o prog $(" + pkg_config + " --cflags --libs xflow)");
  INFO("build: " << build.out);
  REQUIRE(build.rc == 0);
  fs::path kernels = staged(XFLOW_DATADIR) / "xflow" / "kernels";
  Result run = sh("cd " + q(dir) + " && XFLOW_CODEGEN=1 XFLOW_CACHE_DIR=" + q(dir / "cache") +
                  " XFLOW_KERNEL_INCLUDE=" + q(kernels) + " XFLOW_CXX=" + q(dir / "cxx") + " ./prog");
  INFO("run: " << run.out);
  CHECK(run.rc == 0);
  CHECK(run.out.find("generated 1, bitwise equal 1") != std::string::npos);
  int shared_objects = 0;
  for (const auto& e : fs::directory_iterator(dir / "cache"))
    if (e.path().extension() == ".so") ++shared_objects;
  CHECK(shared_objects >= 1);
  std::ifstream log(dir / "cxx.log");
  std::stringstream ss;
  ss << log.rdbuf();
  INFO("kernel compiles: " << ss.str());
  CHECK(ss.str().find("-I" + kernels.string()) != std::string::npos);
}
