// The final summary of a run as text, and the comparison table as markdown.
import { formatDuration } from './progress';
import { formatBytes } from './memory-report';
import { TrainResult } from './trainer';

export function formatSummary(r: TrainResult): string {
  const p = r.peak;
  const lines = [
    `Summary: ${r.method} on ${r.device}, ${r.preset} (${(r.parameters / 1e6).toFixed(2)}M params), ${r.steps} steps, ${r.tokens.toLocaleString('en-US')} tokens`,
    `  train loss       ${r.trainLoss.toFixed(4)}   perplexity ${r.trainPerplexity.toFixed(2)}   (mean of the last steps)`,
    `  validation loss  ${r.valLoss.toFixed(4)}   perplexity ${r.valPerplexity.toFixed(2)}`,
    `  speed            ${Math.round(r.tokensPerSec).toLocaleString('en-US')} tokens/s   training ${formatDuration(r.trainSeconds)}, wall ${formatDuration(r.wallSeconds)}`,
    `  memory (measured peaks)`,
    `    weights          ${formatBytes(p.weights)}`,
    `    gradients        ${formatBytes(p.gradients)}`,
    `    optimizer state  ${formatBytes(r.optimizerStateBytes)}` +
      (p.optimizerState > r.optimizerStateBytes * 1.01 ? ` (${formatBytes(p.optimizerState)} while a refresh swaps selections)` : ''),
    `    activations      ${formatBytes(p.activations)}`,
    `    workspace        ${formatBytes(p.workspace)}`,
    `    peak total       ${formatBytes(p.total)}`,
  ];
  if (r.peakOrdinary.total !== r.peak.total) {
    lines.push(
      `    peak total on steps without a refresh  ${formatBytes(r.peakOrdinary.total)} ` +
        `(gradients ${formatBytes(r.peakOrdinary.gradients)})`,
    );
  }
  lines.push(`  metrics          ${r.outDir}/metrics.jsonl`);
  return lines.join('\n');
}

export function comparisonTable(results: TrainResult[]): string {
  const rows = [
    '| optimizer | val loss | val perplexity | train loss | optimizer state | gradients (peak) | peak memory | tokens/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    rows.push(
      `| ${r.method} | ${r.valLoss.toFixed(4)} | ${r.valPerplexity.toFixed(2)} | ${r.trainLoss.toFixed(4)} | ` +
        `${formatBytes(r.optimizerStateBytes)} | ${formatBytes(r.peak.gradients)} | ${formatBytes(r.peak.total)} | ` +
        `${Math.round(r.tokensPerSec).toLocaleString('en-US')} |`,
    );
  }
  return rows.join('\n');
}
