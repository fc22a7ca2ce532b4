// AdamW (decoupled decay is the step's): two moments per element, bias correction folded into
// step_size and eps_hat on the host (or per slot on the device).
#pragma once
#include <math.h>
#include "rule_scalars.h"

namespace frugal {

// b^t by squaring: only correctly rounded double multiplies, so the host and the device (built
// with --fmad=false) get the same bits, which pow() does not promise.
FRUGAL_HD double pow_int(double b, int64_t t) {
  double r = 1.0;
  while (t > 0) {
    if (t & 1) r *= b;
    b *= b;
    t >>= 1;
  }
  return r;
}

// Adam's folded scalars at step t (t >= 1 after the step's increment): step_size =
// lr * sqrt(bc2) / bc1, and eps_hat = eps * sqrt(bc2) (torch) or eps (hf).
FRUGAL_HD void adam_bias_scalars(const AdamBiasInputs& a, int64_t t, float& step_size, float& eps_hat) {
  double bc1 = 1.0, bc2 = 1.0;
  if (a.bias_correction && t > 0) {
    bc1 = 1.0 - pow_int(a.beta1, t);
    bc2 = 1.0 - pow_int(a.beta2, t);
  }
  step_size = (float)(a.lr * sqrt(bc2) / bc1);
  eps_hat = a.hf ? a.eps : (float)((double)a.eps * sqrt(bc2));
}

// Adam direction m_hat / (sqrt(v_hat) + eps) up to the folded scale; updates the moments.
FRUGAL_HD float adam_direction(float g, float& m, float& v, const RuleScalars& s) {
  m = s.beta1 * m + (1.f - s.beta1) * g;
  v = s.beta2 * v + (1.f - s.beta2) * g * g;
  return m / (sqrtf(v) + s.eps_hat);
}

struct AdamW : RuleMath {
  static constexpr int kSlots = 2;
  static constexpr bool kHasDirection = true;
  FRUGAL_HD static float delta(float g, float, float* m, float* v, const RuleScalars& s) {
    return s.step_size * adam_direction(g, *m, *v, s);
  }
  FRUGAL_HD static float direction(float g, float& m, float& v, const RuleScalars& s) {
    return adam_direction(g, m, v, s);
  }
  FRUGAL_HD static float direction_scale(const RuleScalars& s) { return s.step_size; }
  // Both eps forms are p -= step_size * m / (sqrt(v) + eps_hat); they differ in where eps sits.
  FRUGAL_HD static SlotScalars at_step(const AdamBiasInputs& a, int64_t t) {
    SlotScalars s{0.f, 0.f, 0, 0};
    adam_bias_scalars(a, t, s.step_size, s.eps_hat);
    return s;
  }
};

}  // namespace frugal
