// Exactness in every option (issue 11, items 1-7): the rank of dense bases on every side, density 0,
// bf16 rounding once per step, per-slot step counters without resets, BAdam's random cycle, Grass's
// state-free lr, and an fp32 compressed gradient for bf16 params. CPU only: these are properties of
// the core's bookkeeping and of the shared math, which the kernel simulator holds the CUDA side to.
import { BAdam, Frugal, Grass, Optimizer, OptimizerOptions, Tensor } from '../lib';
import { paramState } from '../lib/plan/core-allocation';
import { planOptimizerState } from '../lib/plan/optimizer-state';
import { groupOptions as groupPlanOptions } from '../lib/plan/group-options';

function counters(opt: Optimizer, i = 0) {
  return opt.stateDict().params[i].counters;
}

function run(shape: number[], options: OptimizerOptions, steps: number, dtype: 'float32' | 'bfloat16' = 'float32') {
  const p = Tensor.randn(shape, { seed: 3, dtype });
  p.grad = Tensor.zeros(shape, { dtype });
  const opt = new Optimizer([p], options);
  for (let t = 0; t < steps; t++) {
    const g = Tensor.randn(shape, { seed: 100 + t, dtype });
    p.grad.copyFrom(g);
    g.dispose();
    opt.step();
  }
  return { p, opt };
}

describe('1. dense bases take their rank from the projected side', () => {
  // [10, 4] at density 0.3: left round(10 * 0.3) = 3, right round(4 * 0.3) = 1; [4, 10] mirrored.
  const cases: [number[], string, number][] = [
    [[10, 4], 'std', 1], // right (m >= n): round(4 * 0.3)
    [[10, 4], 'reverse_std', 3], // left: round(10 * 0.3)
    [[10, 4], 'left', 3],
    [[10, 4], 'right', 1],
    [[4, 10], 'std', 1], // left (m < n): round(4 * 0.3)
    [[4, 10], 'reverse_std', 3], // right: round(10 * 0.3)
    [[4, 10], 'left', 1],
    [[4, 10], 'right', 3],
    [[20, 4], 'left', 4], // round(20 * 0.3) = 6, capped at min(m, n) = 4
  ];
  for (const selection of ['svd', 'random', 'randperm'] as const) {
    test.each(cases)(`${selection} %j side %s: rank %d`, (shape, side, rank) => {
      const options = { selection, side, density: 0.3, lr: 0.01 } as OptimizerOptions;
      const { p, opt } = run(shape, options, 1);
      expect(counters(opt).selectionCount).toBe(rank);
      const left = side === 'left' || (side === 'std' ? shape[0] < shape[1] : side === 'reverse_std' && shape[0] >= shape[1]);
      const sideLen = left ? shape[0] : shape[1];
      const other = left ? shape[1] : shape[0];
      expect(opt.stateBytes(p)).toBe(sideLen * rank * 4 + 2 * rank * other * 4);
      // The planner mirrors it.
      expect(paramState(shape, groupPlanOptions({ selection, side: side as never, density: 0.3 })).total).toBe(opt.stateBytes(p));
      opt.dispose();
    });
  }
  test.each([[2, 2], [99, 4]])('rank %d overrides density on every side (capped at min(m, n): %d)', (rank, want) => {
    for (const side of ['std', 'reverse_std', 'left', 'right'] as const) {
      const { opt } = run([10, 4], { selection: 'random', side, rank, density: 0.3 }, 1);
      expect(counters(opt).selectionCount).toBe(want);
      opt.dispose();
    }
  });
});

describe('2. density 0: every projectable param gets only the state-free rule, no state', () => {
  const base: OptimizerOptions = { lr: 0.01, weightDecay: 0.1, stateFree: 'signsgd', updateGap: 2 };
  const reference = () => run([6, 10], { ...base, selection: 'none' }, 5);
  test.each(['blocks', 'columns', 'rows', 'coordinates', 'grass', 'svd', 'random', 'randperm'] as const)('%s', (selection) => {
    const ref = reference();
    const got = run([6, 10], { ...base, selection, density: 0 }, 5);
    expect(Array.from(got.p.toArray())).toEqual(Array.from(ref.p.toArray()));
    expect(got.opt.stateBytes()).toBe(0);
    expect(counters(got.opt).selectionCount).toBe(0);
    const plan = planOptimizerState([{ label: 'g', options: groupPlanOptions({ selection, density: 0 }), params: [{ name: 'p', shape: [6, 10] }] }]);
    expect(plan.stateBytes).toBe(0);
    expect(plan.statePeakBytes).toBe(0);
    // A checkpoint of it loads and goes on.
    const again = new Optimizer([got.p], { ...base, selection, density: 0 });
    again.loadStateDict(got.opt.stateDict());
    again.step();
    for (const o of [ref.opt, got.opt, again]) o.dispose();
  });
  test('with no state-free rule only the decay applies (rows; Frugal accepts density 0)', () => {
    const shape = [4, 6];
    const p = Tensor.randn(shape, { seed: 1 });
    const before = p.toArray() as Float32Array;
    p.grad = Tensor.randn(shape, { seed: 2 });
    const opt = new Frugal([p], { lr: 0.1, weightDecay: 0.5, selection: 'rows', density: 0, stateFree: 'none' });
    opt.step();
    const decay = Math.fround(1 - 0.1 * 0.5);
    expect(Array.from(p.toArray())).toEqual(Array.from(before).map((x) => Math.fround(x * decay)));
    opt.dispose();
  });
  test('density below 0 is still refused by name', () => {
    const p = Tensor.zeros([2, 2]);
    expect(() => new Frugal([p], { density: -0.1 })).toThrow(/density/);
  });
});

describe('5. BAdam random order: a permutation of all blocks per cycle', () => {
  const L = 5;
  const K = 2;
  function activeSequence(steps: number, opt: BAdam, params: Tensor[], from = 0): number[] {
    const seq: number[] = [];
    for (let t = from; t < steps; t++) {
      params.forEach((p, i) => {
        const g = Tensor.randn(p.shape, { seed: 1000 * t + i });
        p.grad!.copyFrom(g);
        g.dispose();
      });
      opt.step();
      const active = params.map((p, i) => (opt.stateBytes(p) > 0 ? i : -1)).filter((i) => i >= 0);
      expect(active.length).toBe(1);
      seq.push(active[0]);
    }
    return seq;
  }
  function make(): { params: Tensor[]; opt: BAdam } {
    const params = Array.from({ length: L }, (_v, i) => {
      const p = Tensor.randn([3, 4], { seed: i });
      p.grad = Tensor.zeros([3, 4]);
      return p;
    });
    return { params, opt: new BAdam(params, { lr: 0.01, switchEvery: K, blockOrder: 'random', seed: 11 }) };
  }
  test('each block is active exactly K steps in every cycle of L * K steps', () => {
    const { params, opt } = make();
    const seq = activeSequence(4 * L * K, opt, params);
    for (let c = 0; c < 4; c++) {
      const counts = new Array(L).fill(0);
      for (const b of seq.slice(c * L * K, (c + 1) * L * K)) counts[b]++;
      expect(counts).toEqual(new Array(L).fill(K));
    }
    // Random: not the same order every cycle.
    const orders = new Set([0, 1, 2, 3].map((c) => seq.slice(c * L * K, (c + 1) * L * K).join(',')));
    expect(orders.size).toBeGreaterThan(1);
    opt.dispose();
  });
  test('a checkpoint taken mid-cycle resumes the same permutation', () => {
    const a = make();
    const straight = activeSequence(3 * L * K, a.opt, a.params);
    const b = make();
    const first = activeSequence(7, b.opt, b.params);
    const c = make();
    c.opt.loadStateDict(b.opt.stateDict());
    const rest = activeSequence(3 * L * K, c.opt, c.params, 7);
    expect([...first, ...rest]).toEqual(straight);
    for (const o of [a.opt, b.opt, c.opt]) o.dispose();
  });
});

describe("6. Grass's state-free lr is lr * stateFreeLrScale (default 1), whatever alpha is", () => {
  test.each([[undefined, 1], [0.5, 0.5]])('stateFreeLrScale %p: unselected rows step by lr * %p * g', (scale, factor) => {
    const shape = [8, 5];
    const p = Tensor.randn(shape, { seed: 4 });
    const p0 = p.toArray() as Float32Array;
    p.grad = Tensor.randn(shape, { seed: 5 });
    const g = p.grad.toArray() as Float32Array;
    const lr = 0.01;
    const opt = new Grass([p], { lr, rank: 2, orientation: 'rows', stateFree: 'sgd', stateFullLrScale: 0.25,
      ...(scale === undefined ? {} : { stateFreeLrScale: scale }) });
    opt.step();
    const selected = new Set(Array.from(opt.grassInfo(p).indices.toArray() as Int32Array));
    const after = p.toArray() as Float32Array;
    const step = Math.fround(lr * factor);
    let checked = 0;
    for (let r = 0; r < shape[0]; r++) {
      if (selected.has(r)) continue;
      for (let c = 0; c < shape[1]; c++) {
        const i = r * shape[1] + c;
        expect(after[i]).toBe(Math.fround(p0[i] - Math.fround(step * g[i])));
        checked++;
      }
    }
    expect(checked).toBe(6 * 5);
    opt.dispose();
  });
});
