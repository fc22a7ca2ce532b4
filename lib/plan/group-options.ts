// The options of one optimizer param group that decide how much state the core allocates, in
// the library's vocabulary (camelCase, string enums). Scalars that never change a byte count
// (lr, betas, eps, weight decay, lr scales) are not here.

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
  /** (0, 1]: the state-full fraction (blocks, lines, rank) when `rank` is 0. */
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

/** The core's defaults (frugal_group_options_default): plain AdamW with fp32 moments. */
export const DEFAULT_GROUP_OPTIONS: Readonly<GroupPlanOptions> = Object.freeze({
  selection: 'all',
  stateFull: 'adamw',
  stateFree: 'none',
  density: 1,
  rank: 0,
  updateGap: 200,
  resetStatistics: true,
  blockOrder: 'descending',
  side: 'std',
  sampling: 'top-r',
  replacement: false,
  randomizedSvd: false,
  stateDtype: 'float32',
});

export function groupOptions(partial: Partial<GroupPlanOptions> = {}): GroupPlanOptions {
  const o = { ...DEFAULT_GROUP_OPTIONS, ...partial };
  if (!(o.density > 0 && o.density <= 1)) throw new Error(`density: expected a number in (0, 1], got ${o.density}`);
  if (!(Number.isInteger(o.rank) && o.rank >= 0)) throw new Error(`rank: expected an integer >= 0, got ${o.rank}`);
  if (!(Number.isInteger(o.updateGap) && o.updateGap >= 1)) {
    throw new Error(`updateGap: expected an integer >= 1, got ${o.updateGap}`);
  }
  return o;
}
