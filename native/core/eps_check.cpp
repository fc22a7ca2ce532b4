// eps must stay a normal float32 wherever the Adam denominator sqrt(v) + eps_hat uses it: a zero
// gradient makes m = v = 0, and the direction 0 / eps_hat is 0 only while eps_hat > 0. A nonzero
// eps below the smallest normal float32 (or one that bias-correction folding shrinks below it) is
// 0 or subnormal on the device (flush-to-zero), and 0 / 0 is NaN. eps = 0 itself stays accepted,
// as in torch: the direction is then m / sqrt(v), NaN for an element whose every gradient so far
// was exactly zero.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include "errors.h"
#include "optimizer.h"

namespace frugal {

namespace {
// The shortest text that reads back as the same float32 (2e-38, not 2.00000001e-38).
std::string float_text(float x) {
  char buf[64];
  for (int digits = 1; digits <= 9; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, (double)x);
    if (std::strtof(buf, nullptr) == x) break;
  }
  return buf;
}
}  // namespace

// The factor eps is multiplied by before it reaches the kernels, at its smallest (step 1): torch
// mode folds the bias correction into eps (eps_hat = eps * sqrt(1 - beta2^t)), hf mode does not.
double smallest_eps_fold(const frugal_group_options& o) {
  if (o.eps_mode == FRUGAL_EPS_HF || !o.bias_correction) return 1.0;
  return std::sqrt(1.0 - (double)o.beta2);
}

void validate_eps(const frugal_group_options& o) {
  if (o.eps == 0.f) return;
  double fold = smallest_eps_fold(o);
  auto underflows = [&](float eps) { return eps < FLT_MIN || (float)((double)eps * fold) < FLT_MIN; };
  if (!underflows(o.eps)) return;
  float smallest = (float)(FLT_MIN / fold);
  while (underflows(smallest)) smallest = std::nextafter(smallest, INFINITY);
  std::string why = o.eps < FLT_MIN ? "is below the smallest normal float32"
                                    : "becomes subnormal once folded with the bias correction at step 1 (eps_mode "
                                      "'torch': eps * sqrt(1 - beta2))";
  invalid("eps: " + float_text(o.eps) + " " + why +
          " and would make a zero gradient's update NaN; expected 0 or at least " + float_text(smallest));
}

}  // namespace frugal
