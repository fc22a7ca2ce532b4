// Element types: names for users, codes for the C API (frugal_dtype), sizes for byte math.

import { types } from 'util';

export type DType = 'float32' | 'bfloat16' | 'float16' | 'int32';

export const DTYPES: readonly DType[] = ['float32', 'bfloat16', 'float16', 'int32'];

const CODES: Record<DType, number> = { float32: 0, bfloat16: 1, float16: 2, int32: 3 };
const SIZES: Record<DType, number> = { float32: 4, bfloat16: 2, float16: 2, int32: 4 };

export function dtypeCode(dtype: DType): number {
  return CODES[checkDtype(dtype)];
}

export function dtypeFromCode(code: number): DType {
  const d = DTYPES[code];
  if (d === undefined) throw new Error(`dtype: unknown dtype code ${code}`);
  return d;
}

/** Bytes per element; throws for a name that is not a DType (never undefined). */
export function dtypeSize(dtype: DType): number {
  return SIZES[checkDtype(dtype, 'dtypeSize: dtype')];
}

// The largest magnitude that still rounds to a finite value in each float dtype (round to nearest
// even: the midpoint between the largest finite value and the next power of two rounds up to Inf).
// The core rounds a double to float32 first, so the 16-bit limits stay one float32 ulp below theirs.
const FINITE_LIMITS: Record<DType, number> = {
  float32: 2 ** 128 - 2 ** 103,
  bfloat16: 2 ** 128 - 2 ** 119 - 2 ** 104,
  float16: 65520 - 2 ** -8,
  int32: 2 ** 31,
};

/** True when `value` is finite and stays finite when rounded to `dtype` (int32: fits in 32 bits). */
export function fitsDtype(value: number, dtype: DType): boolean {
  if (!Number.isFinite(value)) return false;
  if (dtype === 'int32') return value >= -(2 ** 31) && value < 2 ** 31;
  return Math.abs(value) < FINITE_LIMITS[dtype];
}

export function isFloatDtype(dtype: DType): boolean {
  return dtype !== 'int32';
}

/** Validates a user-supplied dtype name. */
export function checkDtype(value: unknown, what = 'dtype'): DType {
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(CODES, value)) return value as DType;
  throw new TypeError(`${what}: expected one of ${DTYPES.map((d) => `'${d}'`).join(', ')}, got ${describeValue(value)}`);
}

/** A short rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (types.isAnyArrayBuffer(value)) return 'an ArrayBuffer';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
