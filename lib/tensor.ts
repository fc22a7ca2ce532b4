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

// The engine's own accessors, captured at load: a subclass or an own property can redefine
// byteLength, byteOffset, length or buffer on the object a caller passes, these cannot.
const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
function intrinsicGetter(proto: object, name: string): (this: unknown) => unknown {
  const get = Object.getOwnPropertyDescriptor(proto, name)?.get;
  if (!get) throw new Error(`frugal-optim: this JavaScript engine has no ${name} accessor`);
  return get;
}
const typedArrayBuffer = intrinsicGetter(TYPED_ARRAY_PROTO, 'buffer');
const typedArrayByteLength = intrinsicGetter(TYPED_ARRAY_PROTO, 'byteLength');
const dataViewBuffer = intrinsicGetter(DataView.prototype, 'buffer');
const dataViewByteLength = intrinsicGetter(DataView.prototype, 'byteLength');
const typedArrayByteOffset = intrinsicGetter(TYPED_ARRAY_PROTO, 'byteOffset');
const dataViewByteOffset = intrinsicGetter(DataView.prototype, 'byteOffset');
const arrayBufferByteLength = intrinsicGetter(ArrayBuffer.prototype, 'byteLength');
const arrayBufferResizable = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;

/** The ArrayBuffer (or SharedArrayBuffer) behind a view, as the engine knows it. */
function realBuffer(view: ArrayBufferView): ArrayBufferLike {
  return (types.isDataView(view) ? dataViewBuffer.call(view) : typedArrayBuffer.call(view)) as ArrayBufferLike;
}

/**
 * Refuses a buffer or view whose byteLength or byteOffset properties say something other than
 * the engine (a subclass getter, an own property): the tensor is placed by the engine's values
 * either way, but a caller who redefined them cannot mean what the tensor would do.
 */
function checkUntampered(b: ArrayBufferLike | ArrayBufferView, what: string): void {
  const view = ArrayBuffer.isView(b);
  const realOffset = !view ? 0 : types.isDataView(b) ? dataViewByteOffset.call(b) : typedArrayByteOffset.call(b);
  const claimed = { byteLength: (b as { byteLength: unknown }).byteLength, byteOffset: view ? (b as { byteOffset: unknown }).byteOffset : 0 };
  if (claimed.byteLength !== realByteLength(b) || claimed.byteOffset !== realOffset) {
    throw new TypeError(
      `${what}: the ${view ? 'view' : 'buffer'}'s byteLength/byteOffset properties (${describeValue(claimed.byteLength)}, ` +
        `${describeValue(claimed.byteOffset)}) were redefined and do not match its memory (${realByteLength(b)}, ${realOffset})`,
    );
  }
}

/** Bytes a buffer or view holds now (0 once detached), as the engine knows it. */
function realByteLength(b: ArrayBufferLike | ArrayBufferView): number {
  if (types.isArrayBuffer(b)) return arrayBufferByteLength.call(b) as number;
  if (types.isDataView(b)) {
    try {
      return dataViewByteLength.call(b) as number;
    } catch {
      return 0; // a DataView over a detached buffer throws
    }
  }
  return typedArrayByteLength.call(b) as number;
}

// Only the factories below hold this, so `new Tensor(...)` from outside the module (a raw pointer
// from JavaScript, where TypeScript's `private` does not exist) is refused.
const CONSTRUCT = Symbol('Tensor.construct');

// Numbers up to 2^24 survive the core's float32 fill value exactly; larger int32 values do not.
const EXACT_IN_FLOAT32 = 2 ** 24;

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
  /** The gradient the optimizer reads at step(); same shape, dtype and device as this tensor. */
  grad: Tensor | null = null;
  /** Grass only: a compressed gradient that a step uses in place of .grad (see Optimizer.grassInfo). */
  compressedGrad: Tensor | null = null;

  // Run-time private (#): JavaScript callers cannot read or write them (TypeScript's `private`
  // is not enforced at run time, and a writable pointer or disposed flag is a wild write).
  readonly #dtype: DType;
  readonly #shape: readonly number[];
  readonly #device: Device;
  readonly #ptr: bigint;
  readonly #owned: boolean;
  #disposed = false;
  // Held by running optimizer steps: while > 0 the core may read or write this memory, so
  // dispose() is refused (a selection callback runs in the middle of a step).
  #pins = 0;
  // Borrowed host memory: the buffer or view the caller passed must outlive the tensor that
  // points into it, and still hold its bytes (a transferred/detached buffer has none): keepEnd is
  // where the tensor ends, counted from the start of that buffer or view.
  #keepAlive: ArrayBufferLike | ArrayBufferView | null;
  #keepEnd = 0;
  // A view into the library's own memory (fromDevicePointer inside an allocation): the
  // allocation it lies in, checked before every use, so a view of freed memory throws.
  #viewOf: { base: bigint; serial: bigint } | null = null;

  private constructor(
    token: symbol,
    ptr: bigint,
    shape: number[],
    dtype: DType,
    device: Device,
    owned: boolean,
    keepAlive: ArrayBufferLike | ArrayBufferView | null,
  ) {
    if (token !== CONSTRUCT) {
      throw new TypeError('Tensor: the constructor is internal; make tensors with Tensor.zeros, Tensor.fromArray, Tensor.fromArrayBuffer, ...');
    }
    this.#ptr = ptr;
    this.#shape = Object.freeze(shape);
    this.#dtype = dtype;
    this.#device = device;
    this.#owned = owned;
    this.#keepAlive = keepAlive;
    if (owned) finalizer.register(this, { ordinal: deviceOrdinal(device), ptr }, this);
  }

  get dtype(): DType {
    return this.#dtype;
  }

  get shape(): readonly number[] {
    return this.#shape;
  }

  get device(): Device {
    return this.#device;
  }

  // ---- construction ----

  /** Uninitialized owned memory. */
  static empty(shape: readonly number[], options?: TensorOptions): Tensor {
    const o = checkOptionsObject<TensorOptions>(options, TENSOR_OPTION_KEYS, 'Tensor.empty');
    const s = checkShape(shape);
    const dtype = checkDtype(o.dtype ?? 'float32');
    const device = checkDevice(o.device ?? 'cpu');
    const bytes = s.reduce((a, b) => a * b, 1) * dtypeSize(dtype);
    if (!Number.isSafeInteger(bytes)) {
      throw new RangeError(`Tensor.empty: shape ${shapeToString(s)} of ${dtype} needs ${bytes} bytes, more than can be allocated`);
    }
    const ptr = native().alloc(deviceOrdinal(device), bytes, MEM_TENSOR);
    return new Tensor(CONSTRUCT, ptr, s, dtype, device, true, null);
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
    native().random(deviceOrdinal(t.device), t.#ptr, dtypeCode(t.dtype), t.numel, dist, s, a, b, null);
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
    // Read once, into an array of our own: a typed array is copied through its internal length
    // (a subclass can redefine .length, and a SharedArrayBuffer's contents can change under the
    // checks), a number array (or Proxy) element by element.
    data = snapshotHostArray(data);
    const s = checkShape(shape ?? [data.length], 'Tensor.fromArray: shape');
    const numel = s.reduce((a, b) => a * b, 1);
    if (numel !== data.length) {
      throw new RangeError(`Tensor.fromArray: shape ${shapeToString(s)} holds ${numel} elements, data has ${data.length}`);
    }
    const dtype = checkDtype(o.dtype ?? (types.isInt32Array(data) ? 'int32' : 'float32'), 'Tensor.fromArray: dtype');
    const host = toHostElements(data, dtype);
    const t = Tensor.empty(s, { dtype, device: o.device });
    try {
      writeElements(t.#span(), host);
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
    const t = new Tensor(CONSTRUCT, ptr, s, d, dev, false, null);
    t.#viewOf = inside;
    return t;
  }

  /** Borrows a caller's host memory as a 'cpu' tensor, without a copy; both sides see every write. */
  static fromArrayBuffer(buffer: ArrayBuffer | ArrayBufferView, shape: readonly number[], dtype: DType, byteOffset = 0): Tensor {
    const what = 'Tensor.fromArrayBuffer';
    // util.types rather than instanceof: buffers from another realm (vm contexts, jest) qualify too.
    // The buffer behind a view is read with the engine's own accessor, never view.buffer.
    let ab: ArrayBufferLike;
    if (types.isArrayBuffer(buffer)) ab = buffer;
    else if (ArrayBuffer.isView(buffer)) ab = realBuffer(buffer);
    else throw new TypeError(`${what}: expected an ArrayBuffer or a view of one, got ${describeValue(buffer)}`);
    if (!types.isArrayBuffer(ab)) {
      throw new TypeError(`${what}: expected an ArrayBuffer or a view of one, got a view of ${describeValue(ab)}`);
    }
    if (arrayBufferResizable?.call(ab) === true) {
      throw new TypeError(`${what}: a resizable ArrayBuffer can move or shrink under the tensor; pass a fixed-length one`);
    }
    const s = checkShape(shape, `${what}: shape`);
    const d = checkDtype(dtype, `${what}: dtype`);
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0) {
      throw new RangeError(`${what}: byteOffset must be a non-negative integer, got ${describeValue(byteOffset)}`);
    }
    checkUntampered(buffer, what);
    const bytes = s.reduce((a, b) => a * b, 1) * dtypeSize(d);
    // Where the bytes are and how many, as the engine knows them: for a view, the view's own
    // range (not the whole ArrayBuffer: a small Node Buffer shares its pool with others).
    const host = native().hostView(buffer);
    if (!Number.isSafeInteger(bytes) || byteOffset + bytes > host.byteLength) {
      throw new RangeError(
        `${what}: ${bytes} bytes at byte offset ${byteOffset} do not fit in the ${host.byteLength} bytes of the ${types.isArrayBuffer(buffer) ? 'buffer' : 'view'}`,
      );
    }
    const ptr = bytes > 0 ? host.address + BigInt(byteOffset) : 0n;
    if (ptr % BigInt(dtypeSize(d)) !== 0n) {
      throw new RangeError(`${what}: byte offset ${byteOffset} is misaligned for ${d} (needs ${dtypeSize(d)}-byte alignment)`);
    }
    const t = new Tensor(CONSTRUCT, ptr, s, d, 'cpu', false, buffer);
    t.#keepEnd = byteOffset + bytes;
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
    return this.#ptr;
  }

  /** True when the memory belongs to someone else and is never freed by the library. */
  get isBorrowed(): boolean {
    return !this.#owned;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** @internal the C API's device number. */
  get ordinal(): number {
    return deviceOrdinal(this.device);
  }

  // ---- data movement ----

  /** A host copy: Float32Array for float dtypes (bf16/fp16 widened exactly), Int32Array for int32. */
  toArray(): Float32Array | Int32Array {
    this.assertAlive();
    return readElements(this.#span());
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
    native().cast(this.ordinal, this.#ptr, dtypeCode(this.dtype), out.#ptr, dtypeCode(d), this.numel, null);
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
    if (this.nbytes > 0) native().copy(this.#ptr, this.ordinal, src.#ptr, src.ordinal, this.nbytes, null);
    return this;
  }

  /** Sets every element to `value` (converted to the dtype; int32 tensors take integers only, exactly); returns this. */
  fill(value: number): this {
    this.assertAlive();
    checkFinite(value, 'Tensor.fill: value');
    checkFitsDtype(value, this.dtype, 'Tensor.fill: value');
    if (this.dtype === 'int32' && !Number.isInteger(value)) {
      throw new RangeError(`Tensor.fill: value: an int32 tensor takes integers, got ${value}`);
    }
    if (this.dtype === 'int32' && Math.abs(value) > EXACT_IN_FLOAT32) this.#fillInt32Exactly(value);
    else native().fill(this.ordinal, this.#ptr, dtypeCode(this.dtype), this.numel, value, null);
    return this;
  }

  // The core's fill takes a float32 value, which holds integers up to 2^24 only: a larger int32
  // value is written once from the host, then doubled by device copies (log2(numel) copies).
  #fillInt32Exactly(value: number): void {
    const n = native();
    const numel = this.numel;
    if (numel === 0) return;
    n.copyFromHost(this.#ptr, this.ordinal, Int32Array.of(value), 0, 4, null);
    for (let done = 1; done < numel; ) {
      const k = Math.min(done, numel - done);
      n.copy(this.#ptr + BigInt(done * 4), this.ordinal, this.#ptr, this.ordinal, k * 4, null);
      done += k;
    }
  }

  /**
   * Releases owned memory now; a borrowed tensor just stops being usable. Idempotent. Refused
   * while an optimizer step that uses the tensor is running (from inside a selection function).
   */
  dispose(): void {
    if (this.#disposed) return;
    if (this.#pins > 0) {
      throw new Error('Tensor.dispose: refused: the tensor is in use by a running optimizer step; dispose it after step() returns');
    }
    this.#disposed = true;
    this.#keepAlive = null;
    if (this.#owned) {
      finalizer.unregister(this);
      native().free(this.ordinal, this.#ptr);
    }
  }

  toString(): string {
    return `Tensor(${shapeToString(this.shape)}, ${this.dtype}, ${this.device}${this.#owned ? '' : ', borrowed'}${this.#disposed ? ', disposed' : ''})`;
  }

  /** @internal a running optimizer step uses this tensor until unpin(); dispose() is refused meanwhile. */
  pin(): void {
    this.#pins++;
  }

  /** @internal */
  unpin(): void {
    if (this.#pins > 0) this.#pins--;
  }

  /** Throws "tensor: disposed" for a disposed tensor. */
  assertAlive(): void {
    if (this.#disposed) throw new Error('tensor: disposed');
    if (this.#viewOf !== null && native().allocationSerial(this.ordinal, this.#viewOf.base) !== this.#viewOf.serial) {
      throw new Error('tensor: the memory it views was freed (the tensor or buffer it was made from was disposed)');
    }
    if (this.#keepAlive !== null && realByteLength(this.#keepAlive) < this.#keepEnd) {
      throw new Error('tensor: its borrowed ArrayBuffer was detached (transferred) and no longer holds the data');
    }
  }

  #span() {
    return { ptr: this.#ptr, ordinal: this.ordinal, dtype: this.dtype, count: this.numel };
  }
}

// A copy of the caller's host array that nothing outside can change or misreport.
function snapshotHostArray(data: HostArray): HostArray {
  if (types.isFloat32Array(data)) return new Float32Array(data);
  if (types.isFloat64Array(data)) return new Float64Array(data);
  if (types.isInt32Array(data)) return new Int32Array(data);
  return Array.prototype.slice.call(data) as number[];
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
