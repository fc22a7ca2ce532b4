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

// The indexed path (rows, columns, coordinates and Grass alike) stores a low-precision param after
// decay and again after each selected slot's update.
const ROUND_TWICE = 'item 3: low-precision params rounded more than once per step (indexed selections)';

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
  frugal('density 0: state-free only', { selection: 'blocks', density: 0 }, { issue11: 'item 2: density 0 is refused' }),

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
    name: 'badam random: one permutation per cycle', method: 'BAdam', options: { lr: 1e-2, switchEvery: 1, blockOrder: 'random', seed: 3 },
    steps: 12, checkCycle: true, issue11: 'item 5: one independent random block per switch, not a permutation per cycle',
    groups: [{ shapes: [[3, 4]] }, { shapes: [[4, 3]] }, { shapes: [[2, 5]] }, { shapes: [[2, 2]] }],
  },

  // ---- rows, columns, coordinates ----
  frugal('columns, signsgd', { selection: 'columns', density: 0.3, seed: 11 }),
  frugal('rows, sgd', { selection: 'rows', density: 0.5, stateFree: 'sgd', stateFreeLrScale: 2 }),
  frugal('coordinates, none', { selection: 'coordinates', density: 0.2, stateFree: 'none' }),
  frugal('columns, sgdm', { selection: 'columns', density: 0.5, stateFull: 'sgdm', momentum: 0.9, dampening: 0.1 }),
  frugal('rows bf16 params', { selection: 'rows', density: 0.5 }, { dtype: 'bfloat16', issue11: ROUND_TWICE }),
  frugal('coordinates fp16 params', { selection: 'coordinates', density: 0.3 }, { dtype: 'float16', issue11: ROUND_TWICE }),
  frugal('columns bf16 state', { selection: 'columns', density: 0.5, stateDtype: 'bfloat16' }),
  frugal('columns from a function', { selection: everyOtherColumn, selectionKind: 'columns' }),
  frugal('rows from a function', { selection: (ctx: SelectionContext) => [ctx.step % (ctx.param.shape[0] - 1), ctx.param.shape[0] - 1], selectionKind: 'rows' }),
  frugal('coordinates from a function', { selection: someCoordinates, selectionKind: 'coordinates' }),
  frugal('columns keep statistics', { selection: 'columns', density: 0.5, resetStatistics: false }, { steps: 7, issue11: 'item 4: new lines keep the old step counter' }),
  frugal('rows keep statistics', { selection: 'rows', density: 0.5, resetStatistics: false }, { steps: 7, issue11: 'item 4: new lines keep the old step counter' }),
  frugal('coordinates keep statistics', { selection: 'coordinates', density: 0.3, resetStatistics: false }, { steps: 7, issue11: 'item 4: new slots keep the old step counter' }),

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
  frugal('svd reverse_std, density', { selection: 'svd', side: 'reverse_std', density: 0.5 }, { issue11: 'item 1: rank from min(m, n), not the projected side' }),
  frugal('random left, density', { selection: 'random', side: 'left', density: 0.5 }, { issue11: 'item 1: rank from min(m, n), not the projected side' }),
  frugal('randperm right, density', { selection: 'randperm', side: 'right', density: 0.5 }, { issue11: 'item 1: rank from min(m, n), not the projected side' }),
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
    name: 'grass bf16 params', method: 'Grass', steps: 5, groups: [{ shapes: MIXED }], dtype: 'bfloat16',
    options: { lr: 0.05, updateGap: 2, density: 0.5, weightDecay: 0.1, stateFree: 'signsgd', stateFreeLrScale: 1 },
    issue11: ROUND_TWICE,
  },
  {
    name: 'grass keep statistics', method: 'Grass', steps: 7, groups: [{ shapes: MIXED }],
    options: { lr: 1e-2, updateGap: 2, density: 0.5, sampling: 'uniform', resetStatistics: false, stateFreeLrScale: 1 },
    issue11: 'item 4: new lines keep the old step counter',
  },
];
