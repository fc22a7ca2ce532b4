// The optimizer's own random source for selections (xoshiro256**): four words of state that a
// checkpoint stores, so a resumed run draws the same selections as an uninterrupted one.
#pragma once
#include <cstdint>
#include "../math/counter_rng.h"

namespace frugal {

class HostRng {
 public:
  explicit HostRng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& w : s_) {
      x = splitmix64(x);
      w = x;
    }
  }
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  uint64_t below(uint64_t n) { return n ? (uint64_t)(uniform() * (double)n) % n : 0; }
  double normal() {
    double u1 = ((double)(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = uniform();
    return __builtin_sqrt(-2.0 * __builtin_log(u1)) * __builtin_cos(6.283185307179586 * u2);
  }
  void get(uint64_t out[4]) const {
    for (int i = 0; i < 4; i++) out[i] = s_[i];
  }
  void set(const uint64_t in[4]) {
    for (int i = 0; i < 4; i++) s_[i] = in[i];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace frugal
