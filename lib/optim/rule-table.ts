// The update rules as native/math/rules/rule_table.h registers them, for the TS side that needs
// more than the enum values (the planner's and the memory ledger's state bytes per element, the
// names of the state tensors). test/rule-table.test.ts holds this table to the addon's, so a rule
// registered in one and not the other fails there, not in a byte count.

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
}

/** The rules by JS name (lib/optim/options.ts's names; 'freeze' is BAdam's stateFree rule). */
export const UPDATE_RULES = {
  none: { id: 0, stateSlots: [], stateFull: true, stateFree: true, partial: false },
  adamw: { id: 1, stateSlots: ['exp_avg', 'exp_avg_sq'], stateFull: true, stateFree: false, partial: true },
  sgdm: { id: 2, stateSlots: ['momentum_buffer'], stateFull: true, stateFree: false, partial: true },
  signsgd: { id: 3, stateSlots: [], stateFull: true, stateFree: true, partial: false },
  sgd: { id: 4, stateSlots: [], stateFull: true, stateFree: true, partial: false },
  freeze: { id: 5, stateSlots: [], stateFull: false, stateFree: true, partial: false },
} as const satisfies Record<string, UpdateRuleInfo>;

export type UpdateRuleName = keyof typeof UPDATE_RULES;

/** rule_state_slots (native/math/rules): tensors of state per state-full element. */
export function ruleStateSlots(rule: UpdateRuleName): number {
  return UPDATE_RULES[rule].stateSlots.length;
}
