// Optimizer state and workspace of a whole optimizer: a list of param groups, each with its
// options and tensors, planned the way the core allocates them.
import { blockStateTimeline } from './block-schedule';
import {
  denseGeometry, effectiveKind, indexAxis, isDenseKind, lineGeometry, matrixView, momentBytes,
  paramState, ParamStateBytes, refreshTransient,
} from './core-allocation';
import { GroupPlanOptions } from './group-options';

export interface PlannedParam {
  name: string;
  shape: number[];
  /** Blocks selection: tensors sharing an id > 0 are one block (BAdam's layer); 0 or absent: its own. */
  blockId?: number;
}

export interface PlannedGroup {
  label: string;
  /** Which optimizer object holds the group (per-layer updates: one per unit); the workspace is the device's, shared by all. */
  optimizer?: string;
  options: GroupPlanOptions;
  params: PlannedParam[];
}

export interface ParamStatePlan extends ParamStateBytes {
  name: string;
  group: string;
}

export interface OptimizerStatePlan {
  /** Per tensor, after the first step (the refresh at step 0 has run). */
  params: ParamStatePlan[];
  /** Total state after the first step: what stateBytes() reports then. */
  stateBytes: number;
  /** The most state bytes alive at any moment of training (block cycles, refresh swaps). */
  statePeakBytes: number;
  /** Workspace the core keeps (dense projections) plus transient refresh buffers, at its peak. */
  workspaceBytes: number;
  /** False where a random choice makes the numbers upper bounds (random block order). */
  exact: boolean;
}

/**
 * refresh_blocks: the blocks of a group in order of first appearance, each a list of param
 * positions; a param with blockId 0 is a block alone, params sharing an id > 0 are one block.
 */
export function blocksOf(group: PlannedGroup): number[][] {
  const blocks: number[][] = [];
  const byId = new Map<number, number>();
  group.params.forEach((p, i) => {
    if (effectiveKind(p.shape, group.options.selection, p.blockId) !== 'blocks') return;
    const id = p.blockId ?? 0;
    const pos = id > 0 ? byId.get(id) : undefined;
    if (pos !== undefined) blocks[pos].push(i);
    else {
      if (id > 0) byId.set(id, blocks.length);
      blocks.push([i]);
    }
  });
  return blocks;
}

export interface GroupStatePlan {
  params: ParamStatePlan[];
  /** After the first step. */
  first: number;
  /** The most held between refreshes over a cycle (blocks: sets of different sizes). */
  steadyMax: number;
  /** The most held at any moment, refreshes included. */
  peak: number;
  exact: boolean;
}

export function planGroupState(group: PlannedGroup): GroupStatePlan {
  const o = group.options;
  const out: ParamStatePlan[] = group.params.map((p) => ({ name: p.name, group: group.label, ...paramState(p.shape, o, true, p.blockId) }));
  const blocks = blocksOf(group);
  let exact = true;
  let blockFirst = 0;
  let blockPeak = 0;
  let blockSteady = 0;
  if (blocks.length > 0) {
    const sizes = blocks.map((members) =>
      members.reduce((a, i) => a + momentBytes(matrixView(group.params[i].shape).numel, o, 'blocks'), 0));
    const t = blockStateTimeline(sizes, o.density, o.blockOrder);
    blocks.forEach((members, pos) => {
      for (const i of members) {
        out[i] = { name: out[i].name, group: group.label, ...paramState(group.params[i].shape, o, t.firstActive.has(pos), group.params[i].blockId) };
      }
    });
    exact = t.exact;
    blockFirst = t.first;
    blockPeak = t.peak;
    blockSteady = t.steadyMax;
  }
  const first = out.reduce((a, p) => a + p.total, 0);
  // Index selections swap indices/scales/mask at a refresh with the old set still alive: one
  // tensor at a time, so the largest such swap is the transient.
  const transient = Math.max(0, ...group.params.map((p) => refreshTransient(p.shape, o)));
  const steadyMax = first - blockFirst + blockSteady;
  const peak = Math.max(first - blockFirst + blockPeak, steadyMax + transient);
  return { params: out, first, steadyMax, peak, exact };
}

/**
 * Workspace (category 'workspace'): one pool per device (native/core/workspace_pool.h) shared by
 * every optimizer on it, of four fp32 slots that only grow, so at their peak each is the largest
 * request any dense tensor of any optimizer (per-layer updates: any layer) makes of it (slot 0 also
 * holds the fp64 sums of the finiteness check before SVD refreshes); a Grass refresh adds a
 * transient fp32 buffer of line norms; clipping keeps 8 bytes.
 */
export function planWorkspace(groups: readonly PlannedGroup[], clipping = false): number {
  const slots = [0, 0, 0, 0];
  let normsTransient = 0;
  const ask = (slot: number, floats: number) => {
    slots[slot] = Math.max(slots[slot], Math.max(floats, 1) * 4);
  };
  // The finiteness check before SVD refreshes: one fp64 per SVD param of the optimizer, in slot 0.
  const svdParams = new Map<string, number>();
  for (const g of groups) {
    const o = g.options;
    for (const p of g.params) {
      const kind = effectiveKind(p.shape, o.selection, p.blockId);
      const { rows, cols, numel: mn } = matrixView(p.shape);
      if (kind === 'svd') svdParams.set(g.optimizer ?? '', (svdParams.get(g.optimizer ?? '') ?? 0) + 1);
      if (isDenseKind(kind)) {
        const d = denseGeometry(p.shape, o);
        if (kind === 'svd') {
          ask(0, mn);
          if (!o.randomizedSvd) {
            const q = Math.min(rows, cols);
            ask(1, rows * q);
            ask(2, q);
            ask(3, q * cols);
          }
        }
        ask(0, mn); // fp32 gradient
        ask(1, d.rank * d.otherLen); // projected gradient
        ask(2, mn); // full-rank update
        if (o.stateFree !== 'none') ask(3, mn); // projected-back gradient for the residual
      } else if (kind === 'grass') {
        const { lines } = lineGeometry(p.shape, indexAxis(kind, p.shape, o));
        normsTransient = Math.max(normsTransient, lines * 4);
      }
    }
  }
  for (const count of svdParams.values()) ask(0, 2 * count);
  return slots.reduce((a, b) => a + b, 0) + normsTransient + (clipping ? 8 : 0);
}

export function planOptimizerState(groups: readonly PlannedGroup[], clipping = false): OptimizerStatePlan {
  const params: ParamStatePlan[] = [];
  let stateBytes = 0;
  let steady = 0;
  let worstRefresh = 0;
  let exact = true;
  for (const g of groups) {
    const s = planGroupState(g);
    params.push(...s.params);
    stateBytes += s.first;
    steady += s.steadyMax;
    worstRefresh = Math.max(worstRefresh, s.peak - s.steadyMax);
    exact = exact && s.exact;
  }
  // Groups (and per-layer optimizers) refresh one after another, so one refresh's transient
  // rides on the others' state between refreshes.
  return { params, stateBytes, statePeakBytes: steady + worstRefresh, workspaceBytes: planWorkspace(groups, clipping), exact };
}

