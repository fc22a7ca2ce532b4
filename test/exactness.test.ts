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

// Runs `make` on a fresh param fed seeded gradients; returns the param's values after each step.
function trajectory(shape: number[], dtype: 'float32' | 'bfloat16' | 'float16', steps: number,
  make: (p: Tensor) => Optimizer, seed = 9): number[][] {
  const p = Tensor.randn(shape, { seed, dtype });
  p.grad = Tensor.zeros(shape, { dtype });
  const opt = make(p);
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const g = Tensor.randn(shape, { seed: 500 + t, dtype });
    p.grad.copyFrom(g);
    g.dispose();
    opt.step();
    out.push(Array.from(p.toArray()));
  }
  opt.dispose();
  return out;
}

describe('3. a half-precision param is rounded once per element per step', () => {
  const BASE = { lr: 0.05, weightDecay: 0.1, betas: [0.9, 0.999] as [number, number], eps: 1e-8 };
  test.each([
    ['bfloat16', 'rows'], ['bfloat16', 'columns'], ['float16', 'rows'], ['float16', 'columns'],
  ] as const)('%s: Grass with every %s and alpha 1 equals AdamW bit for bit, with weight decay', (dtype, orientation) => {
    const shape = [6, 11];
    const lines = orientation === 'rows' ? shape[0] : shape[1];
    const adamw = trajectory(shape, dtype, 6, (p) => new Optimizer([p], BASE));
    const grass = trajectory(shape, dtype, 6, (p) =>
      new Grass([p], { ...BASE, rank: lines, orientation, stateFullLrScale: 1, updateGap: 1000 }));
    expect(grass).toEqual(adamw);
  });
  test.each(['rows', 'columns', 'coordinates'] as const)(
    'bfloat16 %s at density 0.5: selected lines are AdamW bit for bit, the rest p0 * decay', (selection) => {
      const shape = [6, 8];
      const adamw = trajectory(shape, 'bfloat16', 1, (p) => new Optimizer([p], BASE))[0];
      const p0 = Array.from(Tensor.randn(shape, { seed: 9, dtype: 'bfloat16' }).toArray());
      const got = trajectory(shape, 'bfloat16', 1, (p) =>
        new Optimizer([p], { ...BASE, selection, density: 0.5, updateGap: 1000 }))[0];
      const decay = Math.fround(1 - 0.05 * 0.1);
      let same = 0;
      let decayed = 0;
      got.forEach((x, i) => {
        if (x === adamw[i] && x !== bf16(p0[i] * decay)) same++;
        else if (x === bf16(p0[i] * decay)) decayed++;
      });
      expect(same + decayed).toBe(48);
      expect(same).toBeGreaterThanOrEqual(20); // half the matrix, less chance ties
    });
});

// Round to nearest even bfloat16, from a float32 value.
function bf16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) & 0xffff0000;
  return f[0];
}

describe('4. resetStatistics false: a step counter per selected line', () => {
  const BASE = { lr: 0.01, weightDecay: 0.1, betas: [0.9, 0.999] as [number, number], eps: 1e-8 };
  const shape = [4, 7];
  // Rows {0, 1} for steps 0-1, then {1, 2}: row 1 stays, row 2 enters at step 2.
  const chosen = ({ step }: { step: number }) => (step < 2 ? [0, 1] : [1, 2]);
  function rowsRun(steps: number, kind: 'rows' | 'grass' = 'rows') {
    return trajectory(shape, 'float32', steps, (p) =>
      kind === 'rows'
        ? new Optimizer([p], { ...BASE, selection: chosen, selectionKind: 'rows', updateGap: 2, resetStatistics: false })
        : new Grass([p], { ...BASE, selection: chosen, orientation: 'rows', stateFullLrScale: 1, updateGap: 2, resetStatistics: false }));
  }
  // AdamW on one row alone, started from `start` (that row's values) at the given step.
  function adamRow(row: number, from: number, to: number, start: number[]): number[][] {
    const p = Tensor.fromArray(start, [1, shape[1]]);
    p.grad = Tensor.zeros([1, shape[1]]);
    const opt = new Optimizer([p], BASE);
    const out: number[][] = [];
    for (let t = from; t < to; t++) {
      const g = Tensor.randn(shape, { seed: 500 + t });
      p.grad.copyFrom(Tensor.fromArray(Array.from(g.toArray()).slice(row * shape[1], (row + 1) * shape[1]), [1, shape[1]]));
      g.dispose();
      opt.step();
      out.push(Array.from(p.toArray()));
    }
    opt.dispose();
    return out;
  }
  const row = (values: number[], r: number) => values.slice(r * shape[1], (r + 1) * shape[1]);
  test.each(['rows', 'grass'] as const)('%s: an entering line restarts its bias correction, a staying one keeps it', (kind) => {
    const run = rowsRun(5, kind);
    const init = Array.from(Tensor.randn(shape, { seed: 9 }).toArray());
    // Row 1 is selected throughout: AdamW from the start.
    expect(run.map((v) => row(v, 1))).toEqual(adamRow(1, 0, 5, row(init, 1)));
    // Row 2 enters at step 2 with zero moments and its own step 1.
    expect(run.slice(2).map((v) => row(v, 2))).toEqual(adamRow(2, 2, 5, row(run[1], 2)));
  });
  test('the counters are state: counted, planned, checkpointed, and old checkpoints load', () => {
    const p = Tensor.randn(shape, { seed: 9 });
    p.grad = Tensor.randn(shape, { seed: 1 });
    const options = { ...BASE, selection: 'rows' as const, density: 0.5, updateGap: 2, resetStatistics: false };
    const opt = new Optimizer([p], options);
    opt.step();
    const sd = opt.stateDict();
    const steps = sd.params[0].state.find((t) => t.name === 'slot_step');
    expect(steps && Array.from(steps.data)).toEqual([1, 1]);
    // 2 rows x 7 x (m, v) fp32 + indices + slot steps + mask
    expect(opt.stateBytes(p)).toBe(2 * 7 * 8 + 2 * 4 + 2 * 4 + 4);
    expect(paramState(shape, groupPlanOptions({ selection: 'rows', density: 0.5, resetStatistics: false })).total)
      .toBe(opt.stateBytes(p));
    // A checkpoint without 'slot_step' (written before the counters existed) loads: every line
    // takes the param's stateStep.
    opt.step();
    const legacy = opt.stateDict();
    legacy.params[0].state = legacy.params[0].state.filter((t) => t.name !== 'slot_step');
    const again = new Optimizer([p], options);
    again.loadStateDict(legacy);
    const restored = again.stateDict().params[0];
    expect(Array.from(restored.state.find((t) => t.name === 'slot_step')!.data)).toEqual([2, 2]);
    // A negative counter is refused by name.
    const bad = opt.stateDict();
    bad.params[0].state.find((t) => t.name === 'slot_step')!.data[0] = -3;
    expect(() => again.loadStateDict(bad)).toThrow(/slot_step/);
    for (const o of [opt, again]) o.dispose();
  });
  test('save mid-run and resume: bit-identical to a straight run', () => {
    const options = { ...BASE, selection: 'rows' as const, density: 0.5, updateGap: 2, resetStatistics: false, seed: 3 };
    const straight = trajectory(shape, 'float32', 6, (p) => new Optimizer([p], options));
    const p = Tensor.randn(shape, { seed: 9 });
    p.grad = Tensor.zeros(shape);
    let opt = new Optimizer([p], options);
    const got: number[][] = [];
    for (let t = 0; t < 6; t++) {
      if (t === 3) {
        const sd = opt.stateDict();
        opt.dispose();
        opt = new Optimizer([p], options);
        opt.loadStateDict(sd);
      }
      const g = Tensor.randn(shape, { seed: 500 + t });
      p.grad.copyFrom(g);
      g.dispose();
      opt.step();
      got.push(Array.from(p.toArray()));
    }
    expect(got).toEqual(straight);
    opt.dispose();
  });
});

describe('7. an fp32 compressed gradient for a bf16 param is exact', () => {
  // Grass sampling rows by norm with replacement: scales rho != 1 (and repeated rows).
  const shape = [6, 9];
  const options = { lr: 0.02, weightDecay: 0.1, rank: 4, orientation: 'rows' as const, sampling: 'norm' as const,
    replacement: true, updateGap: 10, seed: 7 };
  function twoSteps(gcDtype: 'float32' | 'bfloat16' | null): number[] {
    const p = Tensor.randn(shape, { seed: 9, dtype: 'bfloat16' });
    p.grad = Tensor.randn(shape, { seed: 1, dtype: 'bfloat16' });
    const opt = new Grass([p], options);
    opt.step(); // refresh: full gradient
    const g = Tensor.randn(shape, { seed: 2, dtype: 'bfloat16' });
    if (gcDtype === null) {
      p.grad.copyFrom(g);
    } else {
      const info = opt.grassInfo(p);
      const idx = Array.from(info.indices.toArray() as Int32Array);
      const rho = Array.from(info.scales!.toArray());
      expect(rho.some((r) => r !== 1)).toBe(true);
      const gv = Array.from(g.toArray());
      // gc[j, t] = rho_j * g[idx_j, t], formed in float32 as the full-gradient path forms it.
      const gc = idx.flatMap((r, j) => gv.slice(r * shape[1], (r + 1) * shape[1]).map((x) => Math.fround(rho[j] * x)));
      p.compressedGrad = Tensor.fromArray(gc, [idx.length, shape[1]], { dtype: gcDtype });
      p.grad = null;
    }
    g.dispose();
    opt.step();
    // The param and the fp32 moments (where a bf16 rounding of gc shows even when p's bf16 hides it).
    const moments = opt.stateDict().params[0].state.filter((t) => t.name.startsWith('exp_avg'));
    const out = [...Array.from(p.toArray()), ...moments.flatMap((t) => Array.from(t.data))];
    opt.dispose();
    return out;
  }
  test('equals the full-gradient step bit for bit (a bf16 one does not)', () => {
    const full = twoSteps(null);
    expect(twoSteps('float32')).toEqual(full);
    expect(twoSteps('bfloat16')).not.toEqual(full);
  });
});
