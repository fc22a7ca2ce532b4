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

// What Adam's bias-corrected scalars are made from, for a step count t that may differ per state
// slot (index selections without resets: each selected line has its own counter).
struct AdamBiasInputs {
  double lr;            // lr of the state-full part (lr * state_full_lr_scale), in double
  double beta1, beta2;  // the float options, widened
  float eps;
  int32_t hf;           // eps_mode hf: eps outside the bias correction
  int32_t bias_correction;
};

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
// lr * sqrt(bc2) / bc1, and eps_hat = eps * sqrt(bc2) (torch) or eps (hf). Also SGDM's first_step.
FRUGAL_HD void adam_bias_scalars(const AdamBiasInputs& a, int64_t t, float& step_size, float& eps_hat,
                                 int32_t& first_step) {
  double bc1 = 1.0, bc2 = 1.0;
  if (a.bias_correction && t > 0) {
    bc1 = 1.0 - pow_int(a.beta1, t);
    bc2 = 1.0 - pow_int(a.beta2, t);
  }
  step_size = (float)(a.lr * sqrt(bc2) / bc1);
  eps_hat = a.hf ? a.eps : (float)((double)a.eps * sqrt(bc2));
  first_step = t <= 1;
}

// The per-slot part of a state-full rule's scalars, computed once per slot and step.
struct SlotScalars {
  float step_size, eps_hat;
  int32_t first_step, pad;
};

// Advances a slot's own step counter and returns its scalars.
FRUGAL_HD SlotScalars advance_slot(int32_t& slot_step, const AdamBiasInputs& a) {
  slot_step += 1;
  SlotScalars s;
  adam_bias_scalars(a, slot_step, s.step_size, s.eps_hat, s.first_step);
  s.pad = 0;
  return s;
}

// The rule's scalars for one slot: the shared ones with the slot's own bias correction.
FRUGAL_HD RuleScalars with_slot(RuleScalars r, const SlotScalars& s) {
  r.step_size = s.step_size;
  r.eps_hat = s.eps_hat;
  r.first_step = s.first_step;
  return r;
}

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
