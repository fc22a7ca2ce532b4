// Device buffers for the model's activations and gradients, allocated through the core's counted
// allocator under their own memory categories, so memoryStats() tells weights, gradients,
// activations and optimizer state apart. A buffer can be lent to the optimizer as a borrowed
// Tensor view (param.grad = buffer.view(...)); the buffer, not the view, owns the memory.
import { Device, deviceOrdinal } from '../device';
import { DType, dtypeSize } from '../dtype';
import { MEM_TENSOR, MEM_WORKSPACE, native } from '../native';
import { Tensor } from '../tensor';

/** frugal.h's FRUGAL_MEM_GRADIENTS and FRUGAL_MEM_ACTIVATIONS. */
const MEM_GRADIENTS = 3;
const MEM_ACTIVATIONS = 4;

export type BufferKind = 'gradients' | 'activations';

let categoryCount: number | undefined;

/**
 * The category a kind of buffer is counted under. Cores that predate the gradients and
 * activations categories count them as tensors and workspace.
 */
export function memoryCategory(kind: BufferKind): number {
  categoryCount ??= native().memoryStats(-1).current.length;
  if (categoryCount > MEM_ACTIVATIONS) return kind === 'gradients' ? MEM_GRADIENTS : MEM_ACTIVATIONS;
  return kind === 'gradients' ? MEM_TENSOR : MEM_WORKSPACE;
}

export class DeviceBuffer {
  readonly device: Device;
  readonly bytes: number;
  private raw: bigint;

  constructor(device: Device, bytes: number, kind: BufferKind) {
    this.device = device;
    this.bytes = bytes;
    this.raw = native().alloc(deviceOrdinal(device), bytes, memoryCategory(kind));
  }

  /** Float32 buffer of `count` elements. */
  static f32(device: Device, count: number, kind: BufferKind): DeviceBuffer {
    return new DeviceBuffer(device, count * 4, kind);
  }

  get ptr(): bigint {
    if (this.raw === 0n) throw new Error('model buffer: already freed');
    return this.raw;
  }

  /** Address of element `index` of a `dtype` array starting at this buffer. */
  at(index: number, dtype: DType = 'float32'): bigint {
    return this.ptr + BigInt(index * dtypeSize(dtype));
  }

  /** A borrowed Tensor over the buffer (valid until free()). */
  view(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const bytes = shape.reduce((a, b) => a * b, 1) * dtypeSize(dtype);
    if (bytes > this.bytes) throw new Error(`model buffer: a ${dtype} view of [${shape}] needs ${bytes} bytes, the buffer has ${this.bytes}`);
    return Tensor.fromDevicePointer(this.ptr, shape, dtype, this.device);
  }

  free(): void {
    if (this.raw === 0n) return;
    native().free(deviceOrdinal(this.device), this.raw);
    this.raw = 0n;
  }
}
