// The training bench on a micro model (two layers of width 32, batches of 4 x 32 bytes): every
// optimizer lowers the loss within a few dozen steps, runs are deterministic, and the memory
// modes reduce the gradient memory the ledger measures.
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_OPTIONS, MethodName, TrainOptions } from '../lib/train/options';
import { train, TrainResult } from '../lib/train/trainer';

const out = path.join(os.tmpdir(), `frugal-train-loss-${process.pid}`);

function micro(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    ...DEFAULT_OPTIONS,
    optimizerOptions: {},
    model: { hidden: 32, intermediate: 64, heads: 2, layers: 2 },
    steps: 40,
    batch: 4,
    seqLen: 32,
    evalEvery: 20,
    evalBatches: 2,
    device: 'cpu',
    quiet: true,
    outDir: path.join(out, extra.optimizer ?? 'frugal'),
    ...extra,
  };
}

function run(extra: Partial<TrainOptions>): { result: TrainResult; losses: number[] } {
  const losses: number[] = [];
  const result = train(micro(extra), { onStep: (_s, l) => losses.push(l) });
  return { result, losses };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('training loss falls with every optimizer', () => {
  const methods: MethodName[] = ['adamw', 'frugal', 'galore', 'badam', 'grass', 'sgd', 'signsgd', 'lion'];
  it.each(methods)('%s', (method) => {
    const periodic = ['frugal', 'galore', 'grass'].includes(method) ? { updateGap: 10 } : method === 'badam' ? { switchEvery: 10 } : {};
    // signSGD and Lion move every weight by lr per step: the recipe's lr is for wider models.
    const lr = method === 'signsgd' || method === 'lion' ? { lr: 1e-3 } : {};
    const { result, losses } = run({ optimizer: method, ...periodic, ...lr });
    expect(losses).toHaveLength(40);
    expect(losses.every(Number.isFinite)).toBe(true);
    // From ln(256) = 5.55 for bytes; the last steps must be clearly lower than the first.
    expect(mean(losses.slice(-5))).toBeLessThan(losses[0] * 0.95);
    expect(result.valLoss).toBeLessThan(losses[0]);
    expect(result.valCurve.map((p) => p[0])).toEqual([20, 40]);
  });
});

describe('training runs', () => {
  it('are deterministic on the CPU', () => {
    const a = run({ optimizer: 'frugal', steps: 12, updateGap: 5 }).losses;
    const b = run({ optimizer: 'frugal', steps: 12, updateGap: 5 }).losses;
    expect(b).toEqual(a);
  });

  it('train with bf16 weights and gradients', () => {
    const { losses } = run({ optimizer: 'adamw', dtype: 'bf16', steps: 30 });
    expect(mean(losses.slice(-5))).toBeLessThan(losses[0] * 0.95);
  });

  it('per-layer updates hold one unit of gradients at a time', () => {
    const full = run({ optimizer: 'adamw', steps: 6 }).result;
    const perLayer = run({ optimizer: 'adamw', steps: 6, perLayer: true }).result;
    // Micro model: embedding and head 2 x 256 x 32, each layer 4 x 32^2 + 3 x 32 x 64 + 2 x 32.
    const layer = (4 * 32 * 32 + 3 * 32 * 64 + 2 * 32) * 4;
    const head = (256 * 32 + 32) * 4;
    expect(full.peak.gradients).toBe((2 * layer + head + 256 * 32 * 4));
    expect(perLayer.peak.gradients).toBe(Math.max(layer, head));
    expect(perLayer.peak.total).toBeLessThan(full.peak.total);
  });

  it("Grass's sparse backward gives the same training with less gradient memory between refreshes", () => {
    const options = { optimizer: 'grass' as const, steps: 12, updateGap: 5, maxGradNorm: 0 };
    const dense = run(options);
    const sparse = run({ ...options, sparseBackward: true });
    sparse.losses.forEach((l, i) => expect(l).toBeCloseTo(dense.losses[i], 4));
    // Between refreshes each projected matrix holds a quarter of its gradient (density 0.25).
    const projected = 2 * (4 * 32 * 32 + 3 * 32 * 64) * 4;
    expect(sparse.result.peakOrdinary.gradients).toBe(dense.result.peak.gradients - 0.75 * projected);
    expect(sparse.result.peakOrdinary.total).toBeLessThan(dense.result.peak.total);
    // Refresh steps still need the full gradients.
    expect(sparse.result.peak.gradients).toBe(dense.result.peak.gradients);
  });
});
