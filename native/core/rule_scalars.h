// The host side of the update-rule table (native/math/rules/rule_table.h): a group's options
// folded into the scalars the backends read, and what the table says about each rule id (name,
// roles, checkpoint names of its slots), for validation and the state listing.
#pragma once
#include <cstdint>
#include <string>
#include "../math/update_rules.h"
#include "frugal.h"

namespace frugal {

// Scalars of the state-full rule for a param at its (already incremented) state step.
RuleScalars state_full_scalars(const frugal_group_options& o, int64_t state_step);
RuleScalars state_free_scalars(const frugal_group_options& o);
// What per-slot step-dependent scalars are computed from (index selections without resets).
AdamBiasInputs adam_bias_inputs(const frugal_group_options& o);

// Where a rule may serve in a group (the table's columns).
enum class RuleRole { StateFull, StateFree, Partial };
bool rule_allowed(int32_t rule, RuleRole role);
// The rules allowed in `role`, for messages: "adamw (1) or sgdm (2)".
std::string rule_choices(RuleRole role);
// The rule's JS name ("adamw"), or "unknown".
const char* rule_name(int32_t rule);
// The checkpoint name of the rule's state slot `slot` (0: m, 1: v); "state" where it has none.
const char* rule_slot_name(int32_t rule, int slot);

}  // namespace frugal
