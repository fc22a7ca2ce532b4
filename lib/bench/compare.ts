// Ours against PyTorch: pairs the rows of two results files by (method, preset, dtype) and prints
// the ratio of step times, ours / torch, for every torch implementation of the method.
//   node dist/cjs/bench/compare.js bench/results/ours.json bench/results/torch.json [--markdown]
import { flag, parseCommandLine, UsageError, versionText } from '../cli/args';
import { formatBytes } from '../plan/format';
import { BenchResults, BenchRow, readResults } from './results';

export interface Comparison {
  method: string;
  preset: string;
  dtype: string;
  torchImpl: string;
  oursMs: number;
  torchMs: number;
  /** oursMs / torchMs: below 1 means we are faster. */
  ratio: number;
  oursAmortizedMs: number;
  torchAmortizedMs: number;
  /** Optimizer state bytes each side holds (torch.optim keeps bf16 moments for bf16 weights). */
  oursStateBytes: number;
  torchStateBytes: number;
}

const key = (r: BenchRow) => `${r.method}|${r.preset}|${r.dtype}`;

export function compareResults(ours: BenchResults, torch: BenchResults): Comparison[] {
  const mine = new Map(ours.rows.filter((r) => r.impl === 'frugal-optim').map((r) => [key(r), r]));
  const out: Comparison[] = [];
  for (const t of torch.rows) {
    const m = mine.get(key(t));
    if (!m) continue;
    out.push({
      method: t.method, preset: t.preset, dtype: t.dtype, torchImpl: t.impl,
      oursMs: m.stepMs, torchMs: t.stepMs, ratio: m.stepMs / t.stepMs,
      oursAmortizedMs: m.amortizedMs, torchAmortizedMs: t.amortizedMs,
      oursStateBytes: m.stateBytes, torchStateBytes: t.stateBytes,
    });
  }
  return out.sort((a, b) => a.preset.localeCompare(b.preset) || a.dtype.localeCompare(b.dtype) ||
    a.method.localeCompare(b.method) || a.torchImpl.localeCompare(b.torchImpl));
}

export function comparisonTable(rows: readonly Comparison[], markdown = false): string {
  const head = ['method', 'preset', 'dtype', 'torch impl', 'ours ms', 'torch ms', 'ours/torch', 'amortized ours/torch',
    'ours state', 'torch state'];
  const body = rows.map((r) => [r.method, r.preset, r.dtype, r.torchImpl, r.oursMs.toFixed(3), r.torchMs.toFixed(3),
    r.ratio.toFixed(3), (r.oursAmortizedMs / r.torchAmortizedMs).toFixed(3), formatBytes(r.oursStateBytes),
    formatBytes(r.torchStateBytes)]);
  if (markdown) {
    return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 4 ? '---' : '---:')).join('|')}|`,
      ...body.map((b) => `| ${b.join(' | ')} |`)].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

const USAGE = 'usage: compare <ours.json> <torch.json> [--markdown]';

/** Prints the comparison; returns the exit code (1: nothing in common, 2: bad arguments). */
export function runCompare(argv: string[]): number {
  let line;
  try {
    line = parseCommandLine(argv, { markdown: flag.switch() }, { positionals: true });
    if (!line.help && !line.version && line.positionals.length !== 2) {
      throw new UsageError(`expected two results files, got ${line.positionals.length}`);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`compare: ${e.message}\n${USAGE}\n`);
    return e.exitCode;
  }
  if (line.help || line.version) {
    process.stdout.write(line.help ? `${USAGE}\n` : versionText());
    return 0;
  }
  const files = line.positionals;
  const rows = compareResults(readResults(files[0]), readResults(files[1]));
  if (rows.length === 0) {
    process.stderr.write('compare: no (method, preset, dtype) in common\n');
    return 1;
  }
  process.stdout.write(comparisonTable(rows, line.flags.markdown === true) + '\n');
  return 0;
}

if (require.main === module) process.exitCode = runCompare(process.argv.slice(2));
