// Timing events: CUDA events on a GPU (recorded on a stream without a host sync, so a benchmark
// times the device's work and not the launch overhead), host timestamps on the CPU.
import { checkDevice, Device, deviceOrdinal } from './device';
import { native } from './native';
import { Stream, streamHandle } from './stream';

// The native handle is freed when the Event is collected, if destroy() was never called.
const finalizer = new FinalizationRegistry<bigint>((handle) => {
  try {
    native().eventDestroy(handle);
  } catch {
    // Nothing to report to from a finalizer.
  }
});

export class Event {
  readonly device: Device;
  private raw: bigint | null;

  constructor(device: Device | string = 'cpu') {
    this.device = checkDevice(device);
    this.raw = native().eventCreate(deviceOrdinal(this.device));
    finalizer.register(this, this.raw, this);
  }

  private get handle(): bigint {
    if (this.raw === null) throw new Error('event: destroyed');
    return this.raw;
  }

  /** Marks this point in `stream`'s work (default: the legacy default stream). */
  record(stream?: Stream | null): this {
    native().eventRecord(this.handle, streamHandle(stream, this.device, 'Event.record'));
    return this;
  }

  /** Milliseconds of device time from this event to `end`; waits for `end` to complete. */
  elapsedMs(end: Event): number {
    if (!(end instanceof Event)) throw new TypeError('Event.elapsedMs: end must be an Event');
    return native().eventElapsedMs(this.handle, end.handle);
  }

  destroy(): void {
    if (this.raw === null) return;
    finalizer.unregister(this);
    native().eventDestroy(this.raw);
    this.raw = null;
  }
}
