// A one-time copy of caller-supplied plain data (a state dict, an options object) taken before
// any check: every property is read exactly once, so a getter or Proxy cannot pass the checks
// with one value and hand the code that uses it another. Typed arrays are copied through their
// internal length into plain arrays of the same element type (a SharedArrayBuffer's contents
// could otherwise change after the checks).
import { types } from 'util';

const TYPED_ARRAY_COPIERS: [(v: unknown) => boolean, (v: never) => ArrayBufferView][] = [
  [types.isFloat32Array, (v: Float32Array) => new Float32Array(v)],
  [types.isFloat64Array, (v: Float64Array) => new Float64Array(v)],
  [types.isInt32Array, (v: Int32Array) => new Int32Array(v)],
  [types.isUint32Array, (v: Uint32Array) => new Uint32Array(v)],
  [types.isInt16Array, (v: Int16Array) => new Int16Array(v)],
  [types.isUint16Array, (v: Uint16Array) => new Uint16Array(v)],
  [types.isInt8Array, (v: Int8Array) => new Int8Array(v)],
  [types.isUint8Array, (v: Uint8Array) => new Uint8Array(v)],
  [types.isBigInt64Array, (v: BigInt64Array) => new BigInt64Array(v)],
  [types.isBigUint64Array, (v: BigUint64Array) => new BigUint64Array(v)],
];

// Deeper than any state dict; past it values are kept as they are (and then checked as they are).
const MAX_DEPTH = 16;

export function snapshotData<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (ArrayBuffer.isView(value)) {
    for (const [is, copy] of TYPED_ARRAY_COPIERS) if (is(value)) return copy(value as never) as T;
    return value;
  }
  if (Array.isArray(value)) {
    const items = Array.prototype.slice.call(value) as unknown[];
    return items.map((v) => snapshotData(v, depth + 1)) as T;
  }
  if (types.isProxy(value) || Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = snapshotData((value as Record<string, unknown>)[k], depth + 1);
    return out as T;
  }
  return value;
}
