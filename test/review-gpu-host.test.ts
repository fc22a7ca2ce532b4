// Review of the CUDA host code (issue 12): defects that the CPU or a compile can show. Each test
// here fails against the code as reviewed and passes once the defect is fixed.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SGD, Tensor } from '../lib';

const ROOT = path.resolve(__dirname, '..');

// ---------------------------------------------------------------------------------------------
// cuda/pinned_staging.h: free_buffer() calls cudaEventQuery on staging buffers whose DMA may still
// be in flight and ignores cudaErrorNotReady. The runtime records that status as the thread's last
// error (PyTorch's CUDAEvent::query and caching allocator call cudaGetLastError() right after a
// not-ready query for this reason), so the next check_launch (cudaGetLastError) or check_pending
// (cudaPeekAtLastError) throws "device not ready" under an unrelated kernel's name. The harness
// compiles pinned_staging.h with g++ against a fake runtime that records errors as cudart does.
describe('pinned staging and the last-error state', () => {
  const builder = require('./kernel-sim/build.js') as { findCudaInclude(): { dir?: string; skip?: string } };
  const cuda = builder.findCudaInclude();
  const gxx = spawnSync('g++', ['--version'], { encoding: 'utf8' });
  const skip = cuda.skip ?? (gxx.status === 0 ? undefined : 'g++ not found');
  if (skip) console.log(`review-gpu-host.test.ts: staging harness skipped: ${skip}`);
  (skip ? it.skip : it)('a busy staging buffer leaves no error behind for the next launch check', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-staging-'));
    try {
      const binary = path.join(dir, 'staging');
      const build = spawnSync(
        'g++',
        [
          '-std=c++17',
          `-I${cuda.dir}`,
          `-I${path.join(ROOT, 'cuda')}`,
          `-I${path.join(ROOT, 'native')}`,
          `-I${path.join(ROOT, 'native', 'include')}`,
          path.join(__dirname, 'review-gpu-host', 'staging_last_error.cpp'),
          '-o',
          binary,
        ],
        { encoding: 'utf8' },
      );
      expect(build.stderr).toBe('');
      expect(build.status).toBe(0);
      const run = spawnSync(binary, [], { encoding: 'utf8' });
      expect(run.stdout.trim()).toBe('no error reported');
      expect(run.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The GPU check on a bare GPU machine (shared/device/README.md): Node arrives as one binary
// (pack-node.sh packs `node` alone: no npm, no npx) and node_modules as pack.sh's tarball.
interface Step { name: string; cmd: string }
const { PARTS } = require('../scripts/gpu-check/run.js') as { PARTS: { id: string; steps: Step[] }[] };
const steps = PARTS.flatMap((p) => p.steps);

describe('scripts/gpu-check on a machine where only node is carried', () => {
  test('no step runs npx or npm (neither is carried; the build and jest steps would fail with 127)', () => {
    const needing = steps.filter((s) => /(^|[\s;&|(])(npx|npm)\s/.test(s.cmd)).map((s) => `${s.name}: ${s.cmd}`);
    expect(needing).toEqual([]);
  });

  test("pack.sh's node_modules archive keeps the tools in node_modules/.bin runnable", () => {
    // pack.sh archives with `tar -chf`: -h turns each .bin symlink into a copy of the script,
    // whose relative require (typescript/bin/tsc: require('../lib/tsc.js')) then misses.
    const pack = fs.readFileSync(path.join(ROOT, 'scripts/gpu-check/pack.sh'), 'utf8');
    const flags = /tar\s+(-[a-zA-Z]+)\s+-\s+node_modules/.exec(pack);
    expect(flags).not.toBeNull();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-pack-'));
    try {
      const files = ['node_modules/.bin/tsc', 'node_modules/typescript'];
      const tar = spawnSync('bash', ['-c', `tar ${flags![1]} - ${files.join(' ')} | tar -xf - -C "${dir}"`], { cwd: ROOT, encoding: 'utf8' });
      expect(tar.status).toBe(0);
      const tsc = spawnSync(process.execPath, ['node_modules/.bin/tsc', '--version'], { cwd: dir, encoding: 'utf8' });
      expect(tsc.stderr).not.toMatch(/Cannot find module/);
      expect(tsc.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a real run leaves at most 8 files under $OUT (the device tool brings back no more)', () => {
    // Written there: gpu-check.json, gpu-check.log, gpu-status.json; <script>.json for each part
    // script (common.js finish()); each REPORT= markdown; bench-vs-torch's two JSON files per
    // BENCH_OUT run (named after the device and date, so the 60m ones are overwritten by 1b);
    // the tiny training run's metrics.jsonl and summary.json.
    const scripts = new Set(steps.flatMap((s) => [...s.cmd.matchAll(/scripts\/gpu-check\/([\w-]+)\.js/g)].map((m) => m[1])));
    scripts.delete('run');
    const reports = new Set(steps.flatMap((s) => [...s.cmd.matchAll(/REPORT="\$OUT_DIR\/([^"]+)"/g)].map((m) => m[1])));
    const benchJson = steps.some((s) => /BENCH_OUT="\$OUT_DIR"/.test(s.cmd)) ? 2 : 0;
    const train = steps.some((s) => /--out "\$OUT_DIR\//.test(s.cmd)) ? 2 : 0;
    // (Since the fix: part scripts print their results for run.js to embed in gpu-check.json, and
    // the steps' other files go to $FILES_DIR, archived as one gpu-check-files.tar.gz.)
    const common = fs.readFileSync(path.join(ROOT, 'scripts/gpu-check/common.js'), 'utf8');
    const scriptFiles = /writeFileSync\([^\n]*OUT_DIR/.test(common) ? scripts.size : 0;
    const archive = /gpu-check-files\.tar\.gz/.test(fs.readFileSync(path.join(ROOT, 'scripts/gpu-check/run.js'), 'utf8')) ? 1 : 0;
    const files = 3 + archive + scriptFiles + reports.size + benchJson + train;
    const listed = `${files} files: gpu-check.json/.log, gpu-status.json, ${[...scripts].map((s) => `${s}.json`).join(', ')}, ${[...reports].join(', ')}, ${benchJson} bench JSON, ${train} training files`;
    expect(files <= 8 ? 'at most 8' : listed).toBe('at most 8');
  });
});

// ---------------------------------------------------------------------------------------------
// native/core/optimizer.cpp check_no_overlap compares params' data ranges only. A param whose
// .grad shares memory with another param's data is accepted: on a GPU one block updates the
// data while another reads it as a gradient (a race); the CPU's result depends on param order.
describe('overlap check', () => {
  test("a gradient that views another param's data is refused", () => {
    const ab = new ArrayBuffer(64);
    const p = Tensor.fromArrayBuffer(ab, [8], 'float32', 0);
    const q = Tensor.fromArrayBuffer(ab, [8], 'float32', 32);
    p.grad = Tensor.fromArrayBuffer(ab, [8], 'float32', 32); // q's bytes
    q.grad = Tensor.full([8], 1);
    // Refused when the optimizer is built or, at the latest, when the step takes the gradients.
    expect(() => new SGD([p, q], { lr: 0.5 }).step()).toThrow(/overlap/);
    q.grad.dispose();
  });

  test('adjacent views of one ArrayBuffer are accepted, a one-byte-overlapping bf16 view is refused', () => {
    // Passes today: recorded so that a fix for the grad case keeps the byte-exact data check.
    const ab = new ArrayBuffer(64);
    const a = Tensor.fromArrayBuffer(ab, [8], 'float32', 0); // bytes 0..31
    const b = Tensor.fromArrayBuffer(ab, [8], 'float32', 32); // 32..63
    const c = Tensor.fromArrayBuffer(ab, [1], 'bfloat16', 30); // 30..31: a's last float
    new SGD([a, b], { lr: 0.1 }).dispose();
    expect(() => new SGD([a, c], { lr: 0.1 })).toThrow(/param\.data: overlaps the memory of param 0/);
  });
});

// ---------------------------------------------------------------------------------------------
// cuda/arch_support.h: a family-specific architecture ("100f", CUDA 12.9+) runs on every GPU of
// its family at or above it (10.0 and 10.3), unlike "100a" (10.0 only); build_runs_on treats both
// alike, so a B300 would be reported unusable by a "100f" build.
describe('compute-capability check', () => {
  const gxx = spawnSync('g++', ['--version'], { encoding: 'utf8' });
  (gxx.status === 0 ? it : it.skip)('a family-specific build ("100f") is usable on 10.3, not on 9.0', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-arch-'));
    try {
      const binary = path.join(dir, 'arch');
      const build = spawnSync(
        'g++',
        ['-std=c++17', '-DFRUGAL_CUDA_ARCH_LIST="100f"', `-I${path.join(ROOT, 'cuda')}`, path.join(__dirname, 'review-gpu-host', 'arch_family.cpp'), '-o', binary],
        { encoding: 'utf8' },
      );
      expect(build.stderr).toBe('');
      const run = spawnSync(binary, [], { encoding: 'utf8' });
      expect(run.stdout.trim()).toBe('10.0 runs, 10.3 runs, 9.0 refused');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
