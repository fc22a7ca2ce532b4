// Timing dense (SVD) methods without running a whole model's SVD at every timed step. Their
// ordinary step is the same code whatever basis is in force, so it is timed with a random
// orthonormal basis of the same rank (a cheap refresh at step 0); the SVD refresh is a cost per
// matrix that depends only on its shape, so it is timed once per distinct shape on a one-matrix
// optimizer and summed over the model's matrices. A 7B model's 224 exact SVDs per refresh would
// otherwise take minutes for each timed refresh.
import { ParamSpec } from '../plan/llama-presets';
import { Tensor } from '../tensor';
import { BenchArgs } from './bench-args';
import { BenchMethod } from './bench-methods';
import { BenchModel } from './bench-model';
import { createOptimizer } from './optimizer-factory';
import { timeCalls } from './timing';

export const DENSE_ORDINARY_OPTIONS = { selection: 'random' } as const;

/** A model of one matrix of `spec`'s shape (projectable), sharing the bench model's dtype and device. */
function oneMatrix(spec: ParamSpec, model: BenchModel): BenchModel {
  const t = Tensor.randn(spec.shape, { dtype: model.dtype, device: model.device, seed: 7, std: 0.02 });
  t.grad = Tensor.randn(spec.shape, { dtype: model.dtype, device: model.device, seed: 8, std: 1e-3 });
  return {
    preset: model.preset, dtype: model.dtype, device: model.device, specs: [spec], tensors: [t], projectable: [t], regular: [],
    gradBytes: t.nbytes,
    dispose() {
      t.grad?.dispose();
      t.grad = null;
      t.dispose();
    },
  };
}

/** Milliseconds of one optimizer step on a one-matrix model, median. */
function stepMs(m: BenchMethod, single: BenchModel, updateGap: number, reps: number, sync: () => void): number {
  const opt = createOptimizer(m, single, updateGap);
  try {
    opt.step();
    return timeCalls(() => opt.step(), sync, { warmup: 0, reps, inner: 1 }, single.device).medianMs;
  } finally {
    opt.dispose();
  }
}

/** Extra milliseconds of an SVD refresh over an ordinary step, summed over the model's matrices. */
export function denseRefreshMs(m: BenchMethod, model: BenchModel, args: BenchArgs, sync: () => void): number {
  const byShape = new Map<string, { spec: ParamSpec; count: number }>();
  for (const s of model.specs) {
    if (!s.projectable) continue;
    const key = s.shape.join('x');
    const e = byShape.get(key);
    if (e) e.count++;
    else byShape.set(key, { spec: s, count: 1 });
  }
  const ordinary: BenchMethod = { ...m, options: { ...m.options, ...DENSE_ORDINARY_OPTIONS } };
  let total = 0;
  for (const { spec, count } of byShape.values()) {
    const single = oneMatrix(spec, model);
    try {
      const refresh = stepMs(m, single, 1, args.refreshReps, sync);
      const plain = stepMs(ordinary, single, 1 << 30, args.refreshReps, sync);
      total += count * Math.max(0, refresh - plain);
    } finally {
      single.dispose();
    }
  }
  return total;
}
