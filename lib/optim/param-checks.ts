// Checks and conversions for what callers hand an optimizer: params and param groups, block
// ids, gradients, and the results of selection functions. Each throws an Error naming the param
// and what was expected.
import { types } from 'util';
import { Device } from '../device';
import { describeValue, isFloatDtype } from '../dtype';
import { NativeOptimizer, NativeStateTensor } from '../native';
import { shapeToString, Tensor } from '../tensor';
import { ParamGroup, ParamGroupInput, SelectionResult } from './options';

export type ParamsInput = readonly Tensor[] | readonly ParamGroupInput[];

// A param's state tensors that hold elements: an empty slot (an inactive block) is no state.
export function liveStateTensors(opt: NativeOptimizer, param: number): NativeStateTensor[] {
  return opt.stateTensors(param).filter((t) => t.count > 0);
}

export function normalizeGroups(name: string, params: ParamsInput): ParamGroupInput[] {
  const usage = `${name}: params must be a non-empty array of Tensors or of param groups {params: Tensor[], ...options}`;
  if (!Array.isArray(params) || params.length === 0) throw new TypeError(usage);
  if (params.every((p) => p instanceof Tensor)) return [{ params: params as Tensor[] }];
  return (params as unknown[]).map((g, i) => {
    if (typeof g !== 'object' || g === null || g instanceof Tensor || !Array.isArray((g as ParamGroupInput).params)) {
      throw new TypeError(`${usage}; group ${i} is ${describeValue(g)}`);
    }
    const group = g as ParamGroupInput;
    if (group.params.length === 0) throw new TypeError(`${name}: group ${i} has no params`);
    group.params.forEach((t, j) => {
      if (!(t instanceof Tensor)) throw new TypeError(`${name}: group ${i}: params[${j}] is ${describeValue(t)}, not a Tensor`);
    });
    return group;
  });
}

// All params: live float tensors on one device, each given once. Returns the device.
export function checkParams(name: string, groups: ParamGroup[]): Device {
  const seen = new Set<Tensor>();
  let device: Device | undefined;
  let index = 0;
  for (const g of groups) {
    for (const t of g.params) {
      if (t.disposed) throw new Error(`${name}: param ${index} is disposed (tensor: disposed)`);
      if (!isFloatDtype(t.dtype)) throw new TypeError(`${name}: param ${index} has dtype ${t.dtype}; params must be float32, bfloat16 or float16`);
      try {
        t.assertAlive(); // a borrowed buffer detached, a view of freed memory
      } catch (e) {
        throw new Error(`${name}: param ${index}: ${(e as Error).message}`);
      }
      if (t.ndim === 0) throw new RangeError(`${name}: param ${index} is a scalar; params need at least one dimension`);
      if (t.numel === 0) throw new RangeError(`${name}: param ${index} has no elements (shape [${t.shape.join(',')}]); params need at least one`);
      if (seen.has(t)) throw new Error(`${name}: param ${index} appears more than once`);
      seen.add(t);
      device ??= t.device;
      if (t.device !== device) {
        throw new Error(`${name}: param ${index} is on '${t.device}' but param 0 is on '${device}'; one optimizer steps one device`);
      }
      index++;
    }
  }
  return device as Device;
}

export function checkBlockIds(name: string, group: number, ids: unknown, count: number): void {
  if (!Array.isArray(ids) || ids.length !== count || !ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new TypeError(`${name}: group ${group}: blockIds must be ${count} integers >= 0 (one per param), got ${describeValue(ids)}`);
  }
}

// Distinct blocks: each id > 0 once, each 0 (a block alone) on its own.
export function blockCount(ids: number[]): number {
  return new Set(ids.filter((id) => id > 0)).size + ids.filter((id) => id === 0).length;
}

// A gradient-like tensor must be live and match the param's device and dtype, and `shape`.
export function checkLike(label: string, what: string, g: unknown, param: Tensor, shape: readonly number[], alsoFloat32 = false): void {
  if (!(g instanceof Tensor)) throw new TypeError(`${label}: ${what} must be a Tensor, got ${describeValue(g)}`);
  if (g.disposed) throw new Error(`${label}: ${what} is disposed (tensor: disposed)`);
  if (g.device !== param.device) throw new Error(`${label}: ${what} is on '${g.device}' but the param is on '${param.device}'`);
  if (g.dtype !== param.dtype && !(alsoFloat32 && g.dtype === 'float32')) {
    throw new TypeError(`${label}: ${what} dtype ${g.dtype} does not match param dtype ${param.dtype}${alsoFloat32 ? ' (or float32)' : ''}`);
  }
  if (shapeToString(g.shape) !== shapeToString(shape)) {
    const whose = what === 'grad' ? 'param shape' : 'expected shape';
    throw new RangeError(`${label}: ${what} shape ${shapeToString(g.shape)} does not match ${whose} ${shapeToString(shape)}`);
  }
}

export function integers(values: readonly number[] | Int32Array, what: string): Int32Array {
  if (types.isInt32Array(values)) return values;
  if (!Array.isArray(values)) throw new TypeError(`${what}: indices must be an array of integers, got ${describeValue(values)}`);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new RangeError(`${what}: index ${i} is ${describeValue(v)}, not a 32-bit integer`);
    }
  });
  return Int32Array.from(values);
}

export function selectionArrays(result: SelectionResult, what: string): { indices: Int32Array; scales: Float32Array | null } {
  if (typeof result === 'boolean') return { indices: Int32Array.of(result ? 1 : 0), scales: null };
  if (Array.isArray(result) || types.isInt32Array(result)) return { indices: integers(result as number[], what), scales: null };
  if (typeof result === 'object' && result !== null && 'indices' in result) {
    const indices = integers(result.indices, what);
    const s = result.scales;
    if (s === undefined || s === null) return { indices, scales: null };
    const scales = types.isFloat32Array(s) ? s : Array.isArray(s) ? Float32Array.from(s) : null;
    if (!scales) throw new TypeError(`${what}: scales must be numbers or a Float32Array, got ${describeValue(s)}`);
    if (scales.length !== indices.length) {
      throw new RangeError(`${what}: ${scales.length} scales for ${indices.length} indices`);
    }
    return { indices, scales };
  }
  throw new TypeError(
    `${what}: must return a boolean (blocks), indices (number[] or Int32Array) or {indices, scales}, got ${describeValue(result)}`,
  );
}
