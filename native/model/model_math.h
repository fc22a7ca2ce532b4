// Per-element math of the model ops, shared by the CPU loops and the CUDA kernels (like
// native/math for the update rules), so the CPU tests cover the GPU's formulas.
#pragma once
#include <math.h>
#include "../math/hd.h"

namespace frugal {
namespace model {

FRUGAL_HD float sigmoidf_(float x) { return 1.f / (1.f + expf(-x)); }

// SwiGLU: out = silu(g) * u with silu(g) = g * sigmoid(g).
FRUGAL_HD float swiglu(float g, float u) { return g * sigmoidf_(g) * u; }
// d out / d g = u * sigmoid(g) * (1 + g * (1 - sigmoid(g))); d out / d u = silu(g).
FRUGAL_HD void swiglu_grad(float g, float u, float dout, float* dg, float* du) {
  float s = sigmoidf_(g);
  *dg = dout * u * s * (1.f + g * (1.f - s));
  *du = dout * g * s;
}

// Rotary angle of pair i (of head_dim / 2) at position pos: pos * theta^(-2i / head_dim).
FRUGAL_HD float rope_angle(int64_t pos, int64_t i, int64_t head_dim, float theta) {
  float inv_freq = expf(-logf(theta) * (float)(2 * i) / (float)head_dim);
  return (float)pos * inv_freq;
}

// Rotates the pair (x1, x2) = (x[i], x[i + d/2]) by +angle (or -angle for the inverse).
FRUGAL_HD void rope_rotate(float* x1, float* x2, float angle, bool inverse) {
  float c = cosf(angle), s = inverse ? -sinf(angle) : sinf(angle);
  float a = *x1, b = *x2;
  *x1 = a * c - b * s;
  *x2 = a * s + b * c;
}

// The same rotation from a precomputed cosine and (signed) sine.
FRUGAL_HD void rope_rotate_cs(float* x1, float* x2, float c, float s) {
  float a = *x1, b = *x2;
  *x1 = a * c - b * s;
  *x2 = a * s + b * c;
}

// rstd of a row from its sum of squares.
FRUGAL_HD float rms_rstd(float sumsq, int64_t dim, float eps) { return 1.f / sqrtf(sumsq / (float)dim + eps); }

}  // namespace model
}  // namespace frugal
