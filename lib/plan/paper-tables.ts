// The papers' memory arithmetic, recomputed with the planner so the numbers in docs/memory.md
// come from the same rules as the library's allocations: FRUGAL's optimizer-state ratio to Adam,
// GaLore's Table 2 estimates, and Grass's claim of LLaMA-13B pretraining in 40 GB.
import { formatBytes } from './format';
import { countParams, llamaParams, presetConfig } from './llama-presets';
import { methodGroups } from './methods';
import { planOptimizerState } from './optimizer-state';
import { planMemory, PlanInput, MemoryPlan } from './planner';

const GIB = 1024 ** 3;

export interface FrugalRatioRow {
  preset: string;
  params: number;
  adamStateBytes: number;
  /** density -> FRUGAL state bytes and ratio to Adam's */
  frugal: { density: number; stateBytes: number; ratio: number }[];
}

/** Optimizer state of FRUGAL (blocks, AdamW state-full, fp32 moments) against AdamW's. */
export function frugalStateRatios(presets = ['60m', '130m', '350m', '1b', '7b'], densities = [0.25, 0]): FrugalRatioRow[] {
  return presets.map((preset) => {
    const params = llamaParams(presetConfig(preset));
    const adam = planOptimizerState(methodGroups('adamw', params)).stateBytes;
    return {
      preset,
      params: countParams(params).total,
      adamStateBytes: adam,
      frugal: densities.map((density) => {
        const s = planOptimizerState(methodGroups('frugal', params, { density })).stateBytes;
        return { density, stateBytes: s, ratio: s / adam };
      }),
    };
  });
}

/** GaLore's Table 2: weights + optimizer states in BF16, rank r per model, in GiB ("G"). */
export const GALORE_PAPER = [
  { preset: '60m', rank: 128, fullRankG: 0.36, galoreG: 0.24 },
  { preset: '130m', rank: 256, fullRankG: 0.76, galoreG: 0.52 },
  { preset: '350m', rank: 256, fullRankG: 2.06, galoreG: 1.22 },
  { preset: '1b', rank: 512, fullRankG: 7.8, galoreG: 4.38 },
] as const;

export interface GaloreEstimateRow {
  preset: string;
  rank: number;
  params: number;
  /** bf16 weights + bf16 Adam moments */
  fullRankBytes: number;
  /** bf16 weights + bf16 moments + the projection basis counted in bf16, as the paper does */
  galorePaperStyleBytes: number;
  /** the same with the basis as this library keeps it (fp32) */
  galoreLibraryBytes: number;
  paperFullRankG: number;
  paperGaloreG: number;
}

export function galoreEstimates(): GaloreEstimateRow[] {
  return GALORE_PAPER.map((row) => {
    const params = llamaParams(presetConfig(row.preset));
    const weights = countParams(params).total * 2;
    const adam = planOptimizerState(methodGroups('adamw', params, { stateDtype: 'bfloat16' })).stateBytes;
    const galore = planOptimizerState(methodGroups('galore', params, { rank: row.rank, stateDtype: 'bfloat16' }));
    const basis = galore.params.reduce((a, p) => a + p.basis, 0);
    return {
      preset: row.preset,
      rank: row.rank,
      params: countParams(params).total,
      fullRankBytes: weights + adam,
      galorePaperStyleBytes: weights + galore.stateBytes - basis / 2,
      galoreLibraryBytes: weights + galore.stateBytes,
      paperFullRankG: row.fullRankG,
      paperGaloreG: row.galoreG,
    };
  });
}

/**
 * LLaMA-13B pretraining in bf16 as the Grass paper sets it up (assumptions in docs/memory.md):
 * pure bf16 weights, gradients and moments, no master weights, a token batch of 256 (one
 * sequence of 256), per-layer updates, compressed gradients between refreshes, fused attention.
 */
export function grass13bInput(rank = 256): PlanInput {
  return {
    preset: '13b', optimizer: 'grass', settings: { rank, stateDtype: 'bfloat16' }, dtype: 'bfloat16',
    batch: 1, seqLen: 256, perLayerUpdates: true, sparseBackward: true, gpuMemory: 40 * GIB,
  };
}

export function grass13bPlans(): { label: string; plan: MemoryPlan }[] {
  const base = grass13bInput();
  return [
    { label: 'Grass r=128, per-layer, sparse backward', plan: planMemory(grass13bInput(128)) },
    { label: 'Grass r=256, per-layer, sparse backward', plan: planMemory(base) },
    { label: 'Grass r=512, per-layer, sparse backward', plan: planMemory(grass13bInput(512)) },
    { label: 'Grass r=256, full gradients', plan: planMemory({ ...base, perLayerUpdates: false, sparseBackward: false }) },
    { label: 'GaLore r=256, per-layer', plan: planMemory({ ...base, optimizer: 'galore', sparseBackward: false }) },
    { label: 'AdamW', plan: planMemory({ ...base, optimizer: 'adamw', settings: { stateDtype: 'bfloat16' }, perLayerUpdates: false, sparseBackward: false }) },
  ];
}

const gib = (bytes: number) => (bytes / GIB).toFixed(2);

export function paperTablesMarkdown(): string {
  const out: string[] = [];
  out.push('### FRUGAL: optimizer state relative to AdamW', '');
  out.push('| model | params | AdamW state | FRUGAL ρ=0.25 | ratio | FRUGAL ρ=0 | ratio |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const r of frugalStateRatios()) {
    const [q, z] = r.frugal;
    out.push(`| ${r.preset} | ${(r.params / 1e6).toFixed(1)}M | ${formatBytes(r.adamStateBytes)} | ${formatBytes(q.stateBytes)} | ${q.ratio.toFixed(3)} | ${formatBytes(z.stateBytes)} | ${z.ratio.toFixed(3)} |`);
  }
  out.push('', '### GaLore: weights + optimizer state in BF16 (GiB)', '');
  out.push('| model | rank | full-rank (ours) | full-rank (paper) | GaLore (ours, bf16 basis) | GaLore (paper) | GaLore (this library, fp32 basis) |',
    '|---|---:|---:|---:|---:|---:|---:|');
  for (const r of galoreEstimates()) {
    out.push(`| ${r.preset} | ${r.rank} | ${gib(r.fullRankBytes)} | ${r.paperFullRankG.toFixed(2)} | ${gib(r.galorePaperStyleBytes)} | ${r.paperGaloreG.toFixed(2)} | ${gib(r.galoreLibraryBytes)} |`);
  }
  out.push('', '### LLaMA-13B in bf16, token batch 256, on a 40 GiB A100 (GiB)', '');
  out.push('| setup | weights | gradients | optimizer state | activations | workspace | total | fits 40 GiB |', '|---|---:|---:|---:|---:|---:|---:|---|');
  for (const { label, plan } of grass13bPlans()) {
    const b = plan.breakdown;
    out.push(`| ${label} | ${gib(b.weights)} | ${gib(b.gradients)} | ${gib(b.optimizerState)} | ${gib(b.activations)} | ${gib(b.workspace)} | ${gib(b.total)} | ${plan.fits ? 'yes' : 'no'} |`);
  }
  return out.join('\n');
}
