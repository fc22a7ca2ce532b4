// Rendering a memory plan: a plain-text table for people, JSON for programs.
import { MemoryPlan } from './planner';


/** Bytes in binary units, three significant digits: 1.23 GiB, 456 MiB, 12.0 KiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${v} B`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${units[u]}`;
}

/** "40GB" (10^9), "40GiB" (2^30), "512MiB", or a plain byte count. */
export function parseBytes(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([kmgt]i?b?|b)?\s*$/i.exec(text);
  if (!m) throw new Error(`expected a size such as 40GiB, 80GB or 1073741824, got '${text}'`);
  const value = parseFloat(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  if (unit === 'b') return Math.round(value);
  const power = 'kmgt'.indexOf(unit[0]) + 1;
  const base = unit.includes('i') ? 1024 : 1000;
  return Math.round(value * base ** power);
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function planTable(plan: MemoryPlan): string {
  const b = plan.breakdown;
  const proj = plan.groups.find((g) => g.label !== 'regular');
  const o = proj?.options;
  const method = o && o.selection !== 'all' && o.selection !== 'none'
    ? `${plan.optimizer} (${o.selection}, ${o.rank > 0 ? `rank ${o.rank}` : `density ${o.density}`}, T ${o.updateGap}, ${o.stateDtype} state)`
    : `${plan.optimizer}${o ? ` (${o.stateDtype} state)` : ''}`;
  const lines = [
    `${plan.model} (${(plan.params.total / 1e6).toFixed(1)}M params, ${(plan.params.projectable / 1e6).toFixed(1)}M projectable)`,
    `optimizer: ${method}; weights ${plan.dtype}`,
    '',
  ];
  const rows: [string, number][] = [
    ['weights', b.weights],
    ['master weights', b.masterWeights],
    ['gradients', b.gradients],
    ['optimizer state', b.optimizerState],
    ['activations', b.activations],
    ['workspace', b.workspace],
  ];
  const w = Math.max(...rows.map(([, v]) => String(v).length), String(b.total).length);
  lines.push(`${pad('part', 16)}  ${pad('bytes', w, true)}  ${pad('', 10, true)}  share`);
  for (const [name, v] of [...rows, ['total', b.total] as [string, number]]) {
    const share = b.total > 0 ? `${((100 * v) / b.total).toFixed(1)}%` : '';
    lines.push(`${pad(name, 16)}  ${pad(String(v), w, true)}  ${pad(formatBytes(v), 10, true)}  ${pad(share, 6, true)}`);
  }
  lines.push('');
  lines.push(`gradients: ${formatBytes(plan.gradients.ordinary)} on ordinary steps, ${formatBytes(plan.gradients.refresh)} on refresh steps`);
  lines.push(`optimizer state: ${formatBytes(plan.state.firstStep)} after step 1 (stateBytes()), peak ${formatBytes(plan.state.peak)}`);
  if (plan.gpuMemory !== undefined) {
    const left = plan.gpuMemory - b.total;
    lines.push(`GPU memory ${formatBytes(plan.gpuMemory)}: ${plan.fits ? 'fits' : 'does NOT fit'} (${left >= 0 ? formatBytes(left) + ' left' : formatBytes(-left) + ' short'})`);
  }
  for (const n of plan.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export function planJson(plan: MemoryPlan): string {
  return JSON.stringify(plan, null, 2);
}

