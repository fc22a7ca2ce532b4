// Memory as the core's allocation ledger measures it, by what it is for: weights (tensors),
// gradients, optimizer state, activations, workspace, and the peak of their total.
import { Device, deviceOrdinal } from '../device';
import { MEM_OPTIMIZER_STATE, MEM_TENSOR, MEM_WORKSPACE, native } from '../native';
import { memoryCategory } from '../model/buffers';

export interface MemoryFigures {
  weights: number;
  gradients: number;
  optimizerState: number;
  activations: number;
  workspace: number;
  total: number;
}

export interface MemorySnapshot {
  current: MemoryFigures;
  peak: MemoryFigures;
}

function figures(values: number[], total: number): MemoryFigures {
  const grads = memoryCategory('gradients');
  const acts = memoryCategory('activations');
  const distinct = grads !== MEM_TENSOR && acts !== MEM_WORKSPACE;
  return {
    weights: values[MEM_TENSOR],
    // Old cores without the two categories fold them into tensors and workspace: report 0 then.
    gradients: distinct ? values[grads] : 0,
    optimizerState: values[MEM_OPTIMIZER_STATE],
    activations: distinct ? values[acts] : 0,
    workspace: values[MEM_WORKSPACE],
    total,
  };
}

export function memorySnapshot(device: Device): MemorySnapshot {
  const s = native().memoryStats(deviceOrdinal(device));
  return { current: figures(s.current, s.currentTotal), peak: figures(s.peak, s.peakTotal) };
}

export function resetPeak(device: Device): void {
  native().resetPeakMemory(deviceOrdinal(device));
}

/** Bytes as a short human string: 1.5 KiB, 12.3 MiB, 4.00 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/** The larger of each figure (for peaks over several steps). */
export function maxFigures(a: MemoryFigures, b: MemoryFigures): MemoryFigures {
  return {
    weights: Math.max(a.weights, b.weights),
    gradients: Math.max(a.gradients, b.gradients),
    optimizerState: Math.max(a.optimizerState, b.optimizerState),
    activations: Math.max(a.activations, b.activations),
    workspace: Math.max(a.workspace, b.workspace),
    total: Math.max(a.total, b.total),
  };
}

export const ZERO_FIGURES: MemoryFigures = { weights: 0, gradients: 0, optimizerState: 0, activations: 0, workspace: 0, total: 0 };
