// The host side of the update-rule table: each rule folds the options it reads (its own fold and
// at_step, native/math/rules), around the parts every rule shares (the lr of its part). The
// backends get these scalars; nothing here branches on a particular rule.
#include "rule_scalars.h"
#include <type_traits>

namespace frugal {

// The table's ids are frugal.h's values.
#define FRUGAL_RULE_ID_CHECK(C, ID, NAME, MATH, FULL, FREE, PARTIAL) \
  static_assert((int32_t)RULE_##C == (int32_t)FRUGAL_RULE_##C,       \
                "rule_table.h: " #C " differs from frugal.h's FRUGAL_RULE_" #C);
FRUGAL_UPDATE_RULES(FRUGAL_RULE_ID_CHECK)
#undef FRUGAL_RULE_ID_CHECK

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
  visit_rule(
      o.state_full,
      [&](auto rule) {
        using R = typename decltype(rule)::type;
        R::fold(r, o);
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
  visit_rule(
      o.state_free,
      [&](auto rule) {
        using R = typename decltype(rule)::type;
        // A rule without an update (freeze) runs as none: the backends know one such rule. What
        // freeze leaves out beyond that (the decay of inactive blocks) is the step's to skip.
        if (std::is_same<R, NoUpdate>::value) r.rule = RULE_NONE;
        R::fold(r, o);
        return true;
      },
      false);
  return r;
}

bool rule_allowed(int32_t rule, RuleRole role) {
  switch (rule) {
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, FULL, FREE, PARTIAL) \
  case ID: return role == RuleRole::StateFull ? (FULL) : role == RuleRole::StateFree ? (FREE) : (PARTIAL);
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return false;
  }
}

namespace {
constexpr int32_t kRuleIds[] = {
#define FRUGAL_RULE_ID(C, ID, NAME, MATH, FULL, FREE, PARTIAL) ID,
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
#define FRUGAL_RULE_CASE(C, ID, NAME, MATH, FULL, FREE, PARTIAL) \
  case ID: return NAME;
    FRUGAL_UPDATE_RULES(FRUGAL_RULE_CASE)
#undef FRUGAL_RULE_CASE
    default: return "unknown";
  }
}

const char* rule_slot_name(int32_t rule, int slot) {
  const char* name = visit_rule(
      rule, [&](auto r) { return decltype(r)::type::slot_name(slot); }, (const char*)nullptr);
  return name ? name : "state";
}

}  // namespace frugal
