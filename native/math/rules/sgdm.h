// SGD with momentum, PyTorch's semantics (torch.optim.SGD): coupled L2 on the gradient, dampening,
// Nesterov; one buffer per element, which starts as the first gradient.
#pragma once
#include "rule_scalars.h"

namespace frugal {

// Returns the direction d such that p -= lr * d.
FRUGAL_HD float sgdm_direction(float g, float& buf, const RuleScalars& s) {
  if (s.momentum == 0.f) return g;
  buf = s.first_step ? g : s.momentum * buf + (1.f - s.dampening) * g;
  return s.nesterov ? g + s.momentum * buf : buf;
}

struct SgdMomentum : RuleMath {
  static constexpr int kSlots = 1;
  static constexpr bool kStateOptional = true;
  static constexpr bool kHasDirection = true;
  FRUGAL_HD static float delta(float g, float p, float* m, float*, const RuleScalars& s) {
    return s.lr * sgdm_direction(g + s.l2 * p, *m, s);
  }
  FRUGAL_HD static float direction(float g, float& m, float&, const RuleScalars& s) { return sgdm_direction(g, m, s); }
  FRUGAL_HD static float direction_scale(const RuleScalars& s) { return s.lr; }
  // Momentum 0 is plain SGD: the buffer is neither read nor written.
  FRUGAL_HD static bool reads_state(const RuleScalars& s) { return s.momentum != 0.f; }
  FRUGAL_HD static SlotScalars at_step(const AdamBiasInputs&, int64_t t) {
    SlotScalars s{0.f, 0.f, 0, 0};
    s.first_step = t <= 1;
    return s;
  }
};

}  // namespace frugal
