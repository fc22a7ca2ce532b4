// Tensor: a typed, contiguous view of memory on one device. Owned memory comes from the core's
// counted allocator and is released by dispose() (or, as a backstop, when the Tensor is garbage
// collected); borrowed memory (another runtime's device pointer, a caller's ArrayBuffer) is never
// freed by the library.
import { types } from 'util';
import { checkOptionsObject } from './arg-checks';
import { checkDevice, Device, deviceOrdinal } from './device';
import { checkDtype, describeValue, DType, dtypeCode, dtypeSize, fitsDtype, isFloatDtype } from './dtype';
import { MEM_TENSOR, native } from './native';
import { HostElements, readElements, writeElements } from './transfer';

export interface TensorOptions {
  dtype?: DType;
  device?: Device | string;
}

export interface RandnOptions extends TensorOptions {
  seed?: number | bigint;
  mean?: number;
  std?: number;
}

export interface RandOptions extends TensorOptions {
  seed?: number | bigint;
  low?: number;
  high?: number;
}

export type HostArray = Float32Array | Float64Array | Int32Array | readonly number[];

export const MAX_DIMS = 8;

interface OwnedMemory {
  ordinal: number;
  ptr: bigint;
}

// The held value is the allocation, never the Tensor, so the registry does not keep it alive.
const finalizer = new FinalizationRegistry<OwnedMemory>((m) => {
  try {
    native().free(m.ordinal, m.ptr);
  } catch {
    // Nothing to report to from a finalizer; the core already refuses unknown pointers.
  }
});

/**
 * Validates a shape: at most 8 non-negative integer dimensions. The array is read exactly once
 * into a copy that is then checked and returned, so a Proxy or getter cannot pass the check with
 * one value and hand back another.
 */
export function checkShape(shape: unknown, what = 'shape'): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: expected an array of dimensions, got ${describeValue(shape)}`);
  const length: unknown = shape.length;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new TypeError(`${what}: expected an array of dimensions`);
  }
  if (length > MAX_DIMS) throw new RangeError(`${what}: at most ${MAX_DIMS} dimensions, got ${length}`);
  const dims: unknown[] = [];
  for (let i = 0; i < length; i++) dims.push(shape[i]);
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${what}: dimensions must be non-negative integers, got ${describeValue(dims)}`);
    }
  }
  const copy = dims as number[];
  const n = copy.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what}: ${describeValue(copy)} has too many elements`);
  return copy;
}

const TENSOR_OPTION_KEYS = ['dtype', 'device'] as const;
const RANDN_OPTION_KEYS = [...TENSOR_OPTION_KEYS, 'seed', 'mean', 'std'] as const;
const RAND_OPTION_KEYS = [...TENSOR_OPTION_KEYS, 'seed', 'low', 'high'] as const;

function checkFitsDtype(value: number, dtype: DType, what: string): void {
  if (!fitsDtype(value, dtype)) {
    throw new RangeError(`${what}: ${value} does not fit in ${dtype} (${dtype === 'int32' ? 'outside 32 bits' : 'it would round to Inf'})`);
  }
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function checkSeed(seed: unknown, what: string): bigint {
  if (typeof seed === 'bigint' && seed >= 0n && seed < 1n << 64n) return seed;
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return BigInt(seed);
  throw new RangeError(`${what}: seed must be an integer in [0, 2^64), got ${describeValue(seed)}`);
}

function checkFinite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${what}: expected a finite number, got ${describeValue(value)}`);
  }
  return value;
}

export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly device: Device;
  /** The gradient the optimizer reads at step(); same shape, dtype and device as this tensor. */
  grad: Tensor | null = null;
  /** Grass only: a compressed gradient that a step uses in place of .grad (see Optimizer.grassInfo). */
  compressedGrad: Tensor | null = null;

  private readonly ptr: bigint;
  private readonly owned: boolean;
  private disposedFlag = false;
  // Held by running optimizer steps: while > 0 the core may read or write this memory, so
  // dispose() is refused (a selection callback runs in the middle of a step).
  private pins = 0;
  // Borrowed host memory: the ArrayBuffer must outlive the tensor that points into it, and still
  // hold its bytes (a transferred/detached buffer has none): keepEnd is where the tensor ends.
  private keepAlive: ArrayBufferLike | null;
  private keepEnd = 0;
  // A view into the library's own memory (fromDevicePointer inside an allocation): the
  // allocation it lies in, checked before every use, so a view of freed memory throws.
  private viewOf: { base: bigint; serial: bigint } | null = null;

  private constructor(ptr: bigint, shape: number[], dtype: DType, device: Device, owned: boolean, keepAlive: ArrayBufferLike | null) {
    this.ptr = ptr;
    this.shape = Object.freeze(shape);
    this.dtype = dtype;
    this.device = device;
    this.owned = owned;
    this.keepAlive = keepAlive;
    if (owned) finalizer.register(this, { ordinal: deviceOrdinal(device), ptr }, this);
  }

  // ---- construction ----

  /** Uninitialized owned memory. */
  static empty(shape: readonly number[], options?: TensorOptions): Tensor {
    const o = checkOptionsObject<TensorOptions>(options, TENSOR_OPTION_KEYS, 'Tensor.empty');
    const s = checkShape(shape);
    const dtype = checkDtype(o.dtype ?? 'float32');
    const device = checkDevice(o.device ?? 'cpu');
    const bytes = s.reduce((a, b) => a * b, 1) * dtypeSize(dtype);
    const ptr = native().alloc(deviceOrdinal(device), bytes, MEM_TENSOR);
    return new Tensor(ptr, s, dtype, device, true, null);
  }

  static zeros(shape: readonly number[], options?: TensorOptions): Tensor {
    checkOptionsObject(options, TENSOR_OPTION_KEYS, 'Tensor.zeros');
    return Tensor.empty(shape, options).fill(0);
  }

  static full(shape: readonly number[], value: number, options?: TensorOptions): Tensor {
    const o = checkOptionsObject<TensorOptions>(options, TENSOR_OPTION_KEYS, 'Tensor.full');
    checkFinite(value, 'Tensor.full: value');
    checkFitsDtype(value, checkDtype(o.dtype ?? 'float32'), 'Tensor.full: value');
    return Tensor.empty(shape, o).fill(value);
  }

  /** Normal(mean, std) from the core's counter-based RNG: the same seed gives the same values on every device. */
  static randn(shape: readonly number[], options?: RandnOptions): Tensor {
    const o = checkOptionsObject<RandnOptions>(options, RANDN_OPTION_KEYS, 'Tensor.randn');
    return Tensor.random(shape, o, 1, o.seed, o.mean ?? 0, o.std ?? 1, 'Tensor.randn');
  }

  /** Uniform in [low, high), counter-based like randn. */
  static rand(shape: readonly number[], options?: RandOptions): Tensor {
    const o = checkOptionsObject<RandOptions>(options, RAND_OPTION_KEYS, 'Tensor.rand');
    return Tensor.random(shape, o, 0, o.seed, o.low ?? 0, o.high ?? 1, 'Tensor.rand');
  }

  private static random(
    shape: readonly number[],
    options: TensorOptions,
    dist: number,
    seed: unknown,
    a: number,
    b: number,
    what: string,
  ): Tensor {
    const s = checkSeed(seed ?? 0, what);
    const [aName, bName] = dist === 1 ? ['mean', 'std'] : ['low', 'high'];
    checkFinite(a, `${what}: ${aName}`);
    checkFinite(b, `${what}: ${bName}`);
    const dtype = checkDtype(options.dtype ?? 'float32', `${what}: dtype`);
    if (!isFloatDtype(dtype)) throw new TypeError(`${what}: dtype must be a float dtype`);
    if (dist === 1) {
      if (b < 0) throw new RangeError(`${what}: std must be >= 0, got ${b}`);
      // The core's normal draws stay within 7 standard deviations (Box-Muller on 32-bit uniforms),
      // so every value is finite in the dtype when mean +- 7 std is.
      if (!fitsDtype(Math.abs(a) + 7 * b, dtype)) {
        throw new RangeError(`${what}: |mean| + 7 std = ${Math.abs(a) + 7 * b} does not fit in ${dtype} (values would be Inf)`);
      }
    } else {
      if (a > b) throw new RangeError(`${what}: low (${a}) must be <= high (${b})`);
      // The core draws low + (high - low) * u in float32, so the width must be finite there too.
      if (!fitsDtype(a, dtype) || !fitsDtype(b, dtype) || !fitsDtype(b - a, 'float32')) {
        throw new RangeError(`${what}: [${a}, ${b}) does not fit in ${dtype} (values would be Inf)`);
      }
    }
    const t = Tensor.empty(shape, { dtype: options.dtype, device: options.device });
    native().random(deviceOrdinal(t.device), t.ptr, dtypeCode(t.dtype), t.numel, dist, s, a, b, null);
    return t;
  }

  /**
   * A copy of host data. Number arrays and Float64Arrays are converted into the dtype (rounded
   * to nearest even for bf16/fp16); int32 tensors take integers only. Shape defaults to [length].
   */
  static fromArray(data: HostArray, shape?: readonly number[], options?: TensorOptions): Tensor {
    const o = checkOptionsObject<TensorOptions>(options, TENSOR_OPTION_KEYS, 'Tensor.fromArray');
    if (!Array.isArray(data) && !types.isFloat32Array(data) && !types.isFloat64Array(data) && !types.isInt32Array(data)) {
      throw new TypeError(`Tensor.fromArray: data must be a number array, Float32Array, Float64Array or Int32Array, got ${describeValue(data)}`);
    }
    const s = checkShape(shape ?? [data.length], 'Tensor.fromArray: shape');
    const numel = s.reduce((a, b) => a * b, 1);
    if (numel !== data.length) {
      throw new RangeError(`Tensor.fromArray: shape ${shapeToString(s)} holds ${numel} elements, data has ${data.length}`);
    }
    const dtype = checkDtype(o.dtype ?? (types.isInt32Array(data) ? 'int32' : 'float32'), 'Tensor.fromArray: dtype');
    const host = toHostElements(data, dtype);
    const t = Tensor.empty(s, { dtype, device: o.device });
    try {
      writeElements(t.span(), host);
    } catch (e) {
      t.dispose();
      throw e;
    }
    return t;
  }

  /**
   * Borrows memory another runtime owns: a CUDA device pointer (checked for null and alignment;
   * a device address cannot be checked further from the host). On 'cpu' the address must lie
   * inside memory this library allocated (another tensor's dataPtr, a view into it): an arbitrary
   * host address cannot be validated and would crash the process if wrong, so other host memory
   * is borrowed with Tensor.fromArrayBuffer. A view into the library's memory (either device)
   * throws "tensor: the memory it views was freed" once that allocation is freed. Never freed.
   */
  static fromDevicePointer(ptr: bigint, shape: readonly number[], dtype: DType, device: Device | string): Tensor {
    const what = 'Tensor.fromDevicePointer';
    if (typeof ptr !== 'bigint') throw new TypeError(`${what}: ptr must be a bigint, got ${describeValue(ptr)}`);
    const s = checkShape(shape, `${what}: shape`);
    const d = checkDtype(dtype, `${what}: dtype`);
    const dev = checkDevice(device, `${what}: device`);
    const numel = s.reduce((a, b) => a * b, 1);
    if (ptr < 0n || ptr >= 1n << 64n) throw new RangeError(`${what}: ptr ${ptr} is not a 64-bit address`);
    if (ptr === 0n && numel > 0) throw new RangeError(`${what}: null pointer`);
    if (ptr % BigInt(dtypeSize(d)) !== 0n) {
      throw new RangeError(`${what}: pointer 0x${ptr.toString(16)} is misaligned for ${d} (needs ${dtypeSize(d)}-byte alignment)`);
    }
    const bytes = numel * dtypeSize(d);
    const inside = bytes > 0 ? native().allocationOf(deviceOrdinal(dev), ptr, bytes) : null;
    if (dev === 'cpu' && bytes > 0 && inside === null) {
      throw new RangeError(
        `${what}: on 'cpu' the pointer must lie inside memory frugal-optim allocated (${bytes} bytes at 0x${ptr.toString(16)} do not); ` +
          'borrow other host memory with Tensor.fromArrayBuffer',
      );
    }
    const t = new Tensor(ptr, s, d, dev, false, null);
    t.viewOf = inside;
    return t;
  }

  /** Borrows a caller's host memory as a 'cpu' tensor, without a copy; both sides see every write. */
  static fromArrayBuffer(buffer: ArrayBuffer | ArrayBufferView, shape: readonly number[], dtype: DType, byteOffset = 0): Tensor {
    const what = 'Tensor.fromArrayBuffer';
    let ab: ArrayBufferLike;
    let base = 0;
    // util.types rather than instanceof: buffers from another realm (vm contexts, jest) qualify too.
    if (types.isArrayBuffer(buffer)) ab = buffer;
    else if (ArrayBuffer.isView(buffer) && types.isArrayBuffer(buffer.buffer)) {
      ab = buffer.buffer;
      base = buffer.byteOffset;
    } else throw new TypeError(`${what}: expected an ArrayBuffer or a view of one, got ${describeValue(buffer)}`);
    if ((ab as ArrayBuffer & { resizable?: boolean }).resizable) {
      throw new TypeError(`${what}: a resizable ArrayBuffer can move or shrink under the tensor; pass a fixed-length one`);
    }
    const s = checkShape(shape, `${what}: shape`);
    const d = checkDtype(dtype, `${what}: dtype`);
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) {
      throw new RangeError(`${what}: byteOffset must be a non-negative integer, got ${describeValue(byteOffset)}`);
    }
    const bytes = s.reduce((a, b) => a * b, 1) * dtypeSize(d);
    const start = base + byteOffset;
    if (start + bytes > ab.byteLength) {
      throw new RangeError(`${what}: ${bytes} bytes at offset ${start} do not fit in the buffer's ${ab.byteLength} bytes`);
    }
    const ptr = bytes > 0 ? native().hostAddress(ab) + BigInt(start) : 0n;
    if (ptr % BigInt(dtypeSize(d)) !== 0n) {
      throw new RangeError(`${what}: byte offset ${start} is misaligned for ${d} (needs ${dtypeSize(d)}-byte alignment)`);
    }
    const t = new Tensor(ptr, s, d, 'cpu', false, ab);
    t.keepEnd = start + bytes;
    return t;
  }

  // ---- properties ----

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get nbytes(): number {
    return this.numel * dtypeSize(this.dtype);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The address of the first element (device memory, or host memory on 'cpu'). */
  get dataPtr(): bigint {
    this.assertAlive();
    return this.ptr;
  }

  /** True when the memory belongs to someone else and is never freed by the library. */
  get isBorrowed(): boolean {
    return !this.owned;
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** @internal the C API's device number. */
  get ordinal(): number {
    return deviceOrdinal(this.device);
  }

  // ---- data movement ----

  /** A host copy: Float32Array for float dtypes (bf16/fp16 widened exactly), Int32Array for int32. */
  toArray(): Float32Array | Int32Array {
    this.assertAlive();
    return readElements(this.span());
  }

  /** A copy on another device (always a new tensor, even for the same device). */
  to(device: Device | string): Tensor {
    this.assertAlive();
    const out = Tensor.empty(this.shape, { dtype: this.dtype, device });
    return out.copyFrom(this);
  }

  /** A copy converted to another dtype, on the same device. */
  cast(dtype: DType): Tensor {
    this.assertAlive();
    const d = checkDtype(dtype, 'Tensor.cast: dtype');
    const out = Tensor.empty(this.shape, { dtype: d, device: this.device });
    native().cast(this.ordinal, this.ptr, dtypeCode(this.dtype), out.ptr, dtypeCode(d), this.numel, null);
    return out;
  }

  clone(): Tensor {
    return this.to(this.device);
  }

  /** Copies `src` (same shape and dtype, any device) into this tensor; returns this. */
  copyFrom(src: Tensor): this {
    this.assertAlive();
    if (!(src instanceof Tensor)) throw new TypeError(`Tensor.copyFrom: expected a Tensor, got ${describeValue(src)}`);
    src.assertAlive();
    if (src.dtype !== this.dtype) throw new TypeError(`Tensor.copyFrom: dtype ${src.dtype} does not match ${this.dtype}`);
    if (shapeToString(src.shape) !== shapeToString(this.shape)) {
      throw new RangeError(`Tensor.copyFrom: shape ${shapeToString(src.shape)} does not match ${shapeToString(this.shape)}`);
    }
    if (this.nbytes > 0) native().copy(this.ptr, this.ordinal, src.ptr, src.ordinal, this.nbytes, null);
    return this;
  }

  /** Sets every element to `value` (converted to the dtype); returns this. */
  fill(value: number): this {
    this.assertAlive();
    checkFinite(value, 'Tensor.fill: value');
    checkFitsDtype(value, this.dtype, 'Tensor.fill: value');
    native().fill(this.ordinal, this.ptr, dtypeCode(this.dtype), this.numel, value, null);
    return this;
  }

  /**
   * Releases owned memory now; a borrowed tensor just stops being usable. Idempotent. Refused
   * while an optimizer step that uses the tensor is running (from inside a selection function).
   */
  dispose(): void {
    if (this.disposedFlag) return;
    if (this.pins > 0) {
      throw new Error('Tensor.dispose: refused: the tensor is in use by a running optimizer step; dispose it after step() returns');
    }
    this.disposedFlag = true;
    this.keepAlive = null;
    if (this.owned) {
      finalizer.unregister(this);
      native().free(this.ordinal, this.ptr);
    }
  }

  toString(): string {
    return `Tensor(${shapeToString(this.shape)}, ${this.dtype}, ${this.device}${this.owned ? '' : ', borrowed'}${this.disposedFlag ? ', disposed' : ''})`;
  }

  /** @internal a running optimizer step uses this tensor until unpin(); dispose() is refused meanwhile. */
  pin(): void {
    this.pins++;
  }

  /** @internal */
  unpin(): void {
    if (this.pins > 0) this.pins--;
  }

  /** Throws "tensor: disposed" for a disposed tensor. */
  assertAlive(): void {
    if (this.disposedFlag) throw new Error('tensor: disposed');
    if (this.viewOf !== null && native().allocationSerial(this.ordinal, this.viewOf.base) !== this.viewOf.serial) {
      throw new Error('tensor: the memory it views was freed (the tensor or buffer it was made from was disposed)');
    }
    if (this.keepAlive !== null && this.keepAlive.byteLength < this.keepEnd) {
      throw new Error('tensor: its borrowed ArrayBuffer was detached (transferred) and no longer holds the data');
    }
  }

  private span() {
    return { ptr: this.ptr, ordinal: this.ordinal, dtype: this.dtype, count: this.numel };
  }
}

// Host data in the element type the upload starts from: int32 tensors from integers, float
// tensors from float32 values (the core rounds those to bf16/fp16).
function toHostElements(data: HostArray, dtype: DType): HostElements {
  if (dtype === 'int32') {
    if (types.isInt32Array(data)) return data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new RangeError(`Tensor.fromArray: int32 data must be 32-bit integers, got ${v} at index ${i}`);
      }
    }
    return Int32Array.from(data);
  }
  // Data converts like a cast (a value beyond the dtype's range rounds to Inf, as in torch); only
  // the scalar factories below refuse an overflowing value, since there it can only be a mistake.
  if (types.isFloat32Array(data)) return data;
  const out = Float32Array.from(data);
  for (let i = 0; i < data.length; i++) {
    if (typeof data[i] !== 'number') throw new TypeError(`Tensor.fromArray: element ${i} is not a number`);
  }
  return out;
}
