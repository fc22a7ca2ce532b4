// Optimizer.stepAsync() (issue 10): the step off the JavaScript thread. The event loop keeps
// turning during a long CPU step, the results are step()'s bit for bit, every other use of the
// optimizer is refused while the step is in flight, a failing step rejects with step()'s error,
// and neither dispose() nor the garbage collector can free what a running step uses.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, Frugal, GaLore, Grass, memoryStats, Optimizer, releaseWorkspace, SGD, Tensor } from '../lib';
import { deviceOrdinal } from '../lib/device';
import { native } from '../lib/native';
import { childJson, runChildCode } from './helpers/child';

const SHAPES = [[24, 40], [40], [32, 16]];

function freshParams(seed: number): Tensor[] {
  return SHAPES.map((shape, i) => Tensor.randn(shape, { seed: seed + i }));
}

function setGrads(ps: Tensor[], step: number): void {
  ps.forEach((p, i) => {
    if (p.grad) p.grad.dispose();
    p.grad = Tensor.randn(p.shape, { seed: 1000 + 17 * step + i });
  });
}

const bytesOf = (t: Tensor) => Buffer.from((t.toArray() as Float32Array).buffer).toString('hex');

const METHODS: [string, (ps: Tensor[]) => Optimizer][] = [
  ['AdamW', (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 })],
  ['SGD (momentum)', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9 })],
  ['Frugal (blocks)', (ps) => new Frugal(ps, { lr: 0.01, density: 0.5, updateGap: 2 })],
  ['Frugal (columns)', (ps) => new Frugal(ps, { lr: 0.01, density: 0.5, updateGap: 2, selectionKind: 'columns' })],
  ['GaLore (SVD refreshes)', (ps) => new GaLore(ps, { lr: 0.01, rank: 4, updateGap: 2 })],
  ['Grass', (ps) => new Grass(ps, { lr: 0.01, rank: 4, updateGap: 2, seed: 5 })],
];

describe('stepAsync() gives step() results bit for bit', () => {
  test.each(METHODS)('%s, 4 steps with refreshes', async (_name, make) => {
    const a = freshParams(1);
    const b = freshParams(1);
    const sync = make(a);
    const async_ = make(b);
    try {
      for (let s = 0; s < 4; s++) {
        setGrads(a, s);
        setGrads(b, s);
        sync.step();
        await async_.stepAsync();
      }
      expect(async_.steps).toBe(4);
      expect(b.map(bytesOf)).toEqual(a.map(bytesOf));
      const sa = sync.stateDict();
      const sb = async_.stateDict();
      expect(sb.params.map((p) => p.state.map((t) => Buffer.from(t.data.buffer).toString('hex')))).toEqual(
        sa.params.map((p) => p.state.map((t) => Buffer.from(t.data.buffer).toString('hex'))),
      );
    } finally {
      sync.dispose();
      async_.dispose();
    }
  });
});

describe('the event loop keeps running', () => {
  test('a timer fires while a CPU step with a host SVD refresh (512 x 1376) is in flight', async () => {
    const p = Tensor.randn([512, 1376], { seed: 1 });
    p.grad = Tensor.randn([512, 1376], { seed: 2 });
    const opt = new GaLore([p], { lr: 1e-3, rank: 128, updateGap: 10 });
    try {
      let fired = false;
      let turns = 0;
      let spinning = true;
      const spin = () => {
        if (!spinning) return;
        turns++;
        setImmediate(spin);
      };
      setTimeout(() => (fired = true), 1);
      setImmediate(spin);
      // A step run on this thread would resolve in a microtask, before any timer or turn.
      await opt.stepAsync();
      spinning = false;
      expect(fired).toBe(true);
      expect(turns).toBeGreaterThan(1);
      expect(opt.steps).toBe(1);
    } finally {
      opt.dispose();
    }
  });
});

describe('concurrent use of one optimizer is refused while a stepAsync is in flight', () => {
  test('every entry point names the optimizer and the pending step; afterwards all work again', async () => {
    const ps = freshParams(3);
    setGrads(ps, 0);
    const opt = new Grass(ps, { lr: 0.01, rank: 4, updateGap: 2, seed: 1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-step-async-'));
    const file = path.join(dir, 'opt.safetensors');
    try {
      opt.step();
      const saved = opt.stateDict();
      opt.save(file);
      // The calls below run before this thread yields, so the step cannot have settled yet.
      const pending = opt.stepAsync();
      const refused = (what: string) => new RegExp(`^Grass\\.${what}: refused while stepAsync\\(\\) \\(step 2\\) is in flight; await it first$`);
      expect(() => opt.step()).toThrow(refused('step'));
      const second = opt.stepAsync();
      expect(() => opt.zeroGrad()).toThrow(refused('zeroGrad'));
      expect(() => opt.stateDict()).toThrow(refused('stateDict'));
      expect(() => opt.loadStateDict(saved)).toThrow(refused('loadStateDict'));
      expect(() => opt.save(file)).toThrow(refused('save'));
      expect(() => opt.load(file)).toThrow(refused('load'));
      expect(() => opt.stateBytes()).toThrow(refused('stateBytes'));
      expect(() => opt.skippedSteps()).toThrow(refused('skippedSteps'));
      expect(() => opt.grassInfo(ps[0])).toThrow(refused('grassInfo'));
      expect(() => opt.dispose()).toThrow(refused('dispose'));
      // The tensors the step reads are pinned until it is over.
      expect(() => ps[0].dispose()).toThrow(/Tensor\.dispose: refused/);
      expect(() => ps[0].grad!.dispose()).toThrow(/Tensor\.dispose: refused/);
      expect(opt.disposed).toBe(false);
      await expect(second).rejects.toThrow(refused('stepAsync'));
      await pending;
      expect(opt.steps).toBe(2);
      opt.step();
      await opt.stepAsync();
      expect(opt.steps).toBe(4);
      expect(opt.stateBytes()).toBeGreaterThan(0);
      opt.loadStateDict(saved);
      expect(opt.steps).toBe(1);
    } finally {
      opt.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(opt.disposed).toBe(true);
    ps[0].dispose(); // unpinned again
  });

  test('the native optimizer itself refuses every call (and destroy) while its step runs on another thread', async () => {
    const p = Tensor.randn([16, 8], { seed: 1 });
    p.grad = Tensor.randn([16, 8], { seed: 2 });
    const addon = native();
    const n = new addon.NativeOptimizer(deviceOrdinal(p.device));
    const group = n.addGroup({ lr: 0.1 });
    const param = n.addParam(group, { data: p.dataPtr, dtype: 0, grad: p.grad.dataPtr, gradDtype: 0, shape: [16, 8], blockId: 0 });
    const running = n.stepAsync(null, false);
    const busy = /refused while a stepAsync\(\) is in flight/;
    expect(() => n.stateBytes()).toThrow(busy);
    expect(() => n.setGroupOptions(group, { lr: 0.2 })).toThrow(busy);
    expect(() => n.step(null)).toThrow(busy);
    expect(() => n.getCounters(param)).toThrow(busy);
    expect(() => n.destroy()).toThrow(busy);
    expect(n.destroyed).toBe(false);
    await running;
    expect(n.getCounters(param).step).toBe(1);
    n.destroy();
    expect(n.destroyed).toBe(true);
  });
});

describe('a failing step rejects with the error step() throws', () => {
  const nanGrad = () => {
    const p = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
    p.grad = Tensor.fromArray([0.5, NaN, 0.5, 0.5, 0.5, 0.5], [2, 3]);
    return p;
  };

  test.each([
    ["nonFinite 'error'", (p: Tensor) => new AdamW([p], { lr: 0.1, nonFinite: 'error' })],
    ['an SVD refresh of a NaN gradient', (p: Tensor) => new GaLore([p], { lr: 0.1, rank: 1, updateGap: 1 })],
  ] as const)('%s: same message and code; nothing changed; the optimizer steps again', async (_name, make) => {
    const a = nanGrad();
    const b = nanGrad();
    const sync = make(a);
    const async_ = make(b);
    try {
      let expected: Error & { code?: string } = new Error('step() did not throw');
      try {
        sync.step();
      } catch (e) {
        expected = e as Error;
      }
      expect(expected.message).toMatch(/non-finite/);
      const before = bytesOf(b);
      const got = (await async_.stepAsync().then(
        () => new Error('stepAsync() resolved'),
        (e: unknown) => e,
      )) as Error & { code?: string };
      expect(got.message).toBe(expected.message);
      expect(got.code).toBe(expected.code);
      expect(got.code).toBe('FRUGAL_ERR_INVALID_ARGUMENT');
      expect(bytesOf(b)).toBe(before);
      expect(async_.steps).toBe(0);
      b.grad!.fill(0.25);
      await async_.stepAsync();
      expect(async_.steps).toBe(1);
      expect(bytesOf(b)).not.toBe(before);
    } finally {
      sync.dispose();
      async_.dispose();
    }
  });

  test('bad arguments reject before anything runs', async () => {
    const ps = freshParams(7);
    setGrads(ps, 0);
    const opt = new AdamW(ps, { lr: 0.1 });
    try {
      await expect(opt.stepAsync({ wait: 'yes' } as never)).rejects.toThrow(/AdamW\.stepAsync: wait must be a boolean, got 'yes'/);
      await expect(opt.stepAsync({ nope: 1 } as never)).rejects.toThrow(/AdamW\.stepAsync/);
      expect(opt.steps).toBe(0);
      await opt.stepAsync({ wait: true });
      expect(opt.steps).toBe(1);
    } finally {
      opt.dispose();
    }
  });
});

describe('what a running step uses stays alive', () => {
  test('an optimizer and params dropped while the step runs, with the GC forced, do not crash; the step completes', () => {
    const r = runChildCode(
      `
      const { AdamW, Tensor } = lib;
      let p = Tensor.randn([256, 512], { seed: 1 });
      p.grad = Tensor.randn([256, 512], { seed: 2 });
      let opt = new AdamW([p], { lr: 0.1 });
      const done = opt.stepAsync();
      let refused = null;
      try { opt.dispose(); } catch (e) { refused = e.message; }
      const probe = p; // read back after the step, through a reference the step did not need
      opt = null; p = null;
      global.gc(); global.gc();
      done.then(() => {
        global.gc();
        const changed = probe.toArray()[0] !== Tensor.randn([256, 512], { seed: 1 }).toArray()[0];
        console.log(JSON.stringify({ refused, ok: true, changed }));
      }, (e) => console.log(JSON.stringify({ refused, ok: false, error: e.message })));
      `,
      { nodeArgs: ['--expose-gc'] },
    );
    const out = childJson<{ refused: string | null; ok: boolean; changed: boolean }>(r);
    expect(out.refused).toMatch(/AdamW\.dispose: refused while stepAsync\(\) \(step 1\) is in flight/);
    expect(out.ok).toBe(true);
    expect(out.changed).toBe(true);
  });
});

describe('several optimizers stepping at once share the device workspace pool', () => {
  test('two GaLores stepAsync together: results equal step(), and the pool holds one set of slots', async () => {
    const [a, b, ra, rb] = [1, 2, 1, 2].map((seed) => {
      const p = Tensor.randn([48, 80], { seed });
      p.grad = Tensor.randn([48, 80], { seed: seed + 10 });
      return p;
    });
    const make = (p: Tensor) => new GaLore([p], { lr: 0.01, rank: 8, updateGap: 2 });
    const [oa, ob, oc, od] = [a, b, ra, rb].map(make);
    try {
      for (let s = 0; s < 4; s++) {
        await Promise.all([oa.stepAsync(), ob.stepAsync()]);
        oc.step();
        od.step();
      }
      expect([bytesOf(a), bytesOf(b)]).toEqual([bytesOf(ra), bytesOf(rb)]);
      // Measured with no await in between (no finalizer of another file's optimizer can run):
      // from an empty pool, one optimizer's refresh step grows it; three more of the same shape
      // add nothing (with a workspace per optimizer they would add three times as much).
      releaseWorkspace('cpu');
      const base = memoryStats('cpu').current.workspace;
      od.step(); // step 5 (updateGap 2): a refresh, as are the others' below
      const one = memoryStats('cpu').current.workspace - base;
      oa.step();
      ob.step();
      oc.step();
      expect(memoryStats('cpu').current.workspace - base).toBe(one);
      expect(one).toBeGreaterThan(0);
    } finally {
      [oa, ob, oc, od].forEach((o) => o.dispose());
    }
  });
});
