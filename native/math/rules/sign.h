// signSGD: p -= lr * sign(g), no state.
#pragma once
#include "rule_scalars.h"

namespace frugal {

// Branch-free: random gradient signs would defeat the branch predictor on the CPU. sign(0) = 0.
FRUGAL_HD float sign_of(float x) { return (float)(x > 0.f) - (float)(x < 0.f); }

struct SignSgd : RuleMath {
  FRUGAL_HD static float delta(float g, float, float*, float*, const RuleScalars& s) { return s.lr * sign_of(g); }
};

}  // namespace frugal
