// `npm run bench`: times one optimizer step of every method on the LLaMA presets' parameters,
// against the bytes the step must move and a device copy of the same tensors timed in the same
// run; prints a table, writes bench/results/<device>-<date>.json and optionally a report.
import * as os from 'os';
import { UsageError, versionText } from '../cli/args';
import { cudaDeviceCount, devices, checkDevice, Device } from '../device';
import { memoryStats } from '../memory';
import { synchronize } from '../stream';
import { methodGroups } from '../plan/methods';
import { planOptimizerState } from '../plan/optimizer-state';
import { countParams, llamaParams, presetConfig } from '../plan/llama-presets';
import { formatBytes } from '../plan/format';
import { BENCH_USAGE, BenchArgs, parseBenchArgs } from './bench-args';
import { BENCH_METHODS, BenchMethod, DENSE_NOTES } from './bench-methods';
import { DENSE_ORDINARY_OPTIONS, denseRefreshMs } from './dense-refresh';
import { BenchDtype, BenchModel, buildBenchModel } from './bench-model';
import { stepTraffic } from './bytes-moved';
import { createOptimizer } from './optimizer-factory';
import { BenchResults, BenchRow, RESULTS_SCHEMA, resultsPath, writeResults } from './results';
import { timeCalls } from './timing';
import { checkChartPackages } from '../chart/render';
import { CHART_USER, writeReport } from './report';

/** Never-refresh interval for ordinary-step timing. */
const NO_REFRESH = 1 << 30;

function log(line: string): void {
  process.stderr.write(line + '\n');
}

/** Copy bandwidth: every gradient copied onto its weight; a copy reads and writes its bytes. */
function copyBandwidth(model: BenchModel, args: BenchArgs, sync: () => void): number {
  const t = timeCalls(() => {
    for (const w of model.tensors) w.copyFrom(w.grad!);
  }, sync, { warmup: 1, reps: args.reps, inner: args.inner }, model.device);
  return (2 * model.gradBytes) / (t.medianMs * 1e6);
}

/** Bytes a method's worst case holds: weights, grads, state peak and workspace. */
function bytesNeeded(m: BenchMethod, preset: string, dtype: BenchDtype): number {
  const specs = llamaParams(presetConfig(preset));
  const s = planOptimizerState(methodGroups(m.plan, specs, m.planSettings));
  const weights = countParams(specs).total * (dtype === 'float32' ? 4 : 2);
  return 2 * weights + s.statePeakBytes + s.workspaceBytes;
}

function benchMethod(recipe: BenchMethod, model: BenchModel, args: BenchArgs, sync: () => void, copyGBs: number): BenchRow {
  const dense = recipe.dense === true;
  const reps = args.reps;
  const m: BenchMethod = dense ? { ...recipe, options: { ...recipe.options, ...DENSE_ORDINARY_OPTIONS } } : recipe;
  const groups = methodGroups(m.plan, model.specs, m.planSettings);
  const plan = planOptimizerState(groups);
  const traffic = stepTraffic(groups, plan, model.dtype);

  const opt = createOptimizer(m, model, NO_REFRESH);
  let stateBytes: number;
  let step;
  try {
    opt.step(); // step 0 is the first refresh and allocates the state
    sync();
    stateBytes = opt.stateBytes();
    const measured = memoryStats(model.device).current.optimizerState;
    if (stateBytes !== plan.stateBytes || measured !== plan.stateBytes) {
      log(`  note: ${m.key}: planner says ${plan.stateBytes} state bytes, stateBytes() ${stateBytes}, memoryStats ${measured}`);
    }
    step = timeCalls(() => opt.step(), sync, { warmup: args.warmup, reps, inner: args.inner }, model.device);
  } finally {
    opt.dispose();
  }

  let refreshMs: number | null = null;
  if (dense) {
    if (args.svdRefresh) refreshMs = denseRefreshMs(recipe, model, args, sync);
  } else if (m.updateGap !== null) {
    const ropt = createOptimizer(m, model, 1);
    try {
      ropt.step();
      const r = timeCalls(() => ropt.step(), sync, { warmup: 0, reps: args.refreshReps, inner: 1 }, model.device);
      refreshMs = Math.max(0, r.medianMs - step.medianMs);
    } finally {
      ropt.dispose();
    }
  }
  const bandwidthGBs = traffic.bytes / (step.medianMs * 1e6);
  return {
    method: m.key,
    impl: 'frugal-optim',
    preset: model.preset,
    dtype: model.dtype,
    params: model.tensors.reduce((a, t) => a + t.numel, 0),
    stepMs: step.medianMs,
    stepMsP10: step.p10Ms,
    stepMsP90: step.p90Ms,
    refreshMs,
    updateGap: m.updateGap,
    amortizedMs: step.medianMs + (refreshMs !== null && m.updateGap ? refreshMs / m.updateGap : 0),
    bytesMoved: traffic.bytes,
    bandwidthGBs,
    copyFraction: bandwidthGBs / copyGBs,
    flops: traffic.flops,
    stateBytes,
    reps,
    ...(dense ? { note: args.svdRefresh ? DENSE_NOTES.timed : DENSE_NOTES.untimed } : {}),
  };
}

export function rowsTable(rows: readonly BenchRow[], copy: Record<string, number>): string {
  const head = ['preset', 'dtype', 'method', 'step ms', 'refresh ms', 'amort. ms', 'moved', 'GB/s', '% copy', 'state'];
  const body = rows.map((r) => [
    r.preset, r.dtype, r.method, r.stepMs.toFixed(3), r.refreshMs === null ? '-' : r.refreshMs.toFixed(1),
    r.amortizedMs.toFixed(3), formatBytes(r.bytesMoved), r.bandwidthGBs.toFixed(1), (100 * r.copyFraction).toFixed(0),
    formatBytes(r.stateBytes),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i < 3 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  const copies = Object.entries(copy).map(([k, v]) => `${k} ${v.toFixed(1)} GB/s`).join(', ');
  return [line(head), ...body.map(line), '', `copy bandwidth (read + write) in this run: ${copies}`].join('\n');
}

/** Runs the bench; returns the exit code (2: bad arguments). */
export async function runStepBench(argv: string[]): Promise<number> {
  let gpu = false;
  try {
    gpu = cudaDeviceCount() > 0;
  } catch {
    gpu = false;
  }
  let parsed: ReturnType<typeof parseBenchArgs>;
  try {
    parsed = parseBenchArgs(argv, gpu);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n`);
    return e.exitCode;
  }
  if (parsed === 'help' || parsed === 'version') {
    process.stdout.write(parsed === 'help' ? `${BENCH_USAGE}\n` : versionText());
    return 0;
  }
  const args = parsed;
  const device: Device = checkDevice(args.device);
  const info = devices().find((d) => d.device === device);
  if (!info) throw new Error(`--device: ${device} is not usable here`);
  // The report's charts are drawn after the whole bench: their packages are checked before it.
  if (args.report) checkChartPackages(CHART_USER);
  const sync = () => synchronize(device);
  const rows: BenchRow[] = [];
  const copy: Record<string, number> = {};
  const skipped: string[] = [];
  const methods = BENCH_METHODS.filter((m) => args.methods.includes(m.key));
  for (const preset of args.presets) {
    for (const dtype of args.dtypes) {
      const fitting = methods.filter((m) => {
        const need = bytesNeeded(m, preset, dtype);
        const ok = device === 'cpu' ? need < 0.7 * os.freemem() : need < 0.9 * info.totalMemory;
        if (!ok) skipped.push(`${preset} ${dtype} ${m.key} (needs ${formatBytes(need)})`);
        return ok;
      });
      if (fitting.length === 0) continue;
      log(`${preset} ${dtype}: building parameters on ${device}`);
      const model = buildBenchModel(preset, dtype, device);
      try {
        const gbs = copyBandwidth(model, args, sync);
        copy[`${preset}/${dtype}`] = gbs;
        for (const m of fitting) {
          log(`  ${m.key}`);
          rows.push(benchMethod(m, model, args, sync, gbs));
        }
      } finally {
        model.dispose();
      }
    }
  }
  const results: BenchResults = {
    schema: RESULTS_SCHEMA,
    source: 'frugal-optim',
    date: new Date().toISOString(),
    device: { kind: device === 'cpu' ? 'cpu' : 'cuda', name: info.name, totalMemory: info.totalMemory },
    timing: device === 'cpu' ? 'host-events' : 'cuda-events',
    copyBandwidthGBs: copy,
    config: { ...args, cores: os.cpus().length, skipped },
    rows,
  };
  process.stdout.write(rowsTable(rows, copy) + '\n');
  for (const s of skipped) process.stdout.write(`skipped: ${s}\n`);
  const file = args.outDir.endsWith('.json') ? args.outDir : resultsPath(args.outDir, results);
  writeResults(file, results);
  process.stdout.write(`wrote ${file}\n`);
  if (args.report) {
    await writeReport(args.report, results, file);
    process.stdout.write(`wrote ${args.report}\n`);
  }
  return 0;
}

if (require.main === module) {
  runStepBench(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e: Error) => {
      process.stderr.write(`bench: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
