// The CUDA kernels, checked on machines without a GPU: test/kernel-sim/ translates cuda/*.cu into
// C++ for a simulator (threads as fibers, exact barriers, both run orders), builds it with g++
// together with the CPU backend, and compares every kernel launcher with the CPU reference bit for
// bit (test/kernel-sim/README.md says what that does and does not cover). Needs nvcc's headers;
// without them the test is skipped and says why.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface SimBuild {
  binary?: string;
  skip?: string;
  sanitized?: boolean;
  seconds?: number;
  kernels?: { name: string; file: string }[];
  hostOnly?: string[];
}
interface SimBuilder {
  build(options: { outDir: string }): Promise<SimBuild>;
  findCudaInclude(): { dir?: string; skip?: string };
}
// Plain Node, so the build can also be run by hand: node test/kernel-sim/build.js --run
const builder = require('./kernel-sim/build.js') as SimBuilder;

// Checks in test/kernel-sim/checks: both run orders and the self-checks. The binary adds one
// coverage check per kernel found under cuda/. Changing the checks means changing this number.
const EXPECTED_CHECKS = 4276;

const cuda = builder.findCudaInclude();
if (cuda.skip) console.log(`kernel-sim.test.ts: skipped: ${cuda.skip} (the CUDA headers are needed, not a GPU)`);
const maybe = cuda.skip ? it.skip : it;

function runBinary(binary: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, [], { cwd: path.resolve(__dirname, '..') });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('CUDA kernels on the kernel simulator', () => {
  maybe(
    'every launcher matches the CPU backend bit for bit, and every kernel ran',
    async () => {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-sim-'));
      const built = await builder.build({ outDir });
      expect(built.skip).toBeUndefined();
      const run = await runBinary(built.binary as string, 80_000);
      const summary = /^kernel-sim: (\d+) passed, (\d+) failed$/m.exec(run.out);
      const expected = EXPECTED_CHECKS + (built.kernels?.length ?? 0);
      const ok = run.code === 0 && summary !== null && Number(summary[1]) === expected && summary[2] === '0';
      if (!ok) {
        // Keep the build for a rerun by hand; show the end of the output (failures, sanitizer reports).
        throw new Error(
          `kernel-sim failed (exit ${run.code}; expected "${expected} passed, 0 failed"); build kept in ${outDir}\n` +
            run.out.slice(-8000),
        );
      }
      console.log(
        `kernel-sim: ${summary[1]} checks passed; ${built.kernels?.length} kernels; built in ` +
          `${built.seconds?.toFixed(1)} s (${built.sanitized ? 'ASan + UBSan' : 'no sanitizers available'}); ` +
          `not simulated here (host glue; model kernels: test/model-kernel-sim.test.ts): ${built.hostOnly?.join(', ') || 'none'}`,
      );
      fs.rmSync(outDir, { recursive: true, force: true });
    },
    120_000,
  );
});
