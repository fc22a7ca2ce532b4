// The CPU thread pool when the system refuses a thread (std::thread throws std::system_error):
// setNumThreads fails naming the thread, joins the workers it had started and keeps the old pool
// working; a first use runs with the threads it got. The refusal is made by the core's test hook
// (native/core/test_hooks.h), in child processes: the pool is process-wide, and before this was
// handled a refusal ended the process (std::terminate from a joinable std::thread).
import * as path from 'path';
import { childJson, ROOT, runChildCode } from './helpers/child';

const NATIVE = JSON.stringify(path.join(ROOT, 'lib', 'native'));

// Steps AdamW on a 64 x 64 param (the optimizer's loops run on the pool) and returns its values.
const STEP = `
function stepOnce() {
  const p = lib.Tensor.randn([64, 64], { seed: 1 });
  p.grad = lib.Tensor.randn([64, 64], { seed: 2 });
  new lib.AdamW([p], { lr: 0.01 }).step();
  return Array.from(p.toArray().slice(0, 4));
}
const osThreads = () => require('fs').readdirSync('/proc/self/task').length;
`;

describe('the thread pool when a thread cannot start', () => {
  test('setNumThreads: a clear error naming the thread, the started workers joined, the old pool kept', () => {
    const r = runChildCode(
      `${STEP}
      const n = require(${NATIVE}).native();
      lib.setNumThreads(2);
      const reference = stepOnce();
      const threadsBefore = osThreads();
      n._debugFailThreadStartAt(4);
      let message = null, code = null;
      try { lib.setNumThreads(6); } catch (e) { message = e.message; code = e.code; }
      const threadsAfter = osThreads();
      const kept = lib.numThreads();
      const paths = n._debugPaths();
      const after = stepOnce();
      lib.setNumThreads(6); // the hook fired once: now the pool grows
      console.log(JSON.stringify({ message, code, kept, threadsBefore, threadsAfter,
     poolThreads: paths.poolThreads, same: JSON.stringify(after) === JSON.stringify(reference), grown: lib.numThreads() }));`,
      { timeoutMs: 60_000 },
    );
    const out = childJson<{
      message: string; code: string; kept: number; threadsBefore: number; threadsAfter: number;
      poolThreads: number; same: boolean; grown: number;
    }>(r);
    expect(out.message).toBe(
      'setNumThreads(6): could not start thread 5 of 6: thread start refused by a test hook: Resource temporarily unavailable; ' +
        'the pool keeps its 2 threads',
    );
    expect(out.code).toBe('FRUGAL_ERR_OUT_OF_MEMORY');
    expect(out.kept).toBe(2);
    expect(out.poolThreads).toBe(2);
    // The three workers that did start (slots 1..3) were joined, not left running.
    expect(out.threadsAfter).toBe(out.threadsBefore);
    // The old pool still works, with the same results.
    expect(out.same).toBe(true);
    expect(out.grown).toBe(6);
  });

  test('first use: the pool runs with the threads it got and says so once on stderr', () => {
    const r = runChildCode(
      `${STEP}
      // Read by the pool when it starts (getenv), which is after this line.
      process.env.FRUGAL_NUM_THREADS = '4';
      const n = require(${NATIVE}).native();
      n._debugFailThreadStartAt(2);
      const values = stepOnce();
      console.log(JSON.stringify({ threads: lib.numThreads(), poolThreads: n._debugPaths().poolThreads, values }));`,
      { timeoutMs: 60_000 },
    );
    const out = childJson<{ threads: number; poolThreads: number; values: number[] }>(r);
    expect(out.threads).toBe(2);
    expect(out.poolThreads).toBe(2);
    expect(out.values.every(Number.isFinite)).toBe(true);
    const notes = r.stderr.match(/frugal-optim: CPU thread pool: [^\n]*/g);
    expect(notes).toEqual([
      'frugal-optim: CPU thread pool: could not start thread 3 of 4: thread start refused by a test hook: ' +
        'Resource temporarily unavailable; running with 2 threads',
    ]);
  });
});
