// Seeded random calls over the public API (test/children/fuzz-worker.js), in child processes so
// a crash is a failed test: no crash (exit status, signal), no hang (timeout), every refusal an
// Error that names what it refused, and no tensor changed by a refused call. A few thousand calls
// in a few seconds. FUZZ_SEED=n picks other seeds; a failure prints the seed and how to replay it.
import { runChildScript } from './helpers/child';

const BASE = Number(process.env.FUZZ_SEED ?? 20261202);
const RUNS = 4;
const CALLS = 800;

describe('fuzz: random calls over the public API', () => {
  for (let i = 0; i < RUNS; i++) {
    const seed = BASE + i;
    test(`seed ${seed}: ${CALLS} calls, no crash, no hang, clear refusals, nothing changed by a refusal`, () => {
      const r = runChildScript('test/children/fuzz-worker.js', { args: [String(seed), String(CALLS)], timeoutMs: 60_000 });
      const replay = `replay: node -r ./test/children/ts-register.js test/children/fuzz-worker.js ${seed} ${CALLS}`;
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || r.signal !== null) {
        const why = r.signal === 'SIGKILL' ? 'hung (killed after 60 s)' : `exit status ${r.status}, signal ${r.signal}`;
        throw new Error(`fuzz seed ${seed}: ${why}\n${last}\n${r.stderr.slice(-2000)}\n${replay}`);
      }
      const out = JSON.parse(last) as { ok: boolean; calls: number; refused: number };
      expect(out.ok).toBe(true);
      expect(out.calls).toBe(CALLS);
      // Both sides exercised: some calls refused, most not.
      expect(out.refused).toBeGreaterThan(CALLS / 20);
      expect(out.refused).toBeLessThan(CALLS * 0.9);
    });
  }
});
