// The CPU backend steps a tensor through a typed, vectorized loop when its param and gradient
// share a dtype and its state is fp32 (native/cpu/elementwise_cpu.h), and through the generic
// per-element loop otherwise, or everywhere under FRUGAL_CPU_GENERIC_LOOPS=1. Both must give
// the same bits: each run is made with the typed loops and again with the generic one, and the
// params and moments are compared bit for bit. A control shows the comparison can fail.
import { AdamW, Frugal, Grass, Optimizer, OptimizerOptions, SGD, SignSGD, Tensor } from '../lib';
import { DType } from '../lib/dtype';

const N = 100_003; // above the size where the CPU splits a tensor across threads, and odd
const MATRIX = [301, 337]; // about as many elements, as a matrix for the indexed selections
const STEPS = 4;

type Make = (p: Tensor) => Optimizer;
// [name, make, state tensors per param]
const OPTIMIZERS: [string, Make, number][] = [
  ['AdamW', (p) => new AdamW([p], { lr: 0.01, weightDecay: 0.1 }), 2],
  ['SGD momentum 0.9 nesterov, L2', (p) => new SGD([p], { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), 1],
  ['SGD without momentum', (p) => new SGD([p], { lr: 0.05, weightDecay: 0.01 }), 0],
  ['SGDM rule with momentum 0', (p) => new Optimizer([p], { lr: 0.05, selection: 'blocks', density: 1, stateFull: 'sgdm', momentum: 0 } as OptimizerOptions), -1],
  ['SignSGD', (p) => new SignSGD([p], { lr: 0.01, weightDecay: 0.1 }), 0],
];

function bits(a: Float32Array | Int32Array | Uint16Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

interface Run { p: Buffer; state: Buffer[] }

// STEPS steps of `make` on a param of `dtype`; `generic` selects the loop.
function run(make: Make, dtype: DType, generic: boolean, seed = 100, shape = [N]): Run {
  const p = Tensor.randn(shape, { seed: 3, dtype });
  const opt = make(p);
  try {
    if (generic) process.env.FRUGAL_CPU_GENERIC_LOOPS = '1';
    for (let t = 0; t < STEPS; t++) {
      const g32 = Tensor.randn(shape, { seed: seed + t });
      if (t === 0) g32.fill(0); // exact zeros: sign(0), 0 * anything
      const g = g32.cast(dtype);
      p.grad = g;
      opt.step();
      g.dispose();
      g32.dispose();
    }
  } finally {
    delete process.env.FRUGAL_CPU_GENERIC_LOOPS;
  }
  const state = opt.stateDict().params.flatMap((r) => r.state.map((s) => bits(s.data)));
  const out = { p: bits(p.toArray()), state };
  opt.dispose();
  p.dispose();
  return out;
}

function same(a: Run, b: Run): boolean {
  return a.p.equals(b.p) && a.state.length === b.state.length && a.state.every((s, i) => s.equals(b.state[i]));
}

describe.each(OPTIMIZERS)('CPU typed loop equals the generic loop: %s', (_name, make, stateCount) => {
  it.each(['float32', 'bfloat16', 'float16'] as const)('param %s', (dtype) => {
    const typed = run(make, dtype, false);
    const generic = run(make, dtype, true);
    if (stateCount >= 0) expect(typed.state.length).toBe(stateCount); // the moments are compared too
    expect(same(typed, generic)).toBe(true);
  });
});

// Indexed selections: the first pass (decay, state-free rule off the selected lines) has typed
// loops too, per axis; the second (Adam on the selected lines) walks columns row by row.
const INDEXED: [string, Make][] = [
  ['FRUGAL columns + signSGD', (p) => new Frugal([p], { lr: 0.01, weightDecay: 0.1, selection: 'columns', density: 0.25, updateGap: 2 })],
  ['FRUGAL rows + SGD', (p) => new Frugal([p], { lr: 0.01, weightDecay: 0.1, selection: 'rows', density: 0.25, stateFree: 'sgd', updateGap: 3 })],
  ['FRUGAL coordinates + signSGD', (p) => new Frugal([p], { lr: 0.01, weightDecay: 0.1, selection: 'coordinates', density: 0.25 })],
  ['Grass top-r columns, decay only', (p) => new Grass([p], { lr: 0.01, weightDecay: 0.1, orientation: 'columns', density: 0.25 } as OptimizerOptions)],
  ['Grass norm sampling with replacement', (p) => new Grass([p], { lr: 0.01, weightDecay: 0.1, sampling: 'norm', replacement: true, density: 0.5 } as OptimizerOptions)],
];

describe.each(INDEXED)('CPU typed indexed loops equal the generic ones: %s', (_name, make) => {
  it.each(['float32', 'bfloat16', 'float16'] as const)('param %s', (dtype) => {
    const typed = run(make, dtype, false, 100, MATRIX);
    const generic = run(make, dtype, true, 100, MATRIX);
    expect(typed.state.length).toBeGreaterThan(0);
    expect(same(typed, generic)).toBe(true);
  });
});

it('control: different gradients give different bits, so the comparison can fail', () => {
  const [, make] = OPTIMIZERS[0];
  expect(same(run(make, 'float32', false), run(make, 'float32', true, 200))).toBe(false);
});
