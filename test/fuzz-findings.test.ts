// Issue 11, "the rest of the fuzz findings": each call below used to succeed with a wrong result
// (a CPU tensor for 'cuda:0', float32 for bfloat16, Inf, NaN, a negative dimension) or fail inside
// JavaScript internals. Each must now be an Error that names the argument and what was expected.
import { AdamW, constant, cosineWithWarmup, dtypeSize, linear, LRScheduler, Tensor } from '../lib';
import { parseTrainArgs } from '../lib/cli/train-args';
import { planInputFromArgs } from '../lib/plan/cli';

describe('tensor factories', () => {
  test('options given as a string are refused, not read as a CPU float32 default', () => {
    expect(() => Tensor.zeros([2, 3], 'cuda:0' as never)).toThrow(/Tensor\.zeros: options must be an object \{dtype, device\} or omitted, got 'cuda:0'/);
    expect(() => Tensor.empty([2], 'float16' as never)).toThrow(/Tensor\.empty: options must be an object/);
    expect(() => Tensor.fromArray([1, 2], [2], 'bfloat16' as never)).toThrow(/Tensor\.fromArray: options must be an object/);
    expect(() => Tensor.randn([2], null as never)).toThrow(/Tensor\.randn: options must be an object/);
  });

  test('misspelled option keys are refused by name', () => {
    expect(() => Tensor.zeros([2], { dtpye: 'bfloat16' } as never)).toThrow(/Tensor\.zeros: unknown option 'dtpye' \(expected dtype, device\)/);
    expect(() => Tensor.full([2], 1, { devise: 'cpu' } as never)).toThrow(/unknown option 'devise'/);
    expect(() => Tensor.randn([2], { sd: 2 } as never)).toThrow(/Tensor\.randn: unknown option 'sd' \(expected dtype, device, seed, mean, std\)/);
    expect(() => Tensor.rand([2], { lo: 0 } as never)).toThrow(/Tensor\.rand: unknown option 'lo'/);
  });

  test('fromArray with {dtype: bfloat16} is bfloat16', () => {
    const t = Tensor.fromArray([1, 2], [2], { dtype: 'bfloat16' });
    expect(t.dtype).toBe('bfloat16');
    t.dispose();
  });

  test('dtypeSize of an unknown dtype throws instead of returning undefined', () => {
    expect(() => dtypeSize('float64' as never)).toThrow(/dtypeSize: dtype: expected one of 'float32', 'bfloat16', 'float16', 'int32', got 'float64'/);
    expect(() => dtypeSize('toString' as never)).toThrow(/expected one of/);
    expect(dtypeSize('bfloat16')).toBe(2);
  });

  test('values that would round to Inf in the dtype are refused', () => {
    expect(() => Tensor.full([2], 1e308)).toThrow(/Tensor\.full: value: 1e\+308 does not fit in float32/);
    expect(() => Tensor.full([2], 70000, { dtype: 'float16' })).toThrow(/does not fit in float16/);
    expect(() => Tensor.full([2], -3.4e38, { dtype: 'bfloat16' })).toThrow(/does not fit in bfloat16/);
    expect(() => Tensor.zeros([2]).fill(1e300)).toThrow(/Tensor\.fill: value/);
    expect(() => Tensor.full([2], 2 ** 31, { dtype: 'int32' })).toThrow(/does not fit in int32 \(outside 32 bits\)/);
    const edge = Tensor.full([1], 65504, { dtype: 'float16' });
    expect(edge.toArray()[0]).toBe(65504);
    const big = Tensor.full([1], 3.4e38);
    expect(Number.isFinite(big.toArray()[0])).toBe(true);
    edge.dispose();
    big.dispose();
  });

  test('randn with a std that overflows, and rand with low > high, are refused', () => {
    expect(() => Tensor.randn([4], { std: 1e308 })).toThrow(/Tensor\.randn: \|mean\| \+ 7 std = .* does not fit in float32/);
    expect(() => Tensor.randn([4], { std: 1e4, dtype: 'float16' })).toThrow(/does not fit in float16/);
    expect(() => Tensor.rand([4], { low: 2, high: 1 })).toThrow(/Tensor\.rand: low \(2\) must be <= high \(1\)/);
    expect(() => Tensor.rand([4], { low: -3e38, high: 3e38 })).toThrow(/does not fit in float32/);
    const t = Tensor.rand([64], { low: -1, high: -1 });
    expect(Array.from(t.toArray()).every((x) => x === -1)).toBe(true);
    t.dispose();
  });

  test('a Proxy shape is read once: what is checked is what the tensor gets', () => {
    let reads = 0;
    const shape = new Proxy([2, 3], {
      get(target, key, receiver) {
        if (key === '0' && reads++ > 0) return -5; // a different answer after the first read
        return Reflect.get(target, key, receiver);
      },
    });
    const t = Tensor.zeros(shape);
    expect(t.shape).toEqual([2, 3]);
    expect(t.numel).toBe(6);
    t.dispose();
    const lying = new Proxy([2], { get: (tgt, key, r) => (key === 'length' ? 1e9 : Reflect.get(tgt, key, r)) });
    expect(() => Tensor.zeros(lying)).toThrow(/shape: at most 8 dimensions/);
  });
});

describe('optimizer and schedule arguments', () => {
  const p = Tensor.zeros([2, 2]);
  const opt = new AdamW([p], { lr: 0.1 });

  test('step(null), zeroGrad(null) and misspelled keys fail with a message', () => {
    expect(() => opt.step(null as never)).toThrow(/AdamW\.step: options must be an object \{stream\} or omitted, got null/);
    expect(() => opt.zeroGrad(null as never)).toThrow(/AdamW\.zeroGrad: options must be an object \{setToNull\} or omitted, got null/);
    expect(() => opt.step({ strem: null } as never)).toThrow(/AdamW\.step: unknown option 'strem'/);
    expect(() => opt.zeroGrad({ setToNull: 'yes' } as never)).toThrow(/AdamW\.zeroGrad: setToNull must be a boolean/);
    expect(opt.steps).toBe(0);
  });

  test('new LRScheduler({}, f) names the optimizer argument', () => {
    expect(() => new LRScheduler({} as never, () => 1)).toThrow(/LRScheduler: optimizer must be an Optimizer \(with paramGroups\), got an object/);
    expect(() => new LRScheduler(null as never, () => 1)).toThrow(/LRScheduler: optimizer must be an Optimizer/);
    const s = new LRScheduler(opt, () => 1);
    expect(() => s.loadStateDict({ step: 1, baseLrs: [NaN] })).toThrow(/one finite lr >= 0 per param group/);
    expect(s.lastStep).toBe(0);
  });

  test('schedules refuse a step that is not a number instead of returning NaN', () => {
    const fns = [constant({ warmupSteps: 2 }), linear({ totalSteps: 10 }), cosineWithWarmup({ totalSteps: 10, warmupSteps: 1 })];
    for (const f of fns) {
      expect(() => f('3' as never)).toThrow(/schedule: step must be a finite number >= 0, got '3'/);
      expect(() => f(undefined as never)).toThrow(/got undefined/);
      expect(() => f(NaN)).toThrow(/got NaN/);
      expect(Number.isFinite(f(3))).toBe(true);
    }
    expect(() => linear(null as never)).toThrow(/schedule: options must be an object, got null/);
  });
});

describe('command lines', () => {
  test('plan --rank 1e99 and other non-integer counts are refused', () => {
    expect(() => planInputFromArgs(['--preset', '60m', '--optimizer', 'grass', '--rank', '1e99'])).toThrow(/--rank: expected an integer in \[0, 2147483647\], got '1e99'/);
    expect(() => planInputFromArgs(['--preset', '60m', '--update-gap', '0x10'])).toThrow(/--update-gap: expected an integer in \[1, 2147483647\], got '0x10'/);
    expect(() => planInputFromArgs(['--preset', '60m', '--batch', '2.5'])).toThrow(/--batch: expected an integer/);
    expect(planInputFromArgs(['--preset', '60m', '--optimizer', 'grass', '--rank', '128']).input.settings?.rank).toBe(128);
  });

  test('train --steps 0x10 and --batch 1e9 are refused with a message', () => {
    expect(() => parseTrainArgs(['--steps', '0x10'])).toThrow(/--steps: expected an integer, got '0x10'/);
    expect(() => parseTrainArgs(['--lr', ' 1'])).toThrow(/--lr: expected a number/);
    expect(() => parseTrainArgs(['--batch', '1e9'])).toThrow(/--batch 1000000000 x --seq-len 128 = 128000000000 tokens per step; at most 2147483647/);
    expect(parseTrainArgs(['--steps', '1e3'])).toMatchObject({ steps: 1000 });
  });
});
