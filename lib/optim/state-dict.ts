// The optimizer state dict: plain JS data (host copies of every state tensor, counters, group
// options, group steps and RNG words) that round-trips through loadStateDict and the
// safetensors checkpoint. Structural checks live here so loadStateDict can refuse a bad dict
// before it touches anything.
import { describeValue, DType, DTYPES } from '../dtype';
import { shapeToString } from '../tensor';
import { GroupOptions, GroupPart, SELECTION_NAMES, SelectionName } from './options';

export const STATE_DICT_FORMAT = 'frugal-optim/1';

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

/**
 * Checks a state dict's structure against the optimizer's params (shapes in order) and group
 * count. Throws with a message naming the first mismatch.
 */
export function checkStateDictStructure(
  sd: unknown,
  optimizer: string,
  shapes: readonly (readonly number[])[],
  groupCount: number,
): asserts sd is OptimizerStateDict {
  if (typeof sd !== 'object' || sd === null) fail(`expected a state dict object, got ${describeValue(sd)}`);
  const d = sd as Partial<OptimizerStateDict>;
  if (d.format !== STATE_DICT_FORMAT) fail(`format is ${describeValue(d.format)}, expected '${STATE_DICT_FORMAT}'`);
  if (d.optimizer !== optimizer) fail(`the state dict is for ${describeValue(d.optimizer)}, this optimizer is '${optimizer}'`);
  if (!isCount(d.step)) fail(`step must be a non-negative integer, got ${describeValue(d.step)}`);
  if (typeof d.maxGradNorm !== 'number' || !(d.maxGradNorm >= 0)) fail(`maxGradNorm must be a number >= 0`);
  if (!Array.isArray(d.groups) || d.groups.length !== groupCount) {
    fail(`it has ${Array.isArray(d.groups) ? d.groups.length : 'no'} param groups, this optimizer has ${groupCount}`);
  }
  d.groups.forEach((g, i) => {
    if (typeof g !== 'object' || g === null || typeof g.options !== 'object' || !Array.isArray(g.native)) {
      fail(`group ${i}: expected {options, native}`);
    }
    g.native.forEach((n, j) => {
      if (!isCount(n.step) || !Array.isArray(n.rng) || n.rng.length !== 4 || !n.rng.every((w) => /^\d+$/.test(String(w)))) {
        fail(`group ${i}: native group ${j}: expected {part, step, rng: 4 decimal words}`);
      }
    });
  });
  if (!Array.isArray(d.params) || d.params.length !== shapes.length) {
    fail(`it has ${Array.isArray(d.params) ? d.params.length : 'no'} params, this optimizer has ${shapes.length}`);
  }
  d.params.forEach((p, i) => {
    if (typeof p !== 'object' || p === null) fail(`param ${i}: expected an object`);
    if (!Array.isArray(p.shape) || shapeToString(p.shape) !== shapeToString(shapes[i])) {
      const given = Array.isArray(p.shape) ? shapeToString(p.shape) : describeValue(p.shape);
      fail(`param ${i}: shape ${given} does not match the param's ${shapeToString(shapes[i])}`);
    }
    const c = p.counters;
    if (
      typeof c !== 'object' || c === null || !isCount(c.step) || !isCount(c.stateStep) || typeof c.active !== 'boolean' ||
      !SELECTION_NAMES.includes(c.kind) || !isCount(c.axis) || !isCount(c.selectionCount)
    ) {
      fail(`param ${i}: counters must be {step, stateStep, active, kind, axis, selectionCount}`);
    }
    if (!Array.isArray(p.state)) fail(`param ${i}: state must be an array of tensors`);
    for (const t of p.state) {
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string') fail(`param ${i}: a state tensor has no name`);
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
    }
  });
}
