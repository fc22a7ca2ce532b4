// The per-element update rules, shared by the CPU loops and the CUDA kernels.
// Every step-dependent quantity (bias correction, lr) is folded into scalars on the host, so a
// kernel reads only arguments and a rule is a few flops per element.
#pragma once
#include "hd.h"
#include <math.h>

namespace frugal {

enum Rule : int32_t { RULE_NONE = 0, RULE_ADAMW = 1, RULE_SGDM = 2, RULE_SIGN = 3, RULE_SGD = 4 };

// Scalars of one rule application, precomputed on the host for the current step.
struct RuleScalars {
  int32_t rule;
  float lr;          // learning rate of this part (already multiplied by any lr scale)
  // Adam: p -= step_size * m / (sqrt(v) + eps_hat), step_size = lr * sqrt(bc2) / bc1.
  float beta1, beta2, step_size, eps_hat;
  // SGD with momentum (PyTorch semantics).
  float momentum, dampening;
  int32_t nesterov;
  int32_t first_step;  // momentum buffer starts as the gradient itself
  float l2;            // coupled weight decay added to the gradient (torch.optim.SGD's weight_decay)
};

// Branch-free: random gradient signs would defeat the branch predictor on the CPU. sign(0) = 0.
FRUGAL_HD float sign_of(float x) { return (float)(x > 0.f) - (float)(x < 0.f); }

// Adam direction m_hat / (sqrt(v_hat) + eps) up to the folded scale; updates the moments.
FRUGAL_HD float adam_direction(float g, float& m, float& v, const RuleScalars& s) {
  m = s.beta1 * m + (1.f - s.beta1) * g;
  v = s.beta2 * v + (1.f - s.beta2) * g * g;
  return m / (sqrtf(v) + s.eps_hat);
}

// SGD with momentum: returns the direction d such that p -= lr * d.
FRUGAL_HD float sgdm_direction(float g, float& buf, const RuleScalars& s) {
  if (s.momentum == 0.f) return g;
  buf = s.first_step ? g : s.momentum * buf + (1.f - s.dampening) * g;
  return s.nesterov ? g + s.momentum * buf : buf;
}

// The amount to subtract from p for gradient g under rule s (p and l2 enter only through g).
// State pointers are only touched by the rules that own state.
FRUGAL_HD float rule_delta(float g, float p, float* m, float* v, const RuleScalars& s) {
  switch (s.rule) {
    case RULE_ADAMW: return s.step_size * adam_direction(g, *m, *v, s);
    case RULE_SGDM: return s.lr * sgdm_direction(g + s.l2 * p, *m, s);
    case RULE_SIGN: return s.lr * sign_of(g);
    case RULE_SGD: return s.lr * (g + s.l2 * p);
    default: return 0.f;
  }
}

// Number of fp32 state slots a rule keeps per element.
FRUGAL_HD int rule_state_slots(int32_t rule) {
  return rule == RULE_ADAMW ? 2 : (rule == RULE_SGDM ? 1 : 0);
}

}  // namespace frugal
