// Where a source build finds nvcc, the CUDA compiler: CUDA installs rarely put it on PATH (the
// toolkit lives in /usr/local/cuda/bin, or wherever CUDA_HOME / CUDA_PATH say), so PATH alone
// silently dropped the CUDA backend for most users. Looked for, in this order:
//   1. CUDACXX: CMake's own variable for the CUDA compiler (a path to nvcc), when set;
//   2. CUDA_HOME/bin, then CUDA_PATH/bin: a toolkit the user named outranks whatever PATH holds;
//   3. PATH;
//   4. /usr/local/cuda/bin (the toolkit installers' link), /opt/cuda/bin (Arch Linux's package).
// CMakeLists.txt searches the same places when it is run without this script (plain cmake).
// A pure function of the environment and a file probe, so the tests hand it stubs.
'use strict';
const fs = require('fs');
const path = require('path');

/** Whether `file` is an executable regular file. */
function isExecutableFile(file) {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds nvcc. `env`: the environment; `platform`: process.platform (nvcc.exe and ';' on Windows);
 * `isExecutable(file)`: the file probe.
 * Returns { nvcc, from } (the path and where it was found, e.g. 'CUDA_HOME=/opt/cuda-12.4'), or
 * { nvcc: null, searched } listing every place looked in, for the message that says so.
 */
function findNvcc({ env = process.env, platform = process.platform, isExecutable = isExecutableFile } = {}) {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const exe = platform === 'win32' ? 'nvcc.exe' : 'nvcc';
  const searched = [];
  // `from`: how the message names the place; `missed`: how the list of places searched names it.
  const tryFile = (file, from, missed) => {
    if (isExecutable(file)) return { nvcc: file, from };
    searched.push(missed);
    return null;
  };
  if (env.CUDACXX) {
    const hit = tryFile(env.CUDACXX, 'CUDACXX', `CUDACXX=${env.CUDACXX} (not an executable file)`);
    if (hit) return hit;
  }
  for (const name of ['CUDA_HOME', 'CUDA_PATH']) {
    if (!env[name]) continue;
    const file = p.join(env[name], 'bin', exe);
    const hit = tryFile(file, `${name}=${env[name]}`, `${name}=${env[name]} (no ${file})`);
    if (hit) return hit;
  }
  const dirs = (env.PATH || '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
  for (const dir of dirs) {
    const file = p.join(dir, exe);
    if (isExecutable(file)) return { nvcc: file, from: 'PATH' };
  }
  searched.push('PATH');
  if (platform !== 'win32') {
    for (const dir of ['/usr/local/cuda/bin', '/opt/cuda/bin']) {
      const hit = tryFile(p.join(dir, exe), dir, dir);
      if (hit) return hit;
    }
  }
  return { nvcc: null, searched };
}

module.exports = { findNvcc };
