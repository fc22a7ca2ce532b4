// FRUGAL: full-rank updates by gradient splitting. A state-full rule (AdamW or SGDM) on a
// selected subspace of each projectable matrix, a state-free rule (signSGD, SGD) on the rest.
// Defaults are the paper's pretraining recipe: blocks, descending order, density 0.25,
// re-chosen every 200 steps, AdamW + signSGD. Every selection of the framework is available.
import { Tensor } from '../tensor';
import { FRAMEWORK_DEFAULTS, GroupOptions, MethodSpec, OptimizerOptions } from './options';
import { Optimizer } from './optimizer';

export type FrugalGroupOptions = Omit<GroupOptions, 'switchEvery'>;
export type FrugalOptions = Omit<OptimizerOptions, 'switchEvery'>;

export class Frugal extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'Frugal',
    accepts: (Object.keys(FRAMEWORK_DEFAULTS) as (keyof GroupOptions)[]).filter((k) => k !== 'switchEvery'),
    defaults: {
      lr: 1e-3,
      weightDecay: 0,
      betas: [0.9, 0.999],
      eps: 1e-8,
      selection: 'blocks',
      blockOrder: 'descending',
      density: 0.25,
      updateGap: 200,
      stateFull: 'adamw',
      stateFree: 'signsgd',
      stateFullLrScale: 1,
      stateFreeLrScale: 1,
      resetStatistics: true,
    },
    fixed: {},
  };

  constructor(params: readonly Tensor[] | readonly (FrugalGroupOptions & { params: readonly Tensor[] })[], options: FrugalOptions = {}) {
    super(params, options);
  }
}
