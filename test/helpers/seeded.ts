// Seeded randomness and micro training runs shared by the checkpoint and interrupt tests.
import { DEFAULT_OPTIONS, TrainOptions } from '../../lib/train/options';
import { train } from '../../lib/train/trainer';

/** mulberry32: a small seeded generator of numbers in [0, 1), so every run fuzzes the same cases. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A training run of a 2-layer, 32-wide model on the CPU: a few milliseconds a step. */
export function microRun(outDir: string, extra: Partial<TrainOptions>): TrainOptions {
  return {
    ...DEFAULT_OPTIONS,
    optimizerOptions: {},
    model: { hidden: 32, intermediate: 64, heads: 2, layers: 2 },
    steps: 4,
    batch: 2,
    seqLen: 16,
    evalEvery: 0,
    evalBatches: 1,
    device: 'cpu',
    quiet: true,
    outDir,
    ...extra,
  };
}

/** The loss of every step of a run (stopped after `stopAfter` steps when given). */
export function stepLosses(o: TrainOptions, stopAfter?: number): number[] {
  const out: number[] = [];
  train(o, { onStep: (_s, l) => out.push(l), stopAfter });
  return out;
}
