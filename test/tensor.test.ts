// Tensors: round trips of every dtype, bf16/fp16 rounding, seeded random numbers, borrowed
// memory (ArrayBuffers and raw pointers), dispose and the memory accounting by category.
import * as v8 from 'v8';
import * as vm from 'vm';
import { DTYPES, memoryStats, resetPeakMemory, Tensor } from '../lib';
import { expectBitIdentical, roundBf16, roundF16 } from './helpers/update-rules';

describe('Tensor round trips', () => {
  const values = [0, 1, -2.5, 3.140625, 1e-3, -65504, 0.1, 1 / 3];

  test.each(DTYPES)('%s: fromArray -> toArray keeps shape and (rounded) values', (dtype) => {
    const data = dtype === 'int32' ? [0, 1, -2, 3, 2147483647, -2147483648, 7, 42] : values;
    const t = Tensor.fromArray(data, [2, 4], { dtype });
    expect(t.shape).toEqual([2, 4]);
    expect(t.dtype).toBe(dtype);
    expect(t.device).toBe('cpu');
    expect(t.numel).toBe(8);
    expect(t.nbytes).toBe(dtype === 'float32' || dtype === 'int32' ? 32 : 16);
    const back = t.toArray();
    expect(back).toBeInstanceOf(dtype === 'int32' ? Int32Array : Float32Array);
    const round = dtype === 'bfloat16' ? roundBf16 : dtype === 'float16' ? roundF16 : Math.fround;
    expect(Array.from(back)).toEqual(data.map((x) => (dtype === 'int32' ? x : round(x))));
    t.dispose();
  });

  test('bf16 rounds to nearest even, fp16 too, including subnormals and overflow', () => {
    // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to the even one (1).
    const bfIn = [1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -9, -(1 + 2 ** -8), 3.0e38];
    const bf = Tensor.fromArray(bfIn, [5], { dtype: 'bfloat16' }).toArray();
    expect(Array.from(bf)).toEqual([1, 1 + 2 ** -6, 1, -1, roundBf16(3.0e38)]);
    const hfIn = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 65519, 65520, 1e-9];
    const hf = Tensor.fromArray(hfIn, [8], { dtype: 'float16' }).toArray();
    expect(Array.from(hf)).toEqual([1, 1 + 2 ** -9, 2 ** -24, 0, 2 ** -23, 65504, Infinity, 0]);
    expect(Array.from(hf)).toEqual(hfIn.map(roundF16));
  });

  test('Float64Array and Int32Array inputs convert into the dtype', () => {
    expect(Array.from(Tensor.fromArray(new Float64Array([0.1, 2]), [2]).toArray())).toEqual([Math.fround(0.1), 2]);
    expect(Array.from(Tensor.fromArray(new Int32Array([5, -6]), [2], { dtype: 'float32' }).toArray())).toEqual([5, -6]);
    expect(Tensor.fromArray(new Int32Array([1])).dtype).toBe('int32');
    expect(() => Tensor.fromArray([1.5], [1], { dtype: 'int32' })).toThrow(/int32 data must be 32-bit integers/);
    expect(() => Tensor.fromArray([1, 2, 3], [2, 2])).toThrow(/holds 4 elements, data has 3/);
  });

  test('cast between dtypes, clone, copyFrom, to, fill', () => {
    const t = Tensor.fromArray([1.1, -2.2, 3.3], [3]);
    const b = t.cast('bfloat16');
    expect(b.dtype).toBe('bfloat16');
    expect(Array.from(b.toArray())).toEqual([1.1, -2.2, 3.3].map(roundBf16));
    expect(Array.from(b.cast('float32').toArray())).toEqual([1.1, -2.2, 3.3].map(roundBf16));
    expect(Array.from(t.cast('float16').toArray())).toEqual([1.1, -2.2, 3.3].map(roundF16));
    const c = t.clone();
    expect(c.dataPtr).not.toBe(t.dataPtr);
    expectBitIdentical(c.toArray(), t.toArray());
    c.fill(7);
    expect(Array.from(c.toArray())).toEqual([7, 7, 7]);
    expect(Array.from(t.toArray())).toEqual([1.1, -2.2, 3.3].map(Math.fround));
    t.copyFrom(c);
    expect(Array.from(t.toArray())).toEqual([7, 7, 7]);
    const moved = t.to('cpu');
    expect(moved.dataPtr).not.toBe(t.dataPtr);
    expect(() => t.copyFrom(b)).toThrow(/dtype bfloat16 does not match float32/);
    expect(() => t.copyFrom(Tensor.zeros([4]))).toThrow(/shape \[4\] does not match \[3\]/);
    for (const x of [t, b, c, moved]) x.dispose();
  });

  test('zeros, full and empty shapes', () => {
    expect(Array.from(Tensor.zeros([2, 2], { dtype: 'float16' }).toArray())).toEqual([0, 0, 0, 0]);
    expect(Array.from(Tensor.full([3], 2, { dtype: 'int32' }).toArray())).toEqual([2, 2, 2]);
    expect(() => Tensor.full([3], 2.5, { dtype: 'int32' })).toThrow(/int32 tensor takes integers/); // not truncated (issue 11)
    const empty = Tensor.zeros([0, 5]);
    expect(empty.numel).toBe(0);
    expect(empty.toArray().length).toBe(0);
    empty.dispose();
    expect(() => Tensor.zeros([2, -1])).toThrow(/non-negative integers/);
    expect(() => Tensor.zeros([1, 1, 1, 1, 1, 1, 1, 1, 1])).toThrow(/at most 8 dimensions/);
  });
});

describe('seeded random numbers', () => {
  test('same seed, same values; other seed, other values; in every float dtype', () => {
    const a = Tensor.randn([1000], { seed: 42 }).toArray();
    const b = Tensor.randn([1000], { seed: 42 }).toArray();
    const c = Tensor.randn([1000], { seed: 43 }).toArray();
    expectBitIdentical(a, b);
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const bf = Tensor.randn([1000], { seed: 42, dtype: 'bfloat16' }).toArray();
    expect(Array.from(bf)).toEqual(Array.from(a).map(roundBf16));
    // The value at index i depends on (seed, i) only: a prefix is a prefix.
    expectBitIdentical(Tensor.randn([10], { seed: 42 }).toArray(), a.subarray(0, 10));
  });

  test('normal(mean, std) and uniform [low, high) have the right moments and range', () => {
    const n = Array.from(Tensor.randn([20000], { seed: 7, mean: 2, std: 3 }).toArray());
    const mean = n.reduce((s, x) => s + x, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean - 2)).toBeLessThan(0.1);
    expect(Math.abs(sd - 3)).toBeLessThan(0.1);
    const u = Array.from(Tensor.rand([20000], { seed: 8, low: -1, high: 3 }).toArray());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(Math.abs(u.reduce((s, x) => s + x, 0) / u.length - 1)).toBeLessThan(0.05);
    expect(() => Tensor.randn([2], { seed: -1 })).toThrow(/seed must be an integer/);
    expect(() => Tensor.randn([2], { std: -1 })).toThrow(/std must be >= 0/);
    expect(() => Tensor.randn([2], { dtype: 'int32' })).toThrow(/float dtype/);
  });
});

describe('borrowed memory', () => {
  test('an ArrayBuffer is visible both ways, never copied, never freed', () => {
    const before = memoryStats('cpu');
    const buffer = new ArrayBuffer(64);
    const view = new Float32Array(buffer, 16, 6);
    view.set([1, 2, 3, 4, 5, 6]);
    const t = Tensor.fromArrayBuffer(buffer, [2, 3], 'float32', 16);
    expect(t.isBorrowed).toBe(true);
    expect(memoryStats('cpu').current).toEqual(before.current);
    expect(Array.from(t.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    t.fill(9); // library writes, JS sees them
    expect(Array.from(view)).toEqual([9, 9, 9, 9, 9, 9]);
    view[0] = -1; // JS writes, the library sees them
    expect(t.toArray()[0]).toBe(-1);
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(Array.from(view)).toEqual([-1, 9, 9, 9, 9, 9]); // still ours
    view[1] = 5;
    expect(view[1]).toBe(5);
    expect(memoryStats('cpu').current).toEqual(before.current);
  });

  test('a typed-array view borrows from its own offset; bounds and alignment are checked', () => {
    const whole = new Int32Array([10, 11, 12, 13]);
    const t = Tensor.fromArrayBuffer(whole.subarray(1), [2], 'int32', 4);
    expect(Array.from(t.toArray())).toEqual([12, 13]);
    expect(() => Tensor.fromArrayBuffer(new ArrayBuffer(8), [3], 'float32')).toThrow(/do not fit/);
    expect(() => Tensor.fromArrayBuffer(new ArrayBuffer(8), [1], 'float32', 2)).toThrow(/misaligned/);
  });

  test('fromDevicePointer on a CPU address is a view that is never freed', () => {
    const owner = Tensor.fromArray([1, 2, 3, 4], [4]);
    const stats = memoryStats('cpu').current.tensors;
    const view = Tensor.fromDevicePointer(owner.dataPtr + 4n, [2], 'float32', 'cpu');
    expect(view.isBorrowed).toBe(true);
    expect(Array.from(view.toArray())).toEqual([2, 3]);
    view.fill(0);
    expect(Array.from(owner.toArray())).toEqual([1, 0, 0, 4]);
    view.dispose();
    expect(memoryStats('cpu').current.tensors).toBe(stats);
    expect(Array.from(owner.toArray())).toEqual([1, 0, 0, 4]);
    owner.dispose();
  });

  test('null and misaligned pointers are refused', () => {
    const owner = Tensor.zeros([4]);
    expect(() => Tensor.fromDevicePointer(0n, [4], 'float32', 'cpu')).toThrow(/null pointer/);
    expect(() => Tensor.fromDevicePointer(owner.dataPtr + 1n, [2], 'float32', 'cpu')).toThrow(/misaligned/);
    expect(() => Tensor.fromDevicePointer(owner.dataPtr + 2n, [2], 'bfloat16', 'cpu')).not.toThrow();
    expect(() => Tensor.fromDevicePointer(123 as unknown as bigint, [1], 'float32', 'cpu')).toThrow(/must be a bigint/);
    owner.dispose();
  });
});

describe('dispose and memory accounting', () => {
  // Each test measures inside one synchronous stretch, so no finalizer runs in between.
  test('owned tensors count exact bytes under "tensors"; dispose returns them', () => {
    const before = memoryStats('cpu');
    const a = Tensor.zeros([10, 10]); // 400 bytes
    const b = Tensor.zeros([7], { dtype: 'bfloat16' }); // 14 bytes
    const mid = memoryStats('cpu');
    expect(mid.current.tensors - before.current.tensors).toBe(414);
    expect(mid.current.optimizerState).toBe(before.current.optimizerState);
    expect(mid.currentTotal - before.currentTotal).toBe(414);
    a.dispose();
    b.dispose();
    b.dispose(); // idempotent
    const after = memoryStats('cpu');
    expect(after.current).toEqual(before.current);
    expect(after.currentTotal).toBe(before.currentTotal);
  });

  test('peak keeps the high-water mark until resetPeakMemory', () => {
    resetPeakMemory('cpu');
    const base = memoryStats('cpu');
    expect(base.peak).toEqual(base.current);
    const big = Tensor.zeros([1000]); // 4000 bytes
    big.dispose();
    const s = memoryStats('cpu');
    expect(s.peak.tensors - s.current.tensors).toBe(4000);
    expect(s.peakTotal - s.currentTotal).toBe(4000);
    resetPeakMemory('cpu');
    const r = memoryStats('cpu');
    expect(r.peak).toEqual(r.current);
    expect(r.peakTotal).toBe(r.currentTotal);
  });

  test('every use of a disposed tensor throws "tensor: disposed"', () => {
    const t = Tensor.zeros([3]);
    const other = Tensor.zeros([3]);
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(t.shape).toEqual([3]); // metadata stays readable
    for (const use of [
      () => t.toArray(),
      () => t.dataPtr,
      () => t.clone(),
      () => t.cast('bfloat16'),
      () => t.to('cpu'),
      () => t.fill(1),
      () => t.copyFrom(other),
      () => other.copyFrom(t),
    ]) {
      expect(use).toThrow('tensor: disposed');
    }
    other.dispose();
  });

  test('an allocation too large for memory is an error, not a crash, and counts nothing', () => {
    const before = memoryStats('cpu');
    expect(() => Tensor.zeros([2 ** 40, 2 ** 10])).toThrow(/out of memory/);
    expect(memoryStats('cpu').current).toEqual(before.current);
  });

  test('the finalizer frees tensors that were dropped without dispose', async () => {
    // A gc() function without --expose-gc on the command line.
    v8.setFlagsFromString('--expose_gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const before = memoryStats('cpu').current.tensors;
    (() => {
      for (let i = 0; i < 10; i++) Tensor.zeros([256]);
    })();
    for (let i = 0; i < 20 && memoryStats('cpu').current.tensors > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(memoryStats('cpu').current.tensors).toBeLessThanOrEqual(before);
  });
});
