// The options as the reference understands them: each method's defaults and fixed settings,
// restated from the papers and the FRUGAL reference README (frugal-reference/README.md), not read
// from lib/optim. A case names a method and the options it passes; resolve() fills in the rest.

export type Method = 'Optimizer' | 'AdamW' | 'SGD' | 'SignSGD' | 'Frugal' | 'GaLore' | 'Grass' | 'BAdam' | 'Lion';
export type Selection = 'all' | 'none' | 'blocks' | 'columns' | 'rows' | 'coordinates' | 'svd' | 'random' | 'randperm' | 'grass';

export interface RefOptions {
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  biasCorrection: boolean;
  epsMode: 'torch' | 'hf';
  momentum: number;
  dampening: number;
  nesterov: boolean;
  stateFull: 'adamw' | 'sgdm' | 'lion';
  stateFree: 'signsgd' | 'sgd' | 'none';
  stateFullLrScale: number;
  stateFreeLrScale: number;
  /** A built-in selection, or the kind a caller-supplied function returns. */
  selection: Selection;
  external: boolean;
  density: number;
  rank: number;
  updateGap: number;
  resetStatistics: boolean;
  blockOrder: 'descending' | 'ascending' | 'mirror' | 'random';
  side: 'std' | 'reverse_std' | 'left' | 'right';
  sampling: 'top-r' | 'norm' | 'uniform';
  replacement: boolean;
  orientation: 'std' | 'rows' | 'columns';
  stateDtype: 'float32' | 'bfloat16';
  projectable: boolean;
  /** SGD's weight decay: coupled L2 added to the gradient instead of decoupled decay. */
  l2: boolean;
  /** BAdam: one block at a time. */
  oneBlock: boolean;
  /**
   * Grass states its own state-free lr: lr * stateFreeLrScale, not FRUGAL's
   * lr * stateFullLrScale * stateFreeLrScale (alpha 0 stops every update).
   */
  freeLrFromLr: boolean;
}

/** Lion's paper defaults, which a group whose state-full rule is Lion takes when no betas are given. */
const LION_BETAS: [number, number] = [0.9, 0.99];

const BASE: RefOptions = {
  lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, biasCorrection: true, epsMode: 'torch', momentum: 0,
  dampening: 0, nesterov: false, stateFull: 'adamw', stateFree: 'none', stateFullLrScale: 1, stateFreeLrScale: 1,
  selection: 'all', external: false, density: 1, rank: 0, updateGap: 200, resetStatistics: true,
  blockOrder: 'descending', side: 'std', sampling: 'top-r', replacement: false, orientation: 'std',
  stateDtype: 'float32', projectable: true, l2: false, oneBlock: false, freeLrFromLr: false,
};

// Defaults (what a caller gets without the option) and fixed settings (what the method is), per
// the docs of each method: torch's AdamW decays by 1e-2; FRUGAL's pretraining recipe; GaLore's
// scale 0.25 with moments kept; Grass's alpha 0.25; BAdam's one block, switched every 100 steps;
// Lion's paper (and lion-pytorch): lr 1e-4, betas (0.9, 0.99), no decay.
const METHOD: Record<Method, { defaults: Partial<RefOptions>; fixed: Partial<RefOptions> }> = {
  Optimizer: { defaults: {}, fixed: {} },
  AdamW: { defaults: { weightDecay: 1e-2 }, fixed: { selection: 'all', stateFull: 'adamw' } },
  SGD: { defaults: {}, fixed: { selection: 'all', stateFull: 'sgdm', l2: true } },
  SignSGD: { defaults: {}, fixed: { selection: 'none', stateFree: 'signsgd' } },
  Frugal: {
    defaults: { selection: 'blocks', density: 0.25, stateFree: 'signsgd' },
    fixed: {},
  },
  GaLore: { defaults: { selection: 'svd', density: 0.25, stateFullLrScale: 0.25, resetStatistics: false }, fixed: { stateFull: 'adamw' } },
  Grass: { defaults: { selection: 'grass', density: 0.25, stateFullLrScale: 0.25 }, fixed: { stateFull: 'adamw' } },
  BAdam: {
    defaults: { updateGap: 100 },
    fixed: { selection: 'blocks', stateFull: 'adamw', stateFree: 'none', resetStatistics: true, oneBlock: true },
  },
  Lion: { defaults: { lr: 1e-4, betas: LION_BETAS }, fixed: { selection: 'all', stateFull: 'lion' } },
};

/** A case's options (the package's names) resolved for one group. */
export function resolve(method: Method, given: Record<string, unknown>): RefOptions {
  const o: Record<string, unknown> = { ...BASE, ...METHOD[method].defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined || k === 'seed' || k === 'randomizedSvd' || k === 'maxGradNorm' || k === 'nonFinite') continue;
    if (k === 'switchEvery') o.updateGap = v;
    else if (k === 'selection' && typeof v === 'function') o.external = true;
    else if (k === 'selectionKind') o.selection = v;
    else o[k] = v;
  }
  Object.assign(o, METHOD[method].fixed);
  // Lion's betas are its own (0.9, 0.99) unless given, whichever method runs it.
  if (o.stateFull === 'lion' && given.betas === undefined) o.betas = LION_BETAS;
  if (method === 'Grass' && o.external) o.selection = 'grass';
  if (method === 'Grass') o.freeLrFromLr = true;
  if (method === 'SGD' && o.momentum === 0) {
    // No momentum, no state: every element takes plain SGD (with the L2 term).
    Object.assign(o, { selection: 'none', stateFree: 'sgd' });
  }
  return o as unknown as RefOptions;
}

/** Whether a selection splits a group into projected params and regular (plain AdamW) ones. */
export function isProjection(o: RefOptions): boolean {
  return o.selection !== 'all' && o.selection !== 'none';
}
