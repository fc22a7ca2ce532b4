// GaLore: AdamW in the span of the gradient's top singular vectors, re-computed every updateGap
// steps, moments kept across subspace changes, the update scaled by stateFullLrScale (0.25), and
// nothing applied outside the subspace (stateFree 'none'; any state-free rule may be set).
import { Tensor } from '../tensor';
import { GroupOptions, MethodSpec, oneOf, OptimizerOptions } from './options';
import { Optimizer } from './optimizer';

export type GaLoreGroupOptions = Pick<
  GroupOptions,
  | 'lr' | 'weightDecay' | 'betas' | 'eps' | 'biasCorrection' | 'epsMode' | 'stateDtype' | 'selection' | 'density'
  | 'rank' | 'updateGap' | 'side' | 'randomizedSvd' | 'stateFullLrScale' | 'resetStatistics' | 'stateFree'
  | 'stateFreeLrScale' | 'seed' | 'projectable'
>;
export interface GaLoreOptions extends GaLoreGroupOptions {
  maxGradNorm?: number;
  nonFinite?: OptimizerOptions['nonFinite'];
}

export class GaLore extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'GaLore',
    accepts: [
      'lr', 'weightDecay', 'betas', 'eps', 'biasCorrection', 'epsMode', 'stateDtype', 'selection', 'density', 'rank',
      'updateGap', 'side', 'randomizedSvd', 'stateFullLrScale', 'resetStatistics', 'stateFree', 'stateFreeLrScale',
      'seed', 'projectable',
    ],
    defaults: {
      lr: 1e-3,
      weightDecay: 0,
      selection: 'svd',
      density: 0.25,
      updateGap: 200,
      side: 'std',
      stateFullLrScale: 0.25,
      resetStatistics: false,
      stateFree: 'none',
    },
    fixed: { stateFull: 'adamw' },
    checks: { selection: oneOf('svd', 'random', 'randperm') },
  };

  constructor(params: readonly Tensor[] | readonly (GaLoreGroupOptions & { params: readonly Tensor[] })[], options: GaLoreOptions = {}) {
    super(params, options);
  }
}
