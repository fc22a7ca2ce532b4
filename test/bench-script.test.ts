// scripts/bench-vs-torch.sh refuses bad arguments by name before it looks for torch or runs
// anything (the runs themselves need torch and minutes: they are benchmarks, not tests).
import { spawnSync } from 'child_process';
import * as path from 'path';

const SCRIPT = path.resolve(__dirname, '..', 'scripts', 'bench-vs-torch.sh');

function run(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('bench-vs-torch.sh arguments', () => {
  it('names a bad device', () => {
    const r = run('tpu');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("device: expected cpu or cuda:0, got 'tpu'");
  });
  it('names an unknown option, with or without a device and --', () => {
    for (const args of [['cpu', '--', '--bogus', '1'], ['--bogus'], ['cpu', '--fast']]) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/unknown option '--(bogus|fast)'/);
    }
  });
  it('names an option missing its value', () => {
    const r = run('cpu', '--', '--preset');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--preset: expected a value');
  });
});
