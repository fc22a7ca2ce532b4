// Choosing the state-full part at a refresh: which blocks, lines or coordinates, from the
// group's RNG and (for Grass) the gradient's line norms. Pure host logic, no device memory.
#pragma once
#include <cstdint>
#include <vector>
#include "frugal.h"
#include "host_rng.h"

namespace frugal {

// Python's round(): halves go to the even neighbour (round(2.5) == 2), as the reference uses.
int64_t round_half_even(double x);

// The block positions (0..n-1) active at the refresh number `refresh` for `count` blocks per refresh.
std::vector<int64_t> choose_blocks(frugal_block_order order, int64_t n, int64_t count, int64_t refresh, HostRng& rng);

// `count` distinct values of [0, n), in draw order.
std::vector<int32_t> choose_distinct(int64_t n, int64_t count, HostRng& rng);

struct GrassChoice {
  std::vector<int32_t> indices;  // ascending; repeats for sampling with replacement
  std::vector<float> scales;     // rho per index
};
// Grass: top-r (ties to the lower index), norm-proportional or uniform sampling, with or without replacement.
GrassChoice choose_grass(const std::vector<float>& norms, int64_t r, frugal_grass_sampling sampling, bool replacement,
                         HostRng& rng);

}  // namespace frugal
