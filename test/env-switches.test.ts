// The environment switches the native code reads (grep getenv native/ cuda/), each set in a
// child process's real environment, with the addon's _debugPaths() record proving which path the
// child took and a control run without the switch (or with another value) that takes another.
// FRUGAL_CPU_GENERIC_LOOPS has its own file (cpu-loops.test.ts), which also compares the bits.
import * as fs from 'fs';
import { childJson, runJsChild, runNodeChild } from './helpers/env-child';
import { native, NativeDebugPaths } from '../lib/native';

/** What a child reports of the addon's debug record (its notes; counts are not needed here). */
type Paths = Omit<NativeDebugPaths, 'counts'>;
interface GemmChild extends Paths {
  worst: number;
  stderr: string;
}

// A 200 x 150 x 300 fp32 GEMM on the CPU (several tiles, so the thread pool starts), checked
// against a double-precision sum in the child.
const GEMM = `
  const n = 150, k = 300, m = 200, p = (x) => addon.hostAddress(x);
  const a = new Float32Array(m * k).map((_, i) => Math.sin(i)), b = new Float32Array(k * n).map((_, i) => Math.cos(i));
  const c = new Float32Array(m * n);
  addon.model.gemm(-1, false, false, m, n, k, 1, p(a), 0, k, p(b), 0, n, 0, p(c), 0, n);
  let worst = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0; for (let q = 0; q < k; q++) s += a[i * k + q] * b[q * n + j];
    worst = Math.max(worst, Math.abs(s - c[i * n + j]));
  }
  process.stdout.write(JSON.stringify({ ...addon._debugPaths(), worst }) + '\\n');`;

async function gemmChild(env: Record<string, string>): Promise<GemmChild> {
  const r = await runJsChild(GEMM, env);
  return { ...childJson<Paths & { worst: number }>(r), stderr: r.stderr };
}

// What this CPU offers, read independently of the addon's own detection.
const flags = new Set((/^flags\s*:(.*)$/m.exec(fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ?? '').trim().split(/\s+/));
const x86 = process.arch === 'x64';
const HAS = { avx2: x86 && flags.has('avx2') && flags.has('fma'), avx512: x86 && flags.has('avx512f') };

describe('FRUGAL_GEMM_KERNEL', () => {
  it('portable: the portable micro kernel runs, whatever the CPU offers', async () => {
    const r = await gemmChild({ FRUGAL_GEMM_KERNEL: 'portable' });
    expect(r).toMatchObject({ gemmRequested: 'portable', gemmKernel: 'portable', gemmNote: '' });
    expect(r.worst).toBeLessThan(1e-3);
  });

  it.each(['avx2', 'avx512'] as const)('%s: runs when the CPU has it, and says so when it does not', async (kernel) => {
    const r = await gemmChild({ FRUGAL_GEMM_KERNEL: kernel });
    expect(r.worst).toBeLessThan(1e-3);
    expect(r.gemmRequested).toBe(kernel);
    if (HAS[kernel]) {
      expect(r.gemmKernel).toBe(kernel);
      expect(r.gemmNote).toBe('');
      expect(r.stderr).not.toMatch(/FRUGAL_GEMM_KERNEL/);
    } else {
      // Not silently portable: the fallback is reported and written to stderr.
      console.log(`this CPU lacks ${kernel}: checking that the fallback (${r.gemmKernel}) is reported`);
      expect(r.gemmKernel).not.toBe(kernel);
      expect(r.gemmNote).toMatch(new RegExp(`FRUGAL_GEMM_KERNEL=${kernel} requested, but this CPU \\(or build\\) lacks`));
      expect(r.stderr).toMatch(new RegExp(`FRUGAL_GEMM_KERNEL=${kernel} requested.*using the ${r.gemmKernel} GEMM kernel`));
    }
  });

  it('control: unset, the best kernel the CPU has runs (so portable above was the switch)', async () => {
    const r = await gemmChild({});
    expect(r).toMatchObject({ gemmRequested: '', gemmNote: '' });
    expect(r.gemmKernel).toBe(HAS.avx512 ? 'avx512' : HAS.avx2 ? 'avx2' : 'portable');
    if (!HAS.avx2) console.log('this CPU lacks AVX2: the control cannot tell the switch from the default here');
  });

  it('a name that is not a kernel is reported, not taken silently', async () => {
    const r = await gemmChild({ FRUGAL_GEMM_KERNEL: 'avx3' });
    expect(r.gemmNote).toBe('FRUGAL_GEMM_KERNEL=avx3 is not one of portable, avx2, avx512; ignored');
    expect(r.stderr).toMatch(/FRUGAL_GEMM_KERNEL=avx3 is not one of portable, avx2, avx512; ignored; using the \w+ GEMM kernel/);
  });
});

describe('FRUGAL_NUM_THREADS', () => {
  it.each([
    ['1', 1],
    ['3', 3],
  ])('=%s sizes the model thread pool to %i', async (value, threads) => {
    expect((await gemmChild({ FRUGAL_NUM_THREADS: value })).poolThreads).toBe(threads);
  });

  it('control: unset, the pool has one thread per hardware thread', async () => {
    const r = await gemmChild({});
    expect(r.poolThreads).toBe(require('os').cpus().length);
  });
});

// The optimizer's loops run on the same pool as the model ops. A child steps AdamW on a 2^20
// element param (32 chunks of the loop's 2^15 minimum, so every pool thread gets one) and reports
// how many distinct threads ran loop chunks (loopThreads, counted from _debugResetPaths() on).
// `before` runs first (on `lib`), `between` after the first steps, before the second.
interface LoopChild {
  first: { loopThreads: number; poolThreads: number };
  second: { loopThreads: number; poolThreads: number };
}
async function loopChild(env: Record<string, string>, before = '', between = ''): Promise<LoopChild> {
  const script = `require('ts-node').register({ transpileOnly: true, project: 'test/tsconfig.json' });
    const lib = require('./lib');
    const { native } = require('./lib/native');
    ${before}
    const p = lib.Tensor.zeros([1 << 20]);
    p.grad = lib.Tensor.randn([1 << 20], { seed: 1 });
    const opt = new lib.AdamW([p], { lr: 0.01 });
    const steps = () => {
      native()._debugResetPaths();
      for (let i = 0; i < 5; i++) opt.step();
      const { loopThreads, poolThreads } = native()._debugPaths();
      return { loopThreads, poolThreads };
    };
    const first = steps();
    ${between}
    const second = steps();
    process.stdout.write(JSON.stringify({ first, second }) + '\\n');`;
  return childJson<LoopChild>(await runNodeChild(script, env));
}

describe('the optimizer loops share the CPU thread pool', () => {
  it.each([
    ['1', 1],
    ['3', 3],
  ])('FRUGAL_NUM_THREADS=%s: %i threads run the loops, the same ones at every step', async (value, threads) => {
    const r = await loopChild({ FRUGAL_NUM_THREADS: value });
    // Five steps of several loops each: threads started per call would count anew every time.
    expect(r.first).toEqual({ loopThreads: threads, poolThreads: threads });
    expect(r.second).toEqual(r.first);
  });

  it('control: unset, one thread per hardware thread runs them', async () => {
    const cores = Math.min(require('os').cpus().length, 32);
    const r = await loopChild({});
    expect(r.first.loopThreads).toBe(cores);
  });

  it('setNumThreads resizes the pool for the loops (and 0 goes back to FRUGAL_NUM_THREADS)', async () => {
    const r = await loopChild({ FRUGAL_NUM_THREADS: '3' }, 'lib.setNumThreads(2);', 'lib.setNumThreads(0);');
    expect(r.first).toEqual({ loopThreads: 2, poolThreads: 2 });
    expect(r.second).toEqual({ loopThreads: 3, poolThreads: 3 });
  });

  it('the trainer\'s --threads sizes the pool the optimizer loops use', async () => {
    // A two-step micro run with threads: 2 under FRUGAL_NUM_THREADS=3; then the big param's steps.
    const train = `const { train } = require('./lib/train/trainer');
      const { microRun } = require('./test/helpers/seeded');
      const dir = require('fs').mkdtempSync('/tmp/frugal-threads-');
      train(microRun(dir, { optimizer: 'adamw', steps: 2, threads: 2 }));
      require('fs').rmSync(dir, { recursive: true });`;
    const r = await loopChild({ FRUGAL_NUM_THREADS: '3' }, train);
    expect(r.first).toEqual({ loopThreads: 2, poolThreads: 2 });
  });

  it('setNumThreads refuses a count outside 0..256, naming it', () => {
    const lib = require('../lib') as typeof import('../lib');
    expect(() => lib.setNumThreads(257)).toThrow(/^setNumThreads: threads: expected an integer from 1 to 256, or 0 for the default, got 257$/);
    expect(() => lib.setNumThreads(1.5)).toThrow(/threads: expected an integer/);
    expect(() => native().setNumThreads(-1)).toThrow(/^threads: expected an integer in \[0, 256\], got -1$/);
    expect(lib.numThreads()).toBeGreaterThanOrEqual(1);
  });
});

// cuBLAS and cuSOLVER are loaded on the first call that needs them, which needs a CUDA device.
const cudaDevices = native().cudaDeviceCount();
const describeCuda = cudaDevices > 0 ? describe : describe.skip;
if (cudaDevices === 0) console.log(`FRUGAL_CUBLAS_PATH / FRUGAL_CUSOLVER_PATH tests skipped: no CUDA device (${native().cudaUnavailableReason() || 'none found'})`);

const MATH = `addon.cudaMathAvailable(0); process.stdout.write(JSON.stringify(addon._debugPaths()) + '\\n');`;

describeCuda.each([
  ['FRUGAL_CUBLAS_PATH', 'cublasPath'],
  ['FRUGAL_CUSOLVER_PATH', 'cusolverPath'],
] as const)('%s', (variable, field) => {
  it('the override is the file loaded; unset (the control), a system soname is', async () => {
    const plain = childJson<Paths>(await runJsChild(MATH, {}));
    expect(plain[field]).toMatch(/^lib(cublas|cusolver)\.so/);
    // The same library under a path no soname search would produce: only the override finds it.
    const dir = fs.mkdtempSync('/tmp/frugal-mathlib-');
    const linked = `${dir}/override-${plain[field]}`;
    // Where the loader found the soname: the mapped file, read from a child's /proc/self/maps.
    const found = childJson<{ path: string }>(
      await runJsChild(`addon.cudaMathAvailable(0);
        const line = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').find((l) => l.includes(${JSON.stringify(plain[field])}.split('.so')[0] + '.so'));
        process.stdout.write(JSON.stringify({ path: line.slice(line.indexOf('/')) }) + '\\n');`, {}),
    );
    fs.symlinkSync(found.path, linked);
    const over = childJson<Paths>(await runJsChild(MATH, { [variable]: linked }));
    expect(over[field]).toBe(linked);
    fs.rmSync(dir, { recursive: true });
  });

  it('an override that does not load is reported on stderr before the system library is used', async () => {
    const r = await runJsChild(MATH, { [variable]: '/nonexistent/libfrugal-test.so' });
    const paths = childJson<Paths>(r);
    expect(paths[field]).toMatch(/^lib(cublas|cusolver)\.so/);
    expect(r.stderr).toMatch(new RegExp(`${variable}=/nonexistent/libfrugal-test.so could not be loaded`));
  });
});

describe('FRUGAL_ADDON_PATH', () => {
  // lib/native.ts loads this file instead of build/'s (scripts/mutate-native.js tests mutated
  // addons that way). Which file the child mapped is read from its /proc/self/maps.
  const LOADED = `const { native } = require('./lib/native');
    native().version();
    const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');
    process.stdout.write(JSON.stringify({ files: [...new Set(maps.split('\\n').filter((l) => l.endsWith('.node')).map((l) => l.slice(l.indexOf('/'))))] }) + '\\n');`;
  const runLoaded = (env: Record<string, string>) =>
    runNodeChild(`require('ts-node').register({ transpileOnly: true, project: 'test/tsconfig.json' });\n${LOADED}`, env);

  it('loads the addon from the given file; unset, from build/ (the control)', async () => {
    const dir = fs.mkdtempSync('/tmp/frugal-addon-');
    const copy = `${dir}/frugal-copy.node`;
    const plain = childJson<{ files: string[] }>(await runLoaded({ FRUGAL_ADDON_PATH: '' }));
    const usual = plain.files.find((f) => f.endsWith('frugal.node'));
    expect(usual).toBeDefined();
    fs.copyFileSync(usual!, copy);
    const over = childJson<{ files: string[] }>(await runLoaded({ FRUGAL_ADDON_PATH: copy }));
    expect(over.files.filter((f) => /frugal.*\.node$/.test(f))).toEqual([copy]);
    fs.rmSync(dir, { recursive: true });
  });

  it('a path that does not load says so, naming the variable', async () => {
    const r = await runLoaded({ FRUGAL_ADDON_PATH: '/nonexistent/frugal.node' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the native addon could not be loaded: [\s\S]*\(FRUGAL_ADDON_PATH=\/nonexistent\/frugal.node\)/);
  });
});
