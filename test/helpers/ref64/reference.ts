// A float64 FRUGAL-framework optimizer: the reference the package is held to. One step:
//   1. clip: every gradient times min(1, maxGradNorm / (||g||_2 + 1e-6)) (torch's clip_grad_norm_);
//   2. decoupled decay p *= 1 - lr * wd on every param (group lr, unscaled), except SGD (L2 on
//      the gradient) and BAdam's inactive blocks (untouched; FRUGAL's rule 'none' still decays them);
//   3. the state-full rule on the selected part, scaled by lr * stateFullLrScale, and the state-free
//      rule on the residual r = g - (selected part), scaled by lr * stateFullLrScale * stateFreeLrScale
//      (FRUGAL's code; README of the reference data); Grass: lr * stateFreeLrScale (its own rule);
//   4. one rounding to the param's dtype.
// Non-finite gradients (the sum of squares, in fp64, is NaN or Inf) under `nonFinite`: 'error'
// refuses the step (nothing changes); 'skip' on a step where some group refreshes changes nothing
// at all (the refresh is retried next step); on any other step params and moments stay as they
// are while the group step and the bias-correction counters of every state-full update advance,
// except per-slot counters (index selections keeping statistics), which stay.
// Selections are re-chosen at group steps 0, T, 2T, ... from that step's gradient. What was chosen
// comes from a Choice: computed here where the rule is deterministic, read from the package (and
// checked by ./choices.ts) where it is random.
import { roundTo } from '../update-rules';
import { matmul, transpose } from './linalg';
import { isProjection, RefOptions } from './options';
import { adamDirection, freshSlot, lionDirection, sgdmDirection, SlotState, stateFreeDirection } from './rules';

export type Choice =
  | { kind: 'blocks'; active: boolean }
  /** axis 0: rows are selected; 1: columns. One state slot per entry (duplicates allowed for Grass). */
  | { kind: 'lines'; axis: 0 | 1; indices: number[]; scales: number[] }
  | { kind: 'coordinates'; indices: number[] }
  /** basis: sideLength x rank, row-major; left: U^T G (side m), else G V (side n). */
  | { kind: 'dense'; left: boolean; rank: number; basis: number[] };

export type NonFinitePolicy = 'propagate' | 'skip' | 'error';
/** What a step did: updated, skipped for a non-finite gradient, or refused ('error'). */
export type StepOutcome = 'stepped' | 'skipped' | 'refused';

export type Part = 'whole' | 'projected' | 'regular';

export interface RefParam {
  shape: number[];
  dtype: string;
  group: number;
  blockId: number;
  part: Part;
  /** Current value (float64 of the stored value). */
  value: number[];
  /** The last step's result before rounding to the param's dtype. */
  exact: number[];
  choice: Choice | null;
  /** One slot per selected entry (lines, coordinates), or one slot for the whole tensor / dense state. */
  slots: SlotState[];
  /** Indices of the slots, to carry moments of lines that stay selected (resetStatistics false). */
  slotKeys: number[];
}

export interface RefGroup {
  options: RefOptions;
  step: number;
}

/** Which part of a group a param belongs to (2-D params are projected; blocks take any tensor with an id). */
export function partOf(o: RefOptions, shape: number[], blockId: number): Part {
  if (!isProjection(o)) return 'whole';
  const inSelection = shape.length === 2 || (o.selection === 'blocks' && blockId > 0);
  return o.projectable && inSelection ? 'projected' : 'regular';
}

export class Reference64 {
  readonly params: RefParam[] = [];
  readonly groups: RefGroup[];

  constructor(
    groups: RefOptions[],
    params: { shape: number[]; dtype: string; group: number; blockId: number; init: ArrayLike<number> }[],
    private maxGradNorm: number,
    private nonFinite: NonFinitePolicy = 'propagate',
  ) {
    this.groups = groups.map((options) => ({ options, step: 0 }));
    for (const p of params) {
      const o = groups[p.group];
      this.params.push({
        shape: p.shape, dtype: p.dtype, group: p.group, blockId: p.blockId, part: partOf(o, p.shape, p.blockId),
        value: Array.from(p.init), exact: Array.from(p.init), choice: null, slots: [], slotKeys: [],
      });
    }
  }

  /** Whether a group's projected params re-choose their selection at the next step. */
  isRefresh(group: number): boolean {
    return this.groups[group].step % this.groups[group].options.updateGap === 0;
  }

  /**
   * One step. `grads` are the stored gradient values; `choose(i, g)` gives param i's selection at
   * a refresh (g: its clipped gradient).
   */
  step(grads: ArrayLike<number>[], choose: (param: number, g: number[]) => Choice): StepOutcome {
    let ss = 0;
    for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
    const factor = this.maxGradNorm > 0 ? Math.min(1, this.maxGradNorm / (Math.sqrt(ss) + 1e-6)) : 1;
    const refreshing = this.groups.map((_g, i) => this.isRefresh(i));
    if (!Number.isFinite(ss) && this.nonFinite !== 'propagate') {
      for (const p of this.params) p.exact = p.value.slice();
      if (this.nonFinite === 'error') return 'refused';
      if (refreshing.some((r, i) => r && isProjection(this.groups[i].options))) return 'skipped';
      this.params.forEach((p) => this.skipCounters(p, this.groups[p.group].options));
      this.groups.forEach((g) => g.step++);
      return 'skipped';
    }
    this.params.forEach((p, i) => {
      const g = Array.from(grads[i], (x) => x * factor);
      const group = this.groups[p.group];
      if (p.part === 'projected' && refreshing[p.group]) this.refresh(p, choose(i, g), group.options);
      this.update(p, g, group.options);
    });
    this.groups.forEach((g) => g.step++);
    return 'stepped';
  }

  // A skipped ordinary step: the counters a state-full update would have advanced, nothing else.
  private skipCounters(p: RefParam, o: RefOptions): void {
    const c = p.choice;
    if (p.part === 'projected' && c?.kind === 'blocks' && !c.active) return;
    if (p.part === 'whole' && o.selection === 'none') return;
    if (p.part !== 'projected' || c?.kind === 'blocks') {
      if (p.slots.length === 0) p.slots = [freshSlot(p.value.length)];
      p.slots[0].t++;
      return;
    }
    // Dense: one counter per param; index selections: one per slot, which stays when kept.
    if (c?.kind === 'dense' || o.resetStatistics) for (const s of p.slots) s.t++;
  }

  private refresh(p: RefParam, c: Choice, o: RefOptions): void {
    p.choice = c;
    const [m, n] = p.shape;
    if (c.kind === 'blocks') {
      // A whole tensor's moments: reset at every refresh whatever resetStatistics says, as the
      // authors' BlockOptimizer clears every block's state and (re)initialises the chosen ones.
      p.slots = c.active ? [freshSlot(p.value.length)] : [];
      return;
    }
    if (c.kind === 'dense') {
      const size = c.left ? c.rank * n : m * c.rank;
      // GaLore keeps its moments (and their step count) across a subspace change unless reset.
      if (o.resetStatistics || p.slots.length === 0 || p.slots[0].m.length !== size) p.slots = [freshSlot(size)];
      return;
    }
    const lineLength = c.kind === 'coordinates' ? 1 : c.axis === 0 ? n : m;
    const previous = new Map<number, SlotState>();
    if (!o.resetStatistics) p.slotKeys.forEach((k, j) => previous.has(k) || previous.set(k, p.slots[j]));
    // A line that stays selected keeps its moments and its own step count; a new one starts afresh.
    p.slots = c.indices.map((k) => previous.get(k) ?? freshSlot(lineLength));
    p.slotKeys = c.indices.slice();
  }

  private update(p: RefParam, g: number[], o: RefOptions): void {
    const regular = p.part === 'regular';
    const lr = o.lr;
    const lrFull = regular ? lr : lr * o.stateFullLrScale;
    const lrFree = o.freeLrFromLr
      ? (o.stateFullLrScale > 0 ? lr * o.stateFreeLrScale : 0)
      : lr * o.stateFullLrScale * o.stateFreeLrScale;
    const rules = regular ? { ...o, stateFull: 'adamw' as const, stateFree: 'none' as const } : o;
    const x = p.value.slice();
    const inactiveBlock = p.part === 'projected' && p.choice?.kind === 'blocks' && !p.choice.active;
    if (inactiveBlock && o.oneBlock) {
      p.exact = x; // BAdam: inactive blocks are not touched at all, decay included
      return;
    }
    if (o.l2) for (let i = 0; i < g.length; i++) g[i] += o.weightDecay * x[i];
    else for (let i = 0; i < x.length; i++) x[i] *= 1 - lr * o.weightDecay;
    const direction = (c: number[], s: SlotState) =>
      rules.stateFull === 'sgdm' ? sgdmDirection(c, s, o) : rules.stateFull === 'lion' ? lionDirection(c, s, o) : adamDirection(c, s, o);
    const full = new Array<number>(x.length).fill(0);
    let residual: number[];
    const whole = p.part !== 'projected';
    if ((whole && rules.selection === 'none' && !regular) || inactiveBlock) {
      residual = g;
    } else if (whole || p.choice?.kind === 'blocks') {
      if (p.slots.length === 0) p.slots = [freshSlot(x.length)];
      const u = direction(g, p.slots[0]);
      for (let i = 0; i < x.length; i++) full[i] = u[i];
      residual = new Array(x.length).fill(0);
    } else {
      residual = this.projected(p, g, full, direction);
    }
    const free = stateFreeDirection(regular ? 'none' : rules.stateFree, residual);
    for (let i = 0; i < x.length; i++) x[i] = x[i] - lrFull * full[i] - lrFree * free[i];
    p.exact = x;
    p.value = x.map((v) => roundTo(p.dtype, v));
  }

  // The state-full update of a sparse or dense selection into `full`; returns the residual.
  private projected(p: RefParam, g: number[], full: number[], direction: (c: number[], s: SlotState) => number[]): number[] {
    const [m, n] = p.shape;
    const c = p.choice as Choice;
    if (c.kind === 'coordinates') {
      const residual = g.slice();
      c.indices.forEach((k, j) => {
        full[k] += direction([g[k]], p.slots[j])[0];
        residual[k] = 0;
      });
      return residual;
    }
    if (c.kind === 'lines') {
      // Grass: the compressed line is rho_j * g_line, its update scattered back times rho_j; the
      // residual is g with the selected lines zeroed.
      const residual = g.slice();
      const len = c.axis === 0 ? n : m;
      const at = (line: number, t: number) => (c.axis === 0 ? line * n + t : t * n + line);
      c.indices.forEach((line, j) => {
        const rho = c.scales[j];
        const comp = Array.from({ length: len }, (_x, t) => rho * g[at(line, t)]);
        const u = direction(comp, p.slots[j]);
        for (let t = 0; t < len; t++) full[at(line, t)] += rho * u[t];
      });
      for (const line of c.indices) for (let t = 0; t < len; t++) residual[at(line, t)] = 0;
      return residual;
    }
    if (c.kind !== 'dense') throw new Error(`reference: unexpected choice ${c.kind}`);
    const r = c.rank;
    const P = c.basis;
    let back: number[];
    let projectedBack: number[];
    if (c.left) {
      const R = matmul(transpose(P, m, r), g, r, m, n); // r x n
      back = matmul(P, direction(R, p.slots[0]), m, r, n);
      projectedBack = matmul(P, R, m, r, n);
    } else {
      const R = matmul(g, P, m, n, r); // m x r
      const Pt = transpose(P, n, r);
      back = matmul(direction(R, p.slots[0]), Pt, m, r, n);
      projectedBack = matmul(R, Pt, m, r, n);
    }
    for (let i = 0; i < full.length; i++) full[i] = back[i];
    return g.map((x, i) => x - projectedBack[i]);
  }
}
