// The memory planner: what a training step of a model with a given optimizer needs, by part,
// and whether it fits a GPU. Optimizer state, workspace and gradients follow the core's own
// allocation rules exactly (core-allocation.ts); activations are an estimate (activations.ts).
import { activationBytes, ActivationBreakdown, trainerActivationBytes } from './activations';
import { effectiveKind, indexAxis, indexCount, lineGeometry } from './core-allocation';
import { GroupPlanOptions } from './group-options';
import { countParams, LlamaConfig, llamaParams, numel, ParamSpec, presetConfig } from './llama-presets';
import { ConfigurationName } from '../methods/configurations';
import { checkMethod, methodGroups } from './methods';
import { planOptimizerState, OptimizerStatePlan, PlannedGroup } from './optimizer-state';

export type WeightDtype = 'float32' | 'bfloat16';

export interface ShapeSpec {
  name?: string;
  shape: number[];
  /** Default: 2-D tensors are projectable. */
  projectable?: boolean;
  /** Per-layer updates: tensors of one unit have their gradients alive together. Default: the name. */
  unit?: string;
}

export interface PlanInput {
  /** A LLaMA preset ('60m' ... '13b'), a config, or explicit shapes (no activation estimate). */
  preset?: string;
  model?: LlamaConfig;
  shapes?: ShapeSpec[];
  optimizer: ConfigurationName | string;
  /** Overrides of the method's projectable-group options (density, rank, updateGap, stateDtype...). */
  settings?: Partial<GroupPlanOptions>;
  dtype?: WeightDtype;
  /** Keep an fp32 master copy of bf16 weights (mixed precision): the optimizer steps the copy. */
  masterWeights?: boolean;
  /** Default: the weights' dtype (backward produces gradients in the model's dtype). */
  gradDtype?: WeightDtype;
  batch?: number;
  seqLen?: number;
  /** Per-layer updates: each unit is stepped as soon as its gradients exist, then they are freed. */
  perLayerUpdates?: boolean;
  /** Grass sparse backward: projected tensors get only their compressed gradient, except at refreshes. */
  sparseBackward?: boolean;
  flashAttention?: boolean;
  checkpointing?: boolean;
  /**
   * Whose activations: 'pytorch' (default; eager PyTorch autograd in the weights' dtype, see
   * docs/memory.md) or 'trainer' (this package's training bench, fp32 buffers, counted exactly).
   */
  activationModel?: 'pytorch' | 'trainer';
  clipping?: boolean;
  /** Bytes of GPU memory to compare the total with. */
  gpuMemory?: number;
}

export interface MemoryBreakdown {
  weights: number;
  masterWeights: number;
  gradients: number;
  optimizerState: number;
  activations: number;
  workspace: number;
  total: number;
}

export interface MemoryPlan {
  model: string;
  optimizer: ConfigurationName;
  dtype: WeightDtype;
  params: { total: number; projectable: number; regular: number };
  /** Peak bytes by part; total is their sum. */
  breakdown: MemoryBreakdown;
  /** Gradient bytes alive on an ordinary step and on a refresh step (which needs full gradients). */
  gradients: { ordinary: number; refresh: number };
  /** Optimizer state after the first step (what stateBytes() reports) and its peak over training. */
  state: { firstStep: number; peak: number; exact: boolean };
  activations: ActivationBreakdown | null;
  groups: { label: string; options: GroupPlanOptions; tensors: number }[];
  gpuMemory?: number;
  fits?: boolean;
  notes: string[];
}

const DTYPE_BYTES: Record<WeightDtype, number> = { float32: 4, bfloat16: 2 };

function checkPositiveInt(x: number | undefined, what: string, fallback: number): number {
  const v = x ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${what}: expected an integer >= 1, got ${v}`);
  return v;
}

function modelParams(input: PlanInput): { label: string; params: ParamSpec[]; config: LlamaConfig | null } {
  if (input.shapes) {
    const params = input.shapes.map((s, i) => {
      if (!Array.isArray(s.shape) || s.shape.length < 1 || !s.shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
        throw new Error(`shapes[${i}].shape: expected positive integer dimensions, got ${JSON.stringify(s.shape)}`);
      }
      const name = s.name ?? `param${i}`;
      return { name, shape: s.shape.slice(), projectable: s.projectable ?? s.shape.length === 2, unit: s.unit ?? name };
    });
    return { label: `${params.length} explicit tensors`, params, config: null };
  }
  if (input.model) return { label: 'custom LLaMA', params: llamaParams(input.model), config: input.model };
  const preset = input.preset ?? '60m';
  const config = presetConfig(preset);
  return { label: `LLaMA-${preset.toLowerCase()}`, params: llamaParams(config), config };
}

/** Bytes of a projected tensor's compressed gradient (rho * G[sigma, :]), or null if it has none. */
function compressedGradElems(p: ParamSpec, group: PlannedGroup | undefined): number | null {
  if (!group) return null;
  const o = group.options;
  const kind = effectiveKind(p.shape, o.selection);
  // The state-free rule reads the full gradient, so only methods without one can skip it.
  if (!(kind === 'grass' || kind === 'rows' || kind === 'columns') || o.stateFree !== 'none') return null;
  const { lines, lineLen } = lineGeometry(p.shape, indexAxis(kind, p.shape, o));
  return indexCount(kind, lines, o) * lineLen;
}

function gradientBytes(params: readonly ParamSpec[], groups: readonly PlannedGroup[], gradBytes: number,
  sparse: boolean, perLayer: boolean): { ordinary: number; refresh: number } {
  const groupOf = new Map<string, PlannedGroup>();
  for (const g of groups) for (const p of g.params) groupOf.set(p.name, g);
  const ordinaryByUnit = new Map<string, number>();
  const refreshByUnit = new Map<string, number>();
  for (const p of params) {
    const full = numel(p.shape) * gradBytes;
    const compressed = sparse ? compressedGradElems(p, groupOf.get(p.name)) : null;
    const ordinary = compressed === null ? full : compressed * gradBytes;
    ordinaryByUnit.set(p.unit, (ordinaryByUnit.get(p.unit) ?? 0) + ordinary);
    refreshByUnit.set(p.unit, (refreshByUnit.get(p.unit) ?? 0) + full);
  }
  const combine = (m: Map<string, number>) => {
    const values = [...m.values()];
    return perLayer ? Math.max(0, ...values) : values.reduce((a, b) => a + b, 0);
  };
  return { ordinary: combine(ordinaryByUnit), refresh: combine(refreshByUnit) };
}

/**
 * Per-layer updates step each unit (embedding, each layer, head) with an optimizer of its own, as
 * the training bench does (lib/train/optimizers.ts): selections that count tensors (blocks) then
 * count within the unit; the workspace is the device's pool, so it is one unit's need, not a sum.
 */
function perUnitGroups(method: ConfigurationName, params: readonly ParamSpec[], settings?: Partial<GroupPlanOptions>): PlannedGroup[] {
  const units = [...new Set(params.map((p) => p.unit))];
  return units.flatMap((unit) =>
    methodGroups(method, params.filter((p) => p.unit === unit), settings).map((g) => ({
      ...g, label: `${unit}/${g.label}`, optimizer: unit,
    })));
}

export function planMemory(input: PlanInput): MemoryPlan {
  const optimizer = checkMethod(input.optimizer);
  const dtype: WeightDtype = input.dtype ?? 'float32';
  if (!(dtype in DTYPE_BYTES)) throw new Error(`dtype: expected float32 or bfloat16, got '${dtype}'`);
  const master = (input.masterWeights ?? false) && dtype !== 'float32';
  const gradDtype: WeightDtype = input.gradDtype ?? dtype;
  const batch = checkPositiveInt(input.batch, 'batch', 1);
  const seqLen = checkPositiveInt(input.seqLen, 'seqLen', 256);
  const { label, params, config } = modelParams(input);
  const perLayer = input.perLayerUpdates ?? false;
  const groups = perLayer ? perUnitGroups(optimizer, params, input.settings) : methodGroups(optimizer, params, input.settings);
  // Clipping needs every full gradient at once: the trainer turns it off in the low-memory modes.
  const clipping = (input.clipping ?? false) && !perLayer && !(input.sparseBackward ?? false);
  const state: OptimizerStatePlan = planOptimizerState(groups, clipping);
  const counts = countParams(params);
  const notes: string[] = [];

  const sparse = input.sparseBackward ?? false;
  const grads = gradientBytes(params, groups, DTYPE_BYTES[gradDtype], sparse, perLayer);
  if (sparse && grads.ordinary === grads.refresh) {
    notes.push('sparse backward saves nothing here: it needs a grass/rows/columns selection with no state-free rule');
  }
  const activationDtype = DTYPE_BYTES[dtype];
  const activationModel = input.activationModel ?? 'pytorch';
  if (activationModel !== 'pytorch' && activationModel !== 'trainer') {
    throw new Error(`activationModel: expected 'pytorch' or 'trainer', got '${String(activationModel)}'`);
  }
  let activations: ActivationBreakdown | null = null;
  if (config && activationModel === 'trainer') activations = trainerActivationBytes(config, batch, seqLen);
  else if (config) {
    activations = activationBytes(config, {
      batch, seqLen, elementBytes: activationDtype,
      flashAttention: input.flashAttention ?? true, checkpointing: input.checkpointing ?? false,
    });
  }
  if (!activations) notes.push('explicit shapes: activations are not estimated (0)');
  if (!state.exact) notes.push('random block order: state bytes are an upper bound (the largest tensors)');

  const breakdown: MemoryBreakdown = {
    weights: counts.total * DTYPE_BYTES[dtype],
    masterWeights: master ? counts.total * 4 : 0,
    gradients: Math.max(grads.ordinary, grads.refresh),
    optimizerState: state.statePeakBytes,
    activations: activations?.total ?? 0,
    workspace: state.workspaceBytes,
    total: 0,
  };
  breakdown.total = breakdown.weights + breakdown.masterWeights + breakdown.gradients + breakdown.optimizerState +
    breakdown.activations + breakdown.workspace;
  const plan: MemoryPlan = {
    model: label,
    optimizer,
    dtype,
    params: counts,
    breakdown,
    gradients: grads,
    state: { firstStep: state.stateBytes, peak: state.statePeakBytes, exact: state.exact },
    activations,
    groups: groups.map((g) => ({ label: g.label, options: g.options, tensors: g.params.length })),
    notes,
  };
  if (input.gpuMemory !== undefined) {
    plan.gpuMemory = input.gpuMemory;
    plan.fits = breakdown.total <= input.gpuMemory;
  }
  return plan;
}
