// The update rules: every dispatch on a rule id, expanded from the one registration of each rule,
// FRUGAL_UPDATE_RULES (rules.generated.h, written by scripts/gen-schema.js from the rule's entry in
// schema/options.json: id, JS name, math, roles, slot names, the options its fold reads). A rule is
// its math (a header here, see RuleMath in rule_scalars.h) plus that entry. Ids are frugal.h's
// frugal_rule values (the core static_asserts each one).
#pragma once
#include "rule_scalars.h"
#include "rules.generated.h"

namespace frugal {

enum Rule : int32_t {
#define FRUGAL_RULE_ENUM(C, ID, ...) RULE_##C = ID,
  FRUGAL_UPDATE_RULES(FRUGAL_RULE_ENUM)
#undef FRUGAL_RULE_ENUM
};

#define FRUGAL_RULE_CHECK(C, ID, NAME, MATH, FULL, FREE, PARTIAL, SLOTS, SLOT0, SLOT1)                 \
  static_assert(MATH::kSlots >= 0 && MATH::kSlots <= 2, #C ": a rule keeps at most two slots (m, v)"); \
  static_assert(MATH::kSlots == (SLOTS), #C ": the schema names as many slots as the math keeps");     \
  static_assert(!(FREE) || MATH::kSlots == 0, #C ": a state-free rule keeps no state");                \
  static_assert(!(PARTIAL) || (MATH::kHasDirection && MATH::kSlots > 0),                               \
                #C ": a partial selection's rule needs state and a direction on the compressed gradient");
FRUGAL_UPDATE_RULES(FRUGAL_RULE_CHECK)
#undef FRUGAL_RULE_CHECK

// The direction on a compressed gradient (Backend::compressed_direction): the rule's own where it
// has one, SGDM's for every other rule (only partial rules reach it from the core).
template <class Math, bool Own = Math::kHasDirection>
struct DirectionOf : Math {};
template <class Math>
struct DirectionOf<Math, false> : SgdMomentum {};

// The amount to subtract from p for gradient g under rule s (p and l2 enter only through g).
// State pointers are only touched by the rules that own state. Unknown rules update nothing.
FRUGAL_HD float rule_delta(float g, float p, float* m, float* v, const RuleScalars& s) {
  switch (s.rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, ...) \
  case ID: return MATH::delta(g, p, m, v, s);
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return 0.f;
  }
}

// The direction on a compressed gradient, updating the moments (see DirectionOf).
FRUGAL_HD float rule_direction(float g, float& m, float& v, const RuleScalars& s) {
  switch (s.rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, ...) \
  case ID: return DirectionOf<MATH>::direction(g, m, v, s);
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return SgdMomentum::direction(g, m, v, s);
  }
}

// What multiplies rule_direction's result into the update (Adam's step_size, SGDM's lr).
FRUGAL_HD float rule_direction_scale(const RuleScalars& s) {
  switch (s.rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, ...) \
  case ID: return DirectionOf<MATH>::direction_scale(s);
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return s.lr;
  }
}

// Number of state slots a rule keeps per element.
FRUGAL_HD int rule_state_slots(int32_t rule) {
  switch (rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, ...) \
  case ID: return MATH::kSlots;
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return 0;
  }
}

// The rule's step-dependent scalars at its step t.
FRUGAL_HD SlotScalars rule_at_step(int32_t rule, const AdamBiasInputs& a, int64_t t) {
  switch (rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, ...) \
  case ID: return MATH::at_step(a, t);
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return RuleMath::at_step(a, t);
  }
}

// Advances a slot's own step counter and returns its scalars under `rule`.
FRUGAL_HD SlotScalars advance_slot(int32_t& slot_step, int32_t rule, const AdamBiasInputs& a) {
  slot_step += 1;
  return rule_at_step(rule, a, slot_step);
}

// Host code: calls f(RuleTag<Math>{}) with rule `id`'s math, or returns `otherwise` for an id
// that names no rule. For dispatching once per job to code templated on the rule.
template <class Math>
struct RuleTag {
  using type = Math;
};
template <class F, class T>
T visit_rule(int32_t id, F&& f, T otherwise) {
  switch (id) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, ...) \
  case ID: return f(RuleTag<MATH>{});
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return otherwise;
  }
}

}  // namespace frugal
