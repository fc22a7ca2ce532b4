// Shared by the GPU check's part scripts: the package, the device pair, comparisons with stated
// tolerances, and one result line per check. A script exits 1 when any check failed.
//   --device D   the device under test (cuda:0); --ref R the reference (cpu)
//   --small      shrink the sizes (a smoke run of the script itself, e.g. --device cpu --small)
//   --only a,b   run only the named checks
'use strict';

const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const f = require(ROOT);

function options(argv = process.argv.slice(2)) {
  const o = { device: 'cuda:0', ref: 'cpu', small: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--device') o.device = argv[++i];
    else if (argv[i] === '--ref') o.ref = argv[++i];
    else if (argv[i] === '--small') o.small = true;
    else if (argv[i] === '--only') o.only = argv[++i].split(',');
    else throw new Error(`unknown option ${argv[i]} (--device D, --ref R, --small, --only a,b)`);
  }
  return o;
}

// Ordered integer of a float32's bits: adjacent floats differ by 1 (and -0 equals +0).
const scratch = new DataView(new ArrayBuffer(4));
function ordered(x) {
  scratch.setFloat32(0, x);
  const u = scratch.getInt32(0);
  return u < 0 ? -2147483648 - u : u;
}

// {maxUlps, maxAbs, at, nanMismatch} over two Float32Arrays of the same length.
function compare(a, b) {
  if (a.length !== b.length) throw new Error(`compare: lengths differ (${a.length} vs ${b.length})`);
  let maxUlps = 0;
  let maxAbs = 0;
  let at = -1;
  let nanMismatch = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) {
      if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) nanMismatch++;
      continue;
    }
    const ulps = Math.abs(ordered(a[i]) - ordered(b[i]));
    if (ulps > maxUlps) {
      maxUlps = ulps;
      at = i;
    }
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
  }
  return { maxUlps, maxAbs, at, nanMismatch };
}

let failures = 0;
const results = [];
// Records one check: ok, a one-line detail, and the numbers behind it.
function report(name, ok, detail, numbers = {}) {
  results.push({ name, ok, detail, ...numbers });
  if (!ok) failures++;
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}\n`);
}

// Runs fn as a named check unless --only excludes it; an exception is a failed check.
async function check(o, name, fn) {
  if (o.only && !o.only.includes(name)) return;
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    report(name, false, `threw: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
  }
  process.stdout.write(`     (${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
}

// Bitwise: every float identical (NaNs in the same places).
function expectBitwise(name, a, b, what) {
  const c = compare(a, b);
  report(name, c.maxUlps === 0 && c.nanMismatch === 0, `${what}: bitwise ${c.maxUlps === 0 ? 'equal' : `differs by up to ${c.maxUlps} ulps at ${c.at}`}`, c);
}

// Within a stated number of ulps.
function expectUlps(name, a, b, limit, what) {
  const c = compare(a, b);
  report(name, c.maxUlps <= limit && c.nanMismatch === 0, `${what}: max ${c.maxUlps} ulps (stated limit ${limit}), max |diff| ${c.maxAbs.toExponential(2)}`, c);
}

// The results go to stdout on one marked line, which run.js puts into gpu-check.json (no file per
// script: the device tool brings back at most 8 files from $OUT).
function finish(file) {
  process.stdout.write(`${RESULTS_MARKER}${JSON.stringify({ script: path.basename(file), results })}\n`);
  process.stdout.write(`${failures ? `${failures} check(s) FAILED` : 'all checks passed'}\n`);
  process.exitCode = failures ? 1 : 0;
}

// Fresh copies of the same host data on a device.
function onDevice(host, shape, dtype, device) {
  return f.Tensor.fromArray(host, shape, { dtype }).to(device);
}

const { RESULTS_MARKER } = require('./common-marker');

module.exports = { f, ROOT, options, compare, report, check, expectBitwise, expectUlps, finish, onDevice, ordered };
