// The JSON both benchmarks write (ours: lib/bench/step-bench.ts; PyTorch: bench/torch/*.py), so
// that compare.ts can pair rows by (method, preset, dtype). Keep bench/torch/common.py in step.
import * as fs from 'fs';
import * as path from 'path';

export const RESULTS_SCHEMA = 'frugal-optim-bench/1';

export interface BenchRow {
  /** A key of BENCH_METHODS (adamw, frugal-blocks, galore, grass-top-r, ...). */
  method: string;
  /** Who ran it: 'frugal-optim', 'torch-fused', 'torch-foreach', 'torch-reference'. */
  impl: string;
  preset: string;
  dtype: 'float32' | 'bfloat16';
  params: number;
  /** Median milliseconds of an ordinary (non-refresh) step, and its spread. */
  stepMs: number;
  stepMsP10: number;
  stepMsP90: number;
  /** Extra milliseconds of a refresh step over an ordinary one; null for methods without refreshes. */
  refreshMs: number | null;
  updateGap: number | null;
  /** stepMs + refreshMs / updateGap. */
  amortizedMs: number;
  /** Bytes an ordinary step must move by our count (bytes-moved.ts). */
  bytesMoved: number;
  /** bytesMoved / stepMs, in GB/s (10^9 bytes). */
  bandwidthGBs: number;
  /** bandwidthGBs / the copy bandwidth measured in the same run. */
  copyFraction: number;
  flops: number;
  stateBytes: number;
  reps: number;
  /** How this row departs from the plain recipe, if it does. */
  note?: string;
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  source: 'frugal-optim' | 'torch';
  date: string;
  device: { kind: 'cpu' | 'cuda'; name: string; totalMemory?: number };
  /** How time was taken: 'cuda-events' (ours on a GPU, and torch), 'host-events' (ours on the CPU), or 'hrtime+synchronize' (older runs). */
  timing: string;
  /** Device copy bandwidth by weight dtype, GB/s (read + write bytes / time). */
  copyBandwidthGBs: Record<string, number>;
  config: Record<string, unknown>;
  rows: BenchRow[];
}

export function readResults(file: string): BenchResults {
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults;
  if (value.schema !== RESULTS_SCHEMA) {
    throw new Error(`${file}: expected schema '${RESULTS_SCHEMA}', got '${String(value.schema)}'`);
  }
  if (!Array.isArray(value.rows)) throw new Error(`${file}: 'rows' must be an array`);
  return value;
}

/** bench/results/<device>-<date>.json, with the device name made file-safe. */
export function resultsPath(dir: string, results: BenchResults): string {
  const device = results.device.kind === 'cpu' ? 'cpu' : results.device.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const date = results.date.slice(0, 10);
  return path.join(dir, `${device.replace(/^-|-$/g, '')}-${date}.json`);
}

export function writeResults(file: string, results: BenchResults): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}
