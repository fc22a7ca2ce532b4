// SGD with momentum, dampening and Nesterov (torch.optim.SGD semantics): weight decay is L2,
// added to the gradient (the core's l2 field), not decoupled. Without momentum there is no
// state: the params go to the state-free SGD rule instead of a momentum buffer.
import { Tensor } from '../tensor';
import { GroupOptions, MethodSpec, OptimizerOptions } from './options';
import { Optimizer } from './optimizer';

export type SGDGroupOptions = Pick<GroupOptions, 'lr' | 'momentum' | 'dampening' | 'nesterov' | 'weightDecay' | 'stateDtype'>;
export interface SGDOptions extends SGDGroupOptions {
  maxGradNorm?: number;
  nonFinite?: OptimizerOptions['nonFinite'];
}

export class SGD extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'SGD',
    accepts: ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'stateDtype'],
    defaults: { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, stateDtype: 'float32' },
    fixed: { selection: 'all', stateFull: 'sgdm', stateFree: 'none' },
    adjust(n, o) {
      n.l2 = o.weightDecay;
      n.weight_decay = 0;
      if (o.momentum === 0) {
        n.selection = 1; // none: every element takes the state-free rule
        n.state_free = 4; // sgd
      }
    },
    layout: (o) => ({ momentum: o.momentum === 0 ? 'zero' : 'non-zero' }),
  };

  constructor(params: readonly Tensor[] | readonly (SGDGroupOptions & { params: readonly Tensor[] })[], options: SGDOptions = {}) {
    super(params, options);
  }
}
