// The host side of the update-rule table: each rule folds the options it reads (the fields its
// schema entry names, then its own fold and at_step, native/math/rules), around the parts every
// rule shares (the lr of its part). The backends get these scalars; nothing here branches on a
// particular rule.
#include "rule_scalars.h"
#include <type_traits>

namespace frugal {

// The table's ids are frugal.h's values.
#define FRUGAL_RULE_ID_CHECK(C, ID, ...)                       \
  static_assert((int32_t)RULE_##C == (int32_t)FRUGAL_RULE_##C, \
                "rule_table.h: " #C " differs from frugal.h's FRUGAL_RULE_" #C);
FRUGAL_UPDATE_RULES(FRUGAL_RULE_ID_CHECK)
#undef FRUGAL_RULE_ID_CHECK

namespace {

// Copies the option fields rule `rule` reads (its schema entry's "reads") into r, then lets its
// math derive what it needs beyond them.
void fold_options(int32_t rule, RuleScalars& r, const frugal_group_options& o) {
  switch (rule) {
#define FRUGAL_RULE_READ(FIELD) r.FIELD = o.FIELD;
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, ...) \
  case ID:                                       \
    FRUGAL_RULE_READS_##C(FRUGAL_RULE_READ);     \
    MATH::fold(r, o);                            \
    break;
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
#undef FRUGAL_RULE_READ
    default: break;
  }
}

}  // namespace

AdamBiasInputs adam_bias_inputs(const frugal_group_options& o) {
  AdamBiasInputs a{};
  a.lr = (double)o.lr * o.state_full_lr_scale;
  a.beta1 = o.beta1;
  a.beta2 = o.beta2;
  a.eps = o.eps;
  a.hf = o.eps_mode == FRUGAL_EPS_HF;
  a.bias_correction = o.bias_correction != 0;
  return a;
}

RuleScalars state_full_scalars(const frugal_group_options& o, int64_t t) {
  RuleScalars r{};
  r.rule = o.state_full;
  double lr = (double)o.lr * o.state_full_lr_scale;
  r.lr = (float)lr;
  fold_options(o.state_full, r, o);
  visit_rule(
      o.state_full,
      [&](auto rule) {
        using R = typename decltype(rule)::type;
        r = with_slot(r, R::at_step(adam_bias_inputs(o), t));
        return true;
      },
      false);
  return r;
}

RuleScalars state_free_scalars(const frugal_group_options& o) {
  RuleScalars r{};
  r.rule = o.state_free;
  r.lr = (float)((double)o.lr * o.state_full_lr_scale * o.state_free_lr_scale);
  fold_options(o.state_free, r, o);
  visit_rule(
      o.state_free,
      [&](auto rule) {
        using R = typename decltype(rule)::type;
        // A rule without an update (freeze) runs as none: the backends know one such rule. What
        // freeze leaves out beyond that (the decay of inactive blocks) is the step's to skip.
        if (std::is_same<R, NoUpdate>::value) r.rule = RULE_NONE;
        return true;
      },
      false);
  return r;
}

bool rule_allowed(int32_t rule, RuleRole role) {
  switch (rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, FULL, FREE, PARTIAL, ...) \
  case ID: return role == RuleRole::StateFull ? (FULL) : role == RuleRole::StateFree ? (FREE) : (PARTIAL);
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return false;
  }
}

namespace {
constexpr int32_t kRuleIds[] = {
#define FRUGAL_RULE_ID(C, ID, ...) ID,
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_ID)
#undef FRUGAL_RULE_ID
};
}  // namespace

std::string rule_choices(RuleRole role) {
  int total = 0;
  for (int32_t id : kRuleIds) total += rule_allowed(id, role);
  std::string out;
  int listed = 0;
  for (int32_t id : kRuleIds) {
    if (!rule_allowed(id, role)) continue;
    if (listed++ > 0) out += listed == total ? " or " : ", ";
    out += std::string(rule_name(id)) + " (" + std::to_string(id) + ")";
  }
  return out;
}

const char* rule_name(int32_t rule) {
  switch (rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, ...) \
  case ID: return NAME;
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return "unknown";
  }
}

const char* rule_slot_name(int32_t rule, int slot) {
  const char* name = nullptr;
  switch (rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, FULL, FREE, PARTIAL, SLOTS, SLOT0, SLOT1) \
  case ID: name = slot == 0 ? SLOT0 : slot == 1 ? SLOT1 : nullptr; break;
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: break;
  }
  return name ? name : "state";
}

}  // namespace frugal
