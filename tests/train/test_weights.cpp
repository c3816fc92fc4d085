// Variables to and from .npz files keyed by their names (include/xflow/weights.hpp), checked with
// Debian's NumPy (/usr/bin/python3) on both sides.
#include <stdlib.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "xflow/npy.hpp"
#include "xflow/xflow.hpp"
#include "temp_files.hpp"
#include "process.hpp"

using namespace xf;
namespace fs = std::filesystem;

namespace {

using xf::testing::TempDir;

// Runs a Python program with NumPy; returns its exit status and output.
std::pair<int, std::string> python(const std::string& program) {
  std::string cmd = "/usr/bin/python3 -c \"" + program + "\" 2>&1";
  xf::testing::CommandResult r = xf::testing::run_command(cmd);
  return {r.exit_code, r.output};
}

struct Model {
  Variable kernel, bias, step;
  Model()
      : kernel(reshape(linspace(-1, 1, 12), {4, 3}), "dense1/kernel"),
        bias(Tensor::from_vector(std::vector<float>{0.5f, -0.25f, 2.0f}, {3}), "dense1/bias"),
        step(Tensor(int64_t{42}), "global_step", false) {}
  std::vector<Variable> all() const { return {kernel, bias, step}; }
};

}  // namespace

TEST_CASE("weights: variables round trip through .npz by name, stored and compressed") {
  reset_variables();
  TempDir dir;
  Model m;
  for (bool compressed : {false, true}) {
    save_variables_npz(dir / "w.npz", m.all(), compressed);
    io::NpzReader r(dir / "w.npz");
    CHECK(r.names() == std::vector<std::string>{"dense1/kernel", "dense1/bias", "global_step"});
    Variable k2(zeros({4, 3}), "dense1/kernel");  // named "dense1/kernel_1": restored through a map
    Variable b2(zeros({3}), "other");
    load_variables_npz(dir / "w.npz", std::map<std::string, Variable>{{"dense1/kernel", k2}, {"dense1/bias", b2}});
    CHECK(bitwise_equal(k2.value(), m.kernel.value()));
    CHECK(bitwise_equal(b2.value(), m.bias.value()));
  }
  // Restoring the model's own variables after they changed.
  save_variables_npz(dir / "w.npz", m.all());
  Tensor before = m.kernel.value();
  m.kernel.assign(zeros({4, 3}));
  m.step.assign(Tensor(int64_t{0}));
  load_variables_npz(dir / "w.npz", m.all());
  CHECK(bitwise_equal(m.kernel.value(), before));
  CHECK(m.step.value().item<int64_t>() == 42);
  reset_variables();
}

TEST_CASE("weights: NumPy reads the arrays by the variables' names, and xflow restores NumPy's arrays") {
  reset_variables();
  TempDir dir;
  Model m;
  save_variables_npz(dir / "w.npz", m.all());
  auto [status, out] = python(
      "import numpy as np; d = np.load('" + (dir / "w.npz") + "'); "
      "k = d['dense1/kernel']; "
      "assert k.dtype == np.float32 and k.shape == (4, 3), k; "
      "assert np.array_equal(k, np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)), k; "
      "assert list(d['dense1/bias']) == [0.5, -0.25, 2.0]; "
      "assert d['global_step'].dtype == np.int64 and d['global_step'] == 42; "
      "np.savez('" + (dir / "np.npz") + "', **{'dense1/kernel': k * 2, 'dense1/bias': d['dense1/bias'] + 1, "
      "'global_step': np.int64(7), 'unused': np.zeros(3)}); print('ok')");
  INFO(out);
  REQUIRE(status == 0);
  Tensor k = m.kernel.value();
  load_variables_npz(dir / "np.npz", m.all());
  CHECK(allclose(m.kernel.value(), k * 2.0f));
  CHECK(m.bias.value().to_vector<float>() == std::vector<float>{1.5f, 0.75f, 3.0f});
  CHECK(m.step.value().item<int64_t>() == 7);
  reset_variables();
}

TEST_CASE("weights: a missing array, another dtype or shape, or a damaged file changes no variable") {
  reset_variables();
  TempDir dir;
  Model m;
  const std::vector<Tensor> original = {m.kernel.value(), m.bias.value(), m.step.value()};
  auto unchanged = [&] {
    CHECK(bitwise_equal(m.kernel.value(), original[0]));
    CHECK(bitwise_equal(m.bias.value(), original[1]));
    CHECK(bitwise_equal(m.step.value(), original[2]));
  };
  // The kernel and bias are fine; the last array is wrong in each file.
  Tensor k = zeros({4, 3}), b = zeros({3});
  io::save_npz(dir / "missing.npz", io::NamedTensors{{"dense1/kernel", k}, {"dense1/bias", b}});
  io::save_npz(dir / "dtype.npz", io::NamedTensors{{"dense1/kernel", k}, {"dense1/bias", b}, {"global_step", Tensor(int32_t{1})}});
  io::save_npz(dir / "shape.npz", io::NamedTensors{{"dense1/kernel", k}, {"dense1/bias", b}, {"global_step", zeros({1}, DType::int64)}});
  try {
    load_variables_npz(dir / "missing.npz", m.all());
    FAIL("no exception");
  } catch (const NotFound& e) {
    CHECK(std::string(e.what()).find("no array 'global_step'") != std::string::npos);
  }
  unchanged();
  CHECK_THROWS_AS(load_variables_npz(dir / "dtype.npz", m.all()), DTypeError);
  unchanged();
  CHECK_THROWS_AS(load_variables_npz(dir / "shape.npz", m.all()), ShapeError);
  unchanged();
  // A damaged last member: CRC error after the others were read.
  io::save_npz(dir / "crc.npz", io::NamedTensors{{"dense1/kernel", k}, {"dense1/bias", b}, {"global_step", zeros({}, DType::int64)}});
  std::string bytes;
  {
    std::ifstream f(dir / "crc.npz", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  size_t last = bytes.rfind("\x93NUMPY");
  REQUIRE(last != std::string::npos);
  bytes[last + 128] ^= 1;  // the int64's first data byte
  {
    std::ofstream f(dir / "crc.npz", std::ios::binary | std::ios::trunc);
    f << bytes;
  }
  CHECK_THROWS_AS(load_variables_npz(dir / "crc.npz", m.all()), DataLoss);
  unchanged();
  CHECK_THROWS_AS(load_variables_npz(dir / "nothing.npz", m.all()), NotFound);
  unchanged();
  reset_variables();
}
