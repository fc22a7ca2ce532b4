// The options of one optimizer param group that decide how much state the core allocates, in
// the library's vocabulary (camelCase, string enums). Scalars that never change a byte count
// (lr, betas, eps, weight decay, lr scales) are not here.
import { FRAMEWORK_DEFAULTS } from '../optim/options';

export type SelectionKind =
  | 'all' | 'none' | 'blocks' | 'columns' | 'rows' | 'coordinates' | 'svd' | 'random' | 'randperm' | 'grass';
export type StateFullRule = 'adamw' | 'sgdm' | 'signsgd' | 'sgd' | 'none';
export type StateFreeRule = 'signsgd' | 'sgd' | 'none';
export type BlockOrder = 'descending' | 'ascending' | 'mirror' | 'random';
/** Dense: which side is projected. Grass: which lines are selected (left = rows, right = columns). */
export type Side = 'std' | 'reverse_std' | 'left' | 'right';
export type GrassSampling = 'top-r' | 'norm' | 'uniform';
export type StateDtype = 'float32' | 'bfloat16';

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
  if (!(o.density >= 0 && o.density <= 1)) throw new Error(`density: expected a number in [0, 1], got ${o.density}`);
  if (!(Number.isInteger(o.rank) && o.rank >= 0)) throw new Error(`rank: expected an integer >= 0, got ${o.rank}`);
  if (!(Number.isInteger(o.updateGap) && o.updateGap >= 1)) {
    throw new Error(`updateGap: expected an integer >= 1, got ${o.updateGap}`);
  }
  return o;
}
