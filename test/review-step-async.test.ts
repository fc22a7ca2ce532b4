// Review of stepAsync() (issue 10) as a hostile user would use it: ends of the JS environment
// while a step is on libuv's pool, and many optimizers stepping at once.
import * as path from 'path';
import { AdamW, Frugal, GaLore, Grass, Optimizer, SGD, Tensor } from '../lib';
import { childJson, ROOT, runChildCode } from './helpers/child';

describe('a worker thread terminated while its stepAsync() runs', () => {
  test('the process lives on: the step settles into an environment that can no longer run JS', () => {
    // Node waits for the worker's pending step before freeing the environment, then completes it
    // where no promise can be resolved: that must be a quiet no-op, not an abort of the process.
    const r = runChildCode(
      `
      const { Worker } = require('worker_threads');
      const code = \`
        const { parentPort } = require('worker_threads');
        const { GaLore, Tensor } = require(${JSON.stringify(path.join(ROOT, 'lib'))});
        const p = Tensor.randn([384, 768], { seed: 1 });
        p.grad = Tensor.randn([384, 768], { seed: 2 });
        const opt = new GaLore([p], { lr: 1e-3, rank: 96, updateGap: 10 });
        opt.stepAsync().then(() => parentPort.postMessage('settled'));
        parentPort.postMessage('started');
      \`;
      (async () => {
        let terminated = 0;
        for (let i = 0; i < 2; i++) {
          const w = new Worker(code, { eval: true });
          await new Promise((res, rej) => { w.on('message', (m) => m === 'started' && res()); w.on('error', rej); });
          await w.terminate();
          terminated++;
        }
        console.log(JSON.stringify({ terminated }));
      })().catch((e) => { console.error(e); process.exit(3); });
      `,
      { timeoutMs: 120_000 },
    );
    expect(childJson<{ terminated: number }>(r).terminated).toBe(2);
  }, 150_000);
});

describe('many optimizers of different methods and shapes stepAsync at once on the CPU', () => {
  const MAKERS: ((ps: Tensor[]) => Optimizer)[] = [
    (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 }),
    (ps) => new GaLore(ps, { lr: 0.01, rank: 8, updateGap: 2 }),
    (ps) => new GaLore(ps, { lr: 0.01, rank: 3, updateGap: 3, side: 'left' }),
    (ps) => new Grass(ps, { lr: 0.01, rank: 4, updateGap: 2, seed: 9 }),
    (ps) => new Frugal(ps, { lr: 0.01, density: 0.25, updateGap: 2, selectionKind: 'columns' }),
    (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9 }),
    (ps) => new AdamW(ps, { lr: 0.01, nonFinite: 'error' }),
  ];
  const SHAPES = [[40, 24], [16, 64], [33, 17], [24, 40], [8, 8], [12, 20], [20, 12]];
  const params = (i: number) => [Tensor.randn(SHAPES[i], { seed: 100 + i }), Tensor.randn([SHAPES[i][1]], { seed: 200 + i })];
  const grads = (ps: Tensor[], i: number, step: number, poison: boolean) =>
    ps.forEach((p, j) => {
      p.grad?.dispose();
      const g = Tensor.randn(p.shape, { seed: 1000 * step + 10 * i + j }).toArray() as Float32Array;
      if (poison && j === 0) g[5] = Number.NaN;
      p.grad = Tensor.fromArray(g, p.shape);
    });
  const bytes = (t: Tensor) => Buffer.from((t.toArray() as Float32Array).buffer).toString('hex');

  test('each equals its sequential twin bit for bit (the shared workspace pool leased in turn); a failing one rejects alone', async () => {
    const concurrent = MAKERS.map((make, i) => make(params(i)));
    const sequential = MAKERS.map((make, i) => make(params(i)));
    try {
      for (let step = 0; step < 5; step++) {
        // Step 3: the last optimizer's gradient is NaN under nonFinite 'error'.
        const poison = (i: number) => step === 3 && i === MAKERS.length - 1;
        concurrent.forEach((o, i) => grads(o.params, i, step, poison(i)));
        sequential.forEach((o, i) => grads(o.params, i, step, poison(i)));
        const settled = await Promise.allSettled(concurrent.map((o) => o.stepAsync()));
        const expected = sequential.map((o) => {
          try {
            o.step();
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        });
        expect(settled.map((s) => (s.status === 'rejected' ? (s.reason as Error).message : null))).toEqual(expected);
        expect(expected.filter((m) => m !== null).length).toBe(step === 3 ? 1 : 0);
      }
      expect(concurrent.map((o) => o.params.map(bytes))).toEqual(sequential.map((o) => o.params.map(bytes)));
      expect(concurrent.map((o) => o.steps)).toEqual(sequential.map((o) => o.steps));
    } finally {
      [...concurrent, ...sequential].forEach((o) => o.dispose());
    }
  }, 60_000);
});
