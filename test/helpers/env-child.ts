// Child processes for the environment-switch tests. The addon reads its switches with getenv
// (some once per process), so setting process.env inside jest proves nothing: each switch is
// set in a fresh process's real environment, and the child reports what it computed together
// with the addon's _debugPaths() record of which path ran.
import { spawn } from 'child_process';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Every switch the native code reads; cleared in a child unless the test sets it. */
export const SWITCHES = [
  'FRUGAL_CPU_GENERIC_LOOPS',
  'FRUGAL_NUM_THREADS',
  'FRUGAL_GEMM_KERNEL',
  'FRUGAL_CUBLAS_PATH',
  'FRUGAL_CUSOLVER_PATH',
] as const;

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function childEnv(env: Partial<Record<string, string>>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, TS_NODE_PROJECT: path.join(ROOT, 'test', 'tsconfig.json') };
  for (const s of SWITCHES) delete out[s];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function run(args: string[], env: Partial<Record<string, string>>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a TypeScript file (through ts-node, against lib/ like jest) with `env` set. */
export function runTsChild(file: string, env: Partial<Record<string, string>>, args: string[] = []): Promise<ChildResult> {
  return run(['-r', 'ts-node/register/transpile-only', file, ...args], env);
}

/** Runs plain JavaScript (`node -e`) in the repository root. */
export function runNodeChild(script: string, env: Partial<Record<string, string>>): Promise<ChildResult> {
  return run(['-e', script], env);
}

/** Runs plain JavaScript (`node -e`) where `addon` is already the loaded addon. */
export function runJsChild(script: string, env: Partial<Record<string, string>>): Promise<ChildResult> {
  const load = `const addon = process.env.FRUGAL_ADDON_PATH ? require(require('path').resolve(process.env.FRUGAL_ADDON_PATH))
    : require('bindings')({ bindings: 'frugal', module_root: ${JSON.stringify(ROOT)} });\n`;
  return run(['-e', load + script], env);
}

/** The JSON a child printed as its last stdout line; throws with the child's stderr otherwise. */
export function childJson<T>(r: ChildResult): T {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !last.startsWith('{')) {
    throw new Error(`child exited with ${r.code}:\n${r.stderr}\n${r.stdout}`);
  }
  return JSON.parse(last) as T;
}
