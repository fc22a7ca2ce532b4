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

// Checks in test/kernel-sim/checks, as the binary's group lines print them: each run order
// (forward, reverse) runs tensor ops 209, elementwise_step 456, elementwise_step split 611,
// indexed_step 1953, compressed_direction / dense_apply 125, reductions 120, non-finite skip 31,
// linalg 160 (3665); then the cuda_backend host glue on the fake runtime 40 and the self-checks 21:
// 2 * 3665 + 40 + 21 = 7391. (Every elementwise job and indexed case includes 1 + its rule's state
// slots float64-model checks.) Lion added 64 indexed checks (12 cases: p, m and g compares, gc for
// the 6 that pass one, and the float64 model's p and m, or one slot-steps compare for 2 of them)
// and 16 compressed ones (8 cases: gc and m); its elementwise jobs took the place of others in the job cycle, with
// the same count. The binary adds one coverage check per kernel, and the kernels are counted here
// from the sources. Changing the checks means changing this number.
const EXPECTED_CHECKS = 7391;

/**
 * Every __global__ function defined in cuda/*.cu and cuda/*.cuh, found here in the sources,
 * independently of the generator's manifest (cuda/model has its own test).
 */
function sourceKernels(): string[] {
  const dir = path.resolve(__dirname, '..', 'cuda');
  const names: string[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cu') || x.endsWith('.cuh')).sort()) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(/g)) names.push(m[1]);
  }
  return names;
}

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
      // The coverage checks run over the generator's manifest: it must list exactly the kernels
      // the sources define, so a kernel the manifest missed cannot escape the "never launched" check.
      const kernels = sourceKernels();
      expect(kernels.length).toBeGreaterThan(0);
      expect((built.kernels ?? []).map((k) => k.name).sort()).toEqual(kernels.slice().sort());
      // About 20 s unsanitized on two idle cores, a minute with ASan; more on a loaded machine.
      const run = await runBinary(built.binary as string, 300_000);
      const summary = /^kernel-sim: (\d+) passed, (\d+) failed$/m.exec(run.out);
      const expected = EXPECTED_CHECKS + kernels.length;
      const ok = run.code === 0 && summary !== null && Number(summary[1]) === expected && summary[2] === '0';
      if (!ok) {
        // Keep the build for a rerun by hand; show the end of the output (failures, sanitizer reports).
        throw new Error(
          `kernel-sim failed (exit ${run.code}; expected "${expected} passed, 0 failed"); build kept in ${outDir}\n` +
            run.out.slice(-8000),
        );
      }
      // The planted defects of checks/self_test_kernels.cu, as the simulator reports them.
      expect(run.out).toMatch(/\[planted lost update\] lost_update_kernel: data race \(.+\) on global memory .* between block \(\d+,0,0\) thread \(\d+,0,0\) and block/);
      expect(run.out).toMatch(/\[planted shared lost update\] shared_lost_update_kernel: data race \(.+\) on shared memory/);
      expect(run.out).toMatch(/\[planted divergent shuffle\] divergent_shuffle_kernel: block \(\d,0,0\), warp 0: __shfl_down_sync .* lane 16 returned/);
      console.log(
        `kernel-sim: ${summary[1]} checks passed; ${built.kernels?.length} kernels; built in ` +
          `${built.seconds?.toFixed(1)} s (${built.sanitized ? 'ASan + UBSan' : 'no sanitizers available'}); ` +
          `not simulated here (host glue; model kernels: test/model-kernel-sim.test.ts): ${built.hostOnly?.join(', ') || 'none'}`,
      );
      fs.rmSync(outDir, { recursive: true, force: true });
    },
    // The build (translations, simulator, checks, CPU backend and the core's host side, with ASan)
    // takes about a minute on two idle cores and several on a loaded machine.
    600_000,
  );
});
