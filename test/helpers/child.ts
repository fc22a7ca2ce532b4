// Runs code in a child Node process with lib/*.ts loadable (test/children/ts-register.js), so a
// test whose failure mode is a crash (SIGSEGV, SIGABRT, exit 139) or running out of memory fails
// with the exit status instead of killing jest.
import { spawnSync } from 'child_process';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '../..');
const REGISTER = path.join(ROOT, 'test/children/ts-register.js');

export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  nodeArgs?: string[];
  args?: string[];
  timeoutMs?: number;
  /** Variables added to (undefined: removed from) the environment the child inherits. */
  env?: Record<string, string | undefined>;
}

function childEnv(changes: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function runNode(args: string[], options: ChildOptions): ChildResult {
  const r = spawnSync(process.execPath, [...(options.nodeArgs ?? []), '-r', REGISTER, ...args, ...(options.args ?? [])], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
    env: options.env ? childEnv(options.env) : process.env,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs a script file (path relative to the repository root). */
export function runChildScript(script: string, options: ChildOptions = {}): ChildResult {
  return runNode([path.join(ROOT, script)], options);
}

/** Runs a snippet of CommonJS code; `lib` in it is the package (require of lib/index.ts). */
export function runChildCode(code: string, options: ChildOptions = {}): ChildResult {
  return runNode(['-e', `const lib = require(${JSON.stringify(path.join(ROOT, 'lib'))});\n${code}`], options);
}

/** The last line of stdout parsed as JSON, with the exit status in the failure message. */
export function childJson<T>(r: ChildResult): T {
  const lines = r.stdout.trim().split('\n');
  if (r.status !== 0 || r.signal) {
    throw new Error(`child exited with status ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return JSON.parse(lines[lines.length - 1]) as T;
}
