// Random primitives on a counter-based generator (Philox4x32-10, Salmon et al. 2011): element i
// of a call reads counter (counter + i, attempt), so results depend only on the seed and the
// position, never on the thread count, and a replay can draw fresh numbers by advancing the
// counter exactly as eager would.
#include <atomic>
#include <cmath>
#include <mutex>

#include "core/dispatch.hpp"
#include "core/parallel.hpp"
#include "ops/prims.hpp"

namespace xf {
namespace {

struct Philox {
  uint32_t key[2];
  static void round(uint32_t c[4], const uint32_t k[2]) {
    constexpr uint64_t M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    uint64_t p0 = M0 * c[0], p1 = M1 * c[2];
    uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    uint32_t r[4] = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
    for (int i = 0; i < 4; ++i) c[i] = r[i];
  }
  void operator()(uint64_t counter, uint32_t attempt, uint32_t out[4]) const {
    uint32_t c[4] = {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), attempt, 0};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; ++r) {
      round(c, k);
      k[0] += 0x9E3779B9;
      k[1] += 0xBB67AE85;
    }
    for (int i = 0; i < 4; ++i) out[i] = c[i];
  }
};

Philox make_philox(int64_t seed) {
  uint64_t s = static_cast<uint64_t>(seed);
  return Philox{{static_cast<uint32_t>(s), static_cast<uint32_t>(s >> 32)}};
}

// [0, 1) with 24 / 53 random bits.
inline float u01f(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
inline double u01d(uint32_t a, uint32_t b) {
  uint64_t x = (static_cast<uint64_t>(a) << 21) ^ (b >> 11);
  return static_cast<double>(x & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// A standard normal from one Philox block (Box-Muller; u1 in (0, 1]).
double normal_from(const uint32_t r[4], bool wide) {
  double u1 = wide ? u01d(r[0], r[1]) : static_cast<double>(u01f(r[0]));
  double u2 = wide ? u01d(r[2], r[3]) : static_cast<double>(u01f(r[1]));
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
}

Specs random_infer(const RandomAttrs& a) {
  for (int64_t d : a.shape)
    if (d < 0) infer_fail(ErrorCode::shape, "negative dimension in shape " + shape_str(a.shape));
  if (!is_floating(a.dtype)) infer_fail(ErrorCode::dtype, std::string("needs a float dtype, got ") + dtype_name(a.dtype));
  return {TensorSpec{a.dtype, a.shape}};
}

enum class Dist { uniform, normal, truncated };

template <Dist D>
void random_eval(const RandomAttrs& a, Tensors& out) {
  Philox ph = make_philox(a.seed);
  uint64_t base = static_cast<uint64_t>(a.counter);
  int64_t n = out[0].size();
  detail::visit_dtype(a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      constexpr bool wide = std::is_same_v<T, double>;
      T* y = out[0].data<T>();
      detail::parallel_for(n, 4096, [&](int64_t b, int64_t e) {
        uint32_t r[4];
        for (int64_t i = b; i < e; ++i) {
          ph(base + static_cast<uint64_t>(i), 0, r);
          if constexpr (D == Dist::uniform) {
            double u = wide ? u01d(r[0], r[1]) : static_cast<double>(u01f(r[0]));
            T v = static_cast<T>(a.a + (a.b - a.a) * u);
            y[i] = v < static_cast<T>(a.b) ? v : static_cast<T>(a.a);  // keep [minval, maxval)
          } else if constexpr (D == Dist::normal) {
            y[i] = static_cast<T>(a.a + a.b * normal_from(r, wide));
          } else {
            double z = normal_from(r, wide);
            for (uint32_t attempt = 1; std::fabs(z) >= 2.0; ++attempt) {
              ph(base + static_cast<uint64_t>(i), attempt, r);
              z = normal_from(r, wide);
            }
            y[i] = static_cast<T>(a.a + a.b * z);
          }
        }
      });
    }
  });
}

}  // namespace

Specs RandomUniform::infer(const Attrs& a, const Specs&) { return random_infer(a); }
void RandomUniform::eval(const Attrs& a, const Tensors&, Tensors& out) { random_eval<Dist::uniform>(a, out); }
Specs RandomNormal::infer(const Attrs& a, const Specs&) { return random_infer(a); }
void RandomNormal::eval(const Attrs& a, const Tensors&, Tensors& out) { random_eval<Dist::normal>(a, out); }
Specs TruncatedNormal::infer(const Attrs& a, const Specs&) { return random_infer(a); }
void TruncatedNormal::eval(const Attrs& a, const Tensors&, Tensors& out) { random_eval<Dist::truncated>(a, out); }

// ---- the global generator ----
namespace {
std::mutex g_rng_mu;
uint64_t g_seed = 0x5EED;
uint64_t g_counter = 0;
}  // namespace

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_rng_mu);
  g_seed = seed;
  g_counter = 0;
}

// Reserves n counters of the global generator: (seed, first counter).
std::pair<int64_t, int64_t> reserve_random(int64_t n) {
  std::lock_guard<std::mutex> lock(g_rng_mu);
  auto r = std::make_pair(static_cast<int64_t>(g_seed), static_cast<int64_t>(g_counter));
  g_counter += static_cast<uint64_t>(n);
  return r;
}

}  // namespace xf

namespace xf {

std::pair<int64_t, int64_t> random_state() {
  std::lock_guard<std::mutex> lock(g_rng_mu);
  return {static_cast<int64_t>(g_seed), static_cast<int64_t>(g_counter)};
}

void set_random_state(std::pair<int64_t, int64_t> state) {
  std::lock_guard<std::mutex> lock(g_rng_mu);
  g_seed = static_cast<uint64_t>(state.first);
  g_counter = static_cast<uint64_t>(state.second);
}

}  // namespace xf
