// Float -> int32 conversion of NaN, infinities and out-of-range values: one rule in the shared
// math (native/math/dtype_convert.h, float_to_i32_sat), the GPU's: truncate toward zero,
// saturate at the int32 range, NaN to 0. Runs on every device under test, so a GPU run checks
// that both backends agree.
import { Tensor } from '../lib';
import { dtypeCode } from '../lib/dtype';
import { native } from '../lib/native';
import { devicesUnderTest, reportSkippedGpu } from './helpers/devices-under-test';

reportSkippedGpu('float-to-int32.test.ts');

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

// [input, expected int32]
const cases: [number, number][] = [
  [NaN, 0],
  [Infinity, INT_MAX],
  [-Infinity, INT_MIN],
  [3e9, INT_MAX],
  [-3e9, INT_MIN],
  [2147483648, INT_MAX], // 2^31: the first float above the range
  [-2147483648, INT_MIN], // -2^31: exactly representable, in range
  [2147483520, 2147483520], // the largest float below 2^31
  [2.75, 2],
  [-2.75, -2], // toward zero, not floor
  [-0.5, 0],
  [1e-30, 0],
];

describe.each(devicesUnderTest())('float -> int32 on %s', (device) => {
  test.each(['float32', 'bfloat16', 'float16'] as const)('cast from %s saturates and maps NaN to 0', (dtype) => {
    const src = Tensor.fromArray(
      cases.map(([x]) => x),
      [cases.length],
      { dtype: 'float32', device },
    );
    const narrow = src.cast(dtype);
    const wide = narrow.cast('float32').toArray(); // the value the conversion actually sees
    const out = narrow.cast('int32').toArray();
    expect(out).toBeInstanceOf(Int32Array);
    const expected = Array.from(wide, (x) =>
      Number.isNaN(x) ? 0 : x >= 2 ** 31 ? INT_MAX : x <= -(2 ** 31) ? INT_MIN : Math.trunc(x) + 0, // + 0: -0 -> 0
    );
    expect(Array.from(out)).toEqual(expected);
    if (dtype === 'float32') expect(Array.from(out)).toEqual(cases.map(([, y]) => y));
    for (const t of [src, narrow]) t.dispose();
  });

  test('the native int32 fill uses the same rule; Tensor.fill refuses what int32 cannot hold', () => {
    const t = Tensor.empty([3], { dtype: 'int32', device });
    const ordinal = device === 'cpu' ? -1 : Number(device.slice('cuda:'.length));
    const fill = (value: number) => native().fill(ordinal, t.dataPtr, dtypeCode('int32'), 3, value, null);
    fill(-7.9);
    expect(Array.from(t.toArray())).toEqual([-7, -7, -7]);
    fill(1e12);
    expect(Array.from(t.toArray())).toEqual([INT_MAX, INT_MAX, INT_MAX]);
    // A scalar fill is not a cast: issue 11 refuses what a cast would truncate or saturate.
    t.fill(-7);
    expect(Array.from(t.toArray())).toEqual([-7, -7, -7]);
    expect(() => t.fill(-7.9)).toThrow(/int32 tensor takes integers/);
    expect(() => t.fill(1e12)).toThrow(/does not fit in int32/);
    expect(Array.from(t.toArray())).toEqual([-7, -7, -7]);
    t.dispose();
  });
});
