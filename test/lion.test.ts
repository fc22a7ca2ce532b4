// Lion (Chen et al. 2023, arXiv 2302.06675), registered as a state-full rule: alone (the Lion
// class) against a float64 Lion written here from the paper; its invariants (b1 = b2 = 0 is
// signSGD with decay; FRUGAL at density 1 with Lion is Lion); its defaults where betas are not
// given; checkpoints; bad betas; its state bytes in the ledger and the planner. Every selection
// with Lion as FRUGAL's state-full rule is held to the float64 framework reference by the cases of
// test/helpers/ref64/cases.ts (run by test/ref64-cases.test.ts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Frugal, Lion, memoryStats, Optimizer, SignSGD, Tensor } from '../lib';
import { native } from '../lib/native';
import { METHODS } from '../lib/methods/registry';
import { methodGroups } from '../lib/plan/methods';
import { planOptimizerState } from '../lib/plan/optimizer-state';
import { RULE_CODES } from '../lib/optim/schema.generated';
import { expectBitIdentical, expectClose, roundTo, setGrads } from './helpers/update-rules';

// ---- Lion in float64, from the paper (Algorithm 2, decoupled decay as AdamW's) ----

interface LionRef {
  lr: number;
  betas: [number, number];
  weightDecay: number;
}

/** One Lion step in place: p *= 1 - lr wd; c = b1 m + (1 - b1) g; p -= lr sign(c); m = b2 m + (1 - b2) g. */
function lionStep(p: number[], g: ArrayLike<number>, m: number[], o: LionRef, stateDtype = 'float32'): void {
  const [b1, b2] = o.betas;
  for (let i = 0; i < p.length; i++) {
    const c = b1 * m[i] + (1 - b1) * g[i];
    p[i] = p[i] * (1 - o.lr * o.weightDecay) - o.lr * Math.sign(c);
    m[i] = roundTo(stateDtype, b2 * m[i] + (1 - b2) * g[i]);
  }
}

const SHAPES = [[6, 10], [10, 6], [7]];
const fresh = (seed = 1) => SHAPES.map((s, i) => Tensor.randn(s, { seed: seed * 100 + i }));
const matrices = (seed = 1) => [Tensor.randn([6, 10], { seed: seed * 100 }), Tensor.randn([10, 6], { seed: seed * 100 + 1 })];
const values = (ts: Tensor[]) => ts.map((t) => Array.from(t.toArray()));
const moments = (opt: Optimizer) => opt.stateDict().params.map((p) => p.state.find((s) => s.name === 'exp_avg'));

function run(opt: Optimizer, params: Tensor[], from: number, to: number): void {
  for (let t = from; t < to; t++) {
    setGrads(params, t);
    opt.step();
  }
}

function dispose(opt: Optimizer, params: Tensor[]): void {
  opt.dispose();
  for (const p of params) {
    p.grad?.dispose();
    p.dispose();
  }
}

describe('Lion', () => {
  test.each([
    ['decay, betas (0.9, 0.99)', { lr: 0.01, betas: [0.9, 0.99], weightDecay: 0.1 }, 'float32'],
    ['no decay, betas (0.5, 0.8)', { lr: 0.02, betas: [0.5, 0.8], weightDecay: 0 }, 'float32'],
    ['bf16 state', { lr: 0.01, betas: [0.9, 0.99], weightDecay: 0.05 }, 'bfloat16'],
  ] as [string, LionRef, 'float32' | 'bfloat16'][])('matches the float64 Lion over 6 steps (%s), its moment stored as exp_avg', (_name, o, stateDtype) => {
    const params = fresh();
    const opt = new Lion(params, { ...o, stateDtype });
    const ref = values(params);
    const m = ref.map((p) => p.map(() => 0));
    for (let t = 0; t < 6; t++) {
      setGrads(params, t);
      const g = values(params.map((p) => p.grad as Tensor));
      opt.step();
      ref.forEach((p, i) => lionStep(p, g[i], m[i], o, stateDtype));
      params.forEach((p, i) => expectClose(p.toArray(), ref[i], 1e-6, 1e-6));
    }
    const sd = opt.stateDict();
    sd.params.forEach((p, i) => {
      expect(p.state.map((s) => s.name)).toEqual(['exp_avg']);
      expect(p.state[0].dtype).toBe(stateDtype);
      // bf16 moments travel as their bits: the high half of a float32.
      const data = p.state[0].data;
      const stored = data instanceof Uint16Array ? new Float32Array(new Uint32Array(Array.from(data, (b) => b << 16)).buffer) : data;
      // bf16: the model rounds its float64 moment to bf16, the rule its float32 one: 1 bf16 ulp.
      expectClose(stored, m[i], stateDtype === 'bfloat16' ? 2 ** -8 : 1e-6, 1e-7);
    });
    dispose(opt, params);
  });

  test('sign(0) = 0: a zero interpolation leaves the param to its decay alone', () => {
    const p = Tensor.fromArray([1, -2, 3], [3]);
    p.grad = Tensor.fromArray([0, 0, 0.5], [3]);
    const opt = new Lion([p], { lr: 0.1, weightDecay: 0.5 });
    opt.step();
    expectClose(p.toArray(), [0.95, -1.9, 2.85 - 0.1], 1e-7, 1e-7);
    dispose(opt, [p]);
  });

  test('b1 = b2 = 0 is signSGD with decay, bit for bit', () => {
    const a = fresh(2);
    const b = a.map((t) => t.clone());
    const lion = new Lion(a, { lr: 0.01, betas: [0, 0], weightDecay: 0.1 });
    const sign = new SignSGD(b, { lr: 0.01, weightDecay: 0.1 });
    for (let t = 0; t < 4; t++) {
      setGrads(a, t);
      setGrads(b, t);
      lion.step();
      sign.step();
      a.forEach((p, i) => expectBitIdentical(p.toArray(), b[i].toArray()));
    }
    dispose(lion, a);
    dispose(sign, b);
  });

  // Every matrix state-full at every step: the FRUGAL step is Lion's on every element. (1-D params
  // of a FRUGAL group are regular ones, plain AdamW: matrices only here.)
  test.each([
    ['blocks', { selection: 'blocks' }],
    ['columns', { selection: 'columns' }],
    ['rows', { selection: 'rows' }],
    ['coordinates', { selection: 'coordinates' }],
  ] as const)('FRUGAL with Lion at density 1 (%s) equals Lion, bit for bit', (_name, sel) => {
    const a = matrices(3);
    const b = a.map((t) => t.clone());
    const o = { lr: 0.01, betas: [0.8, 0.95] as [number, number], weightDecay: 0.1 };
    // No refresh after the first (a block refresh restarts the moments; Lion's never restart).
    const frugal = new Frugal(a, { ...o, ...sel, density: 1, stateFull: 'lion', stateFree: 'signsgd', updateGap: 100 });
    const lion = new Lion(b, o);
    for (let t = 0; t < 5; t++) {
      setGrads(a, t);
      setGrads(b, t);
      frugal.step();
      lion.step();
      a.forEach((p, i) => expectBitIdentical(p.toArray(), b[i].toArray()));
    }
    dispose(frugal, a);
    dispose(lion, b);
  });

  test("betas default to Lion's (0.9, 0.99) wherever a caller gives none, to Adam's otherwise", () => {
    const p = [Tensor.randn([4, 4], { seed: 1 })];
    const groupsOf = (opt: Optimizer) => {
      const betas = opt.paramGroups.map((g) => g.betas);
      opt.dispose();
      return betas;
    };
    expect(groupsOf(new Lion(p))).toEqual([[0.9, 0.99]]);
    expect(groupsOf(new Frugal(p, { stateFull: 'lion' }))).toEqual([[0.9, 0.99]]);
    expect(groupsOf(new Frugal([{ params: p, stateFull: 'lion' }]))).toEqual([[0.9, 0.99]]);
    expect(groupsOf(new Optimizer(p, { selection: 'all', stateFull: 'lion' }))).toEqual([[0.9, 0.99]]);
    expect(groupsOf(new Frugal(p, { stateFull: 'lion', betas: [0.5, 0.6] }))).toEqual([[0.5, 0.6]]);
    expect(groupsOf(new Frugal([{ params: p, betas: [0.5, 0.6] }], { stateFull: 'lion' }))).toEqual([[0.5, 0.6]]);
    expect(groupsOf(new Frugal(p))).toEqual([[0.9, 0.999]]);
    expect(groupsOf(new Frugal(p, { stateFull: 'sgdm' }))).toEqual([[0.9, 0.999]]);
    // And the step uses them: no betas is betas (0.9, 0.99).
    const a = matrices(4);
    const b = a.map((t) => t.clone());
    const implicit = new Frugal(a, { lr: 0.01, stateFull: 'lion', density: 0.5, updateGap: 2 });
    const explicit = new Frugal(b, { lr: 0.01, stateFull: 'lion', density: 0.5, updateGap: 2, betas: [0.9, 0.99] });
    run(implicit, a, 0, 3);
    run(explicit, b, 0, 3);
    a.forEach((x, i) => expectBitIdentical(x.toArray(), b[i].toArray()));
    dispose(implicit, a);
    dispose(explicit, b);
    p[0].dispose();
  });

  describe('checkpoints: save after 3 steps, load into a fresh optimizer, 3 more: bit-identical to 6 straight', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-lion-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    test.each([
      ['Lion', (p: Tensor[]) => new Lion(p, { lr: 0.01, weightDecay: 0.1 })],
      ['Lion bf16 state', (p: Tensor[]) => new Lion(p, { lr: 0.01, stateDtype: 'bfloat16' })],
      ['Frugal blocks + Lion', (p: Tensor[]) => new Frugal(p, { lr: 0.01, stateFull: 'lion', density: 0.5, updateGap: 2 })],
      ['Frugal rows + Lion, statistics kept', (p: Tensor[]) => new Frugal(p, { lr: 0.01, stateFull: 'lion', selection: 'rows', density: 0.5, updateGap: 2, resetStatistics: false })],
      ['Frugal svd + Lion', (p: Tensor[]) => new Frugal(p, { lr: 0.01, stateFull: 'lion', selection: 'svd', rank: 2, updateGap: 2 })],
    ] as [string, (p: Tensor[]) => Optimizer][])('%s', (name, make) => {
      const straight = fresh(5);
      const reference = make(straight);
      run(reference, straight, 0, 6);
      const first = fresh(5);
      const opt = make(first);
      run(opt, first, 0, 3);
      const file = path.join(dir, `${name.replace(/\W+/g, '_')}.safetensors`);
      opt.save(file);
      const resumed = first.map((p) => p.clone());
      const opt2 = make(resumed);
      opt2.load(file);
      run(opt2, resumed, 3, 6);
      resumed.forEach((p, i) => expectBitIdentical(p.toArray(), straight[i].toArray()));
      expect(opt2.stateDict()).toEqual(reference.stateDict());
      expect(moments(opt2).some((s) => s !== undefined)).toBe(true);
      dispose(reference, straight);
      dispose(opt, first);
      dispose(opt2, resumed);
    });
  });

  test('bad betas are refused by name, by the class and by the core', () => {
    const p = [Tensor.randn([3, 3], { seed: 2 })];
    expect(() => new Lion(p, { betas: [1, 0.99] })).toThrow("Lion: option 'betas' must be two numbers in [0, 1), got [1, 0.99]");
    expect(() => new Lion(p, { betas: [0.9, -0.1] })).toThrow("Lion: option 'betas' must be two numbers in [0, 1), got [0.9, -0.1]");
    expect(() => new Frugal(p, { stateFull: 'lion', betas: [0.9] as unknown as [number, number] })).toThrow(/Frugal: option 'betas' must be two numbers in \[0, 1\)/);
    // A C caller (through the addon's NativeOptimizer, which the C API's checks answer).
    const opt = new (native().NativeOptimizer)(-1);
    try {
      expect(() => opt.addGroup({ state_full: RULE_CODES.lion, beta1: 1 })).toThrow('beta1: expected a number in [0, 1), got 1');
      expect(() => opt.addGroup({ state_full: RULE_CODES.lion, beta2: 1.5 })).toThrow('beta2: expected a number in [0, 1), got 1.5');
    } finally {
      opt.destroy();
    }
    p[0].dispose();
  });

  test('state bytes: one slot per element, in the ledger, stateBytes() and the planner alike', () => {
    const params = fresh(6);
    const numel = params.reduce((n, p) => n + p.numel, 0);
    for (const stateDtype of ['float32', 'bfloat16'] as const) {
      const before = memoryStats('cpu').current.optimizerState;
      const opt = new Lion(params, { stateDtype });
      run(opt, params, 0, 1);
      const bytes = numel * (stateDtype === 'float32' ? 4 : 2);
      expect(opt.stateBytes()).toBe(bytes);
      expect(memoryStats('cpu').current.optimizerState - before).toBe(bytes);
      const specs = params.map((p, i) => ({ name: `p${i}`, shape: [...p.shape], projectable: p.ndim === 2, unit: 'u' }));
      expect(planOptimizerState(methodGroups('lion', specs, { stateDtype })).stateBytes).toBe(bytes);
      opt.dispose();
    }
    for (const p of params) {
      p.grad?.dispose();
      p.dispose();
    }
  });

  test("the method registry's lion is the Lion class with its recipe", () => {
    expect(METHODS.lion.spec).toBe(Lion.spec);
    const p = [Tensor.randn([2, 2], { seed: 1 })];
    const opt = METHODS.lion.create([{ params: p }], { lr: METHODS.lion.recipe.lr });
    expect(opt).toBeInstanceOf(Lion);
    expect(opt.paramGroups[0].betas).toEqual([0.9, 0.99]);
    opt.dispose();
    p[0].dispose();
  });
});
