// The planner against a real training step of this package's own LLaMA model (lib/model,
// lib/train) on the CPU: optimizer state, gradients and activations equal what the core's ledger
// measures, byte for byte, and the planned total is within 10% of the measured peak.
import { LlamaModel } from '../lib/model/llama';
import { modelConfig } from '../lib/model/config';
import { GradientManager } from '../lib/train/gradients';
import { memorySnapshot, resetPeak, MemoryFigures } from '../lib/train/memory-report';
import { OptimizerSet } from '../lib/train/optimizers';
import { DEFAULT_OPTIONS, MethodName, TrainOptions } from '../lib/train/options';
import { planMemory, PlanInput } from '../lib/plan/planner';
import { releaseWorkspace } from '../lib/memory';

const CONFIG = modelConfig('tiny', 64, { hidden: 32, intermediate: 64, heads: 2, layers: 2 });
const BATCH = 2;
const SEQ = 16;

// The trainer's method names -> the planner's (the recipes' defaults are the same).
const PLANNER_METHOD: Record<MethodName, string> = {
  adamw: 'adamw', frugal: 'frugal', galore: 'galore', grass: 'grass', badam: 'badam', sgd: 'sgdm', signsgd: 'signsgd', lion: 'lion',
};

interface Measured {
  stateAfterFirst: number;
  stateBytes: number;
  /** peak figures of each step: step 1 is a refresh, step 2 an ordinary one unless the gap is 1 */
  steps: MemoryFigures[];
}

// The ledger is process-wide and jest runs several test files in one worker: memory other files
// still hold (tensors their finalizers have not yet freed) is measured first and subtracted.
// Finalizers cannot run inside this synchronous function, so that baseline stays put.
function minus(a: MemoryFigures, b: MemoryFigures): MemoryFigures {
  return {
    weights: a.weights - b.weights,
    gradients: a.gradients - b.gradients,
    optimizerState: a.optimizerState - b.optimizerState,
    activations: a.activations - b.activations,
    workspace: a.workspace - b.workspace,
    total: a.total - b.total,
  };
}

function train(o: TrainOptions, stepCount: number): Measured {
  releaseWorkspace('cpu'); // the device's workspace pool: optimizers other files left to the GC may hold it
  const baseline = memorySnapshot('cpu').current;
  const model = new LlamaModel(CONFIG, { device: 'cpu', dtype: o.dtype === 'bf16' ? 'bfloat16' : 'float32', seed: 0 });
  let optimizers: OptimizerSet | null = null;
  let grads: GradientManager | null = null;
  const steps: MemoryFigures[] = [];
  let stateAfterFirst = 0;
  try {
    optimizers = new OptimizerSet(model, o);
    grads = new GradientManager(model, optimizers, o.sparseBackward);
    const ids = Int32Array.from({ length: BATCH * SEQ }, (_v, i) => (i * 7) % CONFIG.vocab);
    const targets = Int32Array.from({ length: BATCH * SEQ }, (_v, i) => (i * 11 + 3) % CONFIG.vocab);
    for (let s = 0; s < stepCount; s++) {
      resetPeak('cpu');
      model.forward(ids, targets, BATCH, SEQ);
      grads.backwardAndStep();
      steps.push(minus(memorySnapshot('cpu').peak, baseline));
      if (s === 0) stateAfterFirst = memorySnapshot('cpu').current.optimizerState - baseline.optimizerState;
    }
    return { stateAfterFirst, stateBytes: optimizers.stateBytes(), steps };
  } finally {
    grads?.dispose();
    optimizers?.dispose();
    model.dispose();
  }
}

// Blocks methods switch blocks every step here, so that the run goes through refreshes and the
// planner's peak over a cycle of them is checked against the ledger.
const SWITCHING = { updateGap: 1, steps: 8 };
const CASES: [string, Partial<TrainOptions>][] = [
  ['adamw', { optimizer: 'adamw' }],
  ['frugal', { optimizer: 'frugal', ...SWITCHING }],
  ['galore', { optimizer: 'galore' }],
  ['grass', { optimizer: 'grass', updateGap: 1, steps: 3 }],
  ['badam', { optimizer: 'badam', switchEvery: 1, steps: 8 }],
  ['sgd (momentum)', { optimizer: 'sgd' }],
  ['signsgd', { optimizer: 'signsgd' }],
  ['lion', { optimizer: 'lion' }],
  ['frugal, per-layer updates', { optimizer: 'frugal', perLayer: true, ...SWITCHING }],
  ['galore, per-layer updates', { optimizer: 'galore', perLayer: true }],
  ['grass, sparse backward', { optimizer: 'grass', sparseBackward: true }],
  ['grass, per-layer + sparse backward', { optimizer: 'grass', perLayer: true, sparseBackward: true }],
  ['frugal, bf16 weights', { optimizer: 'frugal', dtype: 'bf16', ...SWITCHING }],
];

describe.each(CASES)('%s', (_label, overrides) => {
  const o: TrainOptions = { ...DEFAULT_OPTIONS, quiet: true, steps: 2, ...overrides };
  const input: PlanInput = {
    model: { hidden: CONFIG.hidden, intermediate: CONFIG.intermediate, heads: CONFIG.heads, layers: CONFIG.layers, vocab: CONFIG.vocab },
    optimizer: PLANNER_METHOD[o.optimizer],
    dtype: o.dtype === 'bf16' ? 'bfloat16' : 'float32',
    batch: BATCH,
    seqLen: SEQ,
    perLayerUpdates: o.perLayer,
    sparseBackward: o.sparseBackward,
    clipping: o.maxGradNorm > 0,
    activationModel: 'trainer',
  };
  let plan: ReturnType<typeof planMemory>;
  let measured: Measured;
  beforeAll(() => {
    plan = planMemory(input);
    measured = train(o, o.steps);
  });

  test('optimizer state: planned == stateBytes() == measured', () => {
    expect(measured.stateBytes).toBe(plan.state.firstStep);
    expect(measured.stateAfterFirst).toBe(plan.state.firstStep);
  });

  test('gradients: planned == measured on the refresh step and the ordinary step', () => {
    expect(measured.steps[0].gradients).toBe(plan.gradients.refresh);
    expect(measured.steps[1].gradients).toBe(o.updateGap === 1 ? plan.gradients.refresh : plan.gradients.ordinary);
  });

  test('optimizer state at its peak: planned == measured', () => {
    // Without a second refresh in the run, the peak is the first step's state.
    const refreshedAgain = o.updateGap === 1 || o.switchEvery === 1;
    expect(Math.max(...measured.steps.map((s) => s.optimizerState))).toBe(refreshedAgain ? plan.state.peak : plan.state.firstStep);
  });

  test('weights and activations: planned == measured', () => {
    expect(measured.steps[0].weights).toBe(plan.breakdown.weights);
    expect(measured.steps[0].activations).toBe(plan.breakdown.activations);
  });

  test('total within 10% of the measured peak', () => {
    const peak = Math.max(...measured.steps.map((s) => s.total));
    expect(Math.abs(plan.breakdown.total - peak) / peak).toBeLessThan(0.1);
  });
});
