// The compiled addon (native/addon), loaded once on first use. Every other module reaches the
// C API through `native()`, so a missing or broken build fails with one clear message at the
// first call that needs it, not at import time.
import bindings from 'bindings';
import * as path from 'path';
import { warnIfCudaBackendMissing } from './missing-cuda';

/** Numeric codes shared with frugal.h. */
export const MEM_TENSOR = 0;
export const MEM_OPTIMIZER_STATE = 1;
export const MEM_WORKSPACE = 2;
export const MEM_GRADIENTS = 3;
export const MEM_ACTIVATIONS = 4;

export interface NativeMemoryStats {
  current: number[];
  peak: number[];
  currentTotal: number;
  peakTotal: number;
}

export interface NativeDeviceInfo {
  name: string;
  totalMemory: number;
  ccMajor: number;
  ccMinor: number;
  multiprocessors: number;
  usable: boolean;
  unusableReason: string;
}

/** frugal_group_options with its C field names (generated from schema/options.json). */
export type { NativeGroupOptions } from './optim/schema.generated';
import type { NativeGroupOptions } from './optim/schema.generated';

export interface NativeParamDesc {
  data: bigint;
  dtype: number;
  grad: bigint | null;
  gradDtype: number;
  shape: readonly number[];
  /** BLOCKS: params sharing an id > 0 form one block; 0 (default) a block of its own. */
  blockId?: number;
}

export interface NativeSelectionInfo {
  kind: number;
  active: boolean;
  axis: number;
  count: number;
  indices: bigint;
  scales: bigint;
}

export interface NativeStateTensor {
  name: string;
  data: bigint;
  dtype: number;
  count: number;
}

export interface NativeCounters {
  step: number;
  stateStep: number;
  active: boolean;
  kind: number;
  axis: number;
  selectionCount: number;
}

export interface NativeOptimizer {
  readonly destroyed: boolean;
  readonly device: number;
  addGroup(options: Partial<NativeGroupOptions>): number;
  setGroupOptions(group: number, options: Partial<NativeGroupOptions>): void;
  addParam(group: number, desc: NativeParamDesc): number;
  setBuffers(param: number, data: bigint, grad: bigint | null): void;
  setCompressedGrad(param: number, gc: bigint | null, dtype: number): void;
  setClip(maxNorm: number): void;
  setNonFinite(policy: number): void;
  skippedSteps(stream: bigint | null): number;
  setSkippedSteps(count: number, stream: bigint | null): void;
  step(stream: bigint | null): void;
  /** The step on a worker thread; resolves when done (CPU) or enqueued (GPU; done with wait). */
  stepAsync(stream: bigint | null, wait: boolean): Promise<void>;
  needsRefresh(param: number): boolean;
  setSelection(param: number, indices: Int32Array, scales: Float32Array | null): void;
  getSelection(param: number): NativeSelectionInfo;
  stateBytes(param?: number): number;
  stateTensors(param: number): NativeStateTensor[];
  getCounters(param: number): NativeCounters;
  restoreParam(param: number, counters: NativeCounters): void;
  verifyState(param: number): void;
  getGroupState(group: number): { step: number; rng: bigint[] };
  setGroupState(group: number, step: number, rng: readonly bigint[]): void;
  destroy(): void;
}

export interface NativeAddon {
  builtWithCuda: boolean;
  version(): string;
  cudaDeviceCount(): number;
  cudaUnavailableReason(): string;
  cudaDeviceInfo(device: number): NativeDeviceInfo;
  cudaMathAvailable(device: number): boolean;
  cudaMathStatus(device: number): string;
  setNumThreads(threads: number): void;
  numThreads(): number;
  streamCreate(device: number): bigint;
  streamDestroy(device: number, stream: bigint): void;
  synchronize(device: number, stream: bigint | null): void;
  eventCreate(device: number): bigint;
  eventRecord(event: bigint, stream: bigint | null): void;
  eventElapsedMs(start: bigint, end: bigint): number;
  eventDestroy(event: bigint): void;
  alloc(device: number, bytes: number, category: number): bigint;
  free(device: number, ptr: bigint): void;
  /** The live library allocation holding [ptr, ptr + bytes): its start and serial; null if none. */
  allocationOf(device: number, ptr: bigint, bytes: number): { base: bigint; serial: bigint } | null;
  /** The serial of the live allocation starting at base; 0n when it was freed. */
  allocationSerial(device: number, base: bigint): bigint;
  memoryStats(device: number): NativeMemoryStats;
  resetPeakMemory(device: number): void;
  copy(dst: bigint, dstDevice: number, src: bigint, srcDevice: number, bytes: number, stream: bigint | null): void;
  copyFromHost(
    dst: bigint,
    dstDevice: number,
    host: ArrayBufferLike | ArrayBufferView,
    hostByteOffset: number,
    bytes: number,
    stream: bigint | null,
  ): void;
  copyToHost(
    host: ArrayBufferLike | ArrayBufferView,
    hostByteOffset: number,
    src: bigint,
    srcDevice: number,
    bytes: number,
    stream: bigint | null,
  ): void;
  hostAddress(buffer: ArrayBufferLike | ArrayBufferView): bigint;
  /** The address and byte length of a buffer's (or view's) bytes, read from the engine, not from JS properties. */
  hostView(buffer: ArrayBufferLike | ArrayBufferView): { address: bigint; byteLength: number };
  fill(device: number, ptr: bigint, dtype: number, count: number, value: number, stream: bigint | null): void;
  random(
    device: number,
    ptr: bigint,
    dtype: number,
    count: number,
    dist: number,
    seed: bigint,
    a: number,
    b: number,
    stream: bigint | null,
  ): void;
  cast(
    device: number,
    src: bigint,
    srcDtype: number,
    dst: bigint,
    dstDtype: number,
    count: number,
    stream: bigint | null,
  ): void;
  groupOptionsDefault(): NativeGroupOptions;
  NativeOptimizer: new (device: number) => NativeOptimizer;
  releaseWorkspace(device: number): void;
  /** Tests only: which code paths ran in this process (native/cpu/path_counters.h). */
  _debugPaths(): NativeDebugPaths;
  _debugResetPaths(): void;
  /** Tests only: the update-rule table (native/math/rules/rule_table.h). */
  _debugRuleTable(): NativeRuleInfo[];
  /**
   * Tests only (native/core/test_hooks.h): the library allocation `after` allocations from now
   * (0: the next) fails as out of memory, once; -1 disarms.
   */
  _debugFailAllocationAfter(after: number): void;
  /** Tests only: the next CPU thread pool built fails to start the worker of `slot` (1..), once; 0 disarms. */
  _debugFailThreadStartAt(slot: number): void;
}

/** One row of _debugRuleTable(). */
export interface NativeRuleInfo {
  id: number;
  name: string;
  stateSlots: string[];
  stateFull: boolean;
  stateFree: boolean;
  partial: boolean;
}

/** What _debugPaths() reports: dispatch counts, and choices made once per process. */
export interface NativeDebugPaths {
  counts: {
    elementwiseTyped: number;
    elementwiseGeneric: number;
    indexedPass1Typed: number;
    indexedPass1Generic: number;
    indexedPass2Typed: number;
    indexedPass2Generic: number;
    /** Repeated lines (Grass with replacement): the one sorted-run loop, in either mode. */
    indexedDuplicates: number;
  };
  gemmRequested: string;
  gemmKernel: string;
  gemmNote: string;
  /** The CPU thread pool's size (0 until first used). */
  poolThreads: number;
  /** Distinct threads that ran a chunk of an optimizer loop since the start or _debugResetPaths(). */
  loopThreads: number;
  cublasPath: string;
  cusolverPath: string;
}

let addon: NativeAddon | undefined;

/** The loaded addon; throws an Error saying why it could not be loaded and how to build it. */
export function native(): NativeAddon {
  if (addon) return addon;
  try {
    // FRUGAL_ADDON_PATH: a build elsewhere than build/ (scripts/mutate-native.js tests mutated
    // addons built in their own directory, leaving the developer's build/ alone).
    const override = process.env.FRUGAL_ADDON_PATH;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time
    addon = (override ? require(path.resolve(override)) : bindings('frugal')) as NativeAddon;
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)) +
      (process.env.FRUGAL_ADDON_PATH ? ` (FRUGAL_ADDON_PATH=${process.env.FRUGAL_ADDON_PATH})` : '');
    throw new Error(
      `frugal-optim: the native addon could not be loaded: ${why}\n` +
        'Build it with `npm run build:addon` in the frugal-optim package (needs CMake, or node-gyp, ' +
        'and a C++17 compiler; nvcc, found on PATH, CUDA_HOME or /usr/local/cuda, adds the CUDA backend).',
    );
  }
  warnIfCudaBackendMissing(addon.builtWithCuda); // a GPU driver here and no CUDA backend: say so, once
  return addon;
}
