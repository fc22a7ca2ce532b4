// The same tensor, or two views of overlapping memory, given twice to one optimizer: on a GPU
// two blocks would update it concurrently and lose updates, while the CPU would apply both. Both
// backends refuse it at construction (the core's add_param), as torch refuses duplicate params.
import { AdamW, Frugal, SGD, Tensor } from '../lib';
import { devicesUnderTest, reportSkippedGpu } from './helpers/devices-under-test';

reportSkippedGpu('overlapping-params.test.ts');

describe.each(devicesUnderTest())('overlapping params on %s', (device) => {
  test('two tensors over the same memory are refused, naming the earlier param', () => {
    // The TypeScript layer already refuses the same Tensor object twice; the core refuses the same
    // memory however it arrives (two borrowed views, the C API).
    const p = Tensor.zeros([4, 3], { device });
    const alias = Tensor.fromDevicePointer(p.dataPtr, [4, 3], 'float32', device);
    expect(() => new AdamW([p, alias], { lr: 0.1 })).toThrow(/param\.data: overlaps the memory of param 0 .*passed twice/);
    expect(() => new SGD([{ params: [p] }, { params: [alias] }], { lr: 0.1 })).toThrow(/overlaps the memory of param 0/);
    const q = Tensor.zeros([8, 4], { device });
    const qAlias = Tensor.fromDevicePointer(q.dataPtr, [8, 4], 'float32', device);
    // In a projecting optimizer too, across groups (param 1 is q).
    expect(() => new Frugal([{ params: [p, q] }, { params: [qAlias] }], { lr: 0.1, density: 0.5 })).toThrow(
      /overlaps the memory of param 1/,
    );
    for (const t of [p, q]) t.dispose();
  });

  test('borrowed views that share bytes are refused; adjacent ones are accepted', () => {
    const base = Tensor.zeros([16], { device });
    const addr = base.dataPtr;
    const first = Tensor.fromDevicePointer(addr, [8], 'float32', device); // elements 0..7
    const shifted = Tensor.fromDevicePointer(addr + 28n, [4], 'float32', device); // 7..10: shares element 7
    const next = Tensor.fromDevicePointer(addr + 32n, [8], 'float32', device); // 8..15: adjacent
    expect(() => new SGD([first, shifted], { lr: 0.1 })).toThrow(/overlaps the memory of param 0/);
    const ok = new SGD([first, next], { lr: 0.1 });
    ok.dispose();
    base.dispose();
  });
});
