// No update: the decoupled decay alone. The math of NONE, and of FREEZE (whose difference,
// leaving inactive blocks untouched, decay included, is the step's: core/optimizer_step.cpp).
#pragma once
#include "rule_scalars.h"

namespace frugal {

struct NoUpdate : RuleMath {
  FRUGAL_HD static float delta(float, float, float*, float*, const RuleScalars&) { return 0.f; }
};

}  // namespace frugal
