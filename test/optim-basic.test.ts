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

  test('AdamW with bf16 state stores bf16 moments, and each step follows from the stored ones (decay included)', () => {
    // Checked one step at a time from what the optimizer stored: the moments read back must be
    // bf16 values within one bf16 ulp of b * stored + (1 - b) * g, and the param must follow
    // from the previous param and those moments at the param dtype's own tolerance (1e-6 for
    // fp32 params, where bf16 moments move an update by ~0.4%). The step uses its moments before
    // they are rounded for storage (native/math/update_rules.h), so that is what is replayed.
    const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.999, 1e-8, 0.1];
    const params = makeParams(dtype);
    const opt = new AdamW(params, { lr, betas: [b1, b2], eps, weightDecay: wd, stateDtype: 'bfloat16' });
    const bf16ToFloat = (bits: number) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0];
    const moments = () =>
      opt.stateDict().params.map((r) => {
        const byName = Object.fromEntries(r.state.map((st) => [st.name, st]));
        for (const name of ['exp_avg', 'exp_avg_sq']) expect(byName[name].dtype).toBe('bfloat16');
        return { m: Array.from(byName.exp_avg.data as Uint16Array, bf16ToFloat), v: Array.from(byName.exp_avg_sq.data as Uint16Array, bf16ToFloat) };
      });
    let prev = params.map((p) => ({ p: Array.from(p.toArray()), m: new Array<number>(p.numel).fill(0), v: new Array<number>(p.numel).fill(0) }));
    let roundedAway = 0;
    for (let t = 1; t <= 4; t++) {
      const g = gradsAt(t, dtype);
      setGradValues(params, g);
      opt.step();
      const stored = moments();
      const [bc1, bc2] = [1 - b1 ** t, 1 - b2 ** t];
      prev.forEach((was, i) => {
        const m = was.m.map((x, j) => b1 * x + (1 - b1) * g[i][j]);
        const v = was.v.map((x, j) => b2 * x + (1 - b2) * g[i][j] * g[i][j]);
        expectClose(stored[i].m, m, 1.01 * ulp('bfloat16'), 1e-30);
        expectClose(stored[i].v, v, 1.01 * ulp('bfloat16'), 1e-30);
        roundedAway += m.filter((x, j) => Math.abs(x - stored[i].m[j]) > 1e-6 * Math.abs(x)).length;
        const want = was.p.map((x, j) => roundTo(dtype, x * (1 - lr * wd) - ((lr * Math.sqrt(bc2)) / bc1) * (m[j] / (Math.sqrt(v[j]) + eps * Math.sqrt(bc2)))));
        // abs 2e-6: fp32 rounding of m near cancellation, 1e-5 of lr; a bf16 ulp of m is ~4e-4.
        expectClose(params[i].toArray(), want, dtype === 'float32' ? 1e-6 : tol.rel, 2e-6);
      });
      prev = params.map((p, i) => ({ p: Array.from(p.toArray()), m: [...stored[i].m], v: [...stored[i].v] }));
    }
    // Control: storage in bf16 really rounded moments (fp32 moments would have kept them).
    expect(roundedAway).toBeGreaterThan(10);
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
