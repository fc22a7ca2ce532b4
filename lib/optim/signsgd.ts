// signSGD: p -= lr * sign(g) after decoupled decay; no state. Selection 'none' with the
// state-free sign rule.
import { Tensor } from '../tensor';
import { GroupOptions, MethodSpec, OptimizerOptions } from './options';
import { Optimizer } from './optimizer';

export type SignSGDGroupOptions = Pick<GroupOptions, 'lr' | 'weightDecay'>;
export interface SignSGDOptions extends SignSGDGroupOptions {
  maxGradNorm?: number;
  nonFinite?: OptimizerOptions['nonFinite'];
}

export class SignSGD extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'SignSGD',
    accepts: ['lr', 'weightDecay'],
    defaults: { lr: 1e-3, weightDecay: 0 },
    fixed: { selection: 'none', stateFree: 'signsgd' },
  };

  constructor(params: readonly Tensor[] | readonly (SignSGDGroupOptions & { params: readonly Tensor[] })[], options: SignSGDOptions = {}) {
    super(params, options);
  }
}
