#!/usr/bin/env node
// The GPU check's driver (scripts/gpu-check.sh calls it): runs the parts below in order, each
// fail-soft with its own time limit inside one overall budget (8 minutes by default), and writes
//   <out>/gpu-check.json   { started, finished, dryRun, machine, files, parts: [{id, title, status,
//                           reason, seconds, steps: [{name, status, seconds, rc, tail, results}]}] }
//                          (results: what a part script's checks found, common.js finish())
//   <out>/gpu-check.log    every step's command and full output
//   <out>/gpu-check-files.tar.gz  everything else the steps wrote ($FILES_DIR: the bench JSON and
//                          markdown, the tiny training run), in one archive: the device tool
//                          brings back at most 8 files from $OUT
//   <out>/gpu-status.json  (a real run on a GPU) the statement docs/gpu-status.json holds; it is
//                          also written to docs/gpu-status.json and the README / benchmarks
//                          sections are regenerated from it (scripts/gpu-check/status-doc.js).
// A part passes when every step passes; a step that cannot run here (no GPU, no torch, no
// compute-sanitizer, the build failed) is skipped with the reason, never counted as passed.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { RESULTS_MARKER } = require('./common-marker');

const ROOT = path.resolve(__dirname, '../..');
const HERE = 'scripts/gpu-check';

function parseArgs(argv) {
  // The default output directory is under build/ (ignored by git).
  const args = { dryRun: false, out: process.env.OUT || path.join(ROOT, 'build', 'gpu-check'), only: null, budget: 470 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`gpu-check: ${a}: expected a value`);
      return argv[++i];
    };
    if (a === '--dry-run') args.dryRun = true;
    else if (a === '--out') args.out = path.resolve(value());
    else if (a === '--only') args.only = value().split(',');
    else if (a === '--budget') {
      args.budget = Number(value());
      if (!(args.budget > 0)) throw new Error(`gpu-check: --budget: expected seconds > 0, got ${argv[i]}`);
    } else throw new Error(`gpu-check: unknown option '${a}' (--dry-run, --out DIR, --only a,b, --budget SECONDS)`);
  }
  return args;
}

// ---- the parts: each a list of steps {name, cmd (bash), timeout (s), needs: [...]} ----
// needs: 'gpu' (nvidia-smi sees one), 'build' (part 1 built the addon), 'torch', 'sanitizer'.
// Node alone is carried to a bare GPU machine (no npm, no npx): tools run as node <their script>.
// The limits add up to the 470 s budget; $JOBS is the machine's core count.
const SANITIZER_TOOLS = ['memcheck', 'racecheck', 'synccheck'];
const TRAIN_TINY =
  'node dist/cjs/cli/main.js train --preset tiny --steps 2 --batch 2 --seq-len 16 --eval-batches 1 ' +
  '--eval-every 0 --device cuda:0 --quiet --out "$FILES_DIR/train-tiny"';

const PARTS = [
  {
    id: 'build-and-suite',
    title: '1. build for the local architecture and run the whole suite on cuda:0',
    steps: [
      {
        name: 'build',
        needs: ['gpu'],
        timeout: 90,
        cmd:
          'export FRUGAL_CUDA=ON FRUGAL_CUDA_ARCHS="$LOCAL_ARCH" && node scripts/build-addon.js && ' +
          'node node_modules/typescript/bin/tsc -p tsconfig.json && node scripts/make-esm.js',
        provides: 'build',
      },
      {
        name: 'devices and math libraries',
        needs: ['gpu', 'build'],
        timeout: 15,
        cmd: `node ${HERE}/device-report.js`,
      },
      {
        name: 'jest (every device test on cuda:0)',
        needs: ['gpu', 'build'],
        timeout: 80,
        cmd: 'node node_modules/jest/bin/jest.js --ci --maxWorkers="$JOBS"',
      },
    ],
  },
  {
    id: 'sanitizers',
    title: '2. compute-sanitizer memcheck / racecheck / synccheck: every method once, the model at a tiny size',
    steps: SANITIZER_TOOLS.flatMap((tool) => [
      {
        name: `${tool}: every method`,
        needs: ['gpu', 'build', 'sanitizer'],
        timeout: 20,
        cmd: `"$SANITIZER" --tool ${tool} --error-exitcode 9 node ${HERE}/every-method.js`,
      },
      {
        name: `${tool}: model forward/backward (tiny)`,
        needs: ['gpu', 'build', 'sanitizer'],
        timeout: 20,
        cmd: `"$SANITIZER" --tool ${tool} --error-exitcode 9 ${TRAIN_TINY}`,
      },
    ]),
  },
  {
    id: 'cpu-vs-gpu',
    title:
      '3. CPU vs GPU: bitwise where the math is shared, stated ulps where not (32000x5120 fp32/bf16, 200 tensors, ' +
      '> 2^31 elements of sum of squares, line norms on both axes, the fallback GEMM)',
    steps: [
      { name: 'comparisons', needs: ['gpu', 'build'], timeout: 45, cmd: `node ${HERE}/cpu-vs-gpu.js` },
      {
        name: 'fallback GEMM (FRUGAL_CUBLAS_PATH and FRUGAL_CUSOLVER_PATH pointing nowhere)',
        needs: ['gpu', 'build'],
        timeout: 15,
        cmd:
          'FRUGAL_CUBLAS_PATH=/nonexistent/libcublas.so FRUGAL_CUSOLVER_PATH=/nonexistent/libcusolver.so ' +
          `node ${HERE}/cpu-vs-gpu.js --only galore-fallback`,
      },
    ],
  },
  {
    id: 'streams-errors-libraries',
    title: '4. concurrent GaLore streams, the NaN-gradient SVD error, fault attribution, the math libraries loaded',
    steps: [
      { name: 'checks', needs: ['gpu', 'build'], timeout: 25, cmd: `node ${HERE}/streams-and-errors.js` },
      {
        name: 'fault attribution (a kernel faults on purpose, in its own process)',
        needs: ['gpu', 'build'],
        timeout: 15,
        cmd: `node ${HERE}/fault-attribution.js`,
      },
    ],
  },
  {
    id: 'benches',
    title: '5. benches: ours vs torch fused/foreach AdamW and the per-parameter methods (60m, 1b); AdamW 1e8 vs a device copy',
    steps: [
      {
        name: 'AdamW on 1e8 fp32 params in 100 tensors vs a device copy of the same bytes',
        needs: ['gpu', 'build'],
        timeout: 15,
        cmd: `node ${HERE}/adamw-1e8.js`,
      },
      {
        // examples/pytorch: our kernels and torch's fused AdamW on the same CUDA tensors in one process.
        name: 'AdamW through the PyTorch example (ctypes) vs torch fused/foreach AdamW, 1e8 params',
        needs: ['gpu', 'build', 'torch'],
        timeout: 10,
        cmd: 'PYTHONPATH=examples/pytorch python3 examples/pytorch/time_vs_torch.py build/Release/libfrugal.so --json "$FILES_DIR/pytorch-adamw.json"',
      },
      {
        name: 'bench-vs-torch 60m',
        needs: ['gpu', 'build', 'torch'],
        timeout: 20,
        // A directory per preset: bench-vs-torch names its JSON after the device and the date.
        cmd:
          'mkdir -p "$FILES_DIR/bench-60m" && BENCH_OUT="$FILES_DIR/bench-60m" REPORT="$FILES_DIR/benchmarks-60m.md" bash scripts/bench-vs-torch.sh cuda:0 -- --preset 60m --reps 10',
      },
      {
        name: 'bench-vs-torch 1b',
        needs: ['gpu', 'build', 'torch'],
        timeout: 30,
        cmd:
          'mkdir -p "$FILES_DIR/bench-1b" && BENCH_OUT="$FILES_DIR/bench-1b" REPORT="$FILES_DIR/benchmarks-1b.md" bash scripts/bench-vs-torch.sh cuda:0 -- --preset 1b --reps 5',
      },
    ],
  },
];

// ---- the machine ----
const HAVE_TIMEOUT = spawnSync('sh', ['-c', 'command -v timeout'], { encoding: 'utf8' }).status === 0;

// Runs cmd under bash with a time limit that ends the whole process tree: coreutils' timeout puts
// the command in a process group of its own and signals the group (TERM, then KILL 5 s later), so
// the node processes and jest workers a step started do not outlive it. (spawnSync's own timeout
// only signals bash.) Without timeout(1), spawnSync's limit is the fallback.
function sh(cmd, timeoutS, env) {
  const started = Date.now();
  const [file, argv] = HAVE_TIMEOUT
    ? ['timeout', ['-k', '5', String(timeoutS), 'bash', '-c', cmd]]
    : ['bash', ['-c', cmd]];
  const r = spawnSync(file, argv, {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: (timeoutS + (HAVE_TIMEOUT ? 15 : 0)) * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
  });
  const output = `${r.stdout || ''}${r.stderr || ''}`;
  const timedOut = (r.error && r.error.code === 'ETIMEDOUT') || (HAVE_TIMEOUT && (r.status === 124 || r.status === 137));
  return { rc: r.status, timedOut, output, seconds: (Date.now() - started) / 1000, error: r.error };
}

// The results a part script printed (common.js finish()), or undefined.
function partResults(output) {
  const line = output.split('\n').reverse().find((l) => l.startsWith(RESULTS_MARKER));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(RESULTS_MARKER.length));
  } catch (e) {
    return { unreadable: e.message };
  }
}

// Everything the steps wrote under $FILES_DIR goes into one archive beside the report; the
// directory is removed. Returns the archive's name, or null when there was nothing.
function archiveFiles(out, filesDir, log) {
  if (!fs.existsSync(filesDir) || fs.readdirSync(filesDir).length === 0) {
    fs.rmSync(filesDir, { recursive: true, force: true });
    return null;
  }
  const name = 'gpu-check-files.tar.gz';
  const r = spawnSync('tar', ['-czf', path.join(out, name), '-C', out, path.basename(filesDir)], { encoding: 'utf8' });
  if (r.status !== 0) {
    log(`archiving ${filesDir} failed: ${r.stderr}`);
    return null;
  }
  fs.rmSync(filesDir, { recursive: true, force: true });
  return name;
}

function probeMachine(env) {
  const m = { gpu: null, driver: null, computeCap: null, torch: null, sanitizer: null, mathLibDirs: [] };
  const smi = sh('nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader', 20, env);
  if (smi.rc === 0 && smi.output.trim()) {
    const [name, driver, cap] = smi.output.trim().split('\n')[0].split(',').map((s) => s.trim());
    Object.assign(m, { gpu: name, driver, computeCap: cap });
  } else m.noGpuReason = smi.rc === null ? 'nvidia-smi did not answer' : 'nvidia-smi not found or no GPU visible';
  const torch = sh('python3 -c "import torch; print(torch.__version__, torch.cuda.is_available())"', 60, env);
  if (torch.rc === 0) m.torch = torch.output.trim().split('\n').pop();
  const san = sh('command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null', 5, env);
  if (san.rc === 0 && san.output.trim()) m.sanitizer = san.output.trim().split('\n')[0];
  // cuBLAS / cuSOLVER: the addon loads them at run time; PyTorch's wheels carry them.
  const libs = sh(
    'site=$(python3 -c "import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))" 2>/dev/null) && ' +
      'find "$site/nvidia" \\( -name "libcublas.so*" -o -name "libcusolver.so*" \\) -printf "%h\\n" | sort -u',
    30,
    env,
  );
  if (libs.rc === 0) m.mathLibDirs = libs.output.trim().split('\n').filter(Boolean);
  return m;
}

function missingNeed(need, machine, have) {
  switch (need) {
    case 'gpu':
      return machine.gpu ? null : `no GPU: ${machine.noGpuReason}`;
    case 'build':
      return have.build ? null : 'the addon was not built for this GPU (part 1 build step did not pass)';
    case 'torch':
      return machine.torch ? null : 'no Python with torch (python3 -c "import torch" failed)';
    case 'sanitizer':
      return machine.sanitizer ? null : 'compute-sanitizer not found (PATH, /usr/local/cuda/bin)';
    default:
      return `unknown need ${need}`;
  }
}

function dryRunReason(step) {
  return `dry run: would run \`${step.cmd}\` (limit ${step.timeout} s; needs ${step.needs.join(', ')})`;
}

function tail(text, n = 2000) {
  return text.length > n ? `...${text.slice(-n)}` : text;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const logPath = path.join(args.out, 'gpu-check.log');
  fs.writeFileSync(logPath, `gpu-check ${new Date().toISOString()}${args.dryRun ? ' (dry run)' : ''}\n`);
  const log = (text) => fs.appendFileSync(logPath, `${text}\n`);
  const say = (text) => {
    process.stderr.write(`${text}\n`);
    log(text);
  };

  const filesDir = path.join(args.out, 'files');
  fs.mkdirSync(filesDir, { recursive: true });
  const jobs = String(os.availableParallelism ? os.availableParallelism() : os.cpus().length);
  const env = { ...process.env, OUT_DIR: args.out, FILES_DIR: filesDir, JOBS: jobs, CMAKE_BUILD_PARALLEL_LEVEL: jobs };
  const machine = args.dryRun ? { dryRun: true } : probeMachine(env);
  if (!args.dryRun) {
    if (machine.computeCap) env.LOCAL_ARCH = machine.computeCap.replace('.', '');
    if (machine.sanitizer) env.SANITIZER = machine.sanitizer;
    if (machine.mathLibDirs.length) env.LD_LIBRARY_PATH = [...machine.mathLibDirs, env.LD_LIBRARY_PATH || ''].join(':');
    log(`machine: ${JSON.stringify(machine)}`);
  }

  const started = new Date();
  const deadline = Date.now() + args.budget * 1000;
  const have = {};
  const parts = [];
  for (const part of PARTS) {
    const result = { id: part.id, title: part.title, status: 'pass', reason: '', seconds: 0, steps: [] };
    if (args.only && !args.only.includes(part.id)) {
      result.status = 'skipped';
      result.reason = `not selected (--only ${args.only.join(',')})`;
      parts.push(result);
      continue;
    }
    say(`== ${part.title}`);
    for (const step of part.steps) {
      const s = { name: step.name, status: 'pass', seconds: 0, rc: null, reason: '', tail: '' };
      const missing = step.needs.map((n) => missingNeed(n, machine, have)).find(Boolean);
      const left = Math.floor((deadline - Date.now()) / 1000);
      if (args.dryRun) Object.assign(s, { status: 'skipped', reason: dryRunReason(step) });
      else if (missing) Object.assign(s, { status: 'skipped', reason: missing });
      else if (left < 10) Object.assign(s, { status: 'skipped', reason: `time budget of ${args.budget} s used up` });
      else {
        log(`-- ${step.name}: ${step.cmd}`);
        const r = sh(step.cmd, Math.min(step.timeout, left), env);
        log(r.output);
        Object.assign(s, { seconds: r.seconds, rc: r.rc, tail: tail(r.output) });
        const results = partResults(r.output);
        if (results !== undefined) s.results = results;
        if (r.timedOut) Object.assign(s, { status: 'fail', reason: `timed out after ${Math.min(step.timeout, left)} s` });
        else if (r.rc !== 0) Object.assign(s, { status: 'fail', reason: `exit code ${r.rc}` });
        else if (step.provides) have[step.provides] = true;
      }
      say(`   ${s.status.padEnd(7)} ${step.name}${s.reason ? `: ${s.reason}` : ''}`);
      result.steps.push(s);
      result.seconds += s.seconds;
    }
    const failed = result.steps.find((s) => s.status === 'fail');
    const skipped = result.steps.find((s) => s.status === 'skipped');
    if (failed) Object.assign(result, { status: 'fail', reason: `${failed.name}: ${failed.reason}` });
    else if (skipped) Object.assign(result, { status: 'skipped', reason: `${skipped.name}: ${skipped.reason}` });
    parts.push(result);
  }

  const report = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    dryRun: args.dryRun,
    machine,
    files: archiveFiles(args.out, filesDir, log),
    parts,
  };
  fs.writeFileSync(path.join(args.out, 'gpu-check.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (!args.dryRun && machine.gpu) {
    // The statement of what has run on hardware follows this run (docs/gpu-status.json).
    const status = require('./status-doc');
    const statusJson = status.statusFromReport(report);
    fs.writeFileSync(path.join(args.out, 'gpu-status.json'), `${JSON.stringify(statusJson, null, 2)}\n`);
    status.writeStatus(ROOT, statusJson);
    say('docs/gpu-status.json and the README / docs/benchmarks.md status sections were updated');
  }
  const counts = parts.reduce((c, p) => ({ ...c, [p.status]: (c[p.status] || 0) + 1 }), {});
  say(`gpu-check: ${JSON.stringify(counts)}; report ${path.join(args.out, 'gpu-check.json')}`);
  process.exitCode = parts.some((p) => p.status === 'fail') ? 1 : 0;
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 2;
  }
}

module.exports = { PARTS };
