// The runs test/cpu-loops.test.ts compares between the typed and the generic CPU loops. Run by
// test/helpers/cpu-loops-child.ts in a child process, once with FRUGAL_CPU_GENERIC_LOOPS=1 and
// once without; each case reports a digest of its final params and state bytes and how many
// dispatches took each path (the addon's _debugPaths()).
import { createHash } from 'crypto';
import { AdamW, Frugal, Grass, Lion, Optimizer, OptimizerOptions, SGD, SignSGD, Tensor } from '../../lib';
import { DType } from '../../lib/dtype';
import { native, NativeDebugPaths } from '../../lib/native';

const N = 100_003; // above the size where the CPU splits a tensor across threads, and odd
const MATRIX = [301, 337]; // about as many elements, as a matrix for the indexed selections
const STEPS = 4;
export const DTYPES = ['float32', 'bfloat16', 'float16'] as const;

type Make = (p: Tensor) => Optimizer;
export interface LoopCase {
  name: string;
  make: Make;
  shape: number[];
  indexed: boolean;
  /** State tensors per param when known (checked so the moments are compared too). */
  stateCount: number;
  /** No typed loop exists for this case (bf16 state): a control, not a typed-vs-generic pair. */
  genericOnly?: boolean;
}

const elementwise = (name: string, make: Make, stateCount: number): LoopCase => ({ name, make, shape: [N], indexed: false, stateCount });
const indexed = (name: string, make: Make): LoopCase => ({ name, make, shape: MATRIX, indexed: true, stateCount: -1 });

export const CASES: LoopCase[] = [
  elementwise('AdamW', (p) => new AdamW([p], { lr: 0.01, weightDecay: 0.1 }), 2),
  { ...elementwise('AdamW, bf16 state', (p) => new AdamW([p], { lr: 0.01, weightDecay: 0.1, stateDtype: 'bfloat16' } as OptimizerOptions), 2), genericOnly: true },
  elementwise('SGD momentum 0.9 nesterov, L2', (p) => new SGD([p], { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), 1),
  elementwise('SGD without momentum', (p) => new SGD([p], { lr: 0.05, weightDecay: 0.01 }), 0),
  elementwise('SGDM rule with momentum 0', (p) => new Optimizer([p], { lr: 0.05, selection: 'blocks', density: 1, stateFull: 'sgdm', momentum: 0 } as OptimizerOptions), -1),
  elementwise('SignSGD', (p) => new SignSGD([p], { lr: 0.01, weightDecay: 0.1 }), 0),
  elementwise('Lion', (p) => new Lion([p], { lr: 0.01, weightDecay: 0.1 }), 1),
  indexed('FRUGAL columns + signSGD', (p) => new Frugal([p], { lr: 0.01, weightDecay: 0.1, selection: 'columns', density: 0.25, updateGap: 2 })),
  indexed('FRUGAL rows + SGD', (p) => new Frugal([p], { lr: 0.01, weightDecay: 0.1, selection: 'rows', density: 0.25, stateFree: 'sgd', updateGap: 3 })),
  indexed('FRUGAL coordinates + signSGD', (p) => new Frugal([p], { lr: 0.01, weightDecay: 0.1, selection: 'coordinates', density: 0.25 })),
  indexed('FRUGAL columns, Lion + SGD', (p) => new Frugal([p], { lr: 0.01, weightDecay: 0.1, selection: 'columns', density: 0.25, stateFull: 'lion', stateFree: 'sgd', updateGap: 2 })),
  indexed('Grass top-r columns, decay only', (p) => new Grass([p], { lr: 0.01, weightDecay: 0.1, orientation: 'columns', density: 0.25 } as OptimizerOptions)),
  indexed('Grass norm sampling with replacement', (p) => new Grass([p], { lr: 0.01, weightDecay: 0.1, sampling: 'norm', replacement: true, density: 0.5 } as OptimizerOptions)),
];

export interface CaseResult {
  digest: string;
  stateCount: number;
  counts: NativeDebugPaths['counts'];
}

/** STEPS steps of `c` on a param of `dtype`; gradients from `seed`. */
export function runCase(c: LoopCase, dtype: DType, seed = 100): CaseResult {
  const addon = native();
  addon._debugResetPaths();
  const p = Tensor.randn(c.shape, { seed: 3, dtype });
  const opt = c.make(p);
  for (let t = 0; t < STEPS; t++) {
    const g32 = Tensor.randn(c.shape, { seed: seed + t });
    if (t === 0) g32.fill(0); // exact zeros: sign(0), 0 * anything
    const g = g32.cast(dtype);
    p.grad = g;
    opt.step();
    g.dispose();
    g32.dispose();
  }
  const hash = createHash('sha256');
  const bytes = (a: ArrayBufferView) => hash.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  bytes(p.toArray());
  const state = opt.stateDict().params.flatMap((r) => r.state);
  for (const s of state) bytes(s.data);
  const counts = addon._debugPaths().counts;
  opt.dispose();
  p.dispose();
  return { digest: hash.digest('hex'), stateCount: state.length, counts };
}
