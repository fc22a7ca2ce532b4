// The step benchmark's arithmetic and outputs, without timing anything: bytes a step must move,
// the timing summary, the ours/torch comparison on sample results and the report (its charts:
// test/bench-charts.test.ts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stepTraffic } from '../lib/bench/bytes-moved';
import { compareResults, comparisonTable, runCompare } from '../lib/bench/compare';
import { parseBenchArgs } from '../lib/bench/bench-args';
import { UsageError } from '../lib/cli/args';
import { readResults, resultsPath } from '../lib/bench/results';
import { reportMarkdown } from '../lib/bench/report';
import { summarize, timeCalls } from '../lib/bench/timing';
import { groupOptions, GroupPlanOptions } from '../lib/plan/group-options';
import { planOptimizerState, PlannedGroup } from '../lib/plan/optimizer-state';

const SAMPLES = path.join(__dirname, '..', 'bench', 'samples');
const group = (options: Partial<GroupPlanOptions>, shapes: number[][]): PlannedGroup => ({
  label: 'g', options: groupOptions(options), params: shapes.map((shape, i) => ({ name: `p${i}`, shape })),
});
const traffic = (options: Partial<GroupPlanOptions>, shapes: number[][], dtype: 'float32' | 'bfloat16' = 'float32') => {
  const g = [group(options, shapes)];
  return stepTraffic(g, planOptimizerState(g), dtype);
};

describe('bytes a step must move', () => {
  test('AdamW fp32: 28 bytes a parameter; bf16 weights with fp32 moments: 22', () => {
    expect(traffic({}, [[10, 10]]).bytes).toBe(28 * 100);
    expect(traffic({}, [[10, 10]], 'bfloat16').bytes).toBe(22 * 100);
    expect(traffic({ stateDtype: 'bfloat16' }, [[10, 10]], 'bfloat16').bytes).toBe(14 * 100);
  });
  test('SGDM 20, signSGD 12', () => {
    expect(traffic({ stateFull: 'sgdm' }, [[10, 10]]).bytes).toBe(2000);
    expect(traffic({ selection: 'none', stateFree: 'signsgd' }, [[10, 10]]).bytes).toBe(1200);
  });
  test('FRUGAL blocks: AdamW on active tensors, sign on the rest; BAdam leaves inactive tensors alone', () => {
    // two 10x10 tensors, one active
    expect(traffic({ selection: 'blocks', density: 0.5, stateFree: 'signsgd' }, [[10, 10], [10, 10]]).bytes).toBe(2800 + 1200);
    expect(traffic({ selection: 'blocks', density: 0.5, stateFree: 'none' }, [[10, 10], [10, 10]]).bytes).toBe(2800);
  });
  test('Grass touches only its r lines (plus indices, scales, mask)', () => {
    // 4 x 10, rank 1 row: 10 elements x 28 + 4 + 4 + 4
    expect(traffic({ selection: 'grass', rank: 1 }, [[4, 10]]).bytes).toBe(10 * 28 + 12);
    // FRUGAL columns with signSGD: every element p,g,p plus moments of the k columns
    expect(traffic({ selection: 'columns', density: 0.5, stateFree: 'signsgd' }, [[4, 10]]).bytes).toBe(40 * 12 + 2 * 2 * 20 * 4 + 20 + 12);
  });
  test('dense: p and g once, the basis twice, low-rank moments; GEMM flops', () => {
    const t = traffic({ selection: 'svd', rank: 2 }, [[8, 4]]); // right side: basis 4x2, moments 8x2
    expect(t.bytes).toBe(32 * 12 + 2 * 32 + 2 * (2 * 16 * 4));
    expect(t.flops).toBe(2 * 8 * 4 * 2 * 2);
    expect(traffic({ selection: 'svd', rank: 2, stateFree: 'signsgd' }, [[8, 4]]).flops).toBe(2 * 8 * 4 * 2 * 3);
  });
});

describe('timing', () => {
  test('median and quantiles', () => {
    expect(summarize([5, 1, 3, 2, 4])).toMatchObject({ medianMs: 3, p10Ms: 1.4, p90Ms: 4.6 });
  });
  test('warm-up calls are not timed; each sample divides by the inner count', () => {
    let calls = 0;
    let syncs = 0;
    const t = timeCalls(() => { calls++; }, () => { syncs++; }, { warmup: 2, reps: 3, inner: 4 });
    expect(calls).toBe(2 + 3 * 4);
    expect(syncs).toBe(1);  // after the warm-up; samples are timed between events, not host syncs
    expect(t.samples).toHaveLength(3);
    for (const ms of t.samples) expect(ms).toBeGreaterThanOrEqual(0);
  });
  test('a sample is the time per call: a 2 ms busy wait called 3 times per sample measures about 2 ms', () => {
    // Each spin records how long it really took (a preempted spin on a loaded machine lasts
    // longer), so the check holds under load: a sample is the mean of its 3 calls, not their sum.
    const spans: number[] = [];
    const spin = () => {
      const begin = performance.now();
      const end = begin + 2;
      while (performance.now() < end);
      spans.push(performance.now() - begin);
    };
    const t = timeCalls(spin, () => undefined, { warmup: 0, reps: 4, inner: 3 });
    expect(spans).toHaveLength(12);
    const perCall = t.samples.map((_, i) => (spans[3 * i] + spans[3 * i + 1] + spans[3 * i + 2]) / 3);
    for (const ms of t.samples) expect(ms).toBeGreaterThanOrEqual(2);
    // Medians, so one preempted sample cannot decide: per call is ~1x the spans, the sum of three ~3x.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    expect(t.medianMs).toBeGreaterThanOrEqual(0.9 * median(perCall));
    expect(t.medianMs).toBeLessThan(2 * median(perCall));
    expect(t.p10Ms).toBeLessThanOrEqual(t.medianMs);
    expect(t.p90Ms).toBeGreaterThanOrEqual(t.medianMs);
  });
  test('bad counts are refused by name', () => {
    expect(() => timeCalls(() => undefined, () => undefined, { warmup: 0, reps: 0, inner: 1 })).toThrow(/reps must be an integer >= 1/);
    expect(() => timeCalls(() => undefined, () => undefined, { warmup: -1, reps: 1, inner: 1 })).toThrow(/warmup must be an integer >= 0/);
    expect(() => timeCalls(() => undefined, () => undefined, { warmup: 0, reps: 1, inner: 1.5 })).toThrow(/inner must be an integer >= 1/);
  });
});

describe('ours against torch', () => {
  const ours = readResults(path.join(SAMPLES, 'ours-sample.json'));
  const torch = readResults(path.join(SAMPLES, 'torch-sample.json'));

  test('rows pair by method, preset and dtype, one per torch implementation', () => {
    const rows = compareResults(ours, torch);
    expect(rows.map((r) => [r.method, r.torchImpl, Number(r.ratio.toFixed(3))])).toEqual([
      ['adamw', 'torch-foreach', 0.4],
      ['adamw', 'torch-fused', 0.8],
      ['frugal-blocks', 'torch-reference', 0.1],
      ['galore', 'torch-reference', 0.25],
    ]);
    // amortized: ours 2 + 400/200 = 4, torch 8 + 800/200 = 12
    expect(rows[3].oursAmortizedMs / rows[3].torchAmortizedMs).toBeCloseTo(1 / 3, 10);
  });

  test('table and command', () => {
    const rows = compareResults(ours, torch);
    expect(comparisonTable(rows, true).split('\n')[0]).toBe('| method | preset | dtype | torch impl | ours ms | torch ms | ours/torch | amortized ours/torch | ours state | torch state |');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(runCompare([path.join(SAMPLES, 'ours-sample.json'), path.join(SAMPLES, 'torch-sample.json')])).toBe(0);
      expect(String(write.mock.calls[0][0])).toMatch(/frugal-blocks\s+60m\s+float32\s+torch-reference\s+0\.400\s+4\.000\s+0\.100/);
    } finally {
      write.mockRestore();
    }
  });

  test('compare: --markdown, and bad arguments exit 2 naming the problem (a misspelt flag is not a file)', () => {
    const files = [path.join(SAMPLES, 'ours-sample.json'), path.join(SAMPLES, 'torch-sample.json')];
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(runCompare([...files, '--markdown'])).toBe(0);
      expect(String(out.mock.calls[0][0])).toMatch(/^\| method \| preset \|/);
      expect(runCompare([...files, '--markdwn'])).toBe(2);
      expect(String(err.mock.calls[0][0])).toMatch(/^compare: unknown option --markdwn; did you mean --markdown\?/);
      expect(runCompare([files[0]])).toBe(2);
      expect(String(err.mock.calls[1][0])).toMatch(/^compare: expected two results files, got 1/);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  test('a file of another schema is refused by name', () => {
    const f = path.join(os.tmpdir(), `frugal-bad-${process.pid}.json`);
    fs.writeFileSync(f, JSON.stringify({ schema: 'x', rows: [] }));
    expect(() => readResults(f)).toThrow(/expected schema 'frugal-optim-bench\/1'/);
    fs.unlinkSync(f);
  });

  test('results file names: <device>-<date>.json', () => {
    expect(resultsPath('bench/results', ours)).toBe(path.join('bench/results', 'sample-gpu-2026-01-01.json'));
  });
});

describe('report', () => {
  test('markdown names the device, the method and the notes', () => {
    const ours = readResults(path.join(SAMPLES, 'ours-sample.json'));
    ours.rows[2].note = 'a note';
    const md = reportMarkdown(ours, 'bench/results/x.json', new Map([['60m', ['![c](benchmarks/c.png)']]]));
    expect(md).toContain('SAMPLE GPU');
    expect(md).toContain('| galore | float32 |');
    expect(md).toContain('galore: a note.');
    expect(md).toContain('![c](benchmarks/c.png)');
    expect(md).not.toContain('## Against PyTorch');
    const torch = readResults(path.join(SAMPLES, 'torch-sample.json'));
    const withTorch = reportMarkdown(ours, 'x.json', new Map(), { results: torch, file: 'bench/results/torch.json' });
    expect(withTorch).toContain('## Against PyTorch');
    expect(withTorch).toContain('| adamw | 60m | float32 | torch-fused | 0.600 | 0.750 | 0.800 |');
    expect(withTorch).toContain('CUDA events');
  });

  test('a CPU run says why its copy fractions can pass 100%, with this run\'s numbers', () => {
    const ours = readResults(path.join(SAMPLES, 'ours-sample.json'));
    ours.device = { kind: 'cpu', name: 'a cpu' };
    ours.copyBandwidthGBs = { '60m/float32': 19.5, '60m/bfloat16': 18 };
    for (const r of ours.rows) r.bandwidthGBs = 1;
    ours.rows[0].bandwidthGBs = 99.25;
    const md = reportMarkdown(ours, 'x.json', new Map());
    expect(md).toContain('reached 18.0-19.5 GB/s');
    expect(md).toContain(`up to 99.3 GB/s (${ours.rows[0].method}, ${ours.rows[0].dtype})`);
    const torch = readResults(path.join(SAMPLES, 'torch-sample.json'));
    torch.device = { kind: 'cpu', name: 'a cpu' };
    torch.config = { ...torch.config, threads: 2, blas: 'libopenblas.so' };
    const withTorch = reportMarkdown(ours, 'x.json', new Map(), { results: torch, file: 'torch.json' });
    expect(withTorch).toContain('2 threads, BLAS: libopenblas.so');
  });
});

describe('bench options', () => {
  test('CPU defaults: the 60M preset, a few reps', () => {
    const a = parseBenchArgs([], false);
    expect(a).toMatchObject({ device: 'cpu', presets: ['60m'], reps: 5, inner: 1, dtypes: ['float32', 'bfloat16'], svdRefresh: true });
  });
  test('SVD refreshes are timed unless --no-svd-refresh; unknown flags and bad counts are refused by name', () => {
    expect(parseBenchArgs(['--no-svd-refresh'], false)).toMatchObject({ svdRefresh: false });
    expect(() => parseBenchArgs(['--svd-refresh'], false)).toThrow(/unknown option --svd-refresh/);
    expect(() => parseBenchArgs(['--reps', '0'], false)).toThrow(/--reps: expected an integer >= 1, got '0'/);
  });
  test('GPU defaults and explicit choices', () => {
    expect(parseBenchArgs([], true)).toMatchObject({ device: 'cuda:0', reps: 30, inner: 10 });
    expect(parseBenchArgs(['--preset', '1b', '--methods=adamw,galore', '--dtype', 'bfloat16'], true))
      .toMatchObject({ presets: ['1b'], methods: ['adamw', 'galore'], dtypes: ['bfloat16'] });
    expect(() => parseBenchArgs(['--methods', 'nope'], false)).toThrow(/--methods: expected one of adamw, .*, got 'nope'$/);
  });
  test('bad input is a UsageError naming the flag, with the near miss when there is one', () => {
    expect(() => parseBenchArgs(['--method', 'adamw'], false)).toThrow(/^unknown option --method; did you mean --methods\? \(see --help\)$/);
    expect(() => parseBenchArgs(['--methods', 'galor'], false)).toThrow(/got 'galor'; did you mean 'galore'\?$/);
    expect(() => parseBenchArgs(['--preset', '60n'], false)).toThrow(/--preset: expected one of 60m, .*, got '60n'; did you mean '60m'\?$/);
    expect(() => parseBenchArgs(['--device', 'gpu'], false)).toThrow(/--device: expected cpu or cuda:N, got 'gpu'/);
    expect(() => parseBenchArgs(['--reps'], false)).toThrow(UsageError);
    expect(parseBenchArgs(['--dtype', 'bf16,fp32'], false)).toMatchObject({ dtypes: ['bfloat16', 'float32'] });
    expect(parseBenchArgs(['--version'], false)).toBe('version');
    expect(parseBenchArgs(['--reps', '0', '--help'], false)).toBe('help');
  });
  test('the bench exits 2 on bad arguments before it measures anything, and prints --version', async () => {
    const { runStepBench } = await import('../lib/bench/step-bench');
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await runStepBench(['--warmpu', '2'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toBe('bench: unknown option --warmpu; did you mean --warmup? (see --help)\n');
      expect(await runStepBench(['--version'])).toBe(0);
      const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toBe(`${version}\n`);
    } finally {
      err.mockRestore();
      out.mockRestore();
    }
  });
});
