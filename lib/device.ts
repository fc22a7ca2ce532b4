// Devices: 'cpu' and 'cuda:N'. What exists is asked of the core once; a machine without a GPU
// or driver is a normal answer (no CUDA devices, with the reason), never an error.
import * as os from 'os';
import { describeValue } from './dtype';
import { driverOnlyGpus, missingCudaBackend } from './missing-cuda';
import { native } from './native';

export type Device = 'cpu' | `cuda:${number}`;

export interface DeviceInfo {
  device: Device;
  name: string;
  /** Bytes of device memory (host RAM for the CPU); 0 for a GPU this build has no backend for. */
  totalMemory: number;
  /** CUDA only: e.g. '9.0'. */
  computeCapability?: string;
  /** CUDA only: streaming multiprocessors. */
  multiprocessors?: number;
  /**
   * CUDA only: false when this build has no code for the GPU (older than its architectures, or
   * no CUDA backend at all: nvcc was missing when it was built).
   */
  usable?: boolean;
  /** CUDA only: why it is not usable ('' when it is). */
  unusableReason?: string;
  /** CPU only: logical cores. */
  cores?: number;
}

let cudaCount: number | undefined;

/** Number of usable CUDA devices (0 without CUDA support, a driver or a GPU). */
export function cudaDeviceCount(): number {
  if (cudaCount === undefined) cudaCount = native().cudaDeviceCount();
  return cudaCount;
}

/** Why no CUDA device is usable; '' when at least one is. */
export function cudaUnavailableReason(): string {
  const addon = native();
  return missingCudaBackend(addon.builtWithCuda) ?? addon.cudaUnavailableReason();
}

/**
 * What GaLore's dense projections use on a GPU, in words: where cuBLAS and cuSOLVER were loaded from
 * and whether their handles were created, or why a fallback runs (the fp64 GEMM kernel, the host SVD).
 */
export function cudaMathStatus(device: Device | string): string {
  const m = typeof device === 'string' ? /^cuda(?::(\d+))?$/.exec(device) : null;
  if (!m) throw new TypeError(`cudaMathStatus: device: expected 'cuda:N', got ${describeValue(device)}`);
  return native().cudaMathStatus(m[1] === undefined ? 0 : Number(m[1]));
}

/**
 * Every device: the CPU first, then each CUDA GPU (one this build cannot run on has usable: false
 * and the reason; with no CUDA backend in the build, the GPUs the driver lists, all unusable).
 */
export function devices(): DeviceInfo[] {
  const cpus = os.cpus();
  const list: DeviceInfo[] = [
    { device: 'cpu', name: cpus[0]?.model ?? 'cpu', totalMemory: os.totalmem(), cores: cpus.length },
  ];
  for (let i = 0; i < cudaDeviceCount(); i++) {
    const info = native().cudaDeviceInfo(i);
    list.push({
      device: `cuda:${i}`,
      name: info.name,
      totalMemory: info.totalMemory,
      computeCapability: `${info.ccMajor}.${info.ccMinor}`,
      multiprocessors: info.multiprocessors,
      usable: info.usable,
      unusableReason: info.unusableReason,
    });
  }
  // A build without the CUDA backend sees no GPU; the driver still shows them. Listed, not usable,
  // with the reason and the fix (cudaDeviceCount() stays 0: nothing here can run on them).
  driverOnlyGpus(native().builtWithCuda).forEach(({ name, reason }, i) => {
    list.push({ device: `cuda:${i}`, name, totalMemory: 0, usable: false, unusableReason: reason });
  });
  return list;
}

/**
 * Validates a device name ('cpu', 'cuda' = 'cuda:0', 'cuda:N') and that it exists here; returns
 * its canonical form.
 */
export function checkDevice(value: unknown, what = 'device'): Device {
  if (value === 'cpu') return 'cpu';
  const m = typeof value === 'string' ? /^cuda(?::(\d+))?$/.exec(value) : null;
  if (!m) throw new TypeError(`${what}: expected 'cpu' or 'cuda:N', got ${describeValue(value)}`);
  const ordinal = m[1] === undefined ? 0 : Number(m[1]);
  const count = cudaDeviceCount();
  if (ordinal >= count) {
    if (count === 0) {
      throw new Error(`${what}: 'cuda:${ordinal}' is not available: ${cudaUnavailableReason() || 'no CUDA device'}`);
    }
    throw new Error(
      `${what}: 'cuda:${ordinal}' does not exist; this machine has ${count} CUDA device(s), cuda:0..cuda:${count - 1}`,
    );
  }
  return `cuda:${ordinal}`;
}

/** The C API's device number: -1 for the CPU, the ordinal for a GPU. */
export function deviceOrdinal(device: Device): number {
  return device === 'cpu' ? -1 : Number(device.slice(5));
}
