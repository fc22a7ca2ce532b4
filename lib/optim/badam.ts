// BAdam: block coordinate descent with Adam. The params are partitioned into blocks (one per
// layer: a param group each, or a list of tensor lists; a plain tensor list makes each tensor a
// block); one block at a time is state-full and updated, switching every `switchEvery` steps in
// descending, ascending or random order, with the moments dropped on each switch. Inactive
// blocks are not touched at all (no decay either).
//
// All blocks live in one param group whose blockIds name each param's block, so the core's
// 'blocks' selection picks one of them (density 1/blocks) and keeps the order and its RNG in
// its own state: checkpoints resume it like any other selection. Groups given with
// projectable: false are not blocks: plain AdamW every step, as separate groups after it.
import { describeValue } from '../dtype';
import { Tensor } from '../tensor';
import {
  GroupOptions, MethodSpec, NATIVE_ORDER_RANDOM_CYCLE, NATIVE_RULE_FREEZE, oneOf, OptimizerOptions, ParamGroupInput,
} from './options';
import { Optimizer, ParamsInput } from './optimizer';

export type BAdamGroupOptions = Pick<
  GroupOptions,
  'lr' | 'weightDecay' | 'betas' | 'eps' | 'biasCorrection' | 'epsMode' | 'stateDtype' | 'projectable'
>;
export interface BAdamOptions extends BAdamGroupOptions {
  /** Steps between block switches (K). */
  switchEvery?: number;
  blockOrder?: 'descending' | 'ascending' | 'random';
  /** Seed of the random block order. */
  seed?: number | bigint;
  maxGradNorm?: number;
  nonFinite?: OptimizerOptions['nonFinite'];
}

export type BAdamParams = ParamsInput | readonly (readonly Tensor[])[];

export class BAdam extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'BAdam',
    accepts: [
      'lr', 'weightDecay', 'betas', 'eps', 'biasCorrection', 'epsMode', 'stateDtype', 'projectable', 'switchEvery',
      'blockOrder', 'seed',
    ],
    defaults: { lr: 1e-3, weightDecay: 0, switchEvery: 100, blockOrder: 'descending', seed: 0 },
    fixed: { selection: 'blocks', stateFull: 'adamw', stateFree: 'none', resetStatistics: true },
    checks: { blockOrder: oneOf('descending', 'ascending', 'random') },
    adjust(n, o, group) {
      n.state_free = NATIVE_RULE_FREEZE; // inactive blocks: not touched at all, decay included
      if (o.blockOrder === 'random') n.block_order = NATIVE_ORDER_RANDOM_CYCLE; // one permutation per cycle
      n.update_gap = o.switchEvery;
      n.density = 1 / group.blocks; // round(blocks * density) = one block at a time
    },
  };

  constructor(params: BAdamParams, options: BAdamOptions = {}) {
    super(blockGroups(params), options);
  }
}

// Every block into one group with block ids 1, 2, ...; projectable: false groups kept apart.
function blockGroups(params: BAdamParams): ParamsInput {
  if (!Array.isArray(params) || params.length === 0) return params as ParamsInput;
  let blocks: ParamGroupInput[];
  if (params.every((p) => p instanceof Tensor)) blocks = (params as Tensor[]).map((t) => ({ params: [t] }));
  else if (params.every((p) => Array.isArray(p))) blocks = (params as Tensor[][]).map((list) => ({ params: list }));
  else return mergeGroups(params as ParamGroupInput[]);
  return mergeGroups(blocks);
}

function mergeGroups(groups: readonly ParamGroupInput[]): ParamsInput {
  if (!groups.every((g) => typeof g === 'object' && g !== null && Array.isArray(g.params))) return groups;
  const regular = groups.filter((g) => g.projectable === false);
  const layers = groups.filter((g) => g.projectable !== false);
  if (layers.length === 0) throw new Error('BAdam: no blocks: every param group has projectable: false');
  // One group means one set of options: the layers must agree on theirs.
  const { params: _p, ...shared } = layers[0];
  layers.forEach((g, i) => {
    const { params: _q, ...own } = g;
    for (const name of new Set([...Object.keys(shared), ...Object.keys(own)])) {
      const a = (shared as Record<string, unknown>)[name];
      const b = (own as Record<string, unknown>)[name];
      if (describeValue(a) !== describeValue(b)) {
        throw new Error(
          `BAdam: blocks share one set of options; block ${i} has ${name} ${describeValue(b)}, block 0 ${describeValue(a)}`,
        );
      }
    }
  });
  const merged: ParamGroupInput = {
    ...shared,
    params: layers.flatMap((g) => g.params),
    blockIds: layers.flatMap((g, i) => g.params.map(() => i + 1)),
  };
  return [merged, ...regular];
}
