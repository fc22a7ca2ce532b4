// The options of one optimizer param group that decide how much state the core allocates, in
// the library's vocabulary (camelCase, string enums). Scalars that never change a byte count
// (lr, betas, eps, weight decay, lr scales) are not here.
// The names and checks come from schema/options.json (schema.generated.ts).
import { FRAMEWORK_DEFAULTS } from '../optim/options';
import {
  BlockOrderName,
  RULES_IN_ROLE,
  SamplingName,
  SCHEMA_CHECKS,
  SelectionEnumName,
  SideName,
  StateDtypeName,
  StateFreeName,
} from '../optim/schema.generated';

export type SelectionKind = SelectionEnumName;
/** The core's state-full rules: the public stateFull's, and the plain ones of ALL / NONE selections (the schema's state_full role). */
export type StateFullRule = (typeof RULES_IN_ROLE.stateFull)[number];
export type StateFreeRule = StateFreeName;
export type BlockOrder = BlockOrderName;
/** Dense: which side is projected. Grass: which lines are selected (left = rows, right = columns). */
export type Side = SideName;
export type GrassSampling = SamplingName;
export type StateDtype = StateDtypeName;

export interface GroupPlanOptions {
  selection: SelectionKind;
  stateFull: StateFullRule;
  stateFree: StateFreeRule;
  /** [0, 1]: the state-full fraction (blocks, lines, rank) when `rank` is 0. */
  density: number;
  /** > 0 overrides density for svd / random / randperm / grass. */
  rank: number;
  updateGap: number;
  resetStatistics: boolean;
  blockOrder: BlockOrder;
  side: Side;
  sampling: GrassSampling;
  replacement: boolean;
  randomizedSvd: boolean;
  stateDtype: StateDtype;
}

/** The core's defaults (frugal_group_options_default): plain AdamW with fp32 moments, taken from
 * the optimizers' own defaults so the two cannot drift apart. */
export const DEFAULT_GROUP_OPTIONS: Readonly<GroupPlanOptions> = Object.freeze({
  selection: FRAMEWORK_DEFAULTS.selection as SelectionKind,
  stateFull: FRAMEWORK_DEFAULTS.stateFull,
  stateFree: FRAMEWORK_DEFAULTS.stateFree,
  density: FRAMEWORK_DEFAULTS.density,
  rank: FRAMEWORK_DEFAULTS.rank,
  updateGap: FRAMEWORK_DEFAULTS.updateGap,
  resetStatistics: FRAMEWORK_DEFAULTS.resetStatistics,
  blockOrder: FRAMEWORK_DEFAULTS.blockOrder,
  side: FRAMEWORK_DEFAULTS.side,
  sampling: FRAMEWORK_DEFAULTS.sampling,
  replacement: FRAMEWORK_DEFAULTS.replacement,
  randomizedSvd: FRAMEWORK_DEFAULTS.randomizedSvd,
  stateDtype: FRAMEWORK_DEFAULTS.stateDtype,
});

export function groupOptions(partial: Partial<GroupPlanOptions> = {}): GroupPlanOptions {
  const o = { ...DEFAULT_GROUP_OPTIONS, ...partial };
  for (const name of ['density', 'rank', 'updateGap'] as const) {
    const check = SCHEMA_CHECKS[name];
    if (!check.ok(o[name])) throw new Error(`${name}: expected ${check.expected}, got ${o[name]}`);
  }
  return o;
}
