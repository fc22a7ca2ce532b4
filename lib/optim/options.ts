// Optimizer options: their names, their checks, and their translation into frugal_group_options.
// Every method is a configuration of one framework (frugal.h): a selection, a state-full rule on
// the selected part, a state-free rule on the rest. A method (AdamW, Frugal, ...) is a MethodSpec:
// which options it accepts, its defaults, and the settings it fixes.
// The options that map to frugal_group_options fields take their names, value lists, defaults and
// range checks from schema/options.json (schema.generated.ts); the options of the library alone
// (betas' pair, selection functions, orientation, projectable, switchEvery, maxGradNorm,
// nonFinite) are defined here.
import { describeValue } from '../dtype';
import type { Tensor } from '../tensor';
import { UPDATE_RULES } from './rule-table';
import {
  BLOCK_ORDER_CODES,
  Check,
  DTYPE_CODES,
  EPS_MODE_CODES,
  GRASS_SAMPLING_CODES,
  NativeGroupOptions,
  OPTION_DEFAULTS,
  RULE_CODES,
  SCHEMA_CHECKS,
  SELECTION_CODES,
  SELECTION_NAMES as SCHEMA_SELECTION_NAMES,
  SIDE_CODES,
  BlockOrderName,
  EpsModeName,
  SamplingName,
  SelectionEnumName,
  SideName,
  StateDtypeName,
  StateFreeName,
  StateFullName,
} from './schema.generated';

export type { Check } from './schema.generated';

export type SelectionName = SelectionEnumName;

/** The selections a caller-supplied function can produce. */
export type SelectionKind = 'blocks' | 'columns' | 'rows' | 'coordinates' | 'grass';

export interface SelectionContext {
  /** The group's step count (refreshes happen at 0, updateGap, 2*updateGap, ...). */
  step: number;
  param: Tensor;
  grad: Tensor | null;
  /** The param's index in the optimizer (order of the params as given). */
  paramIndex: number;
  group: ParamGroup;
}

/**
 * What a selection function returns: for 'blocks' whether the tensor is state-full; for
 * columns/rows/grass the line indices; for coordinates flat element indices; Grass may add
 * importance scales (rho).
 */
export type SelectionResult =
  | boolean
  | readonly number[]
  | Int32Array
  | { indices: readonly number[] | Int32Array; scales?: readonly number[] | Float32Array | null };

export type SelectionFunction = (context: SelectionContext) => SelectionResult;

export interface GroupOptions {
  lr?: number;
  weightDecay?: number;
  betas?: readonly [number, number];
  eps?: number;
  biasCorrection?: boolean;
  epsMode?: EpsModeName;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  stateFull?: StateFullName;
  /** The rule on the unselected part; 'none': the decoupled decay alone. */
  stateFree?: StateFreeName;
  /** lr of the state-full part = lr * stateFullLrScale (GaLore's scale, Grass's alpha). */
  stateFullLrScale?: number;
  /**
   * lr of the state-free part = lr * stateFullLrScale * stateFreeLrScale, as in FRUGAL's code.
   * Grass alone states it relative to lr: lr * stateFreeLrScale (see lib/optim/grass.ts).
   */
  stateFreeLrScale?: number;
  selection?: SelectionName | SelectionFunction;
  /** With a selection function: what its results select. */
  selectionKind?: SelectionKind;
  /**
   * [0, 1]: the state-full fraction. Blocks round(N * density); lines int(lines * density);
   * dense bases round(len * density) of the projected side (left: rows, right: columns), capped at
   * min(rows, cols). 0: nothing state-full, the state-free rule alone (FRUGAL's rho = 0).
   */
  density?: number;
  /** > 0 overrides density for svd, random, randperm and grass selections (capped at the matrix). */
  rank?: number;
  updateGap?: number;
  /** Blocks ignore it: a block refresh always starts the chosen blocks afresh, as the authors' code. */
  resetStatistics?: boolean;
  /**
   * Blocks: descending / ascending walks, mirror pairs (i, N-1-i) (an even count), random a fresh
   * subset at every refresh (BAdam's random: one permutation per cycle).
   */
  blockOrder?: BlockOrderName;
  side?: SideName;
  randomizedSvd?: boolean;
  /** Grass: how rows/columns are chosen. */
  sampling?: SamplingName;
  replacement?: boolean;
  /** Grass: 'std' selects the smaller side. */
  orientation?: 'std' | 'rows' | 'columns';
  stateDtype?: StateDtypeName;
  seed?: number | bigint;
  /** false: plain AdamW for this group (embeddings, norms, LM head). Default true. */
  projectable?: boolean;
  /** BAdam: steps between block switches. */
  switchEvery?: number;
}

export interface OptimizerOptions extends GroupOptions {
  /** Global gradient-norm clipping, computed on the device (0 disables). */
  maxGradNorm?: number;
  /**
   * A gradient with NaN or Inf: 'propagate' (default: reaches the params), 'skip' (the step is a
   * no-op, decided on the device without a sync, counted by skippedSteps()), 'error' (the step
   * throws naming the params, before any change; one host sync per step). Optimizer-wide.
   */
  nonFinite?: 'propagate' | 'skip' | 'error';
}

export interface ParamGroupInput extends GroupOptions {
  params: readonly Tensor[];
  /**
   * 'blocks' selection: one id per param; params sharing an id > 0 are one block (a layer),
   * 0 makes a param a block of its own (the default).
   */
  blockIds?: readonly number[];
}

/** A param group as the optimizer holds it: its params and every option, changeable between steps. */
export interface ParamGroup extends GroupOptions {
  readonly params: readonly Tensor[];
  readonly blockIds?: readonly number[];
}

/** What a method may need to know about one of the core's groups beyond its options. */
export interface NativeGroupContext {
  /** Distinct blocks among the group's params (block ids, and params that are blocks alone). */
  blocks: number;
}

export type FullOptions = Required<GroupOptions>;

export const FRAMEWORK_DEFAULTS: FullOptions = {
  ...OPTION_DEFAULTS,
  betas: [...OPTION_DEFAULTS.betas],
  selectionKind: 'blocks',
  orientation: 'std',
  projectable: true,
  switchEvery: 100,
};

// ---- checks ----

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const nonNegative: Check = { expected: 'a finite number >= 0', ok: (v) => isNumber(v) && v >= 0 };
const boolean: Check = { expected: 'a boolean', ok: (v) => typeof v === 'boolean' };
const unitOpen: Check = { expected: 'a number in [0, 1)', ok: (v) => isNumber(v) && v >= 0 && v < 1 };
/** The options actually given: an option set to undefined means "not given" (its default applies). */
export function givenOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function oneOf(...names: string[]): Check {
  return { expected: `one of ${names.map((n) => `'${n}'`).join(', ')}`, ok: (v) => names.includes(v as string) };
}
const positiveInteger: Check = { expected: 'an integer >= 1', ok: (v) => Number.isSafeInteger(v) && (v as number) >= 1 };

export const SELECTION_NAMES: SelectionName[] = [...SCHEMA_SELECTION_NAMES];

/**
 * What a group takes from its state-full rule where the caller gives nothing (the rule's defaults
 * in the schema: Lion's betas (0.9, 0.99) where the method's would be Adam's), for the options the
 * method accepts. The rule is the caller's stateFull, else the method's.
 */
export function ruleDefaults(spec: MethodSpec, stateFull: StateFullName | undefined): GroupOptions {
  const rule = stateFull ?? spec.fixed.stateFull ?? spec.defaults.stateFull ?? FRAMEWORK_DEFAULTS.stateFull;
  const defaults: Record<string, unknown> = UPDATE_RULES[rule].optionDefaults;
  return Object.fromEntries(Object.entries(defaults).filter(([k]) => (spec.accepts as readonly string[]).includes(k)));
}

export const OPTION_CHECKS: Record<keyof OptimizerOptions, Check> = {
  ...SCHEMA_CHECKS,
  betas: {
    expected: 'two numbers in [0, 1)',
    ok: (v) => Array.isArray(v) && v.length === 2 && v.every((b) => unitOpen.ok(b)),
  },
  // A nonzero eps below the smallest normal float32 (1.1754944e-38) is 0 or subnormal on the
  // device and turns a zero gradient's Adam update into 0 / 0 (the core also checks the eps that
  // bias-correction folding leaves, which depends on beta2).
  eps: {
    expected: 'a finite number >= 0: 0, or at least 1.1754944e-38 (the smallest normal float32)',
    ok: (v) => isNumber(v) && (v === 0 || v >= 1.1754943508222875e-38),
  },
  selection: {
    expected: `${SELECTION_NAMES.map((n) => `'${n}'`).join(', ')} or a function`,
    ok: (v) => typeof v === 'function' || SELECTION_NAMES.includes(v as SelectionName),
  },
  selectionKind: oneOf('blocks', 'columns', 'rows', 'coordinates', 'grass'),
  orientation: oneOf('std', 'rows', 'columns'),
  seed: {
    expected: 'an integer in [0, 2^64) (a bigint above 2^53 - 1)',
    ok: (v) =>
      (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ||
      (typeof v === 'bigint' && v >= 0n && v < 1n << 64n),
  },
  projectable: boolean,
  switchEvery: positiveInteger,
  maxGradNorm: nonNegative,
  nonFinite: oneOf('propagate', 'skip', 'error'),
};

// ---- methods ----

export interface MethodSpec {
  name: string;
  /** Group-level options the method accepts (maxGradNorm is always accepted, optimizer-wide). */
  accepts: readonly (keyof GroupOptions)[];
  /** Values shown in paramGroups when the caller gives none. */
  defaults: GroupOptions;
  /** Settings the method implies; not options of its own. */
  fixed: GroupOptions;
  /** Narrower checks for some options (e.g. BAdam's block orders). */
  checks?: Partial<Record<keyof GroupOptions, Check>>;
  /** The method's last word on the native options (SGD's weight decay is L2, ...). */
  adjust?(native: NativeGroupOptions, options: FullOptions, group: NativeGroupContext): void;
  /** Extra entries of layoutKey: method options that fix the state layout (SGD: momentum zero or not). */
  layout?(options: FullOptions): Record<string, string>;
}

/** Checks one option value; throws "<Method>: option 'x' must be <expected>, got <value>". */
export function checkOption(spec: MethodSpec, name: string, value: unknown, where = ''): void {
  const check = (spec.checks as Record<string, Check> | undefined)?.[name] ?? (OPTION_CHECKS as Record<string, Check>)[name];
  if (!check.ok(value)) {
    throw new RangeError(`${spec.name}: ${where}option '${name}' must be ${check.expected}, got ${describeValue(value)}`);
  }
}

/** Validates a group's options object (params excluded): every name known, every value in range. */
export function checkGroupOptions(spec: MethodSpec, options: Record<string, unknown>, where = ''): void {
  for (const [name, value] of Object.entries(options)) {
    if (name === 'params' || name === 'blockIds' || value === undefined) continue;
    if (!(spec.accepts as readonly string[]).includes(name)) {
      const hint = name === 'maxGradNorm' ? ' (maxGradNorm is optimizer-wide: pass it with the defaults)' : '';
      throw new TypeError(
        `${spec.name}: ${where}unknown option '${name}'${hint}; accepted: ${[...spec.accepts, 'maxGradNorm'].join(', ')}`,
      );
    }
    checkOption(spec, name, value, where);
  }
  const o = options as GroupOptions;
  if (o.nesterov && !((o.momentum ?? 0) > 0 && (o.dampening ?? 0) === 0)) {
    throw new RangeError(`${spec.name}: ${where}option 'nesterov' requires momentum > 0 and dampening 0`);
  }
}

// ---- translation to the C API ----

const RULE = RULE_CODES;
const ORDER = BLOCK_ORDER_CODES;
/**
 * Native values no option names, set by a method's adjust: FREEZE leaves the unselected blocks
 * untouched, decay included (BAdam; stateFree 'none' decays them, as FRUGAL does), RANDOM_CYCLE
 * walks one random permutation of the blocks per cycle (BAdam; FRUGAL's 'random' draws a fresh
 * subset at every refresh).
 */
export const NATIVE_RULE_FREEZE = RULE_CODES.freeze;
export const NATIVE_ORDER_RANDOM_CYCLE = BLOCK_ORDER_CODES.random_cycle;
const SIDE = SIDE_CODES;
// Grass orientation travels in the side field: STD, LEFT = rows, RIGHT = columns.
const ORIENTATION = { std: SIDE_CODES.std, rows: SIDE_CODES.left, columns: SIDE_CODES.right } as const;
const SAMPLING = GRASS_SAMPLING_CODES;

/** Which part of a param group a native group holds. */
export type GroupPart = 'whole' | 'projected' | 'regular';

/** Whether a selection splits a group into projected 2-D params and regular (plain AdamW) ones. */
export function isProjection(o: FullOptions): boolean {
  return o.selection !== 'all' && o.selection !== 'none';
}

export function nativeOptions(spec: MethodSpec, o: FullOptions, part: GroupPart, group: NativeGroupContext): NativeGroupOptions {
  const external = typeof o.selection === 'function';
  const selection: SelectionName = external ? o.selectionKind : (o.selection as SelectionName);
  const out: NativeGroupOptions = {
    lr: o.lr,
    weight_decay: o.weightDecay,
    state_full: RULE[o.stateFull],
    beta1: o.betas[0],
    beta2: o.betas[1],
    eps: o.eps,
    bias_correction: o.biasCorrection,
    eps_mode: EPS_MODE_CODES[o.epsMode],
    momentum: o.momentum,
    dampening: o.dampening,
    nesterov: o.nesterov,
    l2: 0,
    state_full_lr_scale: o.stateFullLrScale,
    state_dtype: DTYPE_CODES[o.stateDtype],
    state_free: RULE[o.stateFree],
    state_free_lr_scale: o.stateFreeLrScale,
    selection: SELECTION_CODES[selection],
    density: o.density,
    rank: o.rank,
    update_gap: o.updateGap,
    reset_statistics: o.resetStatistics,
    external_selection: external,
    block_order: ORDER[o.blockOrder],
    side: selection === 'grass' ? ORIENTATION[o.orientation] : SIDE[o.side],
    randomized_svd: o.randomizedSvd,
    grass_sampling: SAMPLING[o.sampling],
    grass_replacement: o.replacement,
    seed: BigInt(o.seed),
  };
  if (part !== 'regular') spec.adjust?.(out, o, group);
  if (part === 'regular') {
    // Regular params (embeddings, norms, LM head, 1-D tensors): plain AdamW with the group's
    // lr, decay, betas and eps, unscaled.
    Object.assign(out, {
      selection: 0, state_full: RULE.adamw, state_free: RULE.none, state_full_lr_scale: 1, state_free_lr_scale: 1,
      external_selection: false, density: 1, rank: 0, momentum: 0, dampening: 0, nesterov: false,
    });
  }
  return out;
}

/**
 * Options that shape the optimizer's state (the core fixes them once a group exists); a change
 * between steps is refused with the option's name.
 */
export function layoutKey(spec: MethodSpec, o: FullOptions): Record<string, string> {
  return {
    ...spec.layout?.(o),
    selection: typeof o.selection === 'function' ? 'a function' : o.selection,
    selectionKind: typeof o.selection === 'function' ? o.selectionKind : '-',
    stateFull: o.stateFull,
    stateDtype: o.stateDtype,
    side: o.side,
    orientation: o.orientation,
    projectable: String(o.projectable),
  };
}
