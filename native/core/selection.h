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

// How much of a param a refresh makes state-full. density 0 makes nothing state-full (FRUGAL with
// rho = 0: the state-free rule everywhere); any density > 0 keeps at least one block / line / rank.
// Blocks: round(n * density) of n blocks, at most n.
int64_t block_count(int64_t n, double density);
// Rows / columns / coordinates, and Grass without a rank: int(lines * density), as the reference.
int64_t line_count(int64_t lines, double density);
// Dense bases: the rank from the projected side's length (left: rows, right: cols), as the
// reference's projector: round(len * density), capped at min(rows, cols); rank > 0 overrides.
int64_t dense_rank(int64_t rank_option, double density, int64_t rows, int64_t cols, bool left);

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
