// Internal: the global generator's position (seed, next counter).
#pragma once
#include <cstdint>
#include <utility>

namespace xf {

// Reserves n counters: returns (seed, first counter) and advances the counter by n.
std::pair<int64_t, int64_t> reserve_random(int64_t n);
// The current (seed, counter), and setting it back (the replay differ runs a graph twice from
// the same position).
std::pair<int64_t, int64_t> random_state();
void set_random_state(std::pair<int64_t, int64_t> state);

}  // namespace xf
