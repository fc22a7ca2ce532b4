#!/usr/bin/env node
// Hand-written mutation testing of the C++ core, the shared math and a few TypeScript lines the
// C++ depends on (docs/mutation-testing.md). Each entry of test/mutations/native.json names a
// file, an exact `find` text (it must occur exactly once), its `replace`ment and the test files
// that must catch it. One at a time, this script:
//   1. edits the file in place, keeping the original in memory and in build-mutate/restore.json
//      (restored on success, failure, an exception, SIGINT or SIGTERM; a run killed with SIGKILL
//      is restored by the next run before it does anything else);
//   2. rebuilds a CPU-only addon incrementally in build-mutate/ (cmake-js --out), so the
//      developer's build/ is never touched, when the file is native code;
//   3. runs the mutation's test files with FRUGAL_ADDON_PATH pointing at that addon;
//   4. restores the file.
// It prints a table (mutation, test files, caught/survived, time) and exits non-zero when any
// mutation survives, when a `find` text is missing or ambiguous (the code drifted: update the
// entry), or when the unmutated build fails its tests (the baseline, run first).
//   node scripts/mutate-native.js [--quick] [--only id,id] [--list] [--no-baseline]
// --list: the selected entries, checked against the sources (run it when no mutation run is going)
// --quick: only the entries marked "quick" (CI's subset, chosen to stay within a few minutes).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build-mutate');
const restoreFile = path.join(buildDir, 'restore.json');
const addonPath = path.join(buildDir, 'Release', 'frugal.node');
const listFile = path.join(root, 'test', 'mutations', 'native.json');
const jobs = process.env.JOBS || '2';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

function log(message) {
  console.log(`[mutate-native] ${message}`);
}

// ---- guaranteed restore ----
// Children run asynchronously so a signal is handled at once: the running build or jest is
// stopped, the source restored, and the script exits.
let pending = null; // { file, original }
let current = null; // the running child process

function restorePending() {
  if (!pending) return;
  fs.writeFileSync(pending.file, pending.original);
  pending = null;
  fs.rmSync(restoreFile, { force: true });
}

// One run at a time: a second would restore (or mutate) the first one's file under it.
const lockFile = path.join(buildDir, 'lock');
function takeLock() {
  fs.mkdirSync(buildDir, { recursive: true });
  if (fs.existsSync(lockFile)) {
    const pid = Number(fs.readFileSync(lockFile, 'utf8'));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      // not running: a stale lock from a killed run
    }
    if (alive && pid !== process.pid) {
      console.error(`[mutate-native] another run (pid ${pid}) is using ${path.relative(root, buildDir)}/; wait for it or stop it`);
      process.exit(1);
    }
  }
  fs.writeFileSync(lockFile, String(process.pid));
  process.on('exit', () => fs.rmSync(lockFile, { force: true }));
}

function restoreLeftover() {
  if (!fs.existsSync(restoreFile)) return;
  const left = JSON.parse(fs.readFileSync(restoreFile, 'utf8'));
  fs.writeFileSync(left.file, left.original);
  fs.rmSync(restoreFile, { force: true });
  log(`restored ${path.relative(root, left.file)} left mutated by an interrupted run`);
}

process.on('exit', restorePending);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (current) current.kill('SIGTERM');
    restorePending();
    log(`${signal}: source restored`);
    process.exit(130);
  });
}
process.on('uncaughtException', (err) => {
  restorePending();
  console.error(err);
  process.exit(2);
});

// Runs a command to completion; resolves with its status and output (never rejects).
function exec(command, argv, env) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, env });
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      current = null;
      resolve({ status: -1, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (status) => {
      current = null;
      resolve({ status, stdout, stderr });
    });
  });
}

function applyMutation(m) {
  const file = path.join(root, m.file);
  const original = fs.readFileSync(file, 'utf8');
  fs.mkdirSync(buildDir, { recursive: true });
  fs.writeFileSync(restoreFile, JSON.stringify({ file, original }));
  pending = { file, original };
  fs.writeFileSync(file, original.replace(m.find, () => m.replace));
}

// ---- checks on the list ----
function occurrences(text, find) {
  let count = 0;
  for (let at = text.indexOf(find); at >= 0; at = text.indexOf(find, at + 1)) count++;
  return count;
}

function validate(list) {
  const problems = [];
  const ids = new Set();
  for (const m of list) {
    for (const key of ['id', 'file', 'find', 'replace', 'tests', 'why']) {
      if (m[key] === undefined) problems.push(`${m.id ?? '?'}: missing "${key}"`);
    }
    if (ids.has(m.id)) problems.push(`${m.id}: duplicate id`);
    ids.add(m.id);
    const file = path.join(root, m.file);
    if (!fs.existsSync(file)) {
      problems.push(`${m.id}: ${m.file} does not exist`);
      continue;
    }
    const n = occurrences(fs.readFileSync(file, 'utf8'), m.find);
    if (n !== 1) problems.push(`${m.id}: the find text occurs ${n} times in ${m.file} (expected exactly once: update the entry)`);
    if (m.find === m.replace) problems.push(`${m.id}: replace equals find`);
    for (const t of m.tests ?? []) if (!fs.existsSync(path.join(root, t))) problems.push(`${m.id}: test file ${t} does not exist`);
  }
  return problems;
}

// ---- build and test ----
const isNative = (file) => /^(native|cuda)\//.test(file) || /\.(h|cpp|cu|cuh)$/.test(file);

async function build() {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  const r = await exec(
    process.execPath,
    [cmakeJs, 'compile', '--config', 'Release', '--parallel', jobs, '--directory', root, '--out', buildDir, '--CDFRUGAL_BUILD_SHARED=OFF'],
    { ...process.env, FRUGAL_CUDA: 'OFF' },
  );
  return { ok: r.status === 0, output: `${r.stdout}\n${r.stderr}` };
}

async function runTests(files) {
  const jest = require.resolve('jest/bin/jest', { paths: [root] });
  const r = await exec(process.execPath, [jest, '--silent', '--ci', ...files], { ...process.env, FRUGAL_ADDON_PATH: addonPath });
  const summary = /Tests:\s+(.*)/.exec(r.stderr)?.[1] ?? '';
  return { passed: r.status === 0, summary, output: `${r.stdout}\n${r.stderr}` };
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main() {
  const all = JSON.parse(fs.readFileSync(listFile, 'utf8')).mutations;
  if (!flag('--list')) {
    takeLock();
    restoreLeftover();
  }
  const problems = validate(all);
  if (problems.length) {
    for (const p of problems) console.error(`[mutate-native] ${p}`);
    console.error(`[mutate-native] ${problems.length} problem(s) in ${path.relative(root, listFile)}: fix the list before mutating`);
    process.exit(1);
  }
  let list = all;
  if (flag('--quick')) list = list.filter((m) => m.quick);
  const only = value('--only');
  if (only) {
    const want = new Set(only.split(','));
    // In the order given (most important first, for a run that may be cut short).
    list = only.split(',').map((id) => list.find((m) => m.id === id)).filter(Boolean);
    const unknown = [...want].filter((id) => !all.some((m) => m.id === id));
    if (unknown.length) {
      console.error(`[mutate-native] --only: no mutation named ${unknown.join(', ')}`);
      process.exit(1);
    }
  }
  if (flag('--list')) {
    for (const m of list) console.log(`${pad(m.id, 34)} ${pad(m.file, 34)} ${m.tests.join(' ')}`);
    return;
  }
  // In list order: the list keeps a file's mutations together, so consecutive ones recompile
  // one translation unit, and puts the ones that matter most first.
  const started = Date.now();

  log(`building the unmutated CPU-only addon in ${path.relative(root, buildDir)}/`);
  const base = await build();
  if (!base.ok) {
    console.error(base.output);
    console.error('[mutate-native] the unmutated build failed');
    process.exit(1);
  }
  if (!flag('--no-baseline')) {
    const files = [...new Set(list.flatMap((m) => m.tests))];
    log(`baseline: the unmutated addon must pass ${files.join(' ')}`);
    const r = await runTests(files);
    if (!r.passed) {
      console.error(r.output);
      console.error('[mutate-native] the baseline fails: mutations would be "caught" by a broken build');
      process.exit(1);
    }
  }

  const rows = [];
  for (const m of list) {
    const t0 = Date.now();
    applyMutation(m);
    let status;
    let detail = '';
    let buildSecs = 0;
    try {
      if (isNative(m.file)) {
        const b0 = Date.now();
        const b = await build();
        buildSecs = (Date.now() - b0) / 1000;
        if (!b.ok) {
          // A mutant that does not compile proves nothing about the tests: reported as such.
          status = 'NO BUILD';
          detail = b.output.split('\n').find((l) => /error/.test(l)) ?? '';
        }
      }
      if (!status) {
        const r = await runTests(m.tests);
        status = r.passed ? 'SURVIVED' : 'caught';
        detail = r.summary;
      }
    } finally {
      restorePending();
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    rows.push({ m, status, secs, buildSecs: buildSecs.toFixed(0), detail });
    log(`${m.id}: ${status} in ${secs} s (build ${buildSecs.toFixed(0)} s)${detail ? `: ${detail}` : ''}`);
  }
  // Leave build-mutate/ matching the restored sources for the next run.
  if (list.some((m) => isNative(m.file))) await build();

  console.log('');
  console.log(`${pad('mutation', 34)} ${pad('status', 9)} ${pad('time', 7)} ${pad('build', 7)} test files`);
  for (const r of rows) {
    console.log(`${pad(r.m.id, 34)} ${pad(r.status, 9)} ${pad(r.secs + ' s', 7)} ${pad(r.buildSecs + ' s', 7)} ${r.m.tests.map((t) => path.basename(t)).join(' ')}`);
  }
  const bad = rows.filter((r) => r.status !== 'caught');
  const total = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`\n${rows.length - bad.length} of ${rows.length} mutations caught in ${total} s${bad.length ? `; not caught: ${bad.map((r) => `${r.m.id} (${r.status})`).join(', ')}` : ''}`);
  process.exit(bad.length ? 1 : 0);
}

main().catch((err) => {
  restorePending();
  console.error(err);
  process.exit(2);
});
