// Plain SGD with coupled L2 (torch.optim.SGD without momentum), no state.
#pragma once
#include "rule_scalars.h"

namespace frugal {

struct PlainSgd : RuleMath {
  FRUGAL_HD static float delta(float g, float p, float*, float*, const RuleScalars& s) { return s.lr * (g + s.l2 * p); }
};

}  // namespace frugal
