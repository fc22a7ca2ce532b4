// --compare: trains each optimizer with the same seed, data order, steps and model, one after
// the other in this process, then writes <out>/<name>/metrics.jsonl (by each run), the chart
// (compare.svg, compare.png: lib/chart/render.ts) and the table (compare.md).
import * as fs from 'fs';
import * as path from 'path';
import { checkChartPackages, writeChart } from '../chart/render';
import { comparisonSpec } from './chart/comparison-chart';
import { MethodName, METHODS } from '../methods/registry';
import { TrainOptions } from './options';
import { methodOptions } from './optimizers';
import { comparisonTable, formatSummary } from './summary';
import { train, TrainResult } from './trainer';

/** The options of one method's run within a comparison. */
export function comparisonRunOptions(o: TrainOptions, method: MethodName, outDir: string): TrainOptions {
  return {
    ...o,
    optimizer: method,
    compare: undefined,
    lenientOptions: true,
    outDir: path.join(outDir, method),
    checkpointDir: o.checkpointDir ? path.join(o.checkpointDir, method) : undefined,
    // Memory modes apply where the method supports them.
    sparseBackward: o.sparseBackward && METHODS[method].sparseBackward,
    perLayer: o.perLayer && METHODS[method].perLayer,
  };
}

const CHART_USER = 'the comparison chart (train --compare)';

export async function writeComparison(results: TrainResult[], outDir: string, title: string): Promise<{ table: string; files: string[] }> {
  fs.mkdirSync(outDir, { recursive: true });
  const spec = comparisonSpec(
    results.map((r) => ({ name: r.method, curve: r.valCurve, stateBytes: r.optimizerStateBytes, finalLoss: r.valLoss })),
    title,
  );
  const [svg, png] = await writeChart(spec, path.join(outDir, 'compare'), CHART_USER);
  const md = path.join(outDir, 'compare.md');
  const table = comparisonTable(results);
  fs.writeFileSync(md, `# ${title}\n\n${table}\n\n![validation loss](compare.png)\n`);
  return { table, files: [svg, png, md] };
}

export async function runComparison(o: TrainOptions): Promise<{ results: TrainResult[]; table: string; files: string[] }> {
  const methods: readonly MethodName[] | undefined = o.compare;
  if (!methods) throw new Error('runComparison: options.compare must list the methods to compare');
  // The chart is drawn after the last run: its packages are checked before the first.
  checkChartPackages(CHART_USER);
  const outDir = o.outDir ?? 'runs';
  // Check every method's options before the first (long) run starts.
  const runs = methods.map((m) => comparisonRunOptions(o, m, outDir));
  runs.forEach((r) => methodOptions(r.optimizer, r));
  const results: TrainResult[] = [];
  for (const run of runs) {
    const r = train(run);
    if (!o.quiet) process.stderr.write(`${formatSummary(r)}\n\n`);
    results.push(r);
  }
  const title = `${o.preset} on the Brown corpus, ${o.steps} steps, batch ${o.batch} x ${o.seqLen}, seed ${o.seed}`;
  const written = await writeComparison(results, outDir, title);
  return { results, ...written };
}
