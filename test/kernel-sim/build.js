#!/usr/bin/env node
// Builds the kernel-sim test binary: translates cuda/ (generate.js), then compiles the
// translations, the simulator (sim/), the checks (checks/) and the CPU reference backend with g++
// against the CUDA toolkit's headers (types only: nothing from libcudart is linked). Needs nvcc's
// include directory, not a GPU. With AddressSanitizer and UBSan when g++ has them, so an
// out-of-bounds index or a misaligned vector access in a kernel stops the run.
//
//   node test/kernel-sim/build.js [--out DIR] [--run] [--no-sanitize]
// exits 0 when built (and, with --run, passed), 1 on failure, 3 when skipped (no CUDA headers).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { generate, generateFile } = require('./generate');
const { RACE_DETECTOR_FLAGS } = require('./race_flags');

const HERE = __dirname;
const ROOT = path.resolve(HERE, '../..');

// CPU reference sources the checks compare against (the CPU backend's GEMM is the model ops'
// blocked one, on their thread pool); the rest of native/ is not needed.
const NATIVE_SOURCES = [
  'native/cpu/cpu_backend.cpp',
  'native/core/host_linalg.cpp',
  'native/core/host_svd.cpp',
  'native/cpu/model/cpu_gemm.cpp',
  'native/cpu/thread_pool.cpp',
  'native/cpu/path_counters.cpp',
  // The core's host side, for the folding of options into rule scalars (state_full_scalars,
  // state_free_scalars in rule_scalars.cpp) that the optimizer checks run. Its CUDA entry points
  // (core/cuda_api.h) are cuda/cuda_backend.cu's, on the fake runtime (sim/fake_device_runtime.cpp),
  // not cuda_absent.cpp.
  'native/core/rule_scalars.cpp',
  'native/core/errors.cpp',
  'native/core/memory.cpp',
  'native/core/devices.cpp',
  'native/core/selection.cpp',
  'native/core/optimizer.cpp',
  'native/core/selections/selection_state.cpp',
  'native/core/selections/registry.cpp',
  'native/core/selections/whole_tensor.cpp',
  'native/core/selections/lines.cpp',
  'native/core/selections/dense_basis.cpp',
  'native/core/optimizer_step.cpp',
  'native/core/step_checks.cpp',
  'native/core/eps_check.cpp',
  'native/core/workspace_pool.cpp',
  'native/core/schema.generated.cpp',
];

function onPath(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// The directory holding cuda_runtime.h: nvcc's own include flags first (authoritative, and right
// for wrapper scripts and targets/<arch>/include layouts), then the usual places.
function findCudaInclude() {
  const nvcc = onPath('nvcc');
  const candidates = [];
  if (nvcc) {
    const dry = spawnSync(nvcc, ['--dryrun', '-E', '-x', 'cu', '/dev/null'], { encoding: 'utf8' });
    const text = `${dry.stdout || ''}\n${dry.stderr || ''}`;
    for (const line of text.split('\n').filter((l) => /INCLUDES=/.test(l))) {
      for (const m of line.matchAll(/-I"?([^"\s]+)"?/g)) candidates.push(m[1]);
    }
    const real = fs.realpathSync(nvcc);
    candidates.push(path.join(path.dirname(real), '..', 'include'));
  }
  for (const env of ['CUDA_HOME', 'CUDA_PATH']) {
    if (process.env[env]) candidates.push(path.join(process.env[env], 'include'));
  }
  candidates.push('/usr/local/cuda/include');
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'cuda_runtime.h')));
  if (found) return { dir: path.resolve(found) };
  if (!nvcc) return { skip: 'nvcc not found on PATH' };
  return { skip: `nvcc found (${nvcc}) but no cuda_runtime.h in ${candidates.join(', ')}` };
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, ...opts });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

// Whether g++ can build and run a sanitized program here (not every image ships libasan).
async function sanitizersWork(dir) {
  const src = path.join(dir, 'probe.cpp');
  fs.writeFileSync(src, 'int main() { return 0; }\n');
  const flags = ['-fsanitize=address,undefined'];
  const built = await run('g++', [...flags, src, '-o', path.join(dir, 'probe')]);
  if (built.code !== 0) return false;
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' };
  return (await run(path.join(dir, 'probe'), [], { env })).code === 0;
}

function defaultJobs() {
  return Math.max(2, os.availableParallelism ? os.availableParallelism() : os.cpus().length);
}

async function pool(tasks, jobs) {
  const results = [];
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

// Returns { binary, sanitized, seconds } or { skip }; throws with the compiler output on failure.
async function build({ outDir, sanitize = true, jobs = defaultJobs() } = {}) {
  const cuda = findCudaInclude();
  if (cuda.skip) return { skip: cuda.skip };
  if (!onPath('g++')) return { skip: 'g++ not found on PATH' };
  const start = Date.now();
  outDir = path.resolve(outDir || fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-sim-')));
  const gen = path.join(outDir, 'gen');
  fs.mkdirSync(gen, { recursive: true });

  const translated = generate(ROOT, gen);
  const selfTest = generateFile(
    path.join(HERE, 'checks', 'self_test_kernels.cu'),
    path.join(gen, 'selftest', 'self_test_kernels.cu'),
  );

  const sanitized = sanitize && (await sanitizersWork(outDir));
  // -ffp-contract=off: no fused multiply-adds, as the CUDA build's --fmad=false (CMakeLists.txt).
  const common = ['-std=c++20', '-O1', '-pthread', '-fno-omit-frame-pointer', '-ffp-contract=off'];
  if (sanitized) common.push('-fsanitize=address,undefined', '-fno-sanitize-recover=all');
  // gen/cuda, not cuda/: every CUDA source and header the build sees went through the generator.
  const includeDirs = [path.join(gen, 'cuda'), gen, path.join(HERE, 'sim'), path.join(HERE, 'checks'),
    path.join(ROOT, 'native/include'), path.join(ROOT, 'native'), cuda.dir];
  const includes = includeDirs.flatMap((d) => ['-I', d]);
  const kernelFlags = ['-x', 'c++', '-include', path.join(HERE, 'sim', 'sim_cuda.h'), ...RACE_DETECTOR_FLAGS];

  const cppIn = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.cpp')).map((f) => path.join(dir, f));
  const units = [
    // cuda_backend.cu has no kernels; its host glue runs against sim/fake_device_runtime.cpp.
    ...[...translated.units, ...selfTest, path.join(gen, 'cuda', 'cuda_backend.cu')].map((src) => ({ src, extra: kernelFlags })),
    ...[...cppIn(path.join(HERE, 'sim')), ...cppIn(path.join(HERE, 'checks')), ...NATIVE_SOURCES.map((f) => path.join(ROOT, f))]
      .map((src) => ({ src, extra: [] })),
  ];
  const objDir = path.join(outDir, 'obj');
  fs.mkdirSync(objDir, { recursive: true });
  const compiled = await pool(
    units.map((u, i) => async () => {
      const obj = path.join(objDir, `${i}-${path.basename(u.src)}.o`);
      const r = await run('g++', [...common, ...includes, ...u.extra, '-c', u.src, '-o', obj]);
      return { ...r, obj, src: u.src };
    }),
    jobs,
  );
  const failed = compiled.filter((r) => r.code !== 0);
  if (failed.length > 0) {
    const report = failed.map((r) => `--- ${path.relative(ROOT, r.src)}\n${r.out}`).join('\n');
    throw new Error(`kernel-sim: compile failed:\n${report}`);
  }
  const binary = path.join(outDir, 'kernel-sim');
  const linked = await run('g++', [...common, ...compiled.map((r) => r.obj), '-o', binary]);
  if (linked.code !== 0) throw new Error(`kernel-sim: link failed:\n${linked.out}`);
  const seconds = (Date.now() - start) / 1000;
  return { binary, sanitized, seconds, kernels: translated.kernels, hostOnly: translated.hostOnly };
}

module.exports = { build, findCudaInclude };

if (require.main === module) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  build({ outDir: outIndex >= 0 ? args[outIndex + 1] : undefined, sanitize: !args.includes('--no-sanitize') })
    .then((r) => {
      if (r.skip) {
        console.log(`kernel-sim: skipped: ${r.skip}`);
        process.exit(3);
      }
      const tools = r.sanitized ? 'ASan + UBSan' : 'no sanitizers';
      console.log(`kernel-sim: built ${r.binary} in ${r.seconds.toFixed(1)} s (${tools}); ${r.kernels.length} kernels; ` +
        `not simulated here (host glue; model kernels: test/model-kernel-sim.test.ts): ${r.hostOnly.join(', ') || 'none'}`);
      if (!args.includes('--run')) return;
      const child = spawn(r.binary, [], { stdio: 'inherit' });
      child.on('close', (code) => process.exit(code === 0 ? 0 : 1));
    })
    .catch((e) => {
      console.error(e.message);
      process.exit(1);
    });
}
