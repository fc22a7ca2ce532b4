// Review of option checking (issue 10): a value just past what the core's int32 fields hold is
// refused by the TS layer, naming the option and its whole range, at construction and at a step
// after the caller edited paramGroups; not by the addon's marshalling under the C field's name.
import { Frugal, GaLore, Tensor } from '../lib';

const param = () => {
  const p = Tensor.randn([8, 8], { seed: 1 });
  p.grad = Tensor.randn([8, 8], { seed: 2 });
  return p;
};

describe('int32 options above 2^31 - 1', () => {
  test.each([
    ['Frugal', 'updateGap', () => new Frugal([param()], { updateGap: 2 ** 31 }), "Frugal: option 'updateGap' must be an integer in [1, 2147483647], got 2147483648"],
    ['GaLore', 'rank', () => new GaLore([param()], { rank: 2 ** 31 }), "GaLore: option 'rank' must be an integer in [0, 2147483647] (0: from density), got 2147483648"],
  ])('%s %s at construction', (_c, _o, make, message) => {
    expect(make).toThrow(new RangeError(message));
  });

  test('set on paramGroups after construction: refused at the step by name, the optimizer steps again once fixed', () => {
    const opt = new Frugal([param()], { updateGap: 2 });
    try {
      opt.paramGroups[0].updateGap = 2 ** 31;
      expect(() => opt.step()).toThrow(new RangeError("Frugal: group 0: option 'updateGap' must be an integer in [1, 2147483647], got 2147483648"));
      opt.paramGroups[0].updateGap = 2 ** 31 - 1;
      opt.step();
      expect(opt.steps).toBe(1);
    } finally {
      opt.dispose();
    }
  });
});

describe('seed', () => {
  test('a number above 2^53 is refused saying why (it is an integer in [0, 2^64), but not exactly one: pass a bigint)', () => {
    expect(() => new Frugal([param()], { seed: 2 ** 53 + 2 })).toThrow(
      new RangeError("Frugal: option 'seed' must be an integer in [0, 2^64) (a bigint above 2^53 - 1), got 9007199254740994"),
    );
    const opt = new Frugal([param()], { seed: 2n ** 53n + 2n });
    opt.dispose();
  });
});
