// Host <-> device copies. Dtype conversions (bf16/fp16 rounding) are done by the core's cast, so
// there is one implementation of them, shared by every device. For the CPU device the host
// array itself is the "device" side of the cast (CPU device pointers are host addresses); a GPU
// goes through a staging buffer counted as workspace.
import { types } from 'util';
import { DType, dtypeCode, dtypeSize } from './dtype';
import { MEM_WORKSPACE, native } from './native';

/** A span of elements in device memory (host memory for ordinal -1). */
export interface DeviceSpan {
  ptr: bigint;
  ordinal: number;
  dtype: DType;
  count: number;
}

export type HostElements = Float32Array | Int32Array;

function hostDtype(host: HostElements): DType {
  return types.isInt32Array(host) ? 'int32' : 'float32';
}

// Runs `fn` with a device pointer holding (or receiving) the host array's elements.
function throughStaging(ordinal: number, host: HostElements, upload: boolean, fn: (ptr: bigint) => void): void {
  const n = native();
  if (ordinal < 0) {
    fn(n.hostAddress(host));
    return;
  }
  const staging = n.alloc(ordinal, host.byteLength, MEM_WORKSPACE);
  try {
    if (upload) n.copyFromHost(staging, ordinal, host, 0, host.byteLength, null);
    fn(staging);
    if (!upload) n.copyToHost(host, 0, staging, ordinal, host.byteLength, null);
  } finally {
    n.free(ordinal, staging);
  }
}

/** Writes host elements into `dst`, converting to its dtype. host.length must equal dst.count. */
export function writeElements(dst: DeviceSpan, host: HostElements): void {
  if (dst.count === 0) return;
  const from = hostDtype(host);
  if (from === dst.dtype) {
    native().copyFromHost(dst.ptr, dst.ordinal, host, 0, dst.count * dtypeSize(dst.dtype), null);
    return;
  }
  throughStaging(dst.ordinal, host, true, (src) =>
    native().cast(dst.ordinal, src, dtypeCode(from), dst.ptr, dtypeCode(dst.dtype), dst.count, null),
  );
}

/** Reads `src` into a new host array: Int32Array for int32, Float32Array for every float dtype. */
export function readElements(src: DeviceSpan): HostElements {
  const host: HostElements = src.dtype === 'int32' ? new Int32Array(src.count) : new Float32Array(src.count);
  if (src.count === 0) return host;
  if (hostDtype(host) === src.dtype) {
    native().copyToHost(host, 0, src.ptr, src.ordinal, host.byteLength, null);
    return host;
  }
  throughStaging(src.ordinal, host, false, (dst) =>
    native().cast(src.ordinal, src.ptr, dtypeCode(src.dtype), dst, dtypeCode(hostDtype(host)), src.count, null),
  );
  return host;
}

/** Raw bytes device -> host, no conversion (checkpoints keep bf16 state bit-exact). */
export function readBytes(ptr: bigint, ordinal: number, bytes: number, out: ArrayBufferView): void {
  if (bytes > 0) native().copyToHost(out, 0, ptr, ordinal, bytes, null);
}

/** Raw bytes host -> device, no conversion. */
export function writeBytes(ptr: bigint, ordinal: number, bytes: number, host: ArrayBufferView): void {
  if (bytes > 0) native().copyFromHost(ptr, ordinal, host, 0, bytes, null);
}
