// Counter-based random numbers: value i of a tensor filled with seed s depends on (s, i) alone,
// so the same seed gives the same tensor on every device and for any launch geometry.
#pragma once
#include "hd.h"
#include <math.h>

namespace frugal {

FRUGAL_HD uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Uniform in (0, 1): 24 random bits, offset by half a step so 0 and 1 never occur.
FRUGAL_HD float counter_uniform(uint64_t seed, uint64_t index, uint32_t stream) {
  uint64_t r = splitmix64(seed ^ splitmix64(index * 2ull + stream + 0x5851f42d4c957f2dull));
  return ((float)(r >> 40) + 0.5f) * (1.0f / 16777216.0f);
}

// Standard normal by Box-Muller on two independent uniforms of the same counter.
FRUGAL_HD float counter_normal(uint64_t seed, uint64_t index) {
  float u1 = counter_uniform(seed, index, 0);
  float u2 = counter_uniform(seed, index, 1);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
}

}  // namespace frugal
