// Memory planner: byte counts for small shapes worked out by hand from the core's allocation
// rules (native/core/optimizer.cpp, selections/, optimizer_step.cpp), and the papers' arithmetic.
import { activationBytes } from '../lib/plan/activations';
import { activeBlockCount, blockStateTimeline } from '../lib/plan/block-schedule';
import { paramState, roundHalfEven } from '../lib/plan/core-allocation';
import { groupOptions, GroupPlanOptions } from '../lib/plan/group-options';
import { countParams, llamaParams, presetConfig } from '../lib/plan/llama-presets';
import { methodGroups } from '../lib/plan/methods';
import { planOptimizerState, planWorkspace, PlannedGroup } from '../lib/plan/optimizer-state';
import { planMemory } from '../lib/plan/planner';
import { frugalStateRatios, galoreEstimates, grass13bPlans } from '../lib/plan/paper-tables';
import { parseBytes, formatBytes } from '../lib/plan/format';
import { planInputFromArgs } from '../lib/plan/cli';

const group = (options: Partial<GroupPlanOptions>, shapes: number[][], label = 'g'): PlannedGroup => ({
  label,
  options: groupOptions(options),
  params: shapes.map((shape, i) => ({ name: `${label}${i}`, shape })),
});
const state = (options: Partial<GroupPlanOptions>, shape: number[]) => paramState(shape, groupOptions(options));

describe('rounding as the core rounds', () => {
  test('round half to even', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3]);
  });
  test('block counts: max(1, min(n, round_half_even(n * density)))', () => {
    expect(activeBlockCount(2, 0.25)).toBe(1); // 0.5 -> 0 -> at least one
    expect(activeBlockCount(6, 0.25)).toBe(2); // 1.5 -> 2
    expect(activeBlockCount(10, 0.25)).toBe(2); // 2.5 -> 2
    expect(activeBlockCount(4, 1)).toBe(4);
  });
});

describe('state bytes of one tensor', () => {
  test('plain rules: AdamW two fp32 moments, SGDM one, signSGD none', () => {
    expect(state({ selection: 'all', stateFull: 'adamw' }, [4, 6]).total).toBe(2 * 24 * 4);
    expect(state({ selection: 'all', stateFull: 'sgdm' }, [4, 6]).total).toBe(24 * 4);
    expect(state({ selection: 'none', stateFull: 'none', stateFree: 'signsgd' }, [4, 6]).total).toBe(0);
    expect(state({ selection: 'all', stateDtype: 'bfloat16' }, [4, 6]).total).toBe(2 * 24 * 2);
  });

  test('columns at density 0.5 of a 4x6 matrix: 3 columns of 4', () => {
    // moments 2 x 3 x 4 x 4 B; indices 3 x 4 B; mask: 6 bytes rounded up to 8
    expect(state({ selection: 'columns', density: 0.5 }, [4, 6])).toEqual({
      moments: 96, indices: 12, scales: 0, mask: 8, basis: 0, total: 116,
    });
  });

  test('rows at density 0.5 of a 4x6 matrix: 2 rows of 6', () => {
    expect(state({ selection: 'rows', density: 0.5 }, [4, 6]).total).toBe(2 * 2 * 6 * 4 + 2 * 4 + 4);
  });

  test('counts are int(len * density) in double precision, as the core and the reference count', () => {
    // 10 * 0.7 = 7.000000000000001 in double: 7 columns (a float32 density would give 6)
    expect(state({ selection: 'columns', density: 0.7 }, [2, 10]).indices).toBe(7 * 4);
  });

  test('coordinates at density 0.1 of 24 elements: floor(2.4) = 2', () => {
    expect(state({ selection: 'coordinates', density: 0.1 }, [4, 6])).toEqual({
      moments: 16, indices: 8, scales: 0, mask: 24, basis: 0, total: 48,
    });
  });

  test('grass std picks the smaller side; scales ride with indices', () => {
    const rows = state({ selection: 'grass', rank: 2 }, [4, 6]); // rows: 2 x 6
    const cols = state({ selection: 'grass', rank: 2 }, [6, 4]); // columns: 6 x 2
    for (const s of [rows, cols]) expect(s).toEqual({ moments: 96, indices: 8, scales: 8, mask: 4, basis: 0, total: 116 });
    // Sampling with replacement may hold more slots than lines; top-r never does.
    expect(state({ selection: 'grass', rank: 8, sampling: 'norm', replacement: true }, [4, 6]).total)
      .toBe(2 * 8 * 6 * 4 + 32 + 32 + 4);
    expect(state({ selection: 'grass', rank: 8 }, [4, 6]).total).toBe(2 * 4 * 6 * 4 + 16 + 16 + 4);
  });

  test('svd: fp32 basis on the smaller side plus low-rank moments', () => {
    // 4x6: left, rank round(4 * 0.5) = 2: basis 4x2, moments 2 x (2x6)
    expect(state({ selection: 'svd', density: 0.5 }, [4, 6])).toEqual({
      moments: 96, indices: 0, scales: 0, mask: 0, basis: 32, total: 128,
    });
    // 6x4: right, basis 4x2, moments 2 x (6x2); bf16 moments halve only the moments
    expect(state({ selection: 'svd', density: 0.5, stateDtype: 'bfloat16' }, [6, 4]).total).toBe(32 + 48);
  });

  test('1-D tensors of a projectable group are plain AdamW', () => {
    expect(state({ selection: 'svd', density: 0.5 }, [6]).total).toBe(48);
    expect(state({ selection: 'none', stateFree: 'signsgd' }, [6]).total).toBe(0);
  });
});

describe('blocks', () => {
  test('descending: the last round(n * density) tensors hold state after step 1', () => {
    const g = group({ selection: 'blocks', density: 0.5, stateFree: 'signsgd' }, [[4, 6], [6, 4], [8, 8], [2, 3], [5]]);
    const plan = planOptimizerState([g]);
    // 4 blocks, 2 active: [8,8] and [2,3]; the 1-D tensor is plain AdamW
    expect(plan.params.map((p) => p.total)).toEqual([0, 0, 512, 48, 40]);
    expect(plan.stateBytes).toBe(600);
    expect(plan.exact).toBe(true);
  });

  test('timeline: leaving tensors are freed before entering ones allocate (with or without resets)', () => {
    const t = blockStateTimeline([1, 2, 3, 4], 0.5, 'descending');
    expect(t.first).toBe(7); // {2, 3}
    expect(t.peak).toBe(7); // refresh 1 frees {2, 3}, then takes {0, 1}
    expect(blockStateTimeline([1, 2, 3, 4, 5, 6], 0.34, 'mirror').peak).toBe(7); // pairs {0, 5}, {1, 4}, {2, 3}
    const r = blockStateTimeline([1, 2, 3, 4], 0.25, 'random');
    expect([r.first, r.exact]).toEqual([4, false]);
  });

  test('groups refresh one at a time: with resets a refresh adds no transient', () => {
    // each group: 4 fp32-AdamW blocks of 1..4 elements x 8 bytes; steady 7 x 8 and so is the peak
    const g = (label: string) => group({ selection: 'blocks', density: 0.5 }, [[1, 1], [1, 2], [1, 3], [1, 4]], label);
    const plan = planOptimizerState([g('a'), g('b')]);
    expect(plan.stateBytes).toBe(2 * 7 * 8);
    expect(plan.statePeakBytes).toBe(2 * 7 * 8);
  });

  test('BAdam blocks are whole layers: tensors sharing a block id switch together', () => {
    const params = llamaParams({ hidden: 8, intermediate: 16, heads: 2, layers: 3, vocab: 10 });
    const plan = planOptimizerState(methodGroups('badam', params));
    // The active layer's matrices and its two norms; the other layers' norms switch with them.
    const layerWeights = 4 * 8 * 8 + 3 * 8 * 16 + 2 * 8;
    const regular = countParams(params).regular - 3 * 2 * 8;
    expect(plan.stateBytes).toBe(2 * 4 * (regular + layerWeights));
    expect(plan.params.filter((p) => p.name.startsWith('model.layers.2.') && p.moments > 0).length).toBe(9);
  });
});

describe('workspace', () => {
  test('dense slots grow to the largest request; exact SVD asks for u and vt', () => {
    expect(planWorkspace([group({ selection: 'svd', density: 0.5, stateFree: 'signsgd' }, [[4, 6]])])).toBe((24 + 16 + 24 + 24) * 4);
    expect(planWorkspace([group({ selection: 'svd', density: 0.5 }, [[6, 4]])])).toBe((24 + 24 + 24 + 16) * 4);
    expect(planWorkspace([group({ selection: 'svd', density: 0.5, randomizedSvd: true }, [[6, 4]])])).toBe((24 + 12 + 24) * 4);
  });
  test('one pool per device: optimizers share the slots, each the largest request of any', () => {
    const a = { ...group({ selection: 'svd', density: 0.5, stateFree: 'signsgd' }, [[4, 6]], 'a'), optimizer: 'layer0' };
    const b = { ...group({ selection: 'svd', density: 0.5 }, [[6, 4]], 'b'), optimizer: 'layer1' };
    expect(planWorkspace([a, b])).toBe((24 + 24 + 24 + 24) * 4);
    expect(planWorkspace([a, b])).toBeLessThan(planWorkspace([a]) + planWorkspace([b]));
  });
  test('grass keeps a line-norm buffer during a refresh; clipping 8 bytes', () => {
    expect(planWorkspace([group({ selection: 'grass', rank: 1 }, [[4, 6], [10, 3]])], true)).toBe(4 * 4 + 8);
    expect(planWorkspace([group({ selection: 'blocks', density: 0.5 }, [[4, 6]])])).toBe(0);
  });
});

describe('whole-model plan', () => {
  const tiny = { hidden: 4, intermediate: 8, heads: 2, layers: 1, vocab: 10 };

  test('activations per the documented formula', () => {
    const a = activationBytes(tiny, { batch: 1, seqLen: 2, elementBytes: 2, flashAttention: true, checkpointing: false });
    // block: (8*4 + 4*8) * 2 + 2*4 + 2 heads * 4 = 144 per token; head: 8 + 2*4*2 + 4 + 10*(2+4) = 88 per token
    expect(a.total).toBe(2 * (144 + 88));
    // eager attention keeps heads x s probabilities per token instead of a fp32 log-sum-exp per head
    const at4 = (flashAttention: boolean) =>
      activationBytes(tiny, { batch: 1, seqLen: 4, elementBytes: 2, flashAttention, checkpointing: false }).perLayer;
    expect(at4(false) - at4(true)).toBe(4 * (2 * 4 * 2 - 2 * 4));
  });

  test('breakdown of AdamW in fp32: weights, gradients and moments are 4, 4, 8 bytes a param', () => {
    const plan = planMemory({ model: tiny, optimizer: 'adamw', batch: 1, seqLen: 2 });
    const n = plan.params.total;
    expect(n).toBe(2 * 10 * 4 + 4 * 16 + 3 * 32 + 2 * 4 + 4);
    expect(plan.breakdown).toMatchObject({ weights: 4 * n, masterWeights: 0, gradients: 4 * n, optimizerState: 8 * n, workspace: 0 });
    expect(plan.breakdown.total).toBe(16 * n + plan.breakdown.activations);
  });

  test('per-layer updates keep the largest unit; sparse backward keeps compressed gradients', () => {
    const shapes = [
      { name: 'a', shape: [8, 4], unit: 'l0' }, { name: 'b', shape: [4, 8], unit: 'l0' },
      { name: 'c', shape: [6, 6], unit: 'l1' }, { name: 'n', shape: [4], unit: 'l1' },
    ];
    const base = { shapes, optimizer: 'grass', settings: { rank: 2 }, dtype: 'bfloat16' as const };
    expect(planMemory(base).gradients).toEqual({ ordinary: 2 * 104, refresh: 2 * 104 });
    expect(planMemory({ ...base, perLayerUpdates: true }).gradients).toEqual({ ordinary: 2 * 64, refresh: 2 * 64 });
    // a: 8x4 -> 2 columns of 8; b: 4x8 -> 2 rows of 8; c: 2 rows of 6; n stays whole
    expect(planMemory({ ...base, sparseBackward: true }).gradients).toEqual({ ordinary: 2 * (16 + 16 + 12 + 4), refresh: 2 * 104 });
    expect(planMemory({ ...base, sparseBackward: true, perLayerUpdates: true }).gradients).toEqual({ ordinary: 2 * 32, refresh: 2 * 64 });
  });

  test('master weights add 4 bytes a param to bf16 weights; fits compares with the GPU', () => {
    const plan = planMemory({ model: tiny, optimizer: 'signsgd', dtype: 'bfloat16', masterWeights: true, gpuMemory: 1 });
    expect(plan.breakdown.masterWeights).toBe(4 * plan.params.total);
    expect(plan.breakdown.optimizerState).toBe(0);
    expect(plan.fits).toBe(false);
  });
});

describe("the papers' arithmetic", () => {
  test('FRUGAL keeps about a third of AdamW state on LLaMA-1B at density 0.25, a tenth at 0', () => {
    const rows = frugalStateRatios(['60m', '1b', '7b']);
    const oneB = rows[1].frugal;
    expect(oneB[0].ratio).toBeCloseTo(0.323, 2);
    expect(oneB[1].ratio).toBeCloseTo(0.098, 2);
    // density 0: only embeddings, norms and the LM head are state-full
    const p = llamaParams(presetConfig('7b'));
    expect(rows[2].frugal[1].ratio).toBeCloseTo(countParams(p).regular / countParams(p).total, 10);
    // The ratios fall with model size: the regular part's share shrinks.
    expect(rows[0].frugal[0].ratio).toBeGreaterThan(oneB[0].ratio);
  });

  test("GaLore's Table 2 estimates within 12% (the paper does not state its counting)", () => {
    for (const r of galoreEstimates()) {
      expect(Math.abs(r.fullRankBytes / 1024 ** 3 / r.paperFullRankG - 1)).toBeLessThan(0.12);
      expect(Math.abs(r.galorePaperStyleBytes / 1024 ** 3 / r.paperGaloreG - 1)).toBeLessThan(0.12);
    }
  });

  test('LLaMA-13B in bf16 with Grass fits 40 GiB; with AdamW it does not', () => {
    const plans = grass13bPlans();
    const grass = plans.find((p) => p.label.startsWith('Grass r=256, per-layer'))!.plan;
    expect(grass.fits).toBe(true);
    expect(grass.params.total).toBe(13015864320);
    expect(plans.find((p) => p.label === 'AdamW')!.plan.fits).toBe(false);
    // One workspace pool per device: GaLore per-layer holds one layer's slots (four of the largest
    // matrix, 5120 x 13824 fp32), not one set per layer's optimizer (42 GiB before the pool).
    const galore = plans.find((p) => p.label === 'GaLore r=256, per-layer')!.plan;
    expect(galore.breakdown.workspace).toBe(4 * 5120 * 13824 * 4);
    expect(galore.fits).toBe(true);
  });
});

describe('command line', () => {
  test('sizes', () => {
    expect(parseBytes('40GiB')).toBe(40 * 1024 ** 3);
    expect(parseBytes('80GB')).toBe(80e9);
    expect(parseBytes('1024')).toBe(1024);
    expect(() => parseBytes('lots')).toThrow(/expected a size/);
    expect(formatBytes(1536)).toBe('1.50 KiB');
  });

  test('flags become planner input', () => {
    const { input, json } = planInputFromArgs(['--preset', '1b', '--optimizer', 'galore', '--rank=512', '--dtype', 'bfloat16',
      '--per-layer', '--gpu-memory', '24GiB', '--json']);
    expect(json).toBe(true);
    expect(input).toMatchObject({ preset: '1b', optimizer: 'galore', settings: { rank: 512 }, dtype: 'bfloat16', perLayerUpdates: true, gpuMemory: 24 * 1024 ** 3 });
    expect(() => planInputFromArgs(['--density'])).toThrow(/expected a value/);
    expect(() => planInputFromArgs(['--bogus'])).toThrow(/unknown option --bogus/);
    expect(() => planInputFromArgs(['--rank', '-1'])).toThrow(/--rank: expected an integer in \[0, 2147483647\], got '-1'/);
    expect(() => planInputFromArgs(['--json=yes'])).toThrow(/--json: takes no value, got 'yes'/);
    expect(() => planInputFromArgs(['60m'])).toThrow(/unexpected argument '60m'/);
    expect(planInputFromArgs(['--version']).version).toBe(true);
  });
});

describe('plan command', () => {
  // Captures what the command prints, and its exit code.
  async function plan(argv: string[]): Promise<{ code: number; out: string }> {
    const { runPlanCommand } = await import('../lib/plan/cli');
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    (process.stdout as any).write = (s: string) => ((out += s), true);
    (process.stderr as any).write = (s: string) => ((out += s), true);
    try {
      return { code: await runPlanCommand(argv), out };
    } finally {
      (process.stdout as any).write = write;
      (process.stderr as any).write = err;
    }
  }

  test('takes the training command\'s dtype names (bf16, fp32) as well as the full ones', async () => {
    const short = await plan(['--preset', '60m', '--optimizer', 'frugal', '--dtype', 'bf16', '--json']);
    const full = await plan(['--preset', '60m', '--optimizer', 'frugal', '--dtype', 'bfloat16', '--json']);
    expect(short.code).toBe(0);
    expect(short.out).toBe(full.out);
    const bad = await plan(['--preset', '60m', '--dtype', 'fp8']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--dtype: expected one of float32, bfloat16, got 'fp8'/);
  });

  test('bad flags and values exit 2 naming the flag, with the near miss', async () => {
    expect(await plan(['--preset', '60m', '--sid', 'left'])).toEqual({
      code: 2, out: 'frugal-optim plan: unknown option --sid; did you mean --side? (see --help)\n',
    });
    expect(await plan(['--preset', '60m', '--side', 'lefft'])).toEqual({
      code: 2, out: "frugal-optim plan: --side: expected one of std, reverse_std, left, right, got 'lefft'; did you mean 'left'?\n",
    });
    expect(await plan(['--preset', '60n'])).toMatchObject({ code: 2, out: expect.stringMatching(/got '60n'; did you mean '60m'\?\n$/) });
    expect(await plan(['--optimizer', 'galor'])).toMatchObject({ code: 2, out: expect.stringMatching(/got 'galor'; did you mean 'galore'\?\n$/) });
    expect(await plan(['--gpu-memory', 'lots'])).toMatchObject({ code: 2, out: expect.stringContaining('--gpu-memory: expected a size') });
    expect(await plan(['--shapes', '[1,'])).toMatchObject({ code: 2, out: expect.stringMatching(/^frugal-optim plan: --shapes: /) });
  });

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(require('fs').readFileSync(require('path').join(__dirname, '..', 'package.json'), 'utf8'));
    expect(await plan(['--version'])).toEqual({ code: 0, out: `${version}\n` });
  });

  test('says whether it fits a GPU by exit code', async () => {
    expect((await plan(['--preset', '60m', '--optimizer', 'adamw', '--gpu-memory', '80GiB'])).code).toBe(0);
    expect((await plan(['--preset', '13b', '--optimizer', 'adamw', '--gpu-memory', '40GiB'])).code).toBe(1);
  });
});
