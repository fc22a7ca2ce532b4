// The timing harness of the benchmarks: tinybench runs the warm-up and the samples and computes
// the statistics. One sample is `inner` back-to-back calls between two timing events, divided by
// `inner`: CUDA events on a GPU (device time, no host sync inside a sample; the sample's duration
// is handed to tinybench as its `overriddenDuration`), host timestamps on the CPU, where every
// call is synchronous.
import type { Bench as TinyBench } from 'tinybench';
import { Event } from '../event';
import { loadDependency } from '../optional-dependency';

export interface TimingOptions {
  warmup: number;
  reps: number;
  /** Calls per sample, between the two timing events. */
  inner: number;
}

export interface Timing {
  /** Milliseconds per call, one entry per sample, in the order taken. */
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

/**
 * Times `fn` on `device`: `o.warmup` untimed calls, `sync` (the device drains), then exactly
 * `o.reps` samples. tinybench's own time budgets are off (0 ms), so the counts are exact, and its
 * median must agree with ours (checked: a disagreement means the harness was misused).
 */
export function timeCalls(fn: () => void, sync: () => void, o: TimingOptions, device = 'cpu'): Timing {
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isSafeInteger(v) || v < (k === 'warmup' ? 0 : 1)) throw new Error(`timeCalls: ${k} must be an integer >= ${k === 'warmup' ? 0 : 1}, got ${v}`);
  }
  const { Bench } = loadDependency<{ Bench: typeof TinyBench }>('tinybench', 'the step bench (lib/bench)');
  for (let i = 0; i < o.warmup; i++) fn();
  sync();
  const start = new Event(device);
  const end = new Event(device);
  const samples: number[] = [];
  try {
    const bench = new Bench({ iterations: o.reps, time: 0, warmup: false, retainSamples: true, throws: true });
    bench.add('calls', () => {
      start.record();
      for (let i = 0; i < o.inner; i++) fn();
      end.record();
      const ms = start.elapsedMs(end); // waits for `end` on a GPU
      samples.push(ms / o.inner);
      return { overriddenDuration: ms / o.inner, overriddenIterationCost: ms };
    }, { async: false }); // declared, so tinybench makes no probing call of its own

    bench.runSync();
    const result = bench.tasks[0].result;
    if (result.state !== 'completed') throw new Error(`timeCalls: tinybench ended in state '${result.state}'`);
    const t = summarize(samples);
    if (samples.length !== o.reps || result.latency.samplesCount !== o.reps || Math.abs(result.latency.p50 - t.medianMs) > 1e-9 * Math.max(1, t.medianMs)) {
      throw new Error(`timeCalls: tinybench took ${result.latency.samplesCount} samples of ${samples.length} calls, median ${result.latency.p50} ms; expected ${o.reps}, ${t.medianMs} ms`);
    }
    return t;
  } finally {
    start.destroy();
    end.destroy();
  }
}
