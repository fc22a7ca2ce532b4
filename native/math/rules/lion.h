// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", arXiv 2302.06675):
// one moment per element; the update is the sign of an interpolation between the moment and the
// gradient, and the moment then moves towards the gradient at its own rate:
//   c = b1 m + (1 - b1) g;  p -= lr sign(c);  m = b2 m + (1 - b2) g.
// Decoupled decay (p *= 1 - lr wd, first) is the step's, as for AdamW. sign(0) = 0 (torch.sign).
#pragma once
#include "rule_scalars.h"
#include "sign.h"

namespace frugal {

// sign(c) for the interpolation c, updating the moment.
FRUGAL_HD float lion_direction(float g, float& m, const RuleScalars& s) {
  const float c = s.beta1 * m + (1.f - s.beta1) * g;
  m = s.beta2 * m + (1.f - s.beta2) * g;
  return sign_of(c);
}

struct Lion : RuleMath {
  static constexpr int kSlots = 1;
  static constexpr bool kHasDirection = true;
  FRUGAL_HD static float delta(float g, float, float* m, float*, const RuleScalars& s) {
    return s.lr * lion_direction(g, *m, s);
  }
  // On a compressed gradient (lines, dense bases) the sign is taken there, in the selected
  // coordinates, and the step lr * sign(c) is projected back, as FRUGAL's authors' Lion variant
  // does (their _compute_update on the projected gradient, then project_up).
  FRUGAL_HD static float direction(float g, float& m, float&, const RuleScalars& s) { return lion_direction(g, m, s); }
  FRUGAL_HD static float direction_scale(const RuleScalars& s) { return s.lr; }
};

}  // namespace frugal
