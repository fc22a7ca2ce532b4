// A C test program of test/abi compiled against this tree's headers (native/include) and linked
// with its libfrugal (build/Release), then run: the C API exercised with no Node in between.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const LIB_DIR = path.join(ROOT, 'build', 'Release');

export interface CProgramResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/** Compiles test/abi/<name>.c (gcc -Wall -Werror) and runs it; a compile error throws with gcc's output. */
export function runCProgram(name: string): CProgramResult {
  if (!fs.existsSync(path.join(LIB_DIR, 'libfrugal.so'))) {
    throw new Error(`${LIB_DIR}/libfrugal.so is missing: build with npm run build:addon (CMake)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `frugal-${name}-`));
  try {
    const exe = path.join(dir, name);
    const cc = spawnSync('gcc', ['-std=c99', '-Wall', '-Werror', `-I${path.join(ROOT, 'native', 'include')}`,
      path.join(ROOT, 'test', 'abi', `${name}.c`), `-L${LIB_DIR}`, '-lfrugal', '-lm', `-Wl,-rpath,${LIB_DIR}`, '-o', exe], { encoding: 'utf8' });
    if (cc.status !== 0 || cc.stderr) throw new Error(`gcc test/abi/${name}.c: ${cc.stderr}${cc.error ?? ''}`);
    const r = spawnSync(exe, [], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
