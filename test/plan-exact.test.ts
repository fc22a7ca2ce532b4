// The planner against reality on the CPU: after real optimizer steps, the state bytes it plans
// equal Optimizer.stateBytes() and what the core's ledger counts (memoryStats), and so do the
// workspace and the peaks over a cycle of refreshes.
import { memoryStats, releaseWorkspace, resetPeakMemory } from '../lib/memory';
import { BENCH_METHODS, BenchMethod } from '../lib/bench/bench-methods';
import { buildBenchModel, BenchModel } from '../lib/bench/bench-model';
import { Tensor } from '../lib/tensor';
import { createOptimizer } from '../lib/bench/optimizer-factory';
import { denseRefreshMs } from '../lib/bench/dense-refresh';
import { LlamaConfig } from '../lib/plan/llama-presets';
import { methodGroups } from '../lib/plan/methods';
import { planOptimizerState } from '../lib/plan/optimizer-state';

// Small enough for the host SVD, with sizes that exercise rounding: 14 blocks at density 0.25
// (3.5 -> 4), 40 columns (10), rank round(24 * 0.25) = 6.
const TINY: LlamaConfig = { hidden: 24, intermediate: 40, heads: 2, layers: 2, vocab: 50 };

function withModel(dtype: 'float32' | 'bfloat16', fn: (model: BenchModel) => void): void {
  const model = buildBenchModel({ label: 'tiny', config: TINY }, dtype, 'cpu');
  try {
    fn(model);
  } finally {
    model.dispose();
  }
}

function plannedFor(m: BenchMethod, model: BenchModel, settings: Record<string, unknown> = {}) {
  return planOptimizerState(methodGroups(m.plan, model.specs, { ...m.planSettings, ...settings }));
}

describe.each(['float32', 'bfloat16'] as const)('planner == core after one step (%s weights)', (dtype) => {
  test.each(BENCH_METHODS.map((m) => [m.key, m] as const))('%s', (_key, m) => {
    withModel(dtype, (model) => {
      releaseWorkspace('cpu'); // the device's pool: optimizers other files left to the GC may hold it
      const before = memoryStats('cpu').current;
      resetPeakMemory('cpu');
      const opt = createOptimizer(m, model, null);
      try {
        opt.step();
        const plan = plannedFor(m, model);
        const now = memoryStats('cpu');
        expect(opt.stateBytes()).toBe(plan.stateBytes);
        expect(now.current.optimizerState - before.optimizerState).toBe(plan.stateBytes);
        // Per tensor too.
        model.tensors.forEach((t, i) => {
          expect([model.specs[i].name, opt.stateBytes(t)]).toEqual([model.specs[i].name, plan.params.find((p) => p.name === model.specs[i].name)!.total]);
        });
        // Workspace at its peak: dense slots (and, for Grass, the line norms of the refresh).
        expect(now.peak.workspace - before.workspace).toBe(plan.workspaceBytes);
      } finally {
        opt.dispose();
      }
    });
  });
});

describe('peaks over a cycle of refreshes', () => {
  test.each([
    ['frugal-blocks', {}],
    ['frugal-columns', {}],
    ['grass-norm', {}],
    ['galore', {}],
    ['badam', {}],
  ] as const)('%s: measured peak state == planned peak', (key, settings) => {
    const m = BENCH_METHODS.find((x) => x.key === key)!;
    withModel('float32', (model) => {
      const base = memoryStats('cpu').current.optimizerState;
      resetPeakMemory('cpu');
      const opt = createOptimizer(m, model, 1); // a refresh every step
      try {
        for (let s = 0; s < 16; s++) opt.step(); // more than a whole block cycle (7 refreshes)
        const plan = plannedFor(m, model, settings);
        expect(memoryStats('cpu').peak.optimizerState - base).toBe(plan.statePeakBytes);
      } finally {
        opt.dispose();
      }
    });
  });
});

describe('per-layer updates: one workspace pool per device', () => {
  // One optimizer per unit (embedding, each layer, head), as the trainer's per-layer mode makes
  // them: the ledger's workspace is the largest unit's need (the device's pool), not the sum.
  test.each(['galore', 'frugal-svd'])('%s: measured peak workspace == planned, the max over the units', (key) => {
    const m = BENCH_METHODS.find((x) => x.key === key);
    if (!m) throw new Error(`no bench method '${key}'`);
    withModel('float32', (model) => {
      // The layers (the embedding and the head hold no workspace: plain AdamW).
      const units = [...new Set(model.specs.filter((s) => s.projectable).map((s) => s.unit))];
      expect(units.length).toBeGreaterThan(1);
      releaseWorkspace('cpu');
      const before = memoryStats('cpu').current;
      resetPeakMemory('cpu');
      const opts = units.map((unit) => {
        const mine = model.specs.map((s, i) => (s.unit === unit ? i : -1)).filter((i) => i >= 0);
        const pick = (ts: Tensor[]) => ts.filter((t) => mine.some((i) => model.tensors[i] === t));
        const part: BenchModel = {
          ...model,
          specs: mine.map((i) => model.specs[i]),
          tensors: mine.map((i) => model.tensors[i]),
          projectable: pick(model.projectable),
          regular: pick(model.regular),
        };
        return createOptimizer(m, part, null);
      });
      try {
        for (const opt of opts) opt.step();
        const perUnit = units.map((unit) => methodGroups(m.plan, model.specs.filter((s) => s.unit === unit), m.planSettings));
        const planned = planOptimizerState(perUnit.flatMap((groups, i) => groups.map((g) => ({ ...g, optimizer: units[i] }))));
        expect(memoryStats('cpu').peak.workspace - before.workspace).toBe(planned.workspaceBytes);
        // One pool: less than what optimizers with workspaces of their own would hold together.
        const separate = perUnit.reduce((sum, groups) => sum + planOptimizerState(groups).workspaceBytes, 0);
        expect(planned.workspaceBytes).toBeGreaterThan(0);
        expect(planned.workspaceBytes).toBeLessThan(separate);
      } finally {
        for (const opt of opts) opt.dispose();
      }
      releaseWorkspace('cpu'); // a no-op unless another optimizer on the cpu keeps the pool
      expect(memoryStats('cpu').current.workspace).toBe(before.workspace);
    });
  });
});

describe('dense methods in the step benchmark', () => {
  test('SVD refresh cost per matrix shape, summed over the matrices; ordinary steps with a random basis', () => {
    const galore = BENCH_METHODS.find((x) => x.key === 'galore')!;
    withModel('float32', (model) => {
      const before = memoryStats('cpu').current;
      const ms = denseRefreshMs(galore, model, { refreshReps: 1 } as never, () => undefined);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(ms)).toBe(true);
      // the one-matrix optimizers and tensors are gone again
      const after = memoryStats('cpu').current;
      expect([after.optimizerState, after.tensors]).toEqual([before.optimizerState, before.tensors]);
    });
  });
});
