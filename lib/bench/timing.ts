// A small timing harness: warm-up, then repeated samples of a synchronous region. The addon has
// no CUDA event timing, so on the GPU a sample is host time (process.hrtime) between two device
// synchronizations around `inner` back-to-back calls, divided by `inner`: launches queue up
// without host syncs, so the per-call figure approaches device time as `inner` grows.

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

/** Time `fn`; `sync` waits for the device (a no-op on the CPU, where calls are synchronous). */
export function timeCalls(fn: () => void, sync: () => void, o: TimingOptions): Timing {
  for (let i = 0; i < o.warmup; i++) fn();
  sync();
  const samples: number[] = [];
  for (let r = 0; r < o.reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.inner; i++) fn();
    sync();
    const t1 = process.hrtime.bigint();
    samples.push(Number(t1 - t0) / 1e6 / o.inner);
  }
  return summarize(samples);
}
