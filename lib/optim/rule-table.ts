// The update rules for the TS side that needs more than the enum values (the planner's and the
// memory ledger's state bytes per element, the names of the state tensors, a rule's own option
// defaults). The table is written from schema/options.json, where each rule is registered once,
// into schema.generated.ts; test/rule-table.test.ts holds it to the table the addon compiled.
import { RULE_TABLE } from './schema.generated';

/** One registered rule. */
export interface UpdateRuleInfo {
  /** frugal.h's frugal_rule value. */
  readonly id: number;
  /** Checkpoint names of the rule's state slots per element, m then v (none: no state). */
  readonly stateSlots: readonly string[];
  /** May be a group's stateFull rule (the selected part, or every element under 'all'). */
  readonly stateFull: boolean;
  /** May be a group's stateFree rule. */
  readonly stateFree: boolean;
  /** May be the stateFull rule of a partial selection (blocks, lines, dense bases). */
  readonly partial: boolean;
  /** Options a group whose stateFull is this rule takes where the caller gives none (Lion's betas). */
  readonly optionDefaults: Readonly<Record<string, unknown>>;
}

/** The rules by JS name (lib/optim/options.ts's names; 'freeze' is BAdam's stateFree rule). */
export const UPDATE_RULES = RULE_TABLE satisfies Record<string, UpdateRuleInfo>;

export type UpdateRuleName = keyof typeof UPDATE_RULES;

/** rule_state_slots (native/math/rules): tensors of state per state-full element. */
export function ruleStateSlots(rule: UpdateRuleName): number {
  return UPDATE_RULES[rule].stateSlots.length;
}
