// The CPU backend's thread pool: one set of threads, started once, that runs the optimizer's
// loops, the model ops and the host SVD. Results do not depend on its size.
import { describeValue } from './dtype';
import { native } from './native';

/** The most threads the pool takes. */
export const MAX_THREADS = 256;

/**
 * Sizes the CPU thread pool (the calling thread included): 1..256, or 0 for the default, which is
 * FRUGAL_NUM_THREADS when set, else one thread per core. Waits for work in progress on the pool;
 * the new size holds for the rest of the process (the trainer's `--threads` sets it). When the
 * system refuses one of the new threads, throws naming it and keeps the pool it had.
 */
export function setNumThreads(threads: number): void {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 0 || threads > MAX_THREADS) {
    throw new RangeError(`setNumThreads: threads: expected an integer from 1 to ${MAX_THREADS}, or 0 for the default, got ${describeValue(threads)}`);
  }
  try {
    native().setNumThreads(threads);
  } catch (e) {
    // The core names its argument ("threads: could not start thread 3 of 8: ..."); here the call.
    if (e instanceof Error) e.message = `setNumThreads(${threads}): ${e.message.replace(/^threads: /, '')}`;
    throw e;
  }
}

/** The CPU thread pool's size (the calling thread included). */
export function numThreads(): number {
  return native().numThreads();
}
