// Review of stepAsync() (issue 10) as a hostile user would use it: ends of the JS environment
// while a step is on libuv's pool, and many optimizers stepping at once.
import * as path from 'path';
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
