// The GPU check (scripts/gpu-check.sh) dry-runs on any machine: every part of the list is
// in its JSON report, each skipped with what it would run, and the log is written beside it. The
// status section of the README and docs/benchmarks.md matches docs/gpu-status.json.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

interface Step { name: string; status: string; reason: string }
interface Part { id: string; title: string; status: string; reason: string; steps: Step[] }

describe('scripts/gpu-check.sh --dry-run', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-'));
  let report: { dryRun: boolean; parts: Part[] };
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    run = spawnSync('bash', ['scripts/gpu-check.sh', '--dry-run', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    report = JSON.parse(fs.readFileSync(path.join(out, 'gpu-check.json'), 'utf8'));
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test('exits 0 and writes the report and the log', () => {
    expect(run.status).toBe(0);
    expect(report.dryRun).toBe(true);
    expect(fs.readFileSync(path.join(out, 'gpu-check.log'), 'utf8')).toMatch(/dry run/);
    expect(fs.existsSync(path.join(out, 'gpu-status.json'))).toBe(false); // a dry run states nothing about hardware
  });

  test('lists the five parts of the issue, every step skipped with its reason', () => {
    expect(report.parts.map((p) => p.id)).toEqual(['build-and-suite', 'sanitizers', 'cpu-vs-gpu', 'streams-errors-libraries', 'benches']);
    for (const part of report.parts) {
      expect(part.status).toBe('skipped');
      expect(part.steps.length).toBeGreaterThan(0);
      for (const step of part.steps) {
        expect(step.status).toBe('skipped');
        expect(step.reason).toMatch(/^dry run: would run `.+` \(limit \d+ s; needs /);
      }
    }
  });

  test('the parts cover what the issue asks for', () => {
    const all = report.parts.flatMap((p) => [p.title, ...p.steps.map((s) => `${s.name} ${s.reason}`)]).join('\n');
    for (const needle of [
      'jest', 'memcheck', 'racecheck', 'synccheck', 'every-method.js', 'train --preset tiny', '32000x5120', '200 tensors',
      '2^31', 'line norms', 'FRUGAL_CUBLAS_PATH=/nonexistent', 'concurrent GaLore streams', 'NaN-gradient SVD',
      'math libraries', 'bench-vs-torch.sh cuda:0 -- --preset 60m', '--preset 1b', 'adamw-1e8.js',
      // the scripts that do the checks the titles promise
      'device-report.js', 'cpu-vs-gpu.js', 'cpu-vs-gpu.js --only galore-fallback', 'streams-and-errors.js', 'fault-attribution.js',
    ]) {
      expect(all).toContain(needle);
    }
  });

  test('each step has a cap, and the caps add up to little more than the 470 s overall budget', () => {
    // run.js also stops starting steps when the overall budget (470 s: under 8 minutes with the
    // machine probe) is spent; the caps keep one hung step from eating the others' time.
    const limits = report.parts.flatMap((p) => p.steps.map((s) => Number(/limit (\d+) s/.exec(s.reason)![1])));
    expect(Math.max(...limits)).toBeLessThanOrEqual(150);
    expect(limits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(900);
  });

  test('the GPU status sections are generated from docs/gpu-status.json', () => {
    const check = spawnSync('node', ['scripts/gpu-check/status-doc.js', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/No line of the CUDA backend has run on GPU hardware yet|Last GPU check: \d{4}-\d\d-\d\d on /);
  });

  test('a report from a GPU run turns into the statement, part by part', () => {
    const doc = require('../scripts/gpu-check/status-doc.js');
    const parts = report.parts.map((p) => ({ ...p, status: p.id === 'benches' ? 'fail' : 'pass' }));
    const status = doc.statusFromReport({ finished: '2027-01-05T10:00:00Z', machine: { gpu: 'NVIDIA H200', driver: '580.1' }, parts });
    const text: string = doc.section(status);
    expect(text).toContain('Last GPU check: 2027-01-05 on NVIDIA H200 (driver 580.1)');
    expect(text).toMatch(/elementwise optimizer kernels.*\| yes: passed on NVIDIA H200, 2027-01-05/);
    expect(text).toMatch(/GPU benchmark numbers \| no: FAILED on NVIDIA H200/);
  });
});
