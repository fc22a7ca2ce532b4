#!/usr/bin/env node
// Translates the CUDA sources under cuda/ into C++ that g++ compiles against the kernel simulator
// (sim/sim_cuda.h), so CI can run the real kernels, as written, on a machine without a GPU. The
// sources are never modified: translations go to an output directory, one file per source, with
// the same line numbers (every rewrite stays on its line, so compiler messages point at cuda/).
//
// What changes, and why:
//   kernel<<<grid, block, shmem, stream>>>(args)
//       -> ::sim::launch(kernel, "kernel", BOUNDS, grid, block, shmem, stream)(args)
//          (g++ has no launch syntax; BOUNDS is the kernel's __launch_bounds__, or 0, so the
//          simulator can refuse a block the device would refuse);
//   __shared__ T name[...];
//       -> static const char kernel_sim_site_name = 0; auto& name = ::sim::shared_static<T [...]>(&site);
//          (one copy for the block's threads, which run as fibers of one OS thread, on the heap so
//          AddressSanitizer guards its ends, poisoned at the start of every block so a read before
//          any write shows up as NaN, as garbage would);
//   extern __shared__ T name[];
//       -> T* const name = static_cast<T*>(::sim::dynamic_shared());
//          (the launch's dynamic shared memory: its exact size, poisoned at every block start);
//   #include <cub/...> -> #include "cub_sim.h" (a host substitute for the CUB calls the code makes).
// Warp intrinsics (__shfl*_sync, __ballot_sync, __any/__all_sync, __syncwarp), atomics and memory
// fences need no rewrite: sim_cuda.h defines them on the simulator's warps (sim/scheduler.cpp)
// and atomics (sim/atomics.cpp).
//
// Anything the simulator cannot model faithfully (other warp intrinsics, device-only #if
// branches, other device libraries) stops the translation with file:line and the reason. A kernel is never skipped silently: every __global__ function must have a launch the
// generator rewrote, and the manifest it writes lets the test binary check each one actually ran.
'use strict';

const fs = require('fs');
const path = require('path');

class TranslationError extends Error {}

// Constructs the simulator does not model. Each fails the translation rather than being simulated
// wrongly. (Atomics of other kinds than sim_cuda.h declares, e.g. atomicAdd on __half, fail to
// compile instead.)
const UNSUPPORTED = [
  [/\b__shfl(?!(_up|_down|_xor)?_sync\b)\w*/, 'shuffles without a mask (__shfl, removed in CUDA 9: use __shfl_sync)'],
  [/\b__(uni|match_any|match_all|reduce_\w+)_sync\b|\b__activemask\b/,
    'warp intrinsics other than __shfl*_sync, __ballot_sync, __any/__all_sync, __syncwarp'],
  [/\b__syncthreads_(count|and|or)\b/, '__syncthreads_count/_and/_or'],
  [/\bcooperative_groups\b/, 'cooperative groups'],
  [/\b__constant__\b|\b__managed__\b/, '__constant__ / __managed__ variables'],
  [/\b__nanosleep\b|\bclock(64)?\s*\(\s*\)/, 'timing intrinsics'],
  [/\basm\b|\b__asm__\b/, 'inline PTX'],
  [/\b__CUDA_ARCH__\b/, 'a device-only #if branch (the simulator would compile the host branch instead)'],
  [/\bcudaLaunch\w*\s*\(/, 'launches through cudaLaunchKernel (only <<<>>> launches are rewritten)'],
];

// Angle-bracket includes with a host substitute, and families with none.
const SUBSTITUTE_INCLUDES = {
  'cub/block/block_reduce.cuh': 'cub_sim.h',
  'cub/device/device_radix_sort.cuh': 'cub_sim.h',
};
const UNSUPPORTED_INCLUDES = new RegExp(
  '^(cub/|cub\\.cuh|thrust/|cuda/|cooperative_groups|cuda_fp16|cuda_bf16|cuda_fp8|mma\\.h|curand|cublas|cusolver|' +
    'cufft|cusparse|nvtx|cuda_pipeline|cuda_awbarrier)',
);

function lineOf(text, offset) {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function fail(file, text, offset, message) {
  throw new TranslationError(`${file}:${lineOf(text, offset)}: ${message}`);
}

// The source with comments and the contents of string / character literals replaced by spaces
// (newlines kept, quotes kept), so searches never match inside them and offsets stay valid.
function mask(src) {
  const out = src.split('');
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      let end = src.indexOf('\n', i);
      if (end < 0) end = src.length;
      blank(i, end);
      i = end;
    } else if (c === '/' && next === '*') {
      let end = src.indexOf('*/', i + 2);
      end = end < 0 ? src.length : end + 2;
      blank(i, end);
      i = end;
    } else if (c === 'R' && next === '"' && !/\w/.test(src[i - 1] || '')) {
      const open = src.indexOf('(', i + 2);
      const delim = src.slice(i + 2, open);
      const close = src.indexOf(')' + delim + '"', open);
      const end = close < 0 ? src.length : close + delim.length + 2;
      blank(i + 2, end - 1);
      i = end;
    } else if (c === '"' || c === "'") {
      let k = i + 1;
      while (k < src.length && src[k] !== c && src[k] !== '\n') k += src[k] === '\\' ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

// Index of the bracket that closes the one at `open` (any of ( [ {), in masked text.
function matchBracket(masked, open) {
  const pairs = { '(': ')', '[': ']', '{': '}' };
  const stack = [];
  for (let i = open; i < masked.length; i++) {
    const c = masked[i];
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

// Splits at commas outside (), [], {}.
function splitTopLevel(text) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

// For each offset, whether it lies inside a function body (as opposed to namespace, class or
// file scope): __shared__ is only translated where a function-local static means "one per block".
function functionScopeTester(masked) {
  const events = []; // [offset, depthOfCodeBracesAfter]
  const stack = [];
  let headStart = 0;
  let codeDepth = 0;
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if (c === '{') {
      const head = masked.slice(headStart, i);
      let kind = 'code';
      if (/\bnamespace\b|\bextern\s*"/.test(head)) kind = 'scope';
      else if (!head.includes('(') && /\b(struct|class|union|enum)\b/.test(head)) kind = 'scope';
      else if (!head.includes('(') && /=\s*$/.test(head)) kind = 'init';
      stack.push(kind);
      if (kind === 'code') codeDepth++;
      events.push([i, codeDepth]);
      headStart = i + 1;
    } else if (c === '}') {
      if (stack.pop() === 'code') codeDepth--;
      events.push([i, codeDepth]);
      headStart = i + 1;
    } else if (c === ';') {
      headStart = i + 1;
    }
  }
  return (offset) => {
    let depth = 0;
    for (const [at, d] of events) {
      if (at >= offset) break;
      depth = d;
    }
    return depth > 0;
  };
}

// __global__ functions of one file: name and __launch_bounds__ expression (or null).
function findKernels(file, src, masked) {
  const kernels = [];
  const re = /\b__global__\b/g;
  let m;
  while ((m = re.exec(masked))) {
    let i = m.index + m[0].length;
    let lastIdent = null;
    let bounds = null;
    let name = null;
    while (i < masked.length) {
      const rest = masked.slice(i);
      const ws = /^\s+/.exec(rest);
      if (ws) {
        i += ws[0].length;
        continue;
      }
      if (rest.startsWith('__launch_bounds__')) {
        const open = masked.indexOf('(', i);
        const close = matchBracket(masked, open);
        if (close < 0) fail(file, src, i, 'unbalanced __launch_bounds__(...)');
        bounds = splitTopLevel(src.slice(open + 1, close))[0].trim();
        i = close + 1;
        continue;
      }
      const ident = /^[A-Za-z_]\w*/.exec(rest);
      if (ident) {
        lastIdent = ident[0];
        i += ident[0].length;
        continue;
      }
      if (rest[0] === '(') {
        name = lastIdent;
        break;
      }
      if (rest[0] === ';' || rest[0] === '{') break;
      i++;
    }
    if (!name || name === 'void') fail(file, src, m.index, 'cannot find the name of this __global__ function');
    if (!kernels.some((k) => k.name === name)) kernels.push({ name, bounds, line: lineOf(src, m.index) });
  }
  return kernels;
}

// Rewrites of one file, as [start, end, replacement] on the original text.
function launchRewrites(file, src, masked, kernelsByName, launched) {
  const edits = [];
  let at = 0;
  for (;;) {
    const open = masked.indexOf('<<<', at);
    if (open < 0) break;
    const close = masked.indexOf('>>>', open + 3);
    if (close < 0) fail(file, src, open, 'a <<< without its >>>');
    if (masked.slice(open + 3, close).includes('<<<')) fail(file, src, open, 'nested <<< in a launch configuration');
    // The callee: an identifier, possibly qualified, possibly with template arguments.
    let s = open;
    while (s > 0 && /\s/.test(masked[s - 1])) s--;
    let calleeEnd = s;
    if (masked[s - 1] === '>') {
      let depth = 0;
      for (s = s - 1; s >= 0; s--) {
        if (masked[s] === '>') depth++;
        else if (masked[s] === '<' && --depth === 0) break;
      }
      if (s < 0) fail(file, src, open, 'unbalanced template arguments before <<<');
    }
    while (s > 0 && /[\w:]/.test(masked[s - 1])) s--;
    const callee = src.slice(s, calleeEnd).trim();
    const base = /^(?:::)?(?:[A-Za-z_]\w*::)*([A-Za-z_]\w*)/.exec(callee);
    if (!base) fail(file, src, open, `cannot parse the kernel launched here ("${callee}")`);
    const name = base[1];
    const kernel = kernelsByName.get(name);
    if (!kernel) fail(file, src, open, `launch of "${name}", which no __global__ function under cuda/ defines`);
    const config = src.slice(open + 3, close);
    const parts = splitTopLevel(masked.slice(open + 3, close));
    if (parts.length < 2 || parts.length > 4 || parts.some((p) => p.trim() === '')) {
      fail(file, src, open, 'a launch configuration must have 2 to 4 arguments');
    }
    const after = /^\s*\(/.exec(masked.slice(close + 3));
    if (!after) fail(file, src, close, 'a launch configuration must be followed by the argument list');
    const bounds = kernel.bounds ? `(${kernel.bounds})` : '0';
    edits.push([s, close + 3, `::sim::launch(${callee}, "${name}", ${bounds}, ${config})`]);
    launched.add(name);
    at = close + 3;
  }
  return edits;
}

// Alignment attributes of shared declarations: the simulator's shared buffers are 16-byte aligned.
const ALIGNMENT = /\b__align__\s*\(\s*\d+\s*\)|\balignas\s*\(\s*\d+\s*\)|__attribute__\s*\(\(\s*aligned\s*\(\s*\d+\s*\)\s*\)\)/g;

// extern __shared__ T name[]; declares the launch's dynamic shared memory (all such declarations
// alias the one buffer, as on the device).
function dynamicSharedRewrites(file, src, masked, inFunction) {
  const edits = [];
  const re = /\bextern\s+__shared__\b/g;
  let m;
  while ((m = re.exec(masked))) {
    if (!inFunction(m.index)) fail(file, src, m.index, 'extern __shared__ outside a function body is not supported');
    const semi = masked.indexOf(';', m.index);
    const decl = /^\s*(.*?)\s*\b([A-Za-z_]\w*)\s*\[\s*\]\s*$/s.exec(masked.slice(m.index + m[0].length, semi));
    if (semi < 0 || !decl) fail(file, src, m.index, 'expected "extern __shared__ T name[];"');
    // Alignment attributes are the buffer's business (it is 16-byte aligned).
    const type = decl[1].replace(ALIGNMENT, '').trim();
    if (!type || type.includes('\n')) fail(file, src, m.index, 'cannot read the element type of this extern __shared__ array');
    edits.push([m.index, semi, `${type}* const ${decl[2]} = static_cast<${type}*>(::sim::dynamic_shared())`]);
  }
  return edits;
}

function sharedRewrites(file, src, masked) {
  const inFunction = functionScopeTester(masked);
  const edits = dynamicSharedRewrites(file, src, masked, inFunction);
  const re = /\b__shared__\b/g;
  let m;
  while ((m = re.exec(masked))) {
    if (/\bextern\s+$/.test(masked.slice(Math.max(0, m.index - 20), m.index))) continue;  // dynamic: done above
    if (!inFunction(m.index)) fail(file, src, m.index, '__shared__ outside a function body is not supported');
    const semi = masked.indexOf(';', m.index);
    if (semi < 0) fail(file, src, m.index, 'unterminated __shared__ declaration');
    const decl = masked.slice(m.index + m[0].length, semi);
    if (/[^=!<>]=[^=]/.test(decl) || splitTopLevel(decl).length > 1) {
      fail(file, src, m.index, 'a __shared__ declaration must declare one variable without an initializer');
    }
    const bracket = decl.indexOf('[');
    const head = bracket < 0 ? decl : decl.slice(0, bracket);
    const named = /([A-Za-z_]\w*)\s*$/.exec(head);
    if (!named) fail(file, src, m.index, 'cannot find the name in this __shared__ declaration');
    const name = named[1];
    const type = head.slice(0, named.index).replace(ALIGNMENT, '').trim();
    const dims = bracket < 0 ? '' : decl.slice(bracket).trim();
    if (!type || /\n/.test(type + dims)) fail(file, src, m.index, 'cannot read the type of this __shared__ declaration');
    const site = `kernel_sim_site_${name}`;
    edits.push([m.index, semi, `static const char ${site} = 0; auto& ${name} = ::sim::shared_static<${type} ${dims}>(&${site})`]);
  }
  return edits;
}

function includeRewrites(file, src, masked) {
  const edits = [];
  const re = /^[ \t]*#[ \t]*include[ \t]*<([^>\n]+)>/gm;
  let m;
  while ((m = re.exec(src))) {
    if (masked[m.index + m[0].indexOf('#')] !== '#') continue; // inside a comment
    const header = m[1].trim();
    if (SUBSTITUTE_INCLUDES[header]) {
      edits.push([m.index, m.index + m[0].length, `#include "${SUBSTITUTE_INCLUDES[header]}"`]);
    } else if (UNSUPPORTED_INCLUDES.test(header)) {
      fail(file, src, m.index, `<${header}> has no simulator substitute (add one to test/kernel-sim/sim/)`);
    }
  }
  return edits;
}

function applyEdits(src, edits) {
  edits.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  let out = src;
  for (const [start, end, text] of edits) {
    if (text.includes('\n')) throw new Error('internal: a rewrite must not add lines');
    out = out.slice(0, start) + text + out.slice(end);
  }
  return out;
}

function listFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

// Translates a set of files ({ rel, src, target }) together: launches in any of them may name
// kernels defined in any other. Returns the kernels and the .cu files that have kernels or launches.
function translate(files) {
  for (const f of files) {
    f.device = /\.(cu|cuh)$/.test(f.rel);
    f.masked = f.device ? mask(f.src) : null;
  }
  // Pass 1: every kernel, so launches in any file find their kernel's launch bounds.
  const kernelsByName = new Map();
  for (const f of files.filter((x) => x.device)) {
    for (const [re, what] of UNSUPPORTED) {
      const hit = re.exec(f.masked);
      if (hit) fail(f.rel, f.src, hit.index, `the kernel simulator does not support ${what}`);
    }
    f.kernels = findKernels(f.rel, f.src, f.masked);
    for (const k of f.kernels) {
      const other = kernelsByName.get(k.name);
      if (other) {
        fail(f.rel, f.src, 0, `kernel name "${k.name}" is also defined in ${other.file}; the simulator keys kernels by name`);
      }
      kernelsByName.set(k.name, { ...k, file: f.rel });
    }
  }
  // Pass 2: rewrite and write out.
  const launched = new Set();
  const units = [];
  const hostOnly = [];
  for (const f of files) {
    fs.mkdirSync(path.dirname(f.target), { recursive: true });
    if (!f.device) {
      fs.writeFileSync(f.target, f.src);
      continue;
    }
    const launchEdits = launchRewrites(f.rel, f.src, f.masked, kernelsByName, launched);
    const edits = [
      ...launchEdits,
      ...sharedRewrites(f.rel, f.src, f.masked),
      ...includeRewrites(f.rel, f.src, f.masked),
    ];
    fs.writeFileSync(f.target, applyEdits(f.src, edits));
    if (f.rel.endsWith('.cu')) {
      if (f.kernels.length > 0 || launchEdits.length > 0) units.push(f.target);
      else hostOnly.push(f.rel);
    }
  }
  const kernels = [...kernelsByName.values()];
  const unlaunched = kernels.filter((k) => !launched.has(k.name));
  if (unlaunched.length > 0) {
    const lines = unlaunched.map((k) => `${k.file}:${k.line}: kernel "${k.name}" has no <<<>>> launch to rewrite`);
    throw new TranslationError(lines.join('\n'));
  }
  return { units, kernels, hostOnly };
}

// Translates repoRoot/cuda into outDir/cuda and writes outDir/kernel_manifest.inc (the kernels
// the test binary must see launched). Returns { units, kernels: [{name, file}], hostOnly }.
// The optimizer backend's kernels only: cuda/model/ (the training bench's model ops) runs on this
// simulator in its own test, test/model-kernel-sim.test.ts, against the CPU model ops.
const NOT_SIMULATED_DIRS = ['model'];

function generate(repoRoot, outDir) {
  const cudaDir = path.join(repoRoot, 'cuda');
  const skipped = NOT_SIMULATED_DIRS.map((d) => path.join(cudaDir, d));
  const files = listFiles(cudaDir).filter((full) => !skipped.some((d) => full.startsWith(d + path.sep))).map((full) => {
    const rel = path.relative(repoRoot, full).split(path.sep).join('/');
    return { rel, src: fs.readFileSync(full, 'utf8'), target: path.join(outDir, rel) };
  });
  const result = translate(files);
  if (result.kernels.length === 0) throw new TranslationError(`no __global__ functions found under ${cudaDir}`);
  const manifest = result.kernels.map((k) => `KERNEL_SIM_KERNEL("${k.name}", "${k.file}")`).join('\n');
  fs.writeFileSync(path.join(outDir, 'kernel_manifest.inc'), `// Generated by test/kernel-sim/generate.js.\n${manifest}\n`);
  const kernels = result.kernels.map((k) => ({ name: k.name, file: k.file }));
  const notSimulated = NOT_SIMULATED_DIRS.filter((d) => fs.existsSync(path.join(cudaDir, d))).map((d) => `cuda/${d}/`);
  return { units: result.units, kernels, hostOnly: [...result.hostOnly, ...notSimulated] };
}

// Translates one extra source (the self-test's deliberately defective kernels) the same way.
function generateFile(sourcePath, targetPath) {
  const rel = path.basename(sourcePath);
  return translate([{ rel, src: fs.readFileSync(sourcePath, 'utf8'), target: targetPath }]).units;
}

module.exports = { generate, generateFile, TranslationError, mask };

if (require.main === module) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  if (outIndex < 0 || !args[outIndex + 1]) {
    console.error('usage: node test/kernel-sim/generate.js --out DIR');
    process.exit(2);
  }
  try {
    const result = generate(path.resolve(__dirname, '../..'), path.resolve(args[outIndex + 1]));
    const hostOnly = result.hostOnly.join(', ') || 'none';
    console.log(`translated ${result.units.length} units, ${result.kernels.length} kernels; host-only: ${hostOnly}`);
  } catch (e) {
    console.error(`kernel-sim generator: ${e.message}`);
    process.exit(1);
  }
}
