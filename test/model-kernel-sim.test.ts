// The model's CUDA kernels, checked without a GPU: cuda/model/*.cu go through test/kernel-sim's
// translator and run on its simulator (threads as fibers, exact barriers, two run orders), next
// to the CPU model ops, in test/model-kernel-sim-checks.cpp. Needs nvcc's headers and g++; without
// them the test is skipped and says why. On a GPU, test/model-cuda.test.ts checks the real thing.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const SIM = path.join(ROOT, 'test', 'kernel-sim');
const { RACE_DETECTOR_FLAGS } = require(path.join(SIM, 'race_flags.js')) as { RACE_DETECTOR_FLAGS: string[] };

interface Generator {
  generate(root: string, outDir: string): unknown;
  generateFile(source: string, target: string): string[];
}
interface SimBuilder {
  findCudaInclude(): { dir?: string; skip?: string };
}

function run(cmd: string, args: string[], cwd = ROOT): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

// Checks in test/model-kernel-sim-checks.cpp, besides one coverage check per kernel, from its
// case lists (each case: its outputs compared + one both-run-orders check): attention 3 shapes x
// (5 + 1) = 18, rmsnorm 2 weight dtypes x (4 + 1) = 10, rope 2 + 1, swiglu/axpy/gather 6 + 1,
// cross-entropy 2 vocab sizes x (2 + 1) = 6, embedding 2 dtypes x 2 accumulations x (2 + 1) = 12,
// the scratch counted in the ledger's workspace 5. A case added or lost changes this number.
const MODEL_CHECKS = 61;

/** Every __global__ function defined under cuda/model, found in the sources (not a hand-kept list). */
export function modelKernels(): string[] {
  const dir = path.join(ROOT, 'cuda', 'model');
  const names: string[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cu') || x.endsWith('.cuh'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(/g)) names.push(m[1]);
  }
  return names;
}

const haveSim = fs.existsSync(path.join(SIM, 'generate.js')) && fs.existsSync(path.join(SIM, 'build.js'));
const cuda = haveSim ? (require(path.join(SIM, 'build.js')) as SimBuilder).findCudaInclude() : { skip: 'test/kernel-sim is missing' };
const skip = cuda.skip;
if (skip) console.log(`model-kernel-sim.test.ts: skipped: ${skip}`);
const maybe = skip ? it.skip : it;

async function buildAndRun(outDir: string, sanitize: boolean): Promise<{ code: number | null; out: string }> {
  const { generate, generateFile } = require(path.join(SIM, 'generate.js')) as Generator;
  const gen = path.join(outDir, 'gen');
  fs.mkdirSync(gen, { recursive: true });
  // The backend's sources give the shared headers (cuda_check.cuh, device_env.cuh) their
  // translated form; the model's files are translated next to them.
  generate(ROOT, gen);
  const modelDir = path.join(gen, 'cuda', 'model');
  fs.mkdirSync(modelDir, { recursive: true });
  const units: string[] = [];
  for (const f of fs.readdirSync(path.join(ROOT, 'cuda', 'model'))) {
    const src = path.join(ROOT, 'cuda', 'model', f);
    if (f.endsWith('.h')) fs.copyFileSync(src, path.join(modelDir, f));
    // Host glue: the GEMM over the backend's (simulated by kernel-sim), the ModelBackend adapter.
    else if (f === 'model_gemm.cu' || f === 'model_backend.cu') continue;
    else if (f.endsWith('.cu') || f.endsWith('.cuh')) units.push(...generateFile(src, path.join(modelDir, f)).filter((u) => u.endsWith('.cu')));
  }
  // The model sources include ../../native/... relative to cuda/model.
  fs.symlinkSync(path.join(ROOT, 'native'), path.join(gen, 'native'));

  const common = ['-std=c++20', '-O1', '-pthread', '-ffp-contract=off'];
  if (sanitize) common.push('-fsanitize=address,undefined', '-fno-sanitize-recover=all');
  const include = [path.join(gen, 'cuda'), gen, path.join(SIM, 'sim'), path.join(ROOT, 'native/include'), path.join(ROOT, 'native'), cuda.dir as string]
    .flatMap((d) => ['-I', d]);
  const sources: [string, string[]][] = [
    // RACE_DETECTOR_FLAGS: the simulator's race detector sees every load and store of the kernels.
    ...units.map((u): [string, string[]] => [u, ['-x', 'c++', '-include', path.join(SIM, 'sim', 'sim_cuda.h'), ...RACE_DETECTOR_FLAGS]]),
    ...fs.readdirSync(path.join(SIM, 'sim')).filter((f) => f.endsWith('.cpp')).map((f): [string, string[]] => [path.join(SIM, 'sim', f), []]),
    ...['cpu_gemm', 'cpu_row_ops', 'cpu_attention', 'cpu_cross_entropy'].map(
      (f): [string, string[]] => [path.join(ROOT, 'native', 'cpu', 'model', `${f}.cpp`), []],
    ),
    [path.join(ROOT, 'native', 'cpu', 'thread_pool.cpp'), []],
    // The launchers lease their device scratch from the real workspace pool and ledger, on the
    // simulated GPU's memory (model-kernel-sim-device.cpp stands in for the device registry).
    [path.join(ROOT, 'native', 'core', 'workspace_pool.cpp'), []],
    [path.join(ROOT, 'native', 'core', 'memory.cpp'), []],
    [path.join(ROOT, 'test', 'model-kernel-sim-device.cpp'), []],
    [path.join(ROOT, 'native', 'core', 'host_linalg.cpp'), []],
    [path.join(ROOT, 'native', 'core', 'host_svd.cpp'), []],
    // The debug record of paths taken (GEMM kernel, pool size) that the model ops write to.
    [path.join(ROOT, 'native', 'cpu', 'path_counters.cpp'), []],
    [path.join(ROOT, 'test', 'model-kernel-sim-checks.cpp'), []],
  ];
  const objects: string[] = [];
  // Two compilers at a time: CI has two cores.
  for (let i = 0; i < sources.length; i += 2) {
    const batch = sources.slice(i, i + 2).map(async ([src, extra], j) => {
      const obj = path.join(outDir, `${i + j}-${path.basename(src)}.o`);
      const r = await run('g++', [...common, ...include, ...extra, '-c', src, '-o', obj]);
      if (r.code !== 0) throw new Error(`compiling ${path.relative(ROOT, src)} failed:\n${r.out}`);
      return obj;
    });
    objects.push(...(await Promise.all(batch)));
  }
  const binary = path.join(outDir, 'model-kernel-sim');
  const linked = await run('g++', [...common, ...objects, '-o', binary]);
  if (linked.code !== 0) throw new Error(`linking failed:\n${linked.out}`);
  return run(binary, modelKernels());
}

describe('model CUDA kernels on the kernel simulator', () => {
  maybe(
    'match the CPU model ops, identically in both run orders',
    async () => {
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-kernel-sim-'));
      try {
        // Sanitizers catch out-of-bounds indexing in the kernels; not every image has libasan.
        fs.writeFileSync(path.join(outDir, 'probe.cpp'), 'int main() { return 0; }\n');
        const probe = await run('g++', ['-fsanitize=address,undefined', path.join(outDir, 'probe.cpp'), '-o', path.join(outDir, 'probe')]);
        const sanitize = probe.code === 0 && (await run(path.join(outDir, 'probe'), [])).code === 0;
        const result = await buildAndRun(outDir, sanitize);
        const summary = /^modelsim: (\d+) passed, (\d+) failed/m.exec(result.out);
        if (result.code !== 0 || !summary || summary[2] !== '0') throw new Error(result.out.slice(-4000));
        // Exactly the checks of the table plus one per kernel found in the sources.
        const kernels = modelKernels();
        expect(kernels.length).toBeGreaterThan(0);
        expect(Number(summary[1])).toBe(MODEL_CHECKS + kernels.length);
      } finally {
        fs.rmSync(outDir, { recursive: true, force: true });
      }
    },
    600_000,
  );
});
