// Test helpers shared by the test executables (header-only): deterministic inputs, seeded random
// inputs, and every combination of plan options. Include as "testing.hpp" (tests/ is on the
// include path of every test executable).
#pragma once
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "xflow/plan.hpp"
#include "xflow/xflow.hpp"

namespace xf::testing {

// float32 values in [-3, 3): a ramp (step 37 * 0.006 modulo 6) that `salt` shifts. With
// `special`, every 7th element is one of -0.0, +0.0, NaN, +Inf, -Inf (also shifted by `salt`), so
// a rewrite that is not exact in IEEE arithmetic shows up as a bitwise difference.
inline Tensor input(const Shape& s, int salt = 0, bool special = false) {
  std::vector<float> v(static_cast<size_t>(numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(((i * 37 + salt) % 1000) * 0.006 - 3.0);
  if (special) {
    const float specials[] = {-0.0f, 0.0f, std::nanf(""), INFINITY, -INFINITY};
    for (size_t i = 0; i < v.size(); i += 7) v[i] = specials[(i / 7 + static_cast<size_t>(salt)) % 5];
  }
  return Tensor::from_vector(v, s);
}

// float64 values on a grid of 0.25 in [-2, 2.5]: ((i * 7 + salt) mod 19) * 0.25 - 2, exact in any
// float type, so sums of few of them are exact too (conv and patch tests compare against loops).
inline Tensor grid_values(const Shape& s, int salt = 0) {
  std::vector<double> v(static_cast<size_t>(numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>((i * 7 + static_cast<size_t>(salt)) % 19) * 0.25 - 2.0;
  return Tensor::from_vector(v, s);
}

// float64 values uniform in [lo, hi) from the global generator (call manual_seed first, so a test
// case does not depend on the ones that ran before it).
inline Tensor uniform(const Shape& s, double lo = -1, double hi = 1) {
  return random_uniform(s, lo, hi, DType::float64);
}

// Every combination of the plan options: fuse, plan_memory, inplace, parallel and codegen (32).
inline std::vector<PlanOptions> all_plan_options() {
  std::vector<PlanOptions> out;
  for (int m = 0; m < 32; ++m) {
    PlanOptions o;
    o.fuse = (m & 1) != 0;
    o.plan_memory = (m & 2) != 0;
    o.inplace = (m & 4) != 0;
    o.parallel = (m & 8) != 0;
    o.codegen = (m & 16) != 0;
    out.push_back(o);
  }
  return out;
}

// "fuse 1 memory 0 inplace 1 parallel 0 codegen 1", for INFO messages.
inline std::string options_str(const PlanOptions& o) {
  std::ostringstream os;
  os << "fuse " << o.fuse << " memory " << o.plan_memory << " inplace " << o.inplace << " parallel " << o.parallel
     << " codegen " << o.codegen;
  return os.str();
}

}  // namespace xf::testing
