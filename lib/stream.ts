// Streams: where optimizer steps are enqueued. A Stream is created by the library (owned,
// destroyed by destroy()) or wraps another runtime's cudaStream_t (borrowed, never destroyed).
// On the CPU every stream is the null handle and work completes before the call returns.
import { checkDevice, Device, deviceOrdinal } from './device';
import { native } from './native';

export class Stream {
  readonly device: Device;
  private readonly raw: bigint;
  private readonly borrowed: boolean;
  private destroyedFlag = false;

  private constructor(device: Device, raw: bigint, borrowed: boolean) {
    this.device = device;
    this.raw = raw;
    this.borrowed = borrowed;
  }

  /** A new non-blocking stream on `device` (the null stream on the CPU). */
  static create(device: Device | string = 'cpu'): Stream {
    const d = checkDevice(device);
    return new Stream(d, native().streamCreate(deviceOrdinal(d)), false);
  }

  /** Wraps a raw cudaStream_t from another runtime; the library never destroys it. */
  static fromHandle(handle: bigint, device: Device | string): Stream {
    if (typeof handle !== 'bigint' || handle < 0n) {
      throw new TypeError(`Stream.fromHandle: handle must be a cudaStream_t as a non-negative bigint, got ${typeof handle}`);
    }
    return new Stream(checkDevice(device), handle, true);
  }

  /** The raw handle (0n is the legacy default stream). */
  get handle(): bigint {
    if (this.destroyedFlag) throw new Error('stream: destroyed');
    return this.raw;
  }

  get isBorrowed(): boolean {
    return this.borrowed;
  }

  get destroyed(): boolean {
    return this.destroyedFlag;
  }

  /** Waits until everything enqueued on this stream has finished. */
  synchronize(): void {
    native().synchronize(deviceOrdinal(this.device), this.handle);
  }

  /** Destroys an owned stream (after its work finishes); forgets a borrowed one. */
  destroy(): void {
    if (this.destroyedFlag) return;
    if (!this.borrowed && this.raw !== 0n) native().streamDestroy(deviceOrdinal(this.device), this.raw);
    this.destroyedFlag = true;
  }
}

/** Waits for the device's legacy default stream (all work the library enqueued without a stream). */
export function synchronize(device: Device | string = 'cpu'): void {
  native().synchronize(deviceOrdinal(checkDevice(device)), null);
}

/** The raw handle of an optional stream argument, checked against the device it must run on. */
export function streamHandle(stream: Stream | undefined | null, device: Device, what: string): bigint | null {
  if (stream === undefined || stream === null) return null;
  if (!(stream instanceof Stream)) throw new TypeError(`${what}: stream must be a Stream`);
  if (stream.device !== device) {
    throw new Error(`${what}: stream is on '${stream.device}' but the work runs on '${device}'`);
  }
  return stream.handle;
}
