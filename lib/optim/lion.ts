// Lion (Chen et al. 2023, arXiv 2302.06675; lucidrains' lion-pytorch semantics): decoupled decay
// p *= 1 - lr*wd first (as AdamW), then p -= lr * sign(b1 m + (1 - b1) g) and m = b2 m + (1 - b2) g;
// one moment per element (state 'exp_avg'). Selection 'all' with the Lion rule. Defaults are the
// paper's: betas (0.9, 0.99), lr 1e-4, no decay.
import { Tensor } from '../tensor';
import { GroupOptions, MethodSpec, OptimizerOptions } from './options';
import { Optimizer } from './optimizer';

export type LionGroupOptions = Pick<GroupOptions, 'lr' | 'weightDecay' | 'betas' | 'stateDtype'>;
export interface LionOptions extends LionGroupOptions {
  maxGradNorm?: number;
  nonFinite?: OptimizerOptions['nonFinite'];
}

export class Lion extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'Lion',
    accepts: ['lr', 'weightDecay', 'betas', 'stateDtype'],
    defaults: { lr: 1e-4, weightDecay: 0, betas: [0.9, 0.99], stateDtype: 'float32' },
    fixed: { selection: 'all', stateFull: 'lion', stateFree: 'none' },
  };

  constructor(params: readonly Tensor[] | readonly (LionGroupOptions & { params: readonly Tensor[] })[], options: LionOptions = {}) {
    super(params, options);
  }
}
