// Numerics and refused steps (issue 11, items 12, 18, 19):
// - a step that throws leaves every group as it was (params, state tensors, counters, RNGs);
// - the global gradient norm cannot overflow, and a NaN/Inf gradient follows the optimizer's
//   nonFinite policy ('propagate' | 'skip' | 'error');
// - an eps that underflows float32 (alone, or folded with the bias correction) is refused.
import { AdamW, Frugal, GaLore, Grass, Optimizer, SGD, Tensor } from '../lib';

const tensors: Tensor[] = [];
const optimizers: Optimizer[] = [];
afterEach(() => {
  for (const o of optimizers.splice(0)) if (!o.disposed) o.dispose();
  for (const t of tensors.splice(0)) {
    if (t.grad && !t.grad.disposed) t.grad.dispose();
    if (!t.disposed) t.dispose();
  }
});

function param(shape: number[], seed: number): Tensor {
  const t = Tensor.randn(shape, { seed });
  t.grad = Tensor.randn(shape, { seed: seed + 1000 });
  tensors.push(t);
  return t;
}
function keep<T extends Optimizer>(o: T): T {
  optimizers.push(o);
  return o;
}
function setGrad(t: Tensor, values: Float32Array | number[]): void {
  t.grad!.dispose();
  t.grad = Tensor.fromArray(Float32Array.from(values), t.shape);
}
function fresh(t: Tensor, seed: number): void {
  t.grad!.dispose();
  t.grad = Tensor.randn(t.shape, { seed });
}
function withNaN(t: Tensor, at = 3, bad = NaN): void {
  const g = Float32Array.from(t.grad!.toArray() as Float32Array);
  g[at] = bad;
  setGrad(t, g);
}
// Everything a step could change: every param's values, and the whole state dict (state tensors,
// per-param counters, group steps and RNG words, the step count and skipped-step count).
function snapshot(opt: Optimizer, params: Tensor[]): string {
  return JSON.stringify(
    { sd: opt.stateDict(), params: params.map((p) => Array.from(p.toArray() as Float32Array)), steps: opt.steps },
    (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>, String) : typeof v === 'bigint' ? String(v) : v),
  );
}

describe('a refused step leaves every group as it was (item 12)', () => {
  test('a NaN gradient at the SVD refresh of the last group, after SVD, columns and blocks groups', () => {
    const a = param([8, 12], 1), b = param([6, 10], 2), c = param([5, 4], 3), d = param([4, 4], 4), e = param([10, 6], 5);
    const all = [a, b, c, d, e];
    const opt = keep(new Frugal(
      [
        { params: [a], selection: 'svd' },
        { params: [b], selection: 'columns' },
        { params: [c, d], selection: 'blocks' },
        { params: [e], selection: 'svd', resetStatistics: false },
      ],
      { lr: 0.01, density: 0.5, updateGap: 2, stateFree: 'signsgd', weightDecay: 0.1 },
    ));
    opt.step();
    all.forEach((t, i) => fresh(t, 50 + i));
    opt.step();  // moments are nonzero now; the next step refreshes every group
    all.forEach((t, i) => fresh(t, 70 + i));
    withNaN(e);
    const before = snapshot(opt, all);
    expect(() => opt.step()).toThrow(/param 4: the gradient at this SVD refresh has non-finite values/);
    expect(snapshot(opt, all)).toBe(before);
    // and the optimizer goes on from where it was
    fresh(e, 99);
    opt.step();
    expect(opt.steps).toBe(3);
    expect(snapshot(opt, all)).not.toBe(before);
  });

  test('GaLore with two groups: a NaN in group 1 leaves group 0 un-refreshed', () => {
    const a = param([12, 8], 6), b = param([9, 7], 7);
    const opt = keep(new GaLore([{ params: [a] }, { params: [b], lr: 0.002 }], { lr: 0.01, rank: 3, updateGap: 1 }));
    opt.step();
    fresh(a, 11);
    fresh(b, 12);
    withNaN(b, 5, Infinity);
    const before = snapshot(opt, [a, b]);
    expect(() => opt.step()).toThrow(/non-finite/);
    expect(snapshot(opt, [a, b])).toBe(before);
  });

  test('Grass: an absurd draw count in group 1 is refused before group 0 re-selects', () => {
    const a = param([8, 16], 8), b = param([8, 16], 9);
    const opt = keep(new Grass(
      [{ params: [a] }, { params: [b], rank: 2 ** 31 - 1 }],
      { rank: 2, replacement: true, sampling: 'norm', orientation: 'rows', updateGap: 1, seed: 3 },
    ));
    const before = snapshot(opt, [a, b]);
    expect(() => opt.step()).toThrow(/rank: 2147483647 draws with replacement for 8 lines/);
    expect(snapshot(opt, [a, b])).toBe(before);
  });

  test('a caller-supplied selection out of range in group 1, after an SVD group and a rows group', () => {
    const a = param([8, 12], 10), b = param([6, 10], 11), c = param([6, 10], 12);
    let bad = false;
    const opt = keep(new Frugal(
      [
        { params: [a], selection: 'svd' },
        { params: [b], selection: 'rows' },
        { params: [c], selection: () => (bad ? [0, 99] : [0, 2]), selectionKind: 'columns' },
      ],
      { lr: 0.01, density: 0.5, updateGap: 1 },
    ));
    opt.step();
    [a, b, c].forEach((t, i) => fresh(t, 30 + i));
    bad = true;
    const before = snapshot(opt, [a, b, c]);
    expect(() => opt.step()).toThrow(/indices\[1\]: 99 is outside 0..9/);
    expect(snapshot(opt, [a, b, c])).toBe(before);
  });

  test("nonFinite 'error' names every param with a NaN or Inf gradient and changes nothing", () => {
    const a = param([8, 12], 13), b = param([6, 10], 14), c = param([7], 15);
    const opt = keep(new Frugal([{ params: [a, c], selection: 'svd' }, { params: [b], selection: 'columns' }],
      { lr: 0.01, density: 0.5, updateGap: 3, nonFinite: 'error' }));
    opt.step();
    fresh(a, 40);
    fresh(c, 41);
    withNaN(b, 2, -Infinity);
    withNaN(c, 1, NaN);
    const before = snapshot(opt, [a, b, c]);
    expect(() => opt.step()).toThrow(/nonfinite 'error': the gradient of param \d, param \d has non-finite values/);
    expect(snapshot(opt, [a, b, c])).toBe(before);
  });
});

describe('gradient-norm clipping without overflow (item 18)', () => {
  test('a gradient of 1e20 is clipped to maxGradNorm, not to zero', () => {
    const p = param([4], 20);
    p.fill(0);
    setGrad(p, [1e20, 0, 0, 0]);
    const opt = keep(new SGD([p], { lr: 0.5, maxGradNorm: 2 }));
    opt.step();
    expect(Array.from(p.toArray())).toEqual([-1, 0, 0, 0]);  // -lr * 2 * (1e20 / 1e20)
  });

  test('a norm above float32 range from elements each within it: 3e19 and 4e19 clip to 0.6 and 0.8', () => {
    const p = param([2], 21);
    p.fill(0);
    setGrad(p, [3e19, 4e19]);
    const opt = keep(new SGD([p], { lr: 1, maxGradNorm: 1 }));
    opt.step();
    const got = Array.from(p.toArray());
    expect(got[0]).toBeCloseTo(-0.6, 6);
    expect(got[1]).toBeCloseTo(-0.8, 6);
  });

  test("'propagate' (the default) lets an Inf gradient reach the params, as before", () => {
    const p = param([6], 22);
    withNaN(p, 0, Infinity);
    const opt = keep(new AdamW([p], { lr: 0.1, maxGradNorm: 1 }));
    opt.step();
    expect(Array.from(p.toArray()).some((x) => Number.isNaN(x))).toBe(true);
    expect(opt.skippedSteps()).toBe(0);
  });
});

describe("nonFinite 'skip' (item 18)", () => {
  test('AdamW: a NaN step is a no-op for params and moments, counted; step counters advance', () => {
    const p = param([5, 6], 23), q = param([7], 24);
    const opt = keep(new AdamW([p, q], { lr: 0.1, nonFinite: 'skip' }));
    opt.step();
    fresh(p, 60);
    withNaN(q, 2, NaN);
    const sd0 = opt.stateDict();
    const before = [Array.from(p.toArray()), Array.from(q.toArray())];
    opt.step();
    expect([Array.from(p.toArray()), Array.from(q.toArray())]).toEqual(before);
    const sd1 = opt.stateDict();
    sd1.params.forEach((s, i) => {
      s.state.forEach((t, j) => expect(Array.from(t.data as Float32Array)).toEqual(Array.from(sd0.params[i].state[j].data as Float32Array)));
      // documented: the host does not wait for the flag, so the counters count the step
      expect(s.counters.stateStep).toBe(sd0.params[i].counters.stateStep + 1);
    });
    expect(opt.skippedSteps()).toBe(1);
    expect(sd1.skippedSteps).toBe(1);
    fresh(q, 61);
    opt.step();
    expect(Array.from(q.toArray())).not.toEqual(before[1]);
    expect(opt.skippedSteps()).toBe(1);
  });

  test('with clipping on, an Inf gradient is skipped instead of turning params NaN', () => {
    const p = param([6], 25);
    withNaN(p, 0, Infinity);
    const opt = keep(new AdamW([p], { lr: 0.1, maxGradNorm: 1, nonFinite: 'skip' }));
    const before = Array.from(p.toArray());
    opt.step();
    expect(Array.from(p.toArray())).toEqual(before);
    expect(opt.skippedSteps()).toBe(1);
  });

  test('a refresh step with a NaN gradient changes nothing at all (no refresh, no counter) and is retried', () => {
    const a = param([8, 12], 26), b = param([6, 10], 27);
    const opt = keep(new Frugal([{ params: [a], selection: 'svd' }, { params: [b], selection: 'columns' }],
      { lr: 0.01, density: 0.5, updateGap: 2, nonFinite: 'skip', stateFree: 'sgd' }));
    withNaN(a, 7, NaN);
    // What may differ: the call counts (opt.steps, the dict's step) and the skipped count.
    const before = snapshot(opt, [a, b])
      .replace('"step":0,"maxGradNorm":0,"skippedSteps":0', '"step":1,"maxGradNorm":0,"skippedSteps":1')
      .replace(/"steps":0\}$/, '"steps":1}');
    opt.step();  // step 0 refreshes: skipped whole
    expect(snapshot(opt, [a, b])).toBe(before);
    fresh(a, 80);
    opt.step();  // the refresh happens now
    const sd = opt.stateDict();
    expect(sd.params[0].counters.stateStep).toBe(1);
    expect(sd.params[0].state.some((t) => t.name === 'basis' || t.count > 0)).toBe(true);
    expect(opt.skippedSteps()).toBe(1);
  });

  test('dense (GaLore) and indexed (Grass) steps between refreshes leave params and moments untouched', () => {
    for (const make of [
      (ps: Tensor[]) => new GaLore(ps, { lr: 0.01, rank: 2, updateGap: 10, nonFinite: 'skip', weightDecay: 0.1 }),
      (ps: Tensor[]) => new Grass(ps, { lr: 0.01, rank: 2, updateGap: 10, nonFinite: 'skip', weightDecay: 0.1 }),
    ]) {
      const a = param([8, 12], 28), b = param([9, 6], 29);
      const opt = keep(make([a, b]));
      opt.step();
      fresh(a, 90);
      withNaN(b, 4, NaN);
      const sd0 = opt.stateDict();
      const before = [Array.from(a.toArray()), Array.from(b.toArray())];
      opt.step();
      expect([Array.from(a.toArray()), Array.from(b.toArray())]).toEqual(before);
      const sd1 = opt.stateDict();
      sd1.params.forEach((s, i) =>
        s.state.forEach((t, j) => expect(Array.from(t.data as Float32Array)).toEqual(Array.from(sd0.params[i].state[j].data as Float32Array))),
      );
      expect(opt.skippedSteps()).toBe(1);
    }
  });

  test('the skipped count travels in the state dict; the policy can change between steps; a bad policy is refused', () => {
    const p = param([4], 30);
    withNaN(p, 1, NaN);
    const opt = keep(new AdamW([p], { nonFinite: 'skip' }));
    opt.step();
    opt.step();
    const sd = opt.stateDict();
    expect(sd.skippedSteps).toBe(2);
    const other = keep(new AdamW([p]));
    other.loadStateDict(sd);
    expect(other.skippedSteps()).toBe(2);
    expect(() => other.loadStateDict({ ...sd, skippedSteps: -1 })).toThrow(/skippedSteps must be an integer >= 0/);
    opt.nonFinite = 'error';
    expect(() => opt.step()).toThrow(/nonfinite 'error'/);
    opt.nonFinite = 'bogus' as never;
    expect(() => opt.step()).toThrow(/option 'nonFinite' must be one of 'propagate', 'skip', 'error'/);
    expect(() => new AdamW([p], { nonFinite: 'ignore' as never })).toThrow(/option 'nonFinite'/);
  });
});

describe('eps that underflows float32 (item 19)', () => {
  test('a nonzero eps below the smallest normal float32 is refused by name, with the smallest accepted value', () => {
    const p = param([4], 31);
    for (const eps of [1e-45, 1e-50, 1e-39]) {
      expect(() => new AdamW([p], { eps })).toThrow(/option 'eps' must be .*1\.1754944e-38/);
    }
  });

  test("eps that bias-correction folding ('torch' eps_mode) makes subnormal is refused; 'hf' keeps it", () => {
    const p = param([4], 32);
    setGrad(p, [0, 0, 0, 0]);
    // eps_hat = eps * sqrt(1 - 0.999) at step 1: 2e-38 * 0.0316 is subnormal
    expect(() => new AdamW([p], { eps: 2e-38 })).toThrow(/eps: 2e-38 becomes subnormal .*expected 0 or at least 3\.71\d*e-37/);
    const opt = keep(new AdamW([p], { eps: 2e-38, epsMode: 'hf', weightDecay: 0 }));
    const before = Array.from(p.toArray());
    opt.step();
    expect(Array.from(p.toArray())).toEqual(before);  // zero gradient, zero update: no NaN
    // and changing eps between steps is checked the same way
    opt.paramGroups[0].eps = 1e-40;
    expect(() => opt.step()).toThrow(/eps/);
  });

  test('the smallest accepted eps gives a zero update (not NaN) for a zero gradient', () => {
    const p = param([4], 33);
    setGrad(p, [0, 0, 0, 0]);
    const opt = keep(new AdamW([p], { eps: 3.7173e-37, weightDecay: 0 }));
    const before = Array.from(p.toArray());
    opt.step();
    opt.step();
    expect(Array.from(p.toArray())).toEqual(before);
  });

  test('eps = 0 is accepted, as in torch: a gradient that has always been zero gives 0 / 0 = NaN (documented)', () => {
    const p = param([2], 34);
    setGrad(p, [0, 1]);
    const opt = keep(new AdamW([p], { eps: 0, weightDecay: 0 }));
    opt.step();
    const got = Array.from(p.toArray());
    expect(Number.isNaN(got[0])).toBe(true);
    expect(Number.isFinite(got[1])).toBe(true);
  });
});
