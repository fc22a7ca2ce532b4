// The optimizer state dict: plain JS data (host copies of every state tensor, counters, group
// options, group steps and RNG words) that round-trips through loadStateDict and the
// safetensors checkpoint. Structural checks live here so loadStateDict can refuse a bad dict
// before it touches anything.
import { describeValue, DType, DTYPES } from '../dtype';
import { shapeToString } from '../tensor';
import { GroupOptions, GroupPart, SELECTION_NAMES, SelectionName } from './options';
import { AXIS_COLS, AXIS_COORDS, AXIS_ROWS, checkStateValues } from './state-values';

export const STATE_DICT_FORMAT = 'frugal-optim/1';

const GROUP_PARTS: readonly string[] = ['whole', 'projected', 'regular'] satisfies GroupPart[];

export type StateArray = Float32Array | Uint16Array | Int32Array;

export interface StateTensorData {
  /** "exp_avg", "exp_avg_sq", "momentum_buffer", "indices", "scales", "mask", "basis". */
  name: string;
  dtype: DType;
  count: number;
  /** Raw elements: bf16/fp16 as their bits (Uint16Array), so a reload is bit-exact. */
  data: StateArray;
}

export interface ParamCountersData {
  step: number;
  stateStep: number;
  active: boolean;
  kind: SelectionName;
  axis: number;
  selectionCount: number;
}

export interface ParamStateData {
  shape: number[];
  counters: ParamCountersData;
  state: StateTensorData[];
}

export interface NativeGroupStateData {
  part: GroupPart;
  step: number;
  /** The group's selection RNG, 4 uint64 words as decimal strings. */
  rng: string[];
}

export type OptionValue = number | string | boolean | number[];

export interface GroupStateData {
  /** The group's options; a selection function is recorded as 'function' (the loader keeps its own). */
  options: Record<string, OptionValue>;
  native: NativeGroupStateData[];
}

export interface OptimizerStateDict {
  format: string;
  optimizer: string;
  step: number;
  maxGradNorm: number;
  /** Steps skipped for a non-finite gradient (nonFinite 'skip'); absent in older dicts. */
  skippedSteps?: number;
  groups: GroupStateData[];
  params: ParamStateData[];
}

/** The typed array that holds `count` raw elements of `dtype`. */
export function stateArray(dtype: DType, count: number): StateArray {
  if (dtype === 'float32') return new Float32Array(count);
  if (dtype === 'int32') return new Int32Array(count);
  return new Uint16Array(count);
}

/** Options as JSON-safe values: seeds as decimal strings, functions as 'function'. */
export function encodeOptions(group: GroupOptions, names: readonly string[]): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  const g = group as Record<string, unknown>;
  for (const name of names) {
    const v = g[name];
    if (v === undefined) continue;
    if (typeof v === 'function') out[name] = 'function';
    else if (name === 'seed') out[name] = String(v);
    else if (Array.isArray(v)) out[name] = v.slice();
    else out[name] = v as OptionValue;
  }
  return out;
}

/** The inverse of encodeOptions (a 'function' selection is left to the caller). */
export function decodeOptionValue(name: string, value: OptionValue): unknown {
  if (name === 'seed' && typeof value === 'string') {
    if (!/^\d+$/.test(value)) return value;
    const b = BigInt(value);
    return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  return value;
}

function fail(message: string): never {
  throw new Error(message);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Structural and value checks of a dict on its own (no optimizer needed); throws naming the field. */
export function checkStateDictSelf(sd: unknown): asserts sd is OptimizerStateDict {
  if (typeof sd !== 'object' || sd === null) fail(`expected a state dict object, got ${describeValue(sd)}`);
  const d = sd as Partial<OptimizerStateDict>;
  if (d.format !== STATE_DICT_FORMAT) fail(`format is ${describeValue(d.format)}, expected '${STATE_DICT_FORMAT}'`);
  if (typeof d.optimizer !== 'string') fail(`optimizer must be a name, got ${describeValue(d.optimizer)}`);
  if (!isCount(d.step)) fail(`step must be a non-negative integer, got ${describeValue(d.step)}`);
  if (typeof d.maxGradNorm !== 'number' || !Number.isFinite(d.maxGradNorm) || d.maxGradNorm < 0) {
    fail(`maxGradNorm must be a finite number >= 0, got ${describeValue(d.maxGradNorm)}`);
  }
  if (!Array.isArray(d.groups)) fail(`groups must be an array, got ${describeValue(d.groups)}`);
  d.groups.forEach((g, i) => {
    if (typeof g !== 'object' || g === null || typeof g.options !== 'object' || g.options === null || !Array.isArray(g.native)) {
      fail(`group ${i}: expected {options, native}`);
    }
    g.native.forEach((n, j) => {
      if (
        typeof n !== 'object' || n === null || typeof n.part !== 'string' || !isCount(n.step) ||
        !Array.isArray(n.rng) || n.rng.length !== 4 || !n.rng.every((w) => typeof w === 'string' && /^\d+$/.test(w) && BigInt(w) < 2n ** 64n)
      ) {
        fail(`group ${i}: native group ${j}: expected {part, step, rng: 4 decimal words}`);
      }
      // A group steps at most once per optimizer step.
      if (n.step > (d.step as number)) fail(`group ${i}: native group ${j}: step ${n.step} exceeds the optimizer's step ${d.step}`);
      if (!GROUP_PARTS.includes(n.part)) fail(`group ${i}: native group ${j}: part ${describeValue(n.part)} is not one of ${GROUP_PARTS.join(', ')}`);
      // xoshiro256 has no way out of the all-zero state: it would draw 0 forever.
      if (n.rng.every((w) => BigInt(w) === 0n)) fail(`group ${i}: native group ${j}: rng state is all zero, which xoshiro256 never reaches`);
    });
  });
  if (!Array.isArray(d.params)) fail(`params must be an array, got ${describeValue(d.params)}`);
  const duplicatesAllowed = d.groups.some((g) => g.options.replacement === true || g.options.selection === 'function');
  d.params.forEach((p, i) => {
    if (typeof p !== 'object' || p === null) fail(`param ${i}: expected an object`);
    if (!Array.isArray(p.shape) || !p.shape.every(isCount)) fail(`param ${i}: shape must be a list of non-negative integers, got ${describeValue(p.shape)}`);
    const c = p.counters;
    if (
      typeof c !== 'object' || c === null || !isCount(c.step) || !isCount(c.stateStep) || typeof c.active !== 'boolean' ||
      !SELECTION_NAMES.includes(c.kind) || !isCount(c.axis) || !isCount(c.selectionCount)
    ) {
      fail(`param ${i}: counters must be {step, stateStep, active, kind, axis, selectionCount} with integers >= 0`);
    }
    // stateStep counts the steps since the state was (re)started, so it never exceeds step.
    if (c.step > (d.step as number)) fail(`param ${i}: counters.step ${c.step} exceeds the optimizer's step ${d.step}`);
    if (c.stateStep > c.step) fail(`param ${i}: counters.stateStep ${c.stateStep} exceeds counters.step ${c.step}`);
    const axisOf: Partial<Record<SelectionName, number[]>> = {
      rows: [AXIS_ROWS], columns: [AXIS_COLS], coordinates: [AXIS_COORDS], grass: [AXIS_ROWS, AXIS_COLS],
      svd: [AXIS_ROWS, AXIS_COLS], random: [AXIS_ROWS, AXIS_COLS], randperm: [AXIS_ROWS, AXIS_COLS],
    };
    const axes = axisOf[c.kind];
    // With nothing selected (saved before the first refresh) the axis carries nothing: versions
    // before this check wrote 0 there for every kind.
    if (axes && c.selectionCount > 0 && !axes.includes(c.axis)) fail(`param ${i}: counters.axis ${c.axis} does not fit selection '${c.kind}' (expected ${axes.join(' or ')})`);
    if (!Array.isArray(p.state)) fail(`param ${i}: state must be an array of tensors`);
    const seen = new Set<string>();
    for (const t of p.state) {
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string') fail(`param ${i}: a state tensor has no name`);
      if (seen.has(t.name)) fail(`param ${i}: state '${t.name}' is listed twice`);
      seen.add(t.name);
      if (!DTYPES.includes(t.dtype) || !isCount(t.count)) fail(`param ${i}: state '${t.name}' needs a dtype and a count`);
      const expected = stateArray(t.dtype, 0).constructor;
      // Compared by tag, not instanceof: arrays from another realm (vm, jest) are fine.
      const tag = ArrayBuffer.isView(t.data) ? Object.prototype.toString.call(t.data) : '';
      if (tag !== `[object ${expected.name}]` || t.data.length !== t.count) {
        fail(
          `param ${i}: state '${t.name}' must hold ${t.count} ${t.dtype} elements in a ${expected.name}, got ` +
            `${t.data ? `${t.data.constructor.name} of ${(t.data as StateArray).length}` : 'nothing'}`,
        );
      }
      checkStateValues(`param ${i}: state '${t.name}'`, t, { shape: p.shape, kind: c.kind, axis: c.axis, duplicatesAllowed });
    }
  });
}

/**
 * Checks a state dict's structure and values against the optimizer's params (shapes in order)
 * and group count. Throws with a message naming the first mismatch.
 */
export function checkStateDictStructure(
  sd: unknown,
  optimizer: string,
  shapes: readonly (readonly number[])[],
  groupCount: number,
): asserts sd is OptimizerStateDict {
  checkStateDictSelf(sd);
  if (sd.optimizer !== optimizer) fail(`the state dict is for ${describeValue(sd.optimizer)}, this optimizer is '${optimizer}'`);
  if (sd.groups.length !== groupCount) fail(`it has ${sd.groups.length} param groups, this optimizer has ${groupCount}`);
  if (sd.params.length !== shapes.length) fail(`it has ${sd.params.length} params, this optimizer has ${shapes.length}`);
  sd.params.forEach((p, i) => {
    if (shapeToString(p.shape) !== shapeToString(shapes[i])) {
      fail(`param ${i}: shape ${shapeToString(p.shape)} does not match the param's ${shapeToString(shapes[i])}`);
    }
  });
}
