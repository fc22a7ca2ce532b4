// What the backends hand a rule: scalars folded on the host from the group's options for the
// current step (rule_scalars.cpp in native/core), so a kernel reads only its arguments and a rule
// is a few flops per element. One struct serves every rule (it travels by value inside the jobs
// of core/backend.h); each rule reads only its own fields.
#pragma once
#include "../hd.h"
#include "rule_fields.generated.h"

namespace frugal {

struct RuleScalars {
  int32_t rule;
  float lr;  // learning rate of this part (already multiplied by any lr scale)
  // Step-dependent (a rule's at_step): Adam's p -= step_size * m / (sqrt(v) + eps_hat), step_size =
  // lr * sqrt(bc2) / bc1; SGDM's momentum buffer starts as the gradient itself on first_step.
  float step_size, eps_hat;
  int32_t first_step;
  // The hyperparameters the rules read, under their option names (beta1, beta2, momentum,
  // dampening, nesterov, l2 for the coupled L2 of torch.optim.SGD, ...): the schema's fields
  // marked rule_scalar, each copied from the options for the rules whose "reads" name it.
#define FRUGAL_RULE_SCALAR_FIELD(TYPE, NAME) TYPE NAME;
  FRUGAL_RULE_SCALAR_FIELDS(FRUGAL_RULE_SCALAR_FIELD)
#undef FRUGAL_RULE_SCALAR_FIELD
};

// What a rule's step-dependent scalars are made from (each rule's at_step), for a step count t
// that may differ per state slot (index selections without resets: each selected line has its
// own counter, so these travel to the device and are folded there).
struct AdamBiasInputs {
  double lr;            // lr of the state-full part (lr * state_full_lr_scale), in double
  double beta1, beta2;  // the float options, widened
  float eps;
  int32_t hf;  // eps_mode hf: eps outside the bias correction
  int32_t bias_correction;
};

// The step-dependent part of RuleScalars (what a rule's at_step sets), computed once per slot
// and step where slots count their own steps.
struct SlotScalars {
  float step_size, eps_hat;
  int32_t first_step, pad;
};

// The rule's scalars for one slot: the shared ones with the slot's own step-dependent ones.
FRUGAL_HD RuleScalars with_slot(RuleScalars r, const SlotScalars& s) {
  r.step_size = s.step_size;
  r.eps_hat = s.eps_hat;
  r.first_step = s.first_step;
  return r;
}

// What every rule's math (rules/*.h) inherits and overrides where it differs. A rule is a struct
// of static members:
//   kSlots                 fp32/bf16 state slots per element (m, then v), at most 2; as many as
//                          its schema entry names (slot names are the schema's);
//   delta(g, p, m, v, s)   the amount to subtract from p for gradient g (m, v point at the
//                          element's slots; null where the rule keeps none);
//   fold(r, options)       host, optional: scalars derived from the options, beyond the option
//                          fields its schema entry "reads" (copied into r first; lr is the caller's);
//   at_step(bias, t)       the step-dependent scalars at the rule's step t (host and device);
//   reads_state(s)         false where these scalars make the rule ignore its slots (the loops
//                          then run without them), with kStateOptional = true;
//   kHasDirection, direction(g, m, v, s), direction_scale(s)
//                          the direction on a compressed gradient, whose multiple by
//                          direction_scale is the update (dense projections).
struct RuleMath {
  static constexpr int kSlots = 0;
  static constexpr bool kStateOptional = false;
  static constexpr bool kHasDirection = false;
  template <class Options>
  static void fold(RuleScalars&, const Options&) {}
  FRUGAL_HD static SlotScalars at_step(const AdamBiasInputs&, int64_t) { return SlotScalars{0.f, 0.f, 0, 0}; }
  FRUGAL_HD static bool reads_state(const RuleScalars&) { return true; }
};

}  // namespace frugal
