// Independent JS implementations of the storage rounding (bf16, fp16) and of the update rules
// (PyTorch's formulas, in float64), deterministic gradients, and array comparisons.
import { Tensor } from '../../lib';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> bfloat16 -> float32, round to nearest even. */
export function roundBf16(x: number): number {
  f32[0] = x;
  const u = u32[0];
  u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f32[0];
}

/** float32 -> float16 -> float32, round to nearest even (subnormals, overflow to infinity). */
export function roundF16(x: number): number {
  x = Math.fround(x);
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  e = Math.max(e, -14);
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  const fl = Math.floor(q);
  const r = q - fl > 0.5 || (q - fl === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  const v = r * ulp;
  return Math.sign(x) * (v >= 65520 ? Infinity : v);
}

export function roundTo(dtype: string, x: number): number {
  if (dtype === 'bfloat16') return roundBf16(x);
  if (dtype === 'float16') return roundF16(x);
  return Math.fround(x);
}

/** Relative spacing of representable values near 1 for a float dtype (one ulp relative). */
export function ulp(dtype: string): number {
  return dtype === 'bfloat16' ? 2 ** -7 : dtype === 'float16' ? 2 ** -10 : 2 ** -23;
}

/** |a - b| <= abs + rel * |b| element-wise, with the first mismatch in the failure message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 0): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = abs + rel * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`element ${i}: ${actual[i]} differs from ${expected[i]} by more than ${tol}`);
    }
  }
}

/** Bit-for-bit equality of two float arrays (NaNs and signed zeros included). */
export function expectBitIdentical(actual: Float32Array | Int32Array, expected: Float32Array | Int32Array): void {
  expect(Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength), Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))).toBe(0);
}

/** Deterministic gradients: fresh normal values for each (step, param), the same on every device. */
export function setGrads(params: Tensor[], step: number, scale = 1): void {
  params.forEach((p, i) => {
    p.grad?.dispose();
    const g = Tensor.randn(p.shape, { seed: 1000 * step + i + 1, std: scale, dtype: p.dtype, device: p.device });
    p.grad = g;
  });
}

// ---- reference update rules (PyTorch semantics, float64 math, storage rounding per dtype) ----

export interface AdamWRef {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  epsMode?: 'torch' | 'hf';
  stateDtype?: string;
}

/** One AdamW step (torch.optim.AdamW) in place on p, m, v; t is the 1-based step. */
export function adamwStep(p: number[], g: ArrayLike<number>, m: number[], v: number[], t: number, o: AdamWRef, dtype: string): void {
  const [b1, b2] = o.betas;
  const bc1 = 1 - b1 ** t;
  const bc2 = 1 - b2 ** t;
  const sd = o.stateDtype ?? 'float32';
  for (let i = 0; i < p.length; i++) {
    let x = p[i] * (1 - o.lr * o.weightDecay);
    m[i] = roundTo(sd, b1 * m[i] + (1 - b1) * g[i]);
    v[i] = roundTo(sd, b2 * v[i] + (1 - b2) * g[i] * g[i]);
    if (o.epsMode === 'hf') x -= ((o.lr * Math.sqrt(bc2)) / bc1) * (m[i] / (Math.sqrt(v[i]) + o.eps));
    else x -= (o.lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + o.eps);
    p[i] = roundTo(dtype, x);
  }
}

export interface SGDRef {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** One torch.optim.SGD step in place; buf is null before the first step. */
export function sgdStep(p: number[], g: ArrayLike<number>, buf: number[] | null, o: SGDRef, dtype: string): number[] | null {
  const d = p.map((x, i) => g[i] + o.weightDecay * x);
  let next = buf;
  if (o.momentum !== 0) {
    next = buf === null ? d.slice() : buf.map((b, i) => o.momentum * b + (1 - o.dampening) * d[i]);
    next = next.map(Math.fround);
    for (let i = 0; i < d.length; i++) d[i] = o.nesterov ? d[i] + o.momentum * next[i] : next[i];
  }
  for (let i = 0; i < p.length; i++) p[i] = roundTo(dtype, p[i] - o.lr * d[i]);
  return next;
}

/** One signSGD step: decoupled decay, then p -= lr * sign(g). */
export function signSgdStep(p: number[], g: ArrayLike<number>, lr: number, weightDecay: number, dtype: string): void {
  for (let i = 0; i < p.length; i++) p[i] = roundTo(dtype, p[i] * (1 - lr * weightDecay) - lr * Math.sign(g[i]));
}
