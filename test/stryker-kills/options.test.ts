// Tests for lib/optim/options.ts written against StrykerJS's mutants of the option checks
// (docs/mutation-testing.md, "StrykerJS"): every check at both sides of each of its bounds, and
// the message it gives. Through the public classes only (lib/index.ts), so the tests do not
// depend on how the checks are tabled. Each case names what it kills: "<condition> -> <mutant>".
import { AdamW, BAdam, Frugal, SGD, Tensor } from '../../lib';

const p = () => Tensor.zeros([4, 4]);
const frugal = (options: object) => () => new Frugal([p()], options).dispose();
// The smallest eps the TS check takes; the core refuses it where bias correction would fold it
// into a subnormal, so it is given with biasCorrection off.
const EPS_MIN = 1.1754943508222875e-38;

// [option, a value just inside the bound, a value just outside it, the message's "must be ..."]
const BOUNDS: [string, unknown, unknown, string][] = [
  ['lr', 0, -1e-12, 'a finite number >= 0'], // `v >= 0` -> `v > 0` / `v < 0`
  ['lr', 1e6, Infinity, 'a finite number >= 0'], // isNumber's isFinite -> true
  ['weightDecay', 0, -0.5, 'a finite number >= 0'],
  ['stateFullLrScale', 0, NaN, 'a finite number >= 0'],
  ['stateFreeLrScale', 0, '1', 'a finite number >= 0'], // `typeof v === 'number'` -> true
  ['betas', [0, 0.999], [0.9, 1], 'two numbers in [0, 1)'], // unitOpen `v < 1` -> `<=`; `v >= 0` -> `>`
  ['betas', [0.5, 0.5], [-0.1, 0.9], 'two numbers in [0, 1)'], // `v >= 0` -> true; `every` -> `some`
  ['betas', [0.9, 0.99], [0.9], 'two numbers in [0, 1)'], // `v.length === 2` -> true
  ['betas', [0.9, 0.99], [0.9, 0.99, 0.5], 'two numbers in [0, 1)'],
  ['betas', [0.9, 0.99], '0.9,0.99', 'two numbers in [0, 1)'], // Array.isArray -> true
  ['eps', 0, -1e-8, 'a finite number >= 0: 0, or at least 1.1754944e-38 (the smallest normal float32)'],
  ['eps', 0, 1e-39, 'a finite number >= 0: 0, or at least 1.1754944e-38 (the smallest normal float32)'], // `>=` -> `>`; `v === 0 ||` -> `&&`
  ['momentum', 0, 1, 'a number in [0, 1)'],
  ['momentum', 0.999, -0.001, 'a number in [0, 1)'],
  ['dampening', 1, 1.001, 'a number in [0, 1]'], // `v <= 1` -> `<`
  ['dampening', 0, -0.001, 'a number in [0, 1]'],
  ['density', 0, -0.01, 'a number in [0, 1]'],
  ['density', 1, 1.01, 'a number in [0, 1]'],
  ['rank', 0, -1, 'an integer in [0, 2147483647] (0: from density)'], // `>= 0` -> `> 0`
  ['rank', 2, 1.5, 'an integer in [0, 2147483647] (0: from density)'], // isSafeInteger -> true
  ['updateGap', 1, 0, 'an integer in [1, 2147483647]'], // positiveInteger `>= 1` -> `> 1`
  ['updateGap', 3, 2.5, 'an integer in [1, 2147483647]'],
  ['seed', 0, -1, 'an integer in [0, 2^64) (a bigint above 2^53 - 1)'], // number branch `v >= 0` -> `> 0`
  ['seed', 0n, -1n, 'an integer in [0, 2^64) (a bigint above 2^53 - 1)'], // bigint branch `v >= 0n` -> `> 0n`
  ['seed', 2n ** 64n - 1n, 2n ** 64n, 'an integer in [0, 2^64) (a bigint above 2^53 - 1)'], // `v < 1n << 64n` -> `<=`, `>>`
  ['seed', 7, 1.5, 'an integer in [0, 2^64) (a bigint above 2^53 - 1)'],
  ['seed', 7, '7', 'an integer in [0, 2^64) (a bigint above 2^53 - 1)'], // the typeof tests -> true
  ['biasCorrection', false, 0, 'a boolean'],
  ['nesterov', false, 'false', 'a boolean'],
  ['resetStatistics', false, null, 'a boolean'],
  ['randomizedSvd', true, 1, 'a boolean'],
  ['replacement', true, 'yes', 'a boolean'],
];

describe('option checks at their bounds (Frugal accepts every group option)', () => {
  test('eps at the smallest normal float32 passes the option check', () => {
    // kills: `v >= 1.1754943508222875e-38` -> `>` (the row above refuses 1e-39 for the other side)
    expect(frugal({ eps: EPS_MIN, biasCorrection: false })).not.toThrow();
  });

  test.each(BOUNDS)("'%s': %p is accepted, %p is refused", (name, inside, outside, must) => {
    expect(frugal({ [name]: inside })).not.toThrow();
    const shown = typeof outside === 'string' ? `'${outside}'` : typeof outside === 'bigint' ? `${outside}n` : Array.isArray(outside) ? `[${outside.join(', ')}]` : String(outside);
    expect(frugal({ [name]: outside })).toThrow(new RangeError(`Frugal: option '${name}' must be ${must}, got ${shown}`));
  });

  test('an option given as undefined is "not given": its default applies', () => {
    // kills: `value === undefined` -> false in checkGroupOptions; givenOnly's filter -> true
    const opt = new Frugal([p()], { eps: undefined, lr: undefined });
    expect(opt.paramGroups[0].lr).toBe(1e-3);
    expect(opt.paramGroups[0].eps).toBe(1e-8);
  });

  test.each([
    ['epsMode', 'hf', 'HF', "one of 'torch', 'hf'"],
    ['stateFull', 'sgdm', 'sgd', "one of 'adamw', 'sgdm', 'lion'"],
    ['stateFree', 'sgd', 'adamw', "one of 'signsgd', 'sgd', 'none'"],
    ['selectionKind', 'coordinates', 'svd', "one of 'blocks', 'columns', 'rows', 'coordinates', 'grass'"],
    ['blockOrder', 'mirror', 'reverse', "one of 'descending', 'ascending', 'mirror', 'random'"],
    ['side', 'reverse_std', 'up', "one of 'std', 'reverse_std', 'left', 'right'"],
    ['sampling', 'uniform', 'top-k', "one of 'top-r', 'norm', 'uniform'"],
    ['orientation', 'columns', 'cols', "one of 'std', 'rows', 'columns'"],
    ['stateDtype', 'bfloat16', 'float16', "one of 'float32', 'bfloat16'"],
  ])("'%s' takes %p, refuses %p", (name, good, bad, must) => {
    // kills: oneOf's `names.includes(v)` -> true, and the names listed in its message
    expect(frugal({ [name]: good })).not.toThrow();
    expect(frugal({ [name]: bad })).toThrow(new RangeError(`Frugal: option '${name}' must be ${must}, got '${bad}'`));
  });

  test('selection: a known name or a function', () => {
    // kills: `typeof v === 'function' ||` -> `&&`; SELECTION_NAMES.includes -> true
    expect(frugal({ selection: () => true })).not.toThrow();
    expect(frugal({ selection: 'randperm' })).not.toThrow();
    expect(frugal({ selection: 'topk' })).toThrow(
      new RangeError("Frugal: option 'selection' must be 'all', 'none', 'blocks', 'columns', 'rows', 'coordinates', 'svd', 'random', 'randperm', 'grass' or a function, got 'topk'"),
    );
  });

  test('optimizer-wide options: maxGradNorm >= 0 and nonFinite', () => {
    // kills: the constructor's checkOption calls -> removed; the defaults `maxGradNorm = 0`, `nonFinite = 'propagate'`
    expect(() => new AdamW([p()], { maxGradNorm: 0, nonFinite: 'skip' }).dispose()).not.toThrow();
    expect(() => new AdamW([p()], { maxGradNorm: -1 })).toThrow(new RangeError("AdamW: option 'maxGradNorm' must be a finite number >= 0, got -1"));
    expect(() => new AdamW([p()], { nonFinite: 'ignore' as 'skip' })).toThrow(new RangeError("AdamW: option 'nonFinite' must be one of 'propagate', 'skip', 'error', got 'ignore'"));
  });

  test('a method narrows a check of its own (BAdam has no mirror order)', () => {
    // kills: `spec.checks?.[name] ?? OPTION_CHECKS[name]` -> the general check only
    expect(() => new BAdam([p(), p()], { blockOrder: 'mirror' as 'random' })).toThrow(
      new RangeError("BAdam: option 'blockOrder' must be one of 'descending', 'ascending', 'random', got 'mirror'"),
    );
    expect(() => new BAdam([p(), p()], { blockOrder: 'ascending', switchEvery: 1 }).dispose()).not.toThrow();
    expect(() => new BAdam([p(), p()], { switchEvery: 0 })).toThrow(new RangeError("BAdam: option 'switchEvery' must be an integer >= 1, got 0"));
  });
});

describe('unknown options and where an error happened', () => {
  test('an option the method does not take is named with what it accepts', () => {
    // kills: the accepts test -> true; the accepted list in the message (maxGradNorm appended)
    expect(() => new SGD([p()], { betas: [0.9, 0.99] } as object)).toThrow(
      new TypeError("SGD: unknown option 'betas'; accepted: lr, momentum, dampening, nesterov, weightDecay, stateDtype, maxGradNorm"),
    );
  });

  test('maxGradNorm inside a param group gets a hint that it is optimizer-wide', () => {
    // kills: `name === 'maxGradNorm' ? hint : ''` -> either branch
    expect(() => new AdamW([{ params: [p()], maxGradNorm: 1 } as never])).toThrow(
      /^AdamW: group 0: unknown option 'maxGradNorm' \(maxGradNorm is optimizer-wide: pass it with the defaults\); accepted: /,
    );
    expect(() => new AdamW([{ params: [p()], momentum: 0.9 } as never])).toThrow(/^AdamW: group 0: unknown option 'momentum'; accepted: /);
  });

  test('a bad value in the second group says which group', () => {
    // kills: the `group ${i}: ` prefix -> ""
    expect(() => new AdamW([{ params: [p()] }, { params: [p()], lr: -1 }])).toThrow(new RangeError("AdamW: group 1: option 'lr' must be a finite number >= 0, got -1"));
  });

  test('nesterov needs momentum > 0 and dampening 0, also when they come from the group', () => {
    // kills: each operand of `nesterov && !((momentum ?? 0) > 0 && (dampening ?? 0) === 0)`
    expect(() => new SGD([p()], { nesterov: true, momentum: 0.9 }).dispose()).not.toThrow();
    expect(() => new SGD([p()], { nesterov: true, momentum: 0.9, dampening: 0 }).dispose()).not.toThrow();
    const needs = "SGD: option 'nesterov' requires momentum > 0 and dampening 0";
    expect(() => new SGD([p()], { nesterov: true })).toThrow(new RangeError(needs));
    expect(() => new SGD([p()], { nesterov: true, momentum: 0.9, dampening: 0.1 })).toThrow(new RangeError(needs));
    expect(() => new SGD([{ params: [p()], nesterov: true, momentum: 0 }])).toThrow(new RangeError(`SGD: group 0: ${needs.slice(5)}`));
    expect(() => new SGD([p()], { nesterov: false, dampening: 0.5 }).dispose()).not.toThrow();
  });
});
