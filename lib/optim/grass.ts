// Grass: structured sparse projection. At each refresh the rows (or columns) of the gradient
// are ranked by norm and r of them chosen (top-r, or sampled by norm or uniformly, with or
// without replacement, with importance scales); Adam runs on the compressed gradient only and
// its update is scattered back times alpha (stateFullLrScale, 0.25). Unselected lines get no
// update but weight decay, unless a state-free rule is set. A caller may hand in the compressed
// gradient itself (param.compressedGrad, see grassInfo) instead of the full gradient; the update
// is then exactly the full gradient's, except under maxGradNorm, whose global norm can only count
// the compressed gradient it is given.
//
// Learning rates. The state-full (Adam) step is lr * alpha, alpha = stateFullLrScale. The core's
// state-free lr is lr * stateFullLrScale * stateFreeLrScale (as in FRUGAL's code), which in Grass
// would shrink a state-free rule by alpha too; Grass states its own rule instead: its
// stateFreeLrScale is relative to lr alone, state-free lr = lr * stateFreeLrScale, default 1 (the
// state-free step is lr, whatever alpha is). It reaches the core as stateFreeLrScale / alpha
// (alpha 0: no update at all, the core's product is 0 whatever the scale).
import { Tensor } from '../tensor';
import { Check, GroupOptions, MethodSpec, OptimizerOptions } from './options';
import { Optimizer } from './optimizer';

export type GrassGroupOptions = Pick<
  GroupOptions,
  | 'lr' | 'weightDecay' | 'betas' | 'eps' | 'biasCorrection' | 'epsMode' | 'stateDtype' | 'selection' | 'orientation'
  | 'rank' | 'density' | 'sampling' | 'replacement' | 'stateFullLrScale' | 'updateGap' | 'resetStatistics'
  | 'stateFree' | 'stateFreeLrScale' | 'seed' | 'projectable'
>;
export interface GrassOptions extends GrassGroupOptions {
  maxGradNorm?: number;
  nonFinite?: OptimizerOptions['nonFinite'];
}

const grassSelection: Check = {
  expected: "'grass' or a function returning {indices, scales}",
  ok: (v) => v === 'grass' || typeof v === 'function',
};

export class Grass extends Optimizer {
  static override readonly spec: MethodSpec = {
    name: 'Grass',
    accepts: [
      'lr', 'weightDecay', 'betas', 'eps', 'biasCorrection', 'epsMode', 'stateDtype', 'selection', 'orientation', 'rank',
      'density', 'sampling', 'replacement', 'stateFullLrScale', 'updateGap', 'resetStatistics', 'stateFree',
      'stateFreeLrScale', 'seed', 'projectable',
    ],
    defaults: {
      lr: 1e-3,
      weightDecay: 0,
      selection: 'grass',
      orientation: 'std',
      density: 0.25,
      rank: 0,
      sampling: 'top-r',
      replacement: false,
      stateFullLrScale: 0.25,
      updateGap: 200,
      resetStatistics: true,
      stateFree: 'none',
    },
    fixed: { stateFull: 'adamw', selectionKind: 'grass' },
    checks: { selection: grassSelection },
    adjust(n, o) {
      // See the header: Grass's state-free lr is lr * stateFreeLrScale, not lr * alpha * scale.
      n.state_free_lr_scale = o.stateFullLrScale > 0 ? o.stateFreeLrScale / o.stateFullLrScale : 0;
    },
  };

  constructor(params: readonly Tensor[] | readonly (GrassGroupOptions & { params: readonly Tensor[] })[], options: GrassOptions = {}) {
    super(params, options);
  }
}
