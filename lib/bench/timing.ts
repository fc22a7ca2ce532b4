// A small timing harness: warm-up, then repeated samples of `inner` back-to-back calls between two
// timing events (CUDA events on a GPU, so a sample is device time with no host sync inside it;
// host timestamps on the CPU, where every call is synchronous), divided by `inner`.
import { Event } from '../event';

export interface TimingOptions {
  warmup: number;
  reps: number;
  /** Calls per sample, between the two synchronizations. */
  inner: number;
}

export interface Timing {
  /** Milliseconds per call, one entry per sample. */
  samples: number[];
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: number[]): Timing {
  const sorted = samples.slice().sort((a, b) => a - b);
  return { samples, medianMs: quantile(sorted, 0.5), p10Ms: quantile(sorted, 0.1), p90Ms: quantile(sorted, 0.9) };
}

/** Time `fn` on `device` with timing events; `sync` waits for the device after the warm-up. */
export function timeCalls(fn: () => void, sync: () => void, o: TimingOptions, device = 'cpu'): Timing {
  for (let i = 0; i < o.warmup; i++) fn();
  sync();
  const start = new Event(device);
  const end = new Event(device);
  const samples: number[] = [];
  try {
    for (let r = 0; r < o.reps; r++) {
      start.record();
      for (let i = 0; i < o.inner; i++) fn();
      end.record();
      samples.push(start.elapsedMs(end) / o.inner);
    }
  } finally {
    start.destroy();
    end.destroy();
  }
  return summarize(samples);
}
