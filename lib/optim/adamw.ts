// AdamW (torch.optim.AdamW semantics): decoupled decay p *= 1 - lr*wd first, then the
// bias-corrected Adam update on every element. Selection 'all' with the AdamW rule.
import { Tensor } from '../tensor';
import { GroupOptions, MethodSpec, OptimizerOptions } from './options';
import { Optimizer } from './optimizer';

export type AdamWGroupOptions = Pick<GroupOptions, 'lr' | 'weightDecay' | 'betas' | 'eps' | 'biasCorrection' | 'epsMode' | 'stateDtype'>;
export interface AdamWOptions extends AdamWGroupOptions {
  maxGradNorm?: number;
  nonFinite?: OptimizerOptions['nonFinite'];
}

export class AdamW extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'AdamW',
    accepts: ['lr', 'weightDecay', 'betas', 'eps', 'biasCorrection', 'epsMode', 'stateDtype'],
    // torch.optim.AdamW's defaults.
    defaults: { lr: 1e-3, weightDecay: 1e-2, betas: [0.9, 0.999], eps: 1e-8, biasCorrection: true, epsMode: 'torch', stateDtype: 'float32' },
    fixed: { selection: 'all', stateFull: 'adamw', stateFree: 'none' },
  };

  constructor(params: readonly Tensor[] | readonly (AdamWGroupOptions & { params: readonly Tensor[] })[], options: AdamWOptions = {}) {
    super(params, options);
  }
}
