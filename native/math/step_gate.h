// The step's gate: the clip factor and the non-finite skip flag every update reads through its
// gscale pointer ({scale, skip}, see core/backend.h), computed from the gradients' fp64 sum of
// squares. Shared by the CPU backend and the CUDA kernels so both decide alike.
#pragma once
#include <math.h>
#include "hd.h"

namespace frugal {

// skip != 0 makes an update call a no-op; null gscale never skips.
FRUGAL_HD bool step_skipped(const float* gscale) { return gscale && gscale[1] != 0.f; }

// out = {clip factor, skip, 1, skip}; returns skip. The factor is formed in fp64 from the fp64 sum,
// so a finite gradient of any size (1e20 and up) clips to max_norm instead of overflowing to a
// factor of 0. A NaN or Inf sum propagates as before unless skip_nonfinite.
FRUGAL_HD float step_gate_values(double sumsq, float max_norm, int32_t skip_nonfinite, float* out) {
  float factor = 1.f;
  if (max_norm > 0.f) {
    const double f = (double)max_norm / (sqrt(sumsq) + 1e-6);
    factor = f < 1.0 ? (float)f : 1.f;
  }
  // sumsq - sumsq is 0 for a finite sum and NaN for Inf or NaN (isfinite without <cmath> on device).
  const float skip = (skip_nonfinite && !(sumsq - sumsq == 0.0)) ? 1.f : 0.f;
  out[0] = factor;
  out[1] = skip;
  out[2] = 1.f;
  out[3] = skip;
  return skip;
}

}  // namespace frugal
