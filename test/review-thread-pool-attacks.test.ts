// Issue 10 review (adversarial): the CPU thread pool refused a thread at each slot in turn, then
// used on (steps give the same numbers); and resized while steps run off the JS thread
// (stepAsync). In a child process: the pool is process-wide, and a crash must not take jest down.
import * as path from 'path';
import { childJson, ROOT, runChildCode } from './helpers/child';

const NATIVE = JSON.stringify(path.join(ROOT, 'lib', 'native'));

const STEP = `
function make() {
  const p = lib.Tensor.randn([512, 256], { seed: 1 });
  p.grad = lib.Tensor.randn([512, 256], { seed: 2 });
  return { p, opt: new lib.Frugal([p], { lr: 0.01, selection: 'columns', density: 0.25, resetStatistics: false, updateGap: 2 }) };
}
function stepOnce() {
  const r = make();
  for (let t = 0; t < 3; t++) r.opt.step();
  return JSON.stringify(Array.from(r.p.toArray()));
}`;

describe('review: thread pool', () => {
  test('a thread refused at every slot in turn: a clear error each time, then the pool works on', () => {
    const r = runChildCode(
      `${STEP}
      const n = require(${NATIVE}).native();
      lib.setNumThreads(1);
      const reference = stepOnce();
      const out = [];
      for (let slot = 1; slot <= 5; slot++) {
        n._debugFailThreadStartAt(slot);
        let message = null;
        try { lib.setNumThreads(6); } catch (e) { message = e.message; }
        out.push({ slot, message, threads: lib.numThreads(), same: stepOnce() === reference });
        lib.setNumThreads(1 + (slot % 3));
        out.push({ slot, after: lib.numThreads(), same: stepOnce() === reference });
      }
      console.log(JSON.stringify(out));`,
      { timeoutMs: 120_000 },
    );
    const out = childJson<{ slot: number; message?: string | null; threads?: number; after?: number; same: boolean }[]>(r);
    expect(out.every((o) => o.same)).toBe(true);
    for (const o of out.filter((x) => x.message !== undefined)) {
      expect(o.message).toMatch(new RegExp(`^setNumThreads\\(6\\): could not start thread ${o.slot + 1} of 6: .*; the pool keeps its \\d threads$`));
    }
    expect(out.filter((x) => x.after !== undefined).map((x) => x.after)).toEqual([2, 3, 1, 2, 3]);
  });

  test('setNumThreads while stepAsync steps run: every step gives the one-thread numbers', () => {
    const r = runChildCode(
      `${STEP}
      const n = require(${NATIVE}).native();
      lib.setNumThreads(1);
      const reference = stepOnce();
      n._debugResetPaths();
      (async () => {
        const runs = Array.from({ length: 6 }, make);
        const results = [];
        for (let t = 0; t < 3; t++) {
          const pending = runs.map((x) => x.opt.stepAsync());
          for (let k = 1; k <= 4; k++) lib.setNumThreads(k);
          results.push(...(await Promise.allSettled(pending)).map((s) => s.status));
        }
        console.log(JSON.stringify({ loopThreads: n._debugPaths().loopThreads, results, same: runs.map((x) => JSON.stringify(Array.from(x.p.toArray())) === reference) }));
      })().catch((e) => { console.error(e); process.exit(3); });`,
      { timeoutMs: 120_000 },
    );
    const out = childJson<{ loopThreads: number; results: string[]; same: boolean[] }>(r);
    // The loops did run on several threads (the pool was in use while it was resized).
    expect(out.loopThreads).toBeGreaterThan(1);
    expect(out.results).toEqual(Array(18).fill('fulfilled'));
    expect(out.same).toEqual(Array(6).fill(true));
  });
});
