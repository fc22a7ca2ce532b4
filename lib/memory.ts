// Owned-memory accounting from the core: bytes currently allocated and their peak, by category.
import { checkDevice, Device, deviceOrdinal } from './device';
import { MEM_ACTIVATIONS, MEM_GRADIENTS, MEM_OPTIMIZER_STATE, MEM_TENSOR, MEM_WORKSPACE, native } from './native';

export interface MemoryByCategory {
  /** Tensors allocated by the library (borrowed memory is never counted). */
  tensors: number;
  /** Optimizer state: moments, selections, bases. */
  optimizerState: number;
  /** Scratch buffers: dense projections, staging for dtype conversions, clipping scalars. */
  workspace: number;
  /** Gradient buffers a training loop allocates. */
  gradients: number;
  /** Forward activations kept for the backward pass. */
  activations: number;
}

export interface MemoryStats {
  current: MemoryByCategory;
  peak: MemoryByCategory;
  currentTotal: number;
  peakTotal: number;
}

function byCategory(values: number[]): MemoryByCategory {
  return {
    tensors: values[MEM_TENSOR],
    optimizerState: values[MEM_OPTIMIZER_STATE],
    workspace: values[MEM_WORKSPACE],
    gradients: values[MEM_GRADIENTS] ?? 0,
    activations: values[MEM_ACTIVATIONS] ?? 0,
  };
}

/** Bytes the library holds on `device` now and at its peak (since start or resetPeakMemory). */
export function memoryStats(device: Device | string = 'cpu'): MemoryStats {
  const s = native().memoryStats(deviceOrdinal(checkDevice(device)));
  return { current: byCategory(s.current), peak: byCategory(s.peak), currentTotal: s.currentTotal, peakTotal: s.peakTotal };
}

/** Sets every peak to the current value. */
export function resetPeakMemory(device: Device | string = 'cpu'): void {
  native().resetPeakMemory(deviceOrdinal(checkDevice(device)));
}

/**
 * Frees the optimizers' shared workspace on `device` now (one pool per device, kept between steps
 * and freed with the last optimizer there); the next step that needs it allocates it again.
 */
export function releaseWorkspace(device: Device | string = 'cpu'): void {
  native().releaseWorkspace(deviceOrdinal(checkDevice(device)));
}
