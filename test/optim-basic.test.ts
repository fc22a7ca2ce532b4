// AdamW, SGD (momentum, dampening, Nesterov, L2) and signSGD against hand-computed PyTorch
// updates over several steps, for fp32, bf16 and fp16 params and fp32 or bf16 state; state
// bytes against the memory accounting; options changed between steps; zeroGrad; clipping.
import { AdamW, memoryStats, SGD, SignSGD, Tensor } from '../lib';
import { adamwStep, AdamWRef, expectClose, roundTo, sgdStep, SGDRef, signSgdStep, ulp } from './helpers/update-rules';

const DTYPES = ['float32', 'bfloat16', 'float16'] as const;
type FloatDtype = (typeof DTYPES)[number];

// Params near 1 and lr large enough that each step moves a value by many ulps even in bf16.
function makeParams(dtype: FloatDtype): Tensor[] {
  return [
    Tensor.fromArray([0.5, -1.25, 2, 0.75, -0.5, 1.5], [2, 3], { dtype }),
    Tensor.fromArray([1, -2, 0.25, 3], [4], { dtype }),
  ];
}

// Gradients for step t, rounded to the param dtype exactly as the tensor will store them.
function gradsAt(t: number, dtype: FloatDtype): number[][] {
  const base = [
    [0.3, -0.7, 0.1, 0.9, -0.2, 0.05],
    [-0.4, 0.6, 0, 1.2],
  ];
  return base.map((g, i) => g.map((x, j) => roundTo(dtype, x * (1 + 0.3 * t) * (j % 2 ? -1 : 1) + 0.01 * i)));
}

function setGradValues(params: Tensor[], grads: number[][]): void {
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = Tensor.fromArray(grads[i], p.shape, { dtype: p.dtype });
  });
}

function tolerance(dtype: FloatDtype): { rel: number; abs: number } {
  // fp32: float32 vs float64 arithmetic; bf16/fp16: one storage ulp, since a value computed in
  // float32 and in float64 may round to neighbouring representable numbers.
  return dtype === 'float32' ? { rel: 1e-6, abs: 1e-6 } : { rel: 1.01 * ulp(dtype), abs: 1e-6 };
}

describe.each(DTYPES)('%s params', (dtype) => {
  const tol = tolerance(dtype);

  test.each([
    ['torch eps, decay', { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 }],
    ['hf eps mode', { lr: 0.1, betas: [0.8, 0.99], eps: 0.1, weightDecay: 0, epsMode: 'hf' }],
    ['large eps', { lr: 0.05, betas: [0.5, 0.9], eps: 0.5, weightDecay: 0.2 }],
  ] as [string, AdamWRef][])('AdamW (%s) matches torch.optim.AdamW over 5 steps', (_name, o) => {
    const params = makeParams(dtype);
    const opt = new AdamW(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, epsMode: o.epsMode ?? 'torch' });
    const ref = params.map((p) => Array.from(p.toArray()));
    const m = ref.map((p) => p.map(() => 0));
    const v = ref.map((p) => p.map(() => 0));
    for (let t = 1; t <= 5; t++) {
      const g = gradsAt(t, dtype);
      setGradValues(params, g);
      opt.step();
      ref.forEach((p, i) => adamwStep(p, g[i], m[i], v[i], t, o, dtype));
      params.forEach((p, i) => expectClose(p.toArray(), ref[i], tol.rel, tol.abs));
    }
    expect(opt.steps).toBe(5);
  });

  test('AdamW with bf16 state matches a reference that stores its moments in bf16', () => {
    const o: AdamWRef = { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, stateDtype: 'bfloat16' };
    const params = makeParams(dtype);
    const opt = new AdamW(params, { lr: o.lr, weightDecay: 0, stateDtype: 'bfloat16' });
    const ref = params.map((p) => Array.from(p.toArray()));
    const m = ref.map((p) => p.map(() => 0));
    const v = ref.map((p) => p.map(() => 0));
    for (let t = 1; t <= 4; t++) {
      const g = gradsAt(t, dtype);
      setGradValues(params, g);
      opt.step();
      ref.forEach((p, i) => adamwStep(p, g[i], m[i], v[i], t, o, dtype));
    }
    // A moment rounded differently moves the update by ~1% of itself (bf16 has 8 bits).
    params.forEach((p, i) => expectClose(p.toArray(), ref[i], Math.max(tol.rel, 4e-3), 4e-3));
    expect(opt.stateBytes()).toBe(10 * 2 * 2); // 10 elements, m and v, 2 bytes each
  });

  test.each([
    ['plain', { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 }],
    ['L2 decay, no momentum', { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.5 }],
    ['momentum', { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 }],
    ['momentum + dampening + L2', { lr: 0.05, momentum: 0.8, dampening: 0.3, nesterov: false, weightDecay: 0.1 }],
    ['nesterov + L2', { lr: 0.05, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.2 }],
  ] as [string, SGDRef][])('SGD (%s) matches torch.optim.SGD over 5 steps', (_name, o) => {
    const params = makeParams(dtype);
    const opt = new SGD(params, o);
    const ref = params.map((p) => Array.from(p.toArray()));
    let bufs: (number[] | null)[] = ref.map(() => null);
    for (let t = 1; t <= 5; t++) {
      const g = gradsAt(t, dtype);
      setGradValues(params, g);
      opt.step();
      bufs = ref.map((p, i) => sgdStep(p, g[i], bufs[i], o, dtype));
      params.forEach((p, i) => expectClose(p.toArray(), ref[i], tol.rel, tol.abs));
    }
    // torch keeps no state without momentum, one buffer with it.
    expect(opt.stateBytes()).toBe(o.momentum === 0 ? 0 : 10 * 4);
  });

  test('signSGD with decoupled decay matches p = p(1 - lr wd) - lr sign(g), sign(0) = 0', () => {
    const params = makeParams(dtype);
    const opt = new SignSGD(params, { lr: 0.125, weightDecay: 0.5 });
    const ref = params.map((p) => Array.from(p.toArray()));
    for (let t = 1; t <= 4; t++) {
      const g = gradsAt(t, dtype);
      setGradValues(params, g);
      opt.step();
      ref.forEach((p, i) => signSgdStep(p, g[i], 0.125, 0.5, dtype));
      params.forEach((p, i) => expectClose(p.toArray(), ref[i], tol.rel, tol.abs));
    }
    expect(opt.stateBytes()).toBe(0);
  });
});

describe('optimizer API', () => {
  test('stateBytes is what memoryStats counts as optimizer state, per param and in total', () => {
    const a = Tensor.zeros([16, 8]);
    const b = Tensor.zeros([5]);
    a.grad = Tensor.full([16, 8], 0.1);
    b.grad = Tensor.full([5], 0.1);
    const before = memoryStats('cpu').current.optimizerState;
    const opt = new AdamW([a, b]);
    opt.step();
    const after = memoryStats('cpu').current.optimizerState;
    expect(opt.stateBytes(a)).toBe(16 * 8 * 8);
    expect(opt.stateBytes(b)).toBe(5 * 8);
    expect(opt.stateBytes()).toBe(after - before);
    opt.dispose();
    expect(memoryStats('cpu').current.optimizerState).toBe(before);
    expect(() => opt.step()).toThrow(/optimizer: disposed/);
    expect(() => opt.stateBytes(Tensor.zeros([1]))).toThrow(/disposed/);
  });

  test('options changed between steps take effect (a schedule sets lr; lr 0 freezes)', () => {
    const p = Tensor.fromArray([1, 1], [2]);
    p.grad = Tensor.fromArray([1, -1], [2]);
    const opt = new SignSGD([p], { lr: 0.5 });
    opt.step();
    expect(Array.from(p.toArray())).toEqual([0.5, 1.5]);
    opt.paramGroups[0].lr = 0;
    opt.step();
    expect(Array.from(p.toArray())).toEqual([0.5, 1.5]);
    opt.paramGroups[0].lr = 0.25;
    opt.paramGroups[0].weightDecay = 2;
    opt.step(); // p * (1 - 0.5) -/+ 0.25
    expect(Array.from(p.toArray())).toEqual([0, 1]);
  });

  test('param groups keep their own options', () => {
    const a = Tensor.fromArray([1], [1]);
    const b = Tensor.fromArray([1], [1]);
    a.grad = Tensor.fromArray([1], [1]);
    b.grad = Tensor.fromArray([1], [1]);
    const opt = new SignSGD([{ params: [a], lr: 0.5 }, { params: [b] }], { lr: 0.25 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.5, 0.25]);
    opt.step();
    expect([a.toArray()[0], b.toArray()[0]]).toEqual([0.5, 0.75]);
  });

  test('zeroGrad fills gradients with zeros, or drops them', () => {
    const p = Tensor.zeros([3]);
    const g = Tensor.full([3], 2);
    p.grad = g;
    const opt = new SGD([p], { lr: 1 });
    opt.zeroGrad();
    expect(p.grad).toBe(g);
    expect(Array.from(g.toArray())).toEqual([0, 0, 0]);
    opt.zeroGrad({ setToNull: true });
    expect(p.grad).toBeNull();
  });

  test('a param without a gradient is skipped by step, decay included, as torch does', () => {
    const a = Tensor.fromArray([1, 2], [2]);
    const b = Tensor.fromArray([3, 4], [2]);
    a.grad = Tensor.fromArray([1, -1], [2]);
    const opt = new AdamW([a, b], { lr: 0.1, weightDecay: 0.5 });
    opt.step();
    expect(Array.from(b.toArray())).toEqual([3, 4]);
    expect(opt.stateBytes(b)).toBe(8 * 2);  // allocated at construction, untouched
    const a1 = Array.from(a.toArray());
    expect(a1[0]).toBeCloseTo(1 * (1 - 0.05) - 0.1, 6);
    b.grad = Tensor.fromArray([1, 1], [2]);
    a.grad = null;
    opt.step();
    expect(Array.from(a.toArray())).toEqual(a1);
    // b's first step: bias correction starts at its own first step.
    expect(b.toArray()[0]).toBeCloseTo(3 * (1 - 0.05) - 0.1, 6);
  });

  test('maxGradNorm clips the global gradient norm on the device', () => {
    const a = Tensor.zeros([2]);
    const b = Tensor.zeros([1]);
    a.grad = Tensor.fromArray([3, 0], [2]);
    b.grad = Tensor.fromArray([4], [1]); // global norm 5
    const opt = new SGD([a, b], { lr: 1, maxGradNorm: 1 });
    opt.step();
    const f = 1 / (5 + 1e-6);
    expectClose(a.toArray(), [-3 * f, 0], 1e-6);
    expectClose(b.toArray(), [-4 * f], 1e-6);
    opt.maxGradNorm = 0; // off
    opt.step();
    expectClose(b.toArray(), [-4 * f - 4], 1e-6);
  });

  test('stateDict round-trips through loadStateDict into another optimizer', () => {
    const make = () => [Tensor.fromArray([1, 2, 3, 4], [2, 2]), Tensor.fromArray([0.5], [1])];
    const p1 = make();
    const o1 = new AdamW(p1, { lr: 0.1, stateDtype: 'bfloat16' });
    for (let t = 1; t <= 3; t++) {
      setGradValues(p1, [[0.1 * t, -0.2, 0.3, 0.4 / t], [t]]);
      o1.step();
    }
    o1.paramGroups[0].lr = 0.05;
    const sd = o1.stateDict();
    expect(sd.step).toBe(3);
    expect(sd.params[0].state.map((s) => s.name)).toEqual(['exp_avg', 'exp_avg_sq']);
    expect(sd.params[0].state[0].data).toBeInstanceOf(Uint16Array);
    const p2 = make();
    const o2 = new AdamW(p2, { lr: 0.1, stateDtype: 'bfloat16' });
    o2.loadStateDict(sd);
    expect(o2.paramGroups[0].lr).toBe(0.05);
    expect(o2.steps).toBe(3);
    const again = o2.stateDict();
    expect(again.params).toEqual(sd.params);
    expect(again.groups).toEqual(sd.groups);
  });
});
