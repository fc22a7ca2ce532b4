// Behaviours that no other test pinned down, each found by a hand-written mutation that survived
// the suite (test/mutations/native.json, scripts/mutate-native.js): the regular part's lr,
// round-half-even counts, the state-free lr scale, the refresh schedule, decay on the indexed and
// dense paths, resetStatistics on a kept block or a new projection, GaLore's side, Grass's
// unbiasing scale. Every expectation is computed here from the definitions, not read back from
// the implementation.
import { AdamW, Frugal, GaLore, Grass, Optimizer, OptimizerOptions, SignSGD, Tensor } from '../lib';
import { native } from '../lib/native';
import { adamwStep, expectClose } from './helpers/update-rules';

type Opt = Optimizer;
const f32 = Math.fround;

function grad(shape: readonly number[], seed: number): Tensor {
  return Tensor.randn([...shape], { seed });
}

function stepWith(opt: Opt, params: Tensor[], seed: number): void {
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = grad(p.shape, seed * 100 + i);
  });
  opt.step();
}

function state(opt: Opt, param: number, name: string): Float32Array {
  const s = opt.stateDict().params[param].state.find((t) => t.name === name);
  if (!s) throw new Error(`param ${param} has no ${name}`);
  return s.data as Float32Array;
}

const hasMoments = (opt: Opt, param: number) => opt.stateDict().params[param].state.some((t) => t.name === 'exp_avg' && t.count > 0);

describe('the regular part of a projected group trains at the group lr, unscaled', () => {
  it.each([
    ['GaLore (stateFullLrScale 0.25)', (ps: Tensor[]) => new GaLore(ps, { lr: 0.01, rank: 2, updateGap: 10 })],
    ['Grass', (ps: Tensor[]) => new Grass(ps, { lr: 0.01, rank: 2, updateGap: 10 } as OptimizerOptions)],
  ])('%s: a 1-D param follows AdamW at lr exactly', (_name, make) => {
    const matrix = Tensor.randn([8, 6], { seed: 1 });
    const vector = Tensor.randn([6], { seed: 2 });
    const opt = make([matrix, vector]);
    const ref = Array.from(vector.toArray());
    const m = ref.map(() => 0);
    const v = ref.map(() => 0);
    for (let t = 1; t <= 3; t++) {
      stepWith(opt, [matrix, vector], t);
      const g = Array.from(vector.grad!.toArray());
      adamwStep(ref, g, m, v, t, { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, 'float32');
    }
    // At lr x 0.25 the param would be 4x closer to where it started.
    expectClose(vector.toArray(), ref, 1e-6, 1e-7);
  });
});

describe('counts round half to even (round_half_even)', () => {
  it.each([
    [10, 0.25, 2], // 2.5 -> 2, where half-up gives 3
    [10, 0.35, 4], // 3.5 -> 4
    [6, 0.25, 2], // 1.5 -> 2
  ])('%i blocks at density %f: %i state-full', (n, density, active) => {
    const params = Array.from({ length: n }, (_, i) => Tensor.randn([2, 3], { seed: i }));
    const opt = new Frugal(params, { lr: 0.01, selection: 'blocks', density, updateGap: 5 } as OptimizerOptions);
    stepWith(opt, params, 1);
    expect(params.filter((_p, i) => hasMoments(opt, i)).length).toBe(active);
  });

  it('GaLore rank from density on a side of 10: 0.25 gives 2', () => {
    const p = Tensor.randn([10, 12], { seed: 3 });
    const opt = new GaLore([p], { lr: 0.01, density: 0.25, updateGap: 5 });
    stepWith(opt, [p], 1);
    // std side on 10 x 12 (rows < cols): left, moments rank x cols = 2 x 12.
    expect(state(opt, 0, 'exp_avg').length).toBe(2 * 12);
  });
});

describe('the state-free part', () => {
  it('steps at lr x stateFullLrScale x stateFreeLrScale, sign(g), outside the selection', () => {
    const params = [Tensor.randn([2, 3], { seed: 1 }), Tensor.randn([2, 3], { seed: 2 })];
    const before = params.map((p) => Array.from(p.toArray()));
    const opt = new Frugal(params, { lr: 0.1, selection: 'blocks', density: 0.5, updateGap: 5, stateFree: 'signsgd', stateFullLrScale: 0.5, stateFreeLrScale: 0.25, blockOrder: 'descending' } as OptimizerOptions);
    stepWith(opt, params, 1);
    // Descending order: the last block is state-full, the first state-free.
    expect(hasMoments(opt, 0)).toBe(false);
    const g = Array.from(params[0].grad!.toArray());
    const lrFree = f32(0.1 * 0.5 * 0.25);
    expectClose(params[0].toArray(), before[0].map((x, i) => f32(x - lrFree * Math.sign(g[i]))), 1e-7, 1e-8);
  });
});

describe('the refresh schedule', () => {
  it('selects at steps 0, updateGap, 2 updateGap: the active block changes after step updateGap', () => {
    const params = [1, 2, 3].map((seed) => Tensor.randn([2, 2], { seed }));
    const opt = new Frugal(params, { lr: 0.01, selection: 'blocks', density: 1 / 3, updateGap: 3, blockOrder: 'descending' } as OptimizerOptions);
    const active: number[] = [];
    for (let t = 0; t < 7; t++) {
      stepWith(opt, params, t + 1);
      active.push([0, 1, 2].find((i) => hasMoments(opt, i))!);
    }
    expect(active).toEqual([2, 2, 2, 1, 1, 1, 0]);
  });
});

describe('decoupled weight decay on every selection path', () => {
  // Zero gradients: Adam's direction is 0 / (0 + eps) = 0, so each param only decays, by the
  // fp32 factor 1 - lr wd (computed in double from the fp32 options).
  const lr = 0.05;
  const wd = 0.2;
  const decay = f32(1 - f32(lr) * f32(wd));
  it.each([
    ['FRUGAL columns (indexed)', (ps: Tensor[]) => new Frugal(ps, { lr, weightDecay: wd, selection: 'columns', density: 0.5 })],
    ['Grass (indexed)', (ps: Tensor[]) => new Grass(ps, { lr, weightDecay: wd, rank: 2 } as OptimizerOptions)],
    ['GaLore random basis (dense)', (ps: Tensor[]) => new GaLore(ps, { lr, weightDecay: wd, rank: 2, selection: 'random' })],
  ])('%s', (_name, make) => {
    const p = Tensor.randn([6, 8], { seed: 4 });
    const start = Array.from(p.toArray());
    const opt = make([p]);
    for (let t = 0; t < 2; t++) {
      p.grad?.dispose();
      p.grad = Tensor.zeros([6, 8]);
      opt.step();
    }
    expectClose(p.toArray(), start.map((x) => f32(f32(x * decay) * decay)), 1e-7, 0);
  });
});

describe('resetStatistics', () => {
  // With a reset at a refresh, the moments after that step depend on that step's gradient only:
  // they equal a fresh optimizer's after one step with the same gradient. Without (the control)
  // they carry the earlier steps.
  function momentsAfterRefresh(make: (ps: Tensor[]) => Opt, shape: number[]): { carried: Float32Array; fresh: Float32Array } {
    const a = Tensor.randn(shape, { seed: 9 });
    const optA = make([a]);
    for (const seed of [1, 2, 3]) stepWith(optA, [a], seed); // updateGap 2: refresh at step 2 (seed 3)
    const b = Tensor.randn(shape, { seed: 9 });
    const optB = make([b]);
    stepWith(optB, [b], 3);
    return { carried: state(optA, 0, 'exp_avg'), fresh: state(optB, 0, 'exp_avg') };
  }

  it.each([
    ['a new projection (GaLore SVD)', (reset: boolean) => (ps: Tensor[]) => new GaLore(ps, { lr: 0.01, rank: 2, updateGap: 2, resetStatistics: reset }), [6, 8]],
  ] as const)('%s: reset on a refresh, kept without', (_name, make, shape) => {
    const reset = momentsAfterRefresh(make(true), [...shape]);
    expectClose(reset.carried, reset.fresh, 1e-6, 1e-9);
    const kept = momentsAfterRefresh(make(false), [...shape]);
    let worst = 0;
    kept.carried.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - kept.fresh[i]))));
    expect(worst).toBeGreaterThan(1e-3);
  });
});

describe('blocks reset at every refresh', () => {
  // The FRUGAL authors' BlockOptimizer clears every block's state at each refresh and starts the
  // chosen ones afresh, whatever reset_statistics says: so do we, even for a block that stays.
  it.each([true, false])('a block that stays state-full (density 1), resetStatistics %s', (reset) => {
    const make = (ps: Tensor[]) => new Frugal(ps, { lr: 0.01, selection: 'blocks', density: 1, updateGap: 2, resetStatistics: reset } as OptimizerOptions);
    const a = Tensor.randn([3, 4], { seed: 9 });
    const optA = make([a]);
    for (const seed of [1, 2, 3]) stepWith(optA, [a], seed); // refresh at step 2 (seed 3)
    const b = Tensor.randn([3, 4], { seed: 9 });
    const optB = make([b]);
    stepWith(optB, [b], 3);
    expectClose(state(optA, 0, 'exp_avg'), state(optB, 0, 'exp_avg'), 1e-6, 1e-9);
  });
});

describe('GaLore side', () => {
  it.each([
    [[6, 10], 'std', 2 * 10], // rows < cols: left, P^T G is rank x cols
    [[10, 6], 'std', 10 * 2], // rows >= cols: right, G P is rows x rank
    [[6, 10], 'reverse_std', 6 * 2],
    [[6, 10], 'right', 6 * 2],
    [[10, 6], 'left', 2 * 6],
  ] as const)('%j side %s: moments of %i elements', (shape, side, elems) => {
    const p = Tensor.randn([...shape], { seed: 5 });
    const opt = new GaLore([p], { lr: 0.01, rank: 2, side, updateGap: 5 });
    stepWith(opt, [p], 1);
    expect(state(opt, 0, 'exp_avg').length).toBe(elems);
  });
});

describe('Grass uniform sampling with replacement', () => {
  it('scales each sampled line by sqrt(n / r) (unbiased: E[P P^T G] = G)', () => {
    const p = Tensor.randn([16, 8], { seed: 6 });
    const opt = new Grass([p], { lr: 0.01, rank: 4, sampling: 'uniform', replacement: true, orientation: 'rows' } as OptimizerOptions);
    stepWith(opt, [p], 1);
    const scales = Array.from(state(opt, 0, 'scales'));
    expect(scales.length).toBe(4);
    expectClose(scales, scales.map(() => Math.sqrt(16 / 4)), 1e-7);
  });
});

it('control: AdamW on the same tensors is a different trajectory from lr x 0.25', () => {
  // Guards the first test's premise: the scale changes the result by far more than its tolerance.
  const run = (lr: number) => {
    const p = Tensor.randn([6], { seed: 2 });
    const opt = new AdamW([p], { lr });
    for (let t = 1; t <= 3; t++) stepWith(opt, [p], t);
    return Array.from(p.toArray());
  };
  const [a, b] = [run(0.01), run(0.0025)];
  expect(Math.max(...a.map((x, i) => Math.abs(x - b[i])))).toBeGreaterThan(1e-3);
});

describe('the core itself keeps regular params of a projected group unscaled', () => {
  // Through the C API a 1-D param can sit in a group whose selection is a projection: the core
  // gives it plain AdamW at the group lr (optimizer_step.cpp), not lr x state_full_lr_scale.
  it('a 1-D param in an SVD group with state_full_lr_scale 0.25 follows AdamW at lr', () => {
    const n = native();
    const opt = new n.NativeOptimizer(-1);
    const g = opt.addGroup({ ...n.groupOptionsDefault(), lr: 0.01, selection: 6, state_full_lr_scale: 0.25, density: 0.25 });
    const p = Tensor.randn([6], { seed: 2 });
    const grad = Tensor.zeros([6]);
    opt.addParam(g, { data: p.dataPtr, dtype: 0, grad: grad.dataPtr, gradDtype: 0, shape: [6] });
    const ref = Array.from(p.toArray());
    const m = ref.map(() => 0);
    const v = ref.map(() => 0);
    for (let t = 1; t <= 3; t++) {
      const gt = Tensor.randn([6], { seed: 40 + t });
      grad.copyFrom(gt);
      opt.step(null);
      adamwStep(ref, Array.from(gt.toArray()), m, v, t, { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, 'float32');
    }
    expectClose(p.toArray(), ref, 1e-6, 1e-7);
    opt.destroy();
  });
});

describe('sign(0) = 0', () => {
  it.each(['float32', 'bfloat16'] as const)('signSGD leaves a %s param whose gradient is exactly +0 or -0 where it is', (dtype) => {
    const start = [0.5, -1.25, 2, 0.75];
    const p = Tensor.fromArray(start, [4], { dtype });
    p.grad = Tensor.fromArray([0, -0, 1, -1], [4], { dtype });
    new SignSGD([p], { lr: 0.125 }).step();
    expect(Array.from(p.toArray())).toEqual([0.5, -1.25, 2 - 0.125, 0.75 + 0.125]);
  });
});
