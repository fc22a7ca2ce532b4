#!/usr/bin/env node
// Builds the native addon (npm's install script, and `npm run build:addon`).
//   - CMake on PATH: cmake-js compile, Release, into build/ (the CPU backend always, the CUDA
//     backend when nvcc is found; FRUGAL_CUDA=ON|OFF|AUTO and FRUGAL_CUDA_ARCHS override).
//     nvcc is looked for where CUDA installs put it (find-nvcc.js: CUDACXX, CUDA_HOME, CUDA_PATH,
//     PATH, /usr/local/cuda/bin), handed to CMake as CMAKE_CUDA_COMPILER and printed; when none
//     is found the build says so in a line npm shows, and builds the CPU backend alone. A build
//     directory configured with another CUDA compiler (or none) is configured again.
//     Node-API headers come from node-api-headers (package.json binary.napi_versions): no download.
//   - otherwise: node-gyp rebuild (CPU backend only), into build/.
//   - --gyp: node-gyp in a temporary copy of the sources (build/ is left alone), the addon kept
//     as build-gyp/Release/frugal.node and loaded once to prove it works (CI checks this build).
// Parallelism: CMAKE_BUILD_PARALLEL_LEVEL / JOBS, default 2.
// cmake-js and node-addon-api are optional dependencies (only a source build needs them): when one
// is missing, an addon already built is kept, and otherwise the build stops naming the package.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { findNvcc } = require('./find-nvcc');

const root = path.resolve(__dirname, '..');
const jobs = process.env.JOBS || process.env.CMAKE_BUILD_PARALLEL_LEVEL || '2';

function log(message) {
  console.log(`[frugal-optim] ${message}`);
}

function fail(message) {
  console.error(`[frugal-optim] build failed: ${message}`);
  process.exit(1);
}

// npm runs a dependency's install script with its output hidden (shown only if it fails), so a
// warning on stderr alone reaches nobody: under npm, with stderr not a terminal, the line also
// goes to the controlling terminal (/dev/tty), which npm leaves alone. No terminal (CI): the log.
// (The streams are parameters for the tests.)
function warnVisibly(message, { env = process.env, stderr = process.stderr, openTty = () => fs.openSync('/dev/tty', 'w') } = {}) {
  const line = `[frugal-optim] warning: ${message}\n`;
  stderr.write(line);
  if (!env.npm_lifecycle_event || stderr.isTTY) return;
  try {
    const fd = openTty();
    try {
      fs.writeSync(fd, line);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // no controlling terminal: stderr above is all there is
  }
}

function onPath(command) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, command))) return path.join(dir, command);
  }
  return null;
}

function run(command, args, cwd) {
  log(`$ ${[path.basename(command), ...args].join(' ')}   (in ${cwd})`);
  const started = Date.now();
  const r = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  if (r.error) fail(`${command}: ${r.error.message}`);
  if (r.status !== 0) fail(`${path.basename(command)} exited with ${r.status}`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const builtAddon = path.join(root, 'build', 'Release', 'frugal.node');

function resolvable(request) {
  try {
    return require.resolve(request, { paths: [root] });
  } catch {
    return null;
  }
}

// Packages a source build needs that are not installed: keep the built addon, or stop saying what to install.
function requireBuildTools(packages) {
  const missing = packages.filter((p) => !resolvable(`${p}/package.json`));
  if (missing.length === 0) return;
  const what = `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed ` +
    '(optional dependencies of frugal-optim, needed only to build the addon from source)';
  if (fs.existsSync(builtAddon) && !process.argv.includes('--gyp')) {
    log(`${what}; keeping the addon already built: ${builtAddon}`);
    process.exit(0);
  }
  fail(`${what}, and no built addon exists: run \`npm install ${missing.join(' ')}\` ` +
    '(or install frugal-optim without --omit=optional), then `npm run build:addon`');
}

// The CUDA compiler for this build: FRUGAL_CUDA=OFF none; otherwise the nvcc found, and none
// found is a warning (AUTO) or an error (ON). The environment and what it calls are parameters
// for the tests.
function cudaCompiler({ env = process.env, find = findNvcc, say = log, warn = warnVisibly } = {}) {
  const mode = (env.FRUGAL_CUDA || 'AUTO').toUpperCase();
  if (mode === 'OFF') {
    say('FRUGAL_CUDA=OFF: building the CPU backend only');
    return null;
  }
  const found = find({ env });
  if (found.nvcc) {
    say(`nvcc: ${found.nvcc} (found through ${found.from}): building the CUDA backend too`);
    return found.nvcc;
  }
  const where = found.searched.join(', ');
  if (mode === 'ON') throw new Error(`FRUGAL_CUDA=ON but nvcc, the CUDA compiler, was not found (looked in ${where})`);
  warn(
    `nvcc, the CUDA compiler, was not found (looked in ${where}): the CUDA backend is left out and ` +
      'frugal-optim will run on the CPU only. To include it, install the CUDA toolkit (12.1 or newer), ' +
      'set CUDA_HOME to it (or put its bin/ on PATH) and run `npm rebuild frugal-optim`.',
  );
  return null;
}

// Why build/ must be configured again before it builds with `nvcc` (null: no CUDA compiler), or
// null when it need not. `cache` is build/CMakeCache.txt's text, null when there is none (cmake-js
// compile then configures it, with our options). CMakeLists.txt records the CUDA compiler it
// configured with ('' for none) as FRUGAL_CUDA_COMPILER_USED; cmake-js compile never configures a
// build directory again, so without this a toolkit installed since (or FRUGAL_CUDA changed) would
// not take.
function reconfigureReason(cache, nvcc) {
  if (cache === null) return null;
  const m = /^FRUGAL_CUDA_COMPILER_USED:INTERNAL=(.*)$/m.exec(cache);
  if (!m) return 'build/ was configured by an older CMakeLists.txt';
  const wanted = nvcc || '';
  if (m[1] === wanted) return null;
  return `build/ was configured with ${m[1] ? `nvcc ${m[1]}` : 'no CUDA compiler'}, this build uses ${wanted ? `nvcc ${wanted}` : 'none'}`;
}

function readIfPresent(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function buildWithCmake() {
  requireBuildTools(['cmake-js', 'node-addon-api']);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
  log(`building with CMake (${onPath('cmake')}), ${jobs} jobs`);
  let nvcc;
  try {
    nvcc = cudaCompiler();
  } catch (e) {
    fail(e.message);
  }
  // CMake reads FRUGAL_CUDA from the environment: OFF when no nvcc is used, so a CUDA compiler
  // cached by an earlier configuration (since removed) is not tried.
  if (!nvcc) process.env.FRUGAL_CUDA = 'OFF';
  const options = ['--config', 'Release', '--directory', root, ...(nvcc ? [`--CDCMAKE_CUDA_COMPILER=${nvcc}`] : [])];
  const why = reconfigureReason(readIfPresent(path.join(root, 'build', 'CMakeCache.txt')), nvcc);
  if (why) {
    log(`${why}: configuring again`);
    run(process.execPath, [cmakeJs, 'configure', ...options], root);
  }
  run(process.execPath, [cmakeJs, 'compile', '--parallel', jobs, ...options], root);
  log(`addon: ${path.join(root, 'build', 'Release', 'frugal.node')}`);
}

// node-gyp: npm hands its own to install scripts; otherwise npm's bundled copy next to node.
function nodeGypScript() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }));
  } catch {
    // not installed locally
  }
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) fail('neither CMake nor node-gyp was found; install CMake (>= 3.19) or node-gyp, and a C++17 compiler');
  return found;
}

function gypArgs() {
  const args = ['rebuild', '--release', `-j`, jobs];
  // Offline: use the headers of the running node's install (npm config nodedir, e.g. /usr).
  const prefix = process.env.npm_config_nodedir || path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  return args;
}

function buildWithGyp(dir) {
  requireBuildTools(['node-addon-api']);
  log(`building the CPU-only addon with node-gyp, ${jobs} jobs`);
  run(process.execPath, [nodeGypScript(), ...gypArgs()], dir);
}

// --gyp: build a scratch copy, keep the addon under build-gyp/, and load it once.
function checkGypBuild() {
  requireBuildTools(['node-addon-api']);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-gyp-'));
  try {
    for (const item of ['binding.gyp', 'sources.json', 'package.json', 'native']) {
      fs.cpSync(path.join(root, item), path.join(tmp, item), { recursive: true });
    }
    // binding.gyp asks node for node-addon-api's include dir: let the copy resolve it as we do
    // (our node_modules, or the hoisted one when installed as a dependency).
    const modules = path.dirname(path.dirname(require.resolve('node-addon-api/package.json', { paths: [root] })));
    fs.symlinkSync(modules, path.join(tmp, 'node_modules'), 'dir');
    buildWithGyp(tmp);
    const dest = path.join(root, 'build-gyp', 'Release', 'frugal.node');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(path.join(tmp, 'build', 'Release', 'frugal.node'), dest);
    const addon = require(dest);
    log(`node-gyp addon loads: version ${addon.version()}, CUDA devices ${addon.cudaDeviceCount()}, built with CUDA: ${addon.builtWithCuda}`);
    log(`addon: ${dest}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function main() {
  // Everything generated from schema/options.json is committed; a schema edit is picked up here
  // (where the generator and the schema exist: a copy of this script alone builds what is there).
  const generator = path.join(__dirname, 'gen-schema.js');
  if (fs.existsSync(generator) && fs.existsSync(path.join(root, 'schema', 'options.json'))) {
    run(process.execPath, [generator], root);
  }
  if (process.argv.includes('--gyp')) checkGypBuild();
  else if (onPath('cmake')) buildWithCmake();
  else {
    log('CMake not found on PATH: falling back to node-gyp (CPU backend only)');
    const { nvcc } = process.env.FRUGAL_CUDA?.toUpperCase() === 'OFF' ? { nvcc: null } : findNvcc();
    if (nvcc) {
      warnVisibly(
        `CMake was not found on PATH, so the CUDA backend is left out although nvcc is here (${nvcc}): ` +
          'install CMake (3.19 or newer) and run `npm rebuild frugal-optim` to include it.',
      );
    }
    buildWithGyp(root);
  }
}

if (require.main === module) main();
module.exports = { cudaCompiler, reconfigureReason, warnVisibly };
