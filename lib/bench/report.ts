// docs/benchmarks.md from a results file: how the numbers were taken, one table per preset, and
// charts of step time and optimizer state per method (SVG and PNG, written beside the report by
// lib/chart/render.ts; the report shows the PNGs).
import * as fs from 'fs';
import * as path from 'path';
import { formatBytes } from '../plan/format';
import { compareResults, comparisonTable } from './compare';
import { writeChart } from '../chart/render';
import { BarSeries, barChartSpec } from './bar-chart';
import { BenchResults, BenchRow, readResults } from './results';

export const CHART_USER = 'the bench report\'s charts (--report)';

const COLORS: Record<string, string> = {
  float32: '#4e79a7', bfloat16: '#f28e2b', state: '#59a14f', 'torch float32': '#9cb8d6', 'torch bfloat16': '#f6c08f',
  'torch state': '#a9d3a2',
};

function methodsOf(rows: readonly BenchRow[]): string[] {
  return [...new Set(rows.map((r) => r.method))];
}

function presetTable(rows: readonly BenchRow[]): string {
  const out = [
    '| method | dtype | step ms (p10-p90) | refresh ms | amortized ms | must move | GB/s | of copy | GFLOP | state |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(`| ${r.method} | ${r.dtype} | ${r.stepMs.toFixed(3)} (${r.stepMsP10.toFixed(3)}-${r.stepMsP90.toFixed(3)}) | ` +
      `${r.refreshMs === null ? '-' : r.refreshMs.toFixed(1)} | ${r.amortizedMs.toFixed(3)} | ${formatBytes(r.bytesMoved)} | ` +
      `${r.bandwidthGBs.toFixed(1)} | ${(100 * r.copyFraction).toFixed(0)}% | ${r.flops ? (r.flops / 1e9).toFixed(1) : '-'} | ` +
      `${formatBytes(r.stateBytes)} |`);
  }
  return out.join('\n');
}

/** The fastest torch row of a method (torch-fused or torch-foreach for AdamW), for the charts. */
function bestTorch(torchRows: readonly BenchRow[], method: string, dtype: string): BenchRow | undefined {
  return torchRows
    .filter((r) => r.method === method && r.dtype === dtype)
    .sort((a, b) => a.stepMs - b.stepMs)[0];
}

/** The two charts of one preset, by file name (without extension). */
export function presetChartSpecs(preset: string, rows: readonly BenchRow[], torchRows: readonly BenchRow[] = []):
  [string, ReturnType<typeof barChartSpec>][] {
  const methods = methodsOf(rows);
  const dtypes = [...new Set(rows.map((r) => r.dtype))];
  const find = (m: string, d: string) => rows.find((r) => r.method === m && r.dtype === d);
  const theirs = torchRows.filter((r) => r.preset === preset);
  const series: BarSeries[] = dtypes.map((d) => ({ name: d, color: COLORS[d] ?? '#888', values: methods.map((m) => find(m, d)?.stepMs ?? null) }));
  for (const d of dtypes) {
    if (!theirs.some((r) => r.dtype === d)) continue;
    const name = `torch ${d}`;
    series.push({ name, color: COLORS[name] ?? '#bbb', values: methods.map((m) => bestTorch(theirs, m, d)?.stepMs ?? null) });
  }
  const time = barChartSpec({
    title: `LLaMA-${preset}: time per optimizer step${theirs.length ? ' (torch: its fastest implementation)' : ''}`,
    unit: 'milliseconds, median',
    categories: methods,
    series,
    log: true,
  });
  const stateSeries: BarSeries[] = [{ name: 'frugal-optim', color: COLORS.state, values: methods.map((m) => (find(m, dtypes[0])?.stateBytes ?? 0) / 2 ** 20) }];
  if (theirs.some((r) => r.dtype === dtypes[0])) {
    stateSeries.push({ name: 'torch', color: COLORS['torch state'], values: methods.map((m) => {
      const t = bestTorch(theirs, m, dtypes[0]);
      return t ? t.stateBytes / 2 ** 20 : null;
    }) });
  }
  const state = barChartSpec({
    title: `LLaMA-${preset}: optimizer state (${dtypes[0]} weights)`,
    unit: 'MiB',
    categories: methods,
    series: stateSeries,
  });
  return [[`${preset}-step-time`, time], [`${preset}-state-bytes`, state]];
}

/** Writes one preset's charts (SVG and PNG); returns markdown links to the PNGs, relative to the report. */
async function presetCharts(preset: string, rows: readonly BenchRow[], reportDir: string, chartDir: string,
  torchRows: readonly BenchRow[] = []): Promise<string[]> {
  const links: string[] = [];
  for (const [name, spec] of presetChartSpecs(preset, rows, torchRows)) {
    const [, png] = await writeChart(spec, path.join(chartDir, name), CHART_USER);
    links.push(`![${name}](${path.relative(reportDir, png).split(path.sep).join('/')})`);
  }
  return links;
}

/** What a PyTorch run on the same device adds to the report. */
export interface TorchSection {
  results: BenchResults;
  file: string;
}

function torchSection(ours: BenchResults, torch: TorchSection): string[] {
  const rows = compareResults(ours, torch.results);
  const cfg = torch.results.config as Record<string, unknown>;
  const cpu = torch.results.device.kind === 'cpu';
  const how = cpu
    ? `the host clock (torch's CPU ops are synchronous), ${String(cfg.threads ?? '?')} threads, BLAS: ${String(cfg.blas ?? 'not recorded')}`
    : 'CUDA events';
  const lines = [
    '## Against PyTorch',
    '',
    `Same shapes, same device (${torch.results.device.name}), same run; torch ${String(cfg.torch ?? '')}, timed with ${how}; ` +
      `raw numbers in \`${torch.file.split(path.sep).join('/')}\` (bench/torch/step_bench.py, run by scripts/bench-vs-torch.sh). ` +
      'torch-fused and torch-foreach are torch.optim.AdamW / SGD; torch-reference is the per-parameter PyTorch code of FRUGAL, ' +
      'GaLore and Grass in bench/torch/reference_methods.py. Below 1 means frugal-optim is faster. torch.optim keeps bf16 ' +
      'moments for bf16 weights, we keep fp32 ones (more bytes to move: see the state columns).',
    '',
  ];
  lines.push(rows.length ? comparisonTable(rows, true) : 'No (method, preset, dtype) in common.', '');
  const skipped = (cfg.skipped as string[] | undefined) ?? [];
  if (skipped.length) lines.push('Not run on the torch side: ' + skipped.join('; ') + '.', '');
  return lines;
}

export function reportMarkdown(results: BenchResults, jsonFile: string, images: Map<string, string[]>,
  torch?: TorchSection): string {
  const d = results.device;
  const cfg = results.config as Record<string, unknown>;
  const lines = [
    '# Step benchmarks',
    '',
    `Latest run: ${results.date.slice(0, 10)} on ${d.kind === 'cpu' ? `the CPU (${d.name}, ${String(cfg.cores)} cores)` : d.name}; ` +
      `raw numbers in \`${jsonFile.split(path.sep).join('/')}\`. Regenerate with \`bash scripts/bench-vs-torch.sh\` ` +
      '(ours and PyTorch in one call), or `npm run bench -- --report docs/benchmarks.md` for ours alone.',
    '',
    '## How the numbers are taken',
    '',
    '- Every parameter of the LLaMA preset (projectable 2-D weights and the regular embedding, norms and LM head) with a',
    '  random gradient; regular tensors get AdamW in every memory-efficient method, as the papers do.',
    `- Ordinary steps: refreshes disabled after step 0, then ${String(cfg.warmup)} warm-up step(s) and ${String(cfg.reps)} samples of ` +
      `${String(cfg.inner)} step(s) each; the median per step. tinybench drives the samples; each sample is timed with the library's ` +
      '`Event`: CUDA events on a GPU, recorded on the stream around the queued steps with no host sync between them (handed to ' +
      'tinybench as the sample\'s duration); host timestamps on the CPU, where steps are synchronous.',
    `- Refresh steps (SVD, line norms and selection, block switches): a second optimizer with a refresh at every step, ${String(cfg.refreshReps)} samples; ` +
      '"refresh ms" is its median minus the ordinary step, "amortized" adds it divided by the recipe\'s T (200; BAdam 100).',
    '- "must move": the bytes a perfectly fused step reads and writes once (fp32 AdamW: p, g, m, v in and p, m, v out, 28 B a param;',
    '  signSGD 12 B; Grass only its r selected lines; dense projections p and g once plus the basis and low-rank moments).',
    '  GB/s is that over the median step time; "of copy" divides it by the bandwidth of copying every gradient onto its',
    '  weight in the same run (bytes read + written over time).',
    '- GFLOP: the projections of dense selections (2mnr per GEMM; two, or three with a state-free residual); those methods',
    '  are compute-bound on large matrices, so their copy fraction is low by nature.',
    '',
    `Copy bandwidth in this run: ${Object.entries(results.copyBandwidthGBs).map(([k, v]) => `${k} ${v.toFixed(1)} GB/s`).join(', ')}.`,
    '',
  ];
  if (d.kind === 'cpu') {
    const copies = Object.values(results.copyBandwidthGBs);
    const best = results.rows.reduce<BenchRow | null>((a, r) => (a && a.bandwidthGBs >= r.bandwidthGBs ? a : r), null);
    lines.push('On the CPU the copy is not the ceiling it is on a GPU, so fractions above 100% appear. The copy runs on every',
      'core, like the optimizer loops, through memcpy, which streams large blocks with non-temporal stores; in this run it',
      `reached ${Math.min(...copies).toFixed(1)}-${Math.max(...copies).toFixed(1)} GB/s (read + write), while the optimizer steps, ` +
        `read-modify-write loops, sustained up to ${best ? `${best.bandwidthGBs.toFixed(1)} GB/s (${best.method}, ${best.dtype})` : '-'}.`,
      'Compare CPU rows with each other and with PyTorch, not with the copy. On a shared machine the refresh figures (a',
      'difference of two medians of a few samples) are noisy.', '');
  }
  const presets = [...new Set(results.rows.map((r) => r.preset))];
  for (const p of presets) {
    const rows = results.rows.filter((r) => r.preset === p);
    lines.push(`## LLaMA-${p} (${(rows[0].params / 1e6).toFixed(1)}M parameters)`, '', presetTable(rows), '');
    const notes = new Map<string, string[]>();
    for (const r of rows) if (r.note) notes.set(r.note, [...new Set([...(notes.get(r.note) ?? []), r.method])]);
    for (const [note, methods] of notes) lines.push(`${methods.join(', ')}: ${note}.`, '');
    for (const img of images.get(p) ?? []) lines.push(img, '');
  }
  const skipped = (cfg.skipped as string[] | undefined) ?? [];
  if (skipped.length) lines.push('Skipped for lack of memory: ' + skipped.join('; ') + '.', '');
  if (torch) lines.push(...torchSection(results, torch));
  return lines.join('\n');
}

export async function writeReport(file: string, results: BenchResults, jsonFile: string, torch?: TorchSection): Promise<void> {
  const reportDir = path.dirname(file);
  const chartDir = path.join(reportDir, 'benchmarks');
  const images = new Map<string, string[]>();
  for (const p of new Set(results.rows.map((r) => r.preset))) {
    images.set(p, await presetCharts(p, results.rows.filter((r) => r.preset === p), reportDir, chartDir, torch?.results.rows));
  }
  fs.writeFileSync(file, reportMarkdown(results, jsonFile, images, torch));
}

/** node dist/cjs/bench/report.js <ours.json> [<torch.json>] [--out docs/benchmarks.md] */
export async function runReport(argv: string[]): Promise<number> {
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : 'docs/benchmarks.md';
  const files = argv.filter((a, i) => !a.startsWith('--') && (outAt < 0 || i !== outAt + 1));
  if (files.length < 1 || files.length > 2 || !out) {
    process.stderr.write('usage: report <ours.json> [<torch.json>] [--out docs/benchmarks.md]\n');
    return 2;
  }
  const torch = files[1] ? { results: readResults(files[1]), file: files[1] } : undefined;
  await writeReport(out, readResults(files[0]), files[0], torch);
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}

if (require.main === module) {
  runReport(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: Error) => {
      process.stderr.write(`report: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
