// A mirror of what the native core allocates for optimizer state and workspace
// (native/core/optimizer.cpp allocate_moments, refresh.cpp, optimizer_step.cpp workspace()).
// Every rule here cites the code it mirrors; test/plan-exact.test.ts checks the numbers against a
// real optimizer's stateBytes() and memoryStats(). Change both together.
import { ruleStateSlots } from '../optim/rule-table';
import { GroupPlanOptions, SelectionKind, StateFullRule } from './group-options';
import { numel } from './llama-presets';

export { ruleStateSlots };

/** Bytes of state one parameter holds, by the state tensor's name in frugal.h. */
export interface ParamStateBytes {
  moments: number; // exp_avg (+ exp_avg_sq), or the momentum buffer
  indices: number; // int32 line / coordinate indices, and without resets each line's int32 step counter (slot_step)
  scales: number; // fp32 Grass importance scales
  mask: number; // uint8 per line, rounded up to 4 bytes
  basis: number; // fp32 dense projection basis
  total: number;
}

export const STATE_DTYPE_BYTES = { float32: 4, bfloat16: 2 } as const;

/** round_half_even (native/core/selection.cpp). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The core takes density as a C double and multiplies in double, as the reference's Python does:
 * int(10 * 0.7) is 7 (10 * 0.7 = 7.000000000000001), where a float32 density would give 6.
 */
function densityOf(o: GroupPlanOptions): number {
  return o.density;
}

/** The 2-D view the core takes of a tensor: rows = shape[0], cols = the rest. */
export function matrixView(shape: readonly number[]): { rows: number; cols: number; numel: number } {
  const n = numel(shape);
  const rows = shape.length >= 2 ? shape[0] : 1;
  return { rows, cols: n / rows, numel: n };
}

/** add_param: 1-D tensors of a projectable group are stepped like regular ones (selection 'all'),
 * except those given a shared block id in a blocks selection, which needs no matrix. */
export function effectiveKind(shape: readonly number[], selection: SelectionKind, blockId = 0): SelectionKind {
  const inBlock = selection === 'blocks' && blockId > 0;
  return shape.length < 2 && selection !== 'none' && !inBlock ? 'all' : selection;
}

export function isIndexKind(k: SelectionKind): boolean {
  return k === 'columns' || k === 'rows' || k === 'coordinates' || k === 'grass';
}

export function isDenseKind(k: SelectionKind): boolean {
  return k === 'svd' || k === 'random' || k === 'randperm';
}

export type LineAxis = 'rows' | 'cols' | 'coords';

/** refresh_indexed: which lines an index selection picks from. */
export function indexAxis(kind: SelectionKind, shape: readonly number[], o: GroupPlanOptions): LineAxis {
  const { rows, cols } = matrixView(shape);
  if (kind === 'columns') return 'cols';
  if (kind === 'rows') return 'rows';
  if (kind === 'coordinates') return 'coords';
  if (o.side === 'left') return 'rows';
  if (o.side === 'right') return 'cols';
  if (o.side === 'reverse_std') return rows <= cols ? 'cols' : 'rows';
  return rows <= cols ? 'rows' : 'cols'; // std: the smaller side
}

export function lineGeometry(shape: readonly number[], axis: LineAxis): { lines: number; lineLen: number } {
  const { rows, cols, numel: n } = matrixView(shape);
  if (axis === 'rows') return { lines: rows, lineLen: cols };
  if (axis === 'cols') return { lines: cols, lineLen: rows };
  return { lines: n, lineLen: 1 };
}

/** line_count (selection.cpp): int(lines * density), at least 1 for density > 0, 0 at density 0. */
export function lineCount(lines: number, density: number): number {
  if (density <= 0) return 0;
  return Math.min(lines, Math.max(1, Math.floor(lines * density)));
}

/**
 * How many lines an index selection holds after a refresh (refresh_indexed + choose_grass).
 * Norm sampling without replacement stops at the number of lines with a nonzero norm; we assume
 * a gradient with no all-zero line.
 */
export function indexCount(kind: SelectionKind, lines: number, o: GroupPlanOptions): number {
  if (kind !== 'grass') return lineCount(lines, densityOf(o));
  const r = o.rank > 0
    ? Math.min(o.rank, o.replacement ? o.rank : lines)
    : lineCount(lines, densityOf(o));
  const withReplacement = o.replacement && o.sampling !== 'top-r';
  return withReplacement ? r : Math.min(r, lines);
}

/** refresh_dense: whether the left side (U^T G, basis rows x r) is projected, and the rank. */
export function denseGeometry(shape: readonly number[], o: GroupPlanOptions): {
  left: boolean; rank: number; sideLen: number; otherLen: number;
} {
  const { rows, cols } = matrixView(shape);
  let left: boolean;
  if (o.side === 'left') left = true;
  else if (o.side === 'right') left = false;
  else if (o.side === 'reverse_std') left = rows >= cols;
  else left = rows < cols; // std: right (G V) if m >= n, else left
  // dense_rank (selection.cpp): from the projected side's length, capped at min(rows, cols).
  const q = Math.min(rows, cols);
  const len = left ? rows : cols;
  const density = densityOf(o);
  const rank = o.rank > 0 ? Math.min(o.rank, q) : density <= 0 ? 0 : Math.min(q, Math.max(1, roundHalfEven(len * density)));
  return { left, rank, sideLen: left ? rows : cols, otherLen: left ? cols : rows };
}

function stateBytes(parts: Omit<ParamStateBytes, 'total'>): ParamStateBytes {
  return { ...parts, total: parts.moments + parts.indices + parts.scales + parts.mask + parts.basis };
}

export const NO_STATE: ParamStateBytes = Object.freeze(stateBytes({ moments: 0, indices: 0, scales: 0, mask: 0, basis: 0 }));

/** allocate_moments: slots x elems x the state dtype. */
export function momentBytes(elems: number, o: GroupPlanOptions, kind: SelectionKind): number {
  const rule: StateFullRule = kind === 'none' ? 'none' : o.stateFull;
  return ruleStateSlots(rule) * elems * STATE_DTYPE_BYTES[o.stateDtype];
}

/** per_slot_steps (optimizer.cpp): index selections without resets count steps per selected line. */
export function perSlotSteps(o: GroupPlanOptions): boolean {
  return !o.resetStatistics && ruleStateSlots(o.stateFull) > 0;
}

/**
 * State of one parameter of a group after a refresh. Blocks need to know whether the tensor is in
 * the state-full set (`active`); every other kind ignores it.
 */
export function paramState(shape: readonly number[], o: GroupPlanOptions, active = true, blockId = 0): ParamStateBytes {
  const kind = effectiveKind(shape, o.selection, blockId);
  const n = numel(shape);
  if (kind === 'all') return stateBytes({ moments: momentBytes(n, o, kind), indices: 0, scales: 0, mask: 0, basis: 0 });
  if (kind === 'none') return NO_STATE;
  if (kind === 'blocks') {
    return stateBytes({ moments: active ? momentBytes(n, o, kind) : 0, indices: 0, scales: 0, mask: 0, basis: 0 });
  }
  if (isIndexKind(kind)) {
    const { lines, lineLen } = lineGeometry(shape, indexAxis(kind, shape, o));
    const k = indexCount(kind, lines, o);
    if (k === 0) return NO_STATE; // install_indices: an empty selection keeps nothing
    return stateBytes({
      moments: momentBytes(k * lineLen, o, kind),
      indices: k * 4 * (perSlotSteps(o) ? 2 : 1),
      scales: kind === 'grass' ? k * 4 : 0,
      mask: Math.ceil(lines / 4) * 4,
      basis: 0,
    });
  }
  const g = denseGeometry(shape, o);
  return stateBytes({ moments: momentBytes(g.rank * g.otherLen, o, kind), indices: 0, scales: 0, mask: 0, basis: g.sideLen * g.rank * 4 });
}

/**
 * Extra state bytes alive for a moment while a later refresh swaps an index selection:
 * install_indices builds the new indices, scales and mask before the old ones are freed.
 */
export function refreshTransient(shape: readonly number[], o: GroupPlanOptions): number {
  const kind = effectiveKind(shape, o.selection);
  if (!isIndexKind(kind)) return 0;
  const s = paramState(shape, o);
  return s.indices + s.scales + s.mask;
}
