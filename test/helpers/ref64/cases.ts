// The one table of reference cases: every update path of the framework (selection x state-full
// rule x state-free rule x dtype x options), each run against the float64 reference for enough
// steps to cross at least two refreshes. test/option-coverage.test.ts reads this table to prove
// every option (and every value of every enum-like option) is exercised with a non-default value.
import type { SelectionContext } from '../../../lib';
import { RefCase } from './run-case';

// Shapes: a wide and a tall matrix (sides differ in every projection), a square one and a 1-D
// param (regular: plain AdamW in projected groups).
const MIXED = [[6, 10], [10, 6], [5, 5], [7]];
const MATS = [[6, 10], [10, 6]];
// A refresh at steps 0, 2, 4: three choices over 5 steps.
const GAP = { updateGap: 2 };
const ADAM = { lr: 1e-2, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 };
const LION = { lr: 1e-2, betas: [0.8, 0.95], weightDecay: 0.1 };

function frugal(name: string, group: Record<string, unknown>, extra: Partial<RefCase> = {}): RefCase {
  return { name, method: 'Frugal', options: { ...ADAM, ...GAP }, groups: [{ shapes: MIXED, options: group }], steps: 5, ...extra };
}

// Caller-supplied selections: deterministic functions of the step and param.
const everyOtherColumn = (ctx: SelectionContext) => [...Array(ctx.param.shape[1]).keys()].filter((j) => (j + ctx.step) % 3 === 0);
const someCoordinates = (ctx: SelectionContext) => [...Array(ctx.param.numel).keys()].filter((k) => (k * 7 + ctx.step) % 5 === 0);
const weightedLines = (ctx: SelectionContext) => {
  const [m, n] = ctx.param.shape;
  const lines = Math.min(m, n);
  return { indices: [0, 2 + (ctx.step % 2), lines - 1], scales: [1.5, 0.5, 2] };
};
const alternateBlocks = (ctx: SelectionContext) => (ctx.paramIndex + ctx.step / 2) % 2 === 0;

// Cases named 'issue 11 item N' failed before that fixes: item 1, rank from min(m, n), not
// the projected side; item 2, density 0 refused; item 3, a low-precision param rounded more than
// once per step on the indexed path (rows, columns, coordinates, Grass); item 4, new lines keeping
// the old step counter; item 5, BAdam's random order not a permutation per cycle.

// Non-finite gradients, refreshing every 3 steps: NaN at an ordinary step (1), followed by an
// ordinary step that uses the moments it left; Inf at a refresh step (3), retried at step 4; the
// next refresh falls at step 7.
const GAP3 = { updateGap: 3 };
const BAD_STEPS = 8;
const BAD = [{ step: 1, param: 0, element: 3, value: NaN }, { step: 3, param: 1, element: 0, value: -Infinity }];
// 'error' names every param with a bad value: two at once here.
const BAD_TWO = [...BAD, { step: 5, param: 0, element: 1, value: Infinity }, { step: 5, param: 3, element: 2, value: NaN }];

export const CASES: RefCase[] = [
  // ---- whole-tensor rules ----
  { name: 'adamw torch eps', method: 'AdamW', options: ADAM, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'adamw hf eps', method: 'AdamW', options: { ...ADAM, epsMode: 'hf', eps: 1e-3 }, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'adamw no bias correction', method: 'AdamW', options: { ...ADAM, biasCorrection: false }, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'adamw hf eps, no bias correction', method: 'AdamW', options: { ...ADAM, epsMode: 'hf', biasCorrection: false }, groups: [{ shapes: MATS }], steps: 3 },
  { name: 'adamw bf16 state', method: 'AdamW', options: { ...ADAM, stateDtype: 'bfloat16' }, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'adamw bf16 params', method: 'AdamW', options: ADAM, groups: [{ shapes: MIXED }], steps: 4, dtype: 'bfloat16' },
  { name: 'adamw fp16 params', method: 'AdamW', options: ADAM, groups: [{ shapes: MIXED }], steps: 4, dtype: 'float16' },
  { name: 'adamw bf16 params and state', method: 'AdamW', options: { ...ADAM, stateDtype: 'bfloat16' }, groups: [{ shapes: MATS }], steps: 4, dtype: 'bfloat16' },
  { name: 'adamw clipped', method: 'AdamW', options: { ...ADAM, maxGradNorm: 0.5 }, groups: [{ shapes: MIXED }], steps: 3 },
  {
    name: 'adamw two groups', method: 'AdamW', options: ADAM, steps: 3,
    groups: [{ shapes: [[4, 3]], options: { lr: 0.05, weightDecay: 0 } }, { shapes: [[3, 4], [2]], options: { betas: [0.5, 0.6] } }],
  },
  { name: 'sgd, L2 decay', method: 'SGD', options: { lr: 0.1, weightDecay: 0.1 }, groups: [{ shapes: MIXED }], steps: 3 },
  { name: 'sgd momentum + dampening', method: 'SGD', options: { lr: 0.1, momentum: 0.9, dampening: 0.3, weightDecay: 0.05 }, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'sgd nesterov', method: 'SGD', options: { lr: 0.1, momentum: 0.8, nesterov: true }, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'sgd momentum bf16 state', method: 'SGD', options: { lr: 0.1, momentum: 0.9, stateDtype: 'bfloat16' }, groups: [{ shapes: MATS }], steps: 4 },
  { name: 'sgd momentum bf16 params', method: 'SGD', options: { lr: 0.1, momentum: 0.9 }, groups: [{ shapes: MATS }], steps: 4, dtype: 'bfloat16' },
  { name: 'signsgd decay', method: 'SignSGD', options: { lr: 0.01, weightDecay: 0.2 }, groups: [{ shapes: MIXED }], steps: 3 },
  { name: 'signsgd fp16', method: 'SignSGD', options: { lr: 0.01, weightDecay: 0.2 }, groups: [{ shapes: MATS }], steps: 3, dtype: 'float16' },
  {
    name: 'framework: none + sgd, scaled', method: 'Optimizer', steps: 3,
    options: { lr: 0.1, selection: 'none', stateFree: 'sgd', stateFullLrScale: 0.5, stateFreeLrScale: 0.3, weightDecay: 0.1 },
    groups: [{ shapes: MIXED }],
  },
  {
    name: 'framework: all + sgdm', method: 'Optimizer', steps: 3,
    options: { lr: 0.1, selection: 'all', stateFull: 'sgdm', momentum: 0.7, dampening: 0.2, stateFullLrScale: 0.5, weightDecay: 0.1 },
    groups: [{ shapes: MIXED }],
  },

  // ---- Lion: alone, and as FRUGAL's state-full rule under every selection (below) ----
  { name: 'lion', method: 'Lion', options: LION, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'lion defaults (betas 0.9, 0.99)', method: 'Lion', options: { lr: 1e-2, weightDecay: 0.1 }, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'lion bf16 state', method: 'Lion', options: { ...LION, stateDtype: 'bfloat16' }, groups: [{ shapes: MIXED }], steps: 4 },
  { name: 'lion bf16 params', method: 'Lion', options: LION, groups: [{ shapes: MIXED }], steps: 4, dtype: 'bfloat16' },
  { name: 'lion clipped', method: 'Lion', options: { ...LION, maxGradNorm: 0.5 }, groups: [{ shapes: MATS }], steps: 3 },
  frugal('blocks, lion state-full, betas defaulted', { selection: 'blocks', density: 0.5, stateFull: 'lion' },
    { options: { lr: 1e-2, weightDecay: 0.1, ...GAP } }),
  frugal('blocks ascending, lion + sgd', { selection: 'blocks', blockOrder: 'ascending', density: 0.34, stateFull: 'lion', stateFree: 'sgd' }),
  frugal('columns, lion', { selection: 'columns', density: 0.3, stateFull: 'lion' }),
  frugal('rows, lion, keep statistics', { selection: 'rows', density: 0.5, stateFull: 'lion', resetStatistics: false }, { steps: 7 }),
  frugal('coordinates, lion', { selection: 'coordinates', density: 0.2, stateFull: 'lion', stateFree: 'none' }),
  frugal('grass selection, lion', { selection: 'grass', density: 0.5, sampling: 'norm', stateFull: 'lion' }),
  frugal('svd, lion', { selection: 'svd', density: 0.5, stateFull: 'lion' }),
  frugal('svd right, lion, keep statistics', { selection: 'svd', side: 'right', rank: 3, stateFull: 'lion', resetStatistics: false }, { steps: 7 }),
  frugal('random left, lion', { selection: 'random', side: 'left', rank: 2, stateFull: 'lion', seed: 4 }),
  frugal('randperm, lion bf16 state', { selection: 'randperm', density: 0.5, stateFull: 'lion', stateDtype: 'bfloat16' }),
  frugal('columns from a function, lion', { selection: everyOtherColumn, selectionKind: 'columns', stateFull: 'lion' }),

  // ---- blocks ----
  frugal('blocks descending, signsgd', { selection: 'blocks', blockOrder: 'descending', density: 0.5, stateFreeLrScale: 0.5 }),
  frugal('blocks ascending, sgd', { selection: 'blocks', blockOrder: 'ascending', density: 0.34, stateFree: 'sgd' }),
  // 6 blocks, 2 at a time: pairs (0, 5), (1, 4), (2, 3), (0, 5), ...
  {
    name: 'blocks mirror', method: 'Frugal', options: { ...ADAM, ...GAP }, steps: 9,
    groups: [{ shapes: Array.from({ length: 6 }, () => [3, 4]), options: { selection: 'blocks', blockOrder: 'mirror', density: 0.34 } }],
  },
  // stateFree 'none': inactive blocks get the decoupled decay alone (the authors decay every param).
  frugal('blocks, rule none decays inactive blocks', { selection: 'blocks', density: 0.34, stateFree: 'none' }),
  frugal('blocks random', { selection: 'blocks', blockOrder: 'random', density: 0.5, seed: 7 }, { steps: 7 }),
  frugal('blocks keep statistics', { selection: 'blocks', blockOrder: 'ascending', density: 0.67, resetStatistics: false }, { steps: 7 }),
  frugal('blocks, sgdm state-full', { selection: 'blocks', density: 0.5, stateFull: 'sgdm', momentum: 0.9, nesterov: true }),
  frugal('blocks bf16 params', { selection: 'blocks', density: 0.5 }, { dtype: 'bfloat16' }),
  frugal('blocks bf16 state', { selection: 'blocks', density: 0.5, stateDtype: 'bfloat16' }),
  {
    // 10 blocks at density 0.25: round(2.5) = 2 (half to even), not 3.
    name: 'blocks round half even', method: 'Frugal', options: { ...ADAM, ...GAP }, steps: 5,
    groups: [{ shapes: Array.from({ length: 10 }, () => [3, 4]), options: { selection: 'blocks', density: 0.25 } }],
  },
  {
    name: 'blocks with block ids', method: 'Frugal', options: { ...ADAM, ...GAP }, steps: 5,
    groups: [{ shapes: [[3, 4], [4], [4, 3], [3], [2, 2]], blockIds: [1, 1, 2, 2, 0], options: { selection: 'blocks', density: 0.34 } }],
  },
  {
    name: 'blocks + projectable: false group (plain AdamW, unscaled lr)', method: 'Frugal', options: { ...ADAM, ...GAP }, steps: 5,
    groups: [
      { shapes: MATS, options: { selection: 'blocks', density: 0.5, stateFullLrScale: 0.5 } },
      { shapes: [[4, 4], [3]], options: { projectable: false, stateFullLrScale: 0.5 } },
    ],
  },
  frugal('blocks clipped', { selection: 'blocks', density: 0.5 }, { options: { ...ADAM, ...GAP, maxGradNorm: 1 } }),
  frugal('blocks from a function', { selection: alternateBlocks, selectionKind: 'blocks' }),
  frugal('density 0: state-free only (issue 11 item 2)', { selection: 'blocks', density: 0 }),

  // ---- BAdam ----
  {
    name: 'badam descending', method: 'BAdam', options: { lr: 1e-2, switchEvery: 2, weightDecay: 0.1 }, steps: 7,
    groups: [{ shapes: [[3, 4], [4]] }, { shapes: [[4, 3]] }, { shapes: [[2, 5], [5]] }, { shapes: [[3, 3]], options: { projectable: false } }],
  },
  {
    name: 'badam ascending, hf eps', method: 'BAdam', options: { lr: 1e-2, switchEvery: 2, blockOrder: 'ascending', epsMode: 'hf' }, steps: 7,
    groups: [{ shapes: [[3, 4]] }, { shapes: [[4, 3]] }, { shapes: [[2, 5]] }],
  },
  {
    name: 'badam random: one permutation per cycle (issue 11 item 5)', method: 'BAdam', options: { lr: 1e-2, switchEvery: 1, blockOrder: 'random', seed: 3 },
    steps: 12, checkCycle: true,
    groups: [{ shapes: [[3, 4]] }, { shapes: [[4, 3]] }, { shapes: [[2, 5]] }, { shapes: [[2, 2]] }],
  },

  // ---- rows, columns, coordinates ----
  frugal('columns, signsgd', { selection: 'columns', density: 0.3, seed: 11 }),
  frugal('rows, sgd', { selection: 'rows', density: 0.5, stateFree: 'sgd', stateFreeLrScale: 2 }),
  frugal('coordinates, none', { selection: 'coordinates', density: 0.2, stateFree: 'none' }),
  frugal('columns, sgdm', { selection: 'columns', density: 0.5, stateFull: 'sgdm', momentum: 0.9, dampening: 0.1 }),
  frugal('rows bf16 params (issue 11 item 3)', { selection: 'rows', density: 0.5 }, { dtype: 'bfloat16' }),
  frugal('coordinates fp16 params (issue 11 item 3)', { selection: 'coordinates', density: 0.3 }, { dtype: 'float16' }),
  frugal('columns bf16 state', { selection: 'columns', density: 0.5, stateDtype: 'bfloat16' }),
  frugal('columns from a function', { selection: everyOtherColumn, selectionKind: 'columns' }),
  frugal('rows from a function', { selection: (ctx: SelectionContext) => [ctx.step % (ctx.param.shape[0] - 1), ctx.param.shape[0] - 1], selectionKind: 'rows' }),
  frugal('coordinates from a function', { selection: someCoordinates, selectionKind: 'coordinates' }),
  frugal('columns keep statistics (issue 11 item 4)', { selection: 'columns', density: 0.5, resetStatistics: false }, { steps: 7 }),
  frugal('rows keep statistics (issue 11 item 4)', { selection: 'rows', density: 0.5, resetStatistics: false }, { steps: 7 }),
  frugal('coordinates keep statistics (issue 11 item 4)', { selection: 'coordinates', density: 0.3, resetStatistics: false }, { steps: 7 }),

  // ---- dense bases ----
  frugal('svd std', { selection: 'svd', density: 0.5 }),
  frugal('svd std, keep statistics', { selection: 'svd', density: 0.5, resetStatistics: false, stateFree: 'sgd' }, { steps: 7 }),
  frugal('svd left, rank', { selection: 'svd', side: 'left', rank: 2 }),
  frugal('svd right, rank', { selection: 'svd', side: 'right', rank: 3 }),
  frugal('svd reverse_std, rank', { selection: 'svd', side: 'reverse_std', rank: 2, stateFree: 'none' }),
  frugal('svd randomized', { selection: 'svd', randomizedSvd: true, density: 0.34 }),
  frugal('random std', { selection: 'random', density: 0.5, seed: 5n }),
  frugal('random left/right/reverse, rank', { selection: 'random', side: 'left', rank: 3 }),
  frugal('random right, rank', { selection: 'random', side: 'right', rank: 2 }),
  frugal('randperm std', { selection: 'randperm', density: 0.5 }),
  frugal('randperm reverse_std, rank', { selection: 'randperm', side: 'reverse_std', rank: 3 }),
  frugal('randperm left, rank', { selection: 'randperm', side: 'left', rank: 2, stateFull: 'sgdm', momentum: 0.5 }),
  frugal('svd bf16 params', { selection: 'svd', density: 0.5 }, { dtype: 'bfloat16' }),
  frugal('svd bf16 state', { selection: 'svd', density: 0.5, stateDtype: 'bfloat16' }),
  frugal('svd reverse_std, density (issue 11 item 1)', { selection: 'svd', side: 'reverse_std', density: 0.5 }),
  frugal('random left, density (issue 11 item 1)', { selection: 'random', side: 'left', density: 0.5 }),
  frugal('randperm right, density (issue 11 item 1)', { selection: 'randperm', side: 'right', density: 0.5 }),
  {
    name: 'galore defaults, keep statistics over refreshes', method: 'GaLore', steps: 7,
    options: { lr: 1e-2, updateGap: 2, weightDecay: 0.05 }, groups: [{ shapes: MIXED }],
  },
  {
    name: 'galore randperm + state-free', method: 'GaLore', steps: 5,
    options: { lr: 1e-2, updateGap: 2, selection: 'randperm', stateFree: 'signsgd', stateFreeLrScale: 0.5, density: 0.5 },
    groups: [{ shapes: MIXED }],
  },

  // ---- Grass ----
  { name: 'grass top-r', method: 'Grass', options: { lr: 1e-2, updateGap: 2, density: 0.5, stateFreeLrScale: 1 }, groups: [{ shapes: MIXED }], steps: 5 },
  {
    name: 'grass norm, replacement', method: 'Grass', steps: 5, groups: [{ shapes: MIXED }],
    options: { lr: 1e-2, updateGap: 2, sampling: 'norm', replacement: true, rank: 4, seed: 9, stateFreeLrScale: 1 },
  },
  {
    name: 'grass norm, no replacement, columns', method: 'Grass', steps: 5, groups: [{ shapes: MIXED }],
    options: { lr: 1e-2, updateGap: 2, sampling: 'norm', orientation: 'columns', density: 0.5, stateFreeLrScale: 1 },
  },
  {
    name: 'grass uniform, replacement, rows', method: 'Grass', steps: 5, groups: [{ shapes: MIXED }],
    options: { lr: 1e-2, updateGap: 2, sampling: 'uniform', replacement: true, orientation: 'rows', rank: 3, stateFreeLrScale: 1 },
  },
  {
    name: 'grass uniform + signsgd', method: 'Grass', steps: 5, groups: [{ shapes: MIXED }],
    options: { lr: 1e-2, updateGap: 2, sampling: 'uniform', density: 0.5, stateFree: 'signsgd', stateFreeLrScale: 0.5, weightDecay: 0.1 },
  },
  {
    name: 'grass from a function with scales', method: 'Grass', steps: 5, groups: [{ shapes: MATS }],
    options: { lr: 1e-2, updateGap: 2, selection: weightedLines, stateFree: 'sgd', stateFreeLrScale: 1 },
  },
  {
    name: 'grass bf16 params (issue 11 item 3)', method: 'Grass', steps: 5, groups: [{ shapes: MIXED }], dtype: 'bfloat16',
    options: { lr: 0.05, updateGap: 2, density: 0.5, weightDecay: 0.1, stateFree: 'signsgd', stateFreeLrScale: 1 },
  },
  {
    name: 'grass keep statistics (issue 11 item 4)', method: 'Grass', steps: 7, groups: [{ shapes: MIXED }],
    options: { lr: 1e-2, updateGap: 2, density: 0.5, sampling: 'uniform', resetStatistics: false, stateFreeLrScale: 1 },
  },

  // ---- non-finite gradients, clipping without overflow ----
  { name: 'nonFinite skip: adamw (step 0 skipped)', method: 'AdamW', options: { ...ADAM, nonFinite: 'skip' }, groups: [{ shapes: MIXED }], steps: BAD_STEPS,
    badGrads: [{ step: 0, param: 2, element: 4, value: NaN }, ...BAD] },
  { name: 'nonFinite skip: adamw bf16 state, clipped', method: 'AdamW', options: { ...ADAM, stateDtype: 'bfloat16', maxGradNorm: 0.5, nonFinite: 'skip' },
    groups: [{ shapes: MIXED }], steps: BAD_STEPS, badGrads: BAD },
  frugal('nonFinite skip: blocks', { selection: 'blocks', density: 0.5 }, { steps: BAD_STEPS, badGrads: BAD, options: { ...ADAM, ...GAP3, nonFinite: 'skip' } }),
  frugal('nonFinite skip: blocks keep statistics', { selection: 'blocks', blockOrder: 'ascending', density: 0.67, resetStatistics: false },
    { steps: BAD_STEPS, badGrads: BAD, options: { ...ADAM, ...GAP3, nonFinite: 'skip' } }),
  frugal('nonFinite skip: columns keep statistics', { selection: 'columns', density: 0.5, resetStatistics: false },
    { steps: BAD_STEPS, badGrads: BAD, options: { ...ADAM, ...GAP3, nonFinite: 'skip' } }),
  frugal('nonFinite skip: rows', { selection: 'rows', density: 0.5, stateFree: 'sgd' }, { steps: BAD_STEPS, badGrads: BAD, options: { ...ADAM, ...GAP3, nonFinite: 'skip' } }),
  frugal('nonFinite skip: svd', { selection: 'svd', density: 0.5 }, { steps: BAD_STEPS, badGrads: BAD, options: { ...ADAM, ...GAP3, nonFinite: 'skip' } }),
  {
    name: 'nonFinite skip: galore keeps statistics', method: 'GaLore', steps: BAD_STEPS, badGrads: BAD,
    options: { lr: 1e-2, ...GAP3, weightDecay: 0.05, nonFinite: 'skip' }, groups: [{ shapes: MIXED }],
  },
  {
    name: 'nonFinite skip: grass', method: 'Grass', steps: BAD_STEPS, groups: [{ shapes: MIXED }], badGrads: BAD,
    options: { lr: 1e-2, ...GAP3, density: 0.5, stateFreeLrScale: 1, nonFinite: 'skip' },
  },
  {
    name: 'nonFinite skip: grass keep statistics', method: 'Grass', steps: BAD_STEPS, groups: [{ shapes: MIXED }], badGrads: BAD,
    options: { lr: 1e-2, ...GAP3, density: 0.5, sampling: 'uniform', resetStatistics: false, stateFreeLrScale: 1, nonFinite: 'skip' },
  },
  { name: 'nonFinite error: adamw', method: 'AdamW', options: { ...ADAM, nonFinite: 'error' }, groups: [{ shapes: MIXED }], steps: BAD_STEPS, badGrads: BAD_TWO },
  frugal('nonFinite error: columns keep statistics', { selection: 'columns', density: 0.5, resetStatistics: false },
    { steps: BAD_STEPS, badGrads: BAD_TWO, options: { ...ADAM, ...GAP3, nonFinite: 'error' } }),
  frugal('nonFinite error: svd', { selection: 'svd', density: 0.5 }, { steps: BAD_STEPS, badGrads: BAD_TWO, options: { ...ADAM, ...GAP3, nonFinite: 'error' } }),
  { name: 'clipping huge gradients (1e20): adamw', method: 'AdamW', options: { ...ADAM, maxGradNorm: 1 }, groups: [{ shapes: MIXED }], steps: 4, gradScale: 1e20 },
  frugal('clipping huge gradients (1e20): blocks', { selection: 'blocks', density: 0.5 }, { gradScale: 1e20, options: { ...ADAM, ...GAP, maxGradNorm: 1 } }),
  frugal('clipping huge gradients (1e20), skip on: svd', { selection: 'svd', density: 0.5 },
    { gradScale: 1e20, options: { ...ADAM, ...GAP, maxGradNorm: 1, nonFinite: 'skip' } }),
];
