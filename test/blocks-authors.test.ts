// Block selections as the FRUGAL authors' BlockOptimizer runs them, where no recorded fixture
// reaches: moments reset at every block refresh whatever resetStatistics says, inactive blocks
// decayed under FRUGAL but frozen under BAdam, mirror's pairs needing an even count, and the
// fresh random subset resuming exactly from a checkpoint.
import { BAdam, Frugal, Optimizer, Tensor } from '../lib';
import { CASES } from './helpers/ref64/cases';

function mats(count: number, seed = 1): Tensor[] {
  return Array.from({ length: count }, (_v, i) => {
    const vals = Float32Array.from({ length: 6 }, (_u, j) => Math.sin(seed * 7 + i * 6 + j + 1));
    return Tensor.fromArray(vals, [2, 3]);
  });
}

function setGrads(params: Tensor[], step: number): void {
  params.forEach((p, i) => {
    p.grad?.dispose();
    p.grad = Tensor.fromArray(Float32Array.from({ length: 6 }, (_v, j) => Math.cos(step * 3 + i * 5 + j)), [2, 3]);
  });
}

function run(make: (params: Tensor[]) => Optimizer, steps: number, blocks = 3): number[][] {
  const params = mats(blocks);
  const opt = make(params);
  for (let t = 0; t < steps; t++) {
    setGrads(params, t);
    opt.step();
  }
  const out = params.map((p) => Array.from(p.toArray()));
  opt.dispose();
  params.forEach((p) => { p.grad?.dispose(); p.dispose(); });
  return out;
}

describe('block selections as the authors run them', () => {
  it('resetStatistics false still starts every (re)activated block afresh', () => {
    const opts = (reset: boolean) => (ps: Tensor[]) =>
      new Frugal(ps, { lr: 0.01, weightDecay: 0.1, selection: 'blocks', blockOrder: 'ascending', density: 0.67, updateGap: 2, resetStatistics: reset });
    // Block 0 is active at refreshes 0 and 1 (steps 0-3), block 1 at 0 and 2: both come back.
    expect(run(opts(false), 9)).toEqual(run(opts(true), 9));
  });

  it('the reference case table runs blocks with resetStatistics false', () => {
    const c = CASES.find((k) => k.name === 'blocks keep statistics');
    expect(c?.groups[0].options).toMatchObject({ selection: 'blocks', resetStatistics: false });
  });

  it('FRUGAL decays inactive blocks under stateFree none; BAdam leaves them untouched', () => {
    const frugal = run((ps) => new Frugal(ps, { lr: 0.1, weightDecay: 0.5, selection: 'blocks', density: 0.34, stateFree: 'none', updateGap: 10 }), 1);
    const badam = run((ps) => new BAdam(ps, { lr: 0.1, weightDecay: 0.5, switchEvery: 10 }), 1);
    const init = mats(3).map((p) => { const a = Array.from(p.toArray()); p.dispose(); return a; });
    // Descending: block 2 is the active one; blocks 0 and 1 rest.
    for (const b of [0, 1]) {
      expect(badam[b]).toEqual(init[b]);
      init[b].forEach((x, j) => expect(frugal[b][j]).toBeCloseTo(x * (1 - 0.1 * 0.5), 6));
    }
  });

  it('mirror walks pairs (i, N-1-i) and refuses an odd count, changing nothing', () => {
    const active: number[][] = [];
    const params = mats(6);
    const opt = new Frugal(params, { lr: 0.1, selection: 'blocks', blockOrder: 'mirror', density: 0.34, updateGap: 1, stateFree: 'none' });
    for (let t = 0; t < 4; t++) {
      setGrads(params, t);
      const before = params.map((p) => Array.from(p.toArray()));
      opt.step();
      active.push(params.map((p, i) => (Array.from(p.toArray()).some((x, j) => x !== before[i][j]) ? i : -1)).filter((i) => i >= 0));
    }
    expect(active).toEqual([[0, 5], [1, 4], [2, 3], [0, 5]]);
    opt.dispose();

    const odd = mats(3);
    setGrads(odd, 0);
    const before = odd.map((p) => Array.from(p.toArray()));
    const bad = new Frugal(odd, { lr: 0.1, selection: 'blocks', blockOrder: 'mirror', density: 0.34 });
    expect(() => bad.step()).toThrow(/mirror .*even count.*3 blocks/);
    expect(odd.map((p) => Array.from(p.toArray()))).toEqual(before);
    expect(bad.steps).toBe(0);
    bad.dispose();
    [...params, ...odd].forEach((p) => { p.grad?.dispose(); p.dispose(); });
  });

  it('the fresh random subset resumes exactly from a state dict', () => {
    const make = (ps: Tensor[]) => new Frugal(ps, { lr: 0.05, selection: 'blocks', blockOrder: 'random', density: 0.4, updateGap: 1, seed: 11 });
    const straight = run(make, 8, 5);
    const params = mats(5);
    const first = make(params);
    for (let t = 0; t < 3; t++) { setGrads(params, t); first.step(); }
    const sd = first.stateDict();
    first.dispose();
    const second = make(params);
    second.loadStateDict(sd);
    for (let t = 3; t < 8; t++) { setGrads(params, t); second.step(); }
    expect(params.map((p) => Array.from(p.toArray()))).toEqual(straight);
    second.dispose();
    params.forEach((p) => { p.grad?.dispose(); p.dispose(); });
  });
});
