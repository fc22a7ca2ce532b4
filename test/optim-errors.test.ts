// Every bad input gets an Error that names the argument and what was expected, and leaves the
// caller's tensors (and the optimizer) untouched. No input may crash the process.
import { AdamW, Frugal, Grass, Optimizer, SGD, SignSGD, Tensor } from '../lib';
import { native } from '../lib/native';
import { expectBitIdentical } from './helpers/update-rules';

// Runs `call`, expects it to throw `pattern`, and checks every tensor's bytes are as before.
function rejectsWithoutChange(tensors: Tensor[], call: () => unknown, pattern: RegExp | string): void {
  const before = tensors.map((t) => t.toArray());
  expect(call).toThrow(pattern);
  tensors.forEach((t, i) => expectBitIdentical(t.toArray(), before[i]));
}

// Errors made by the addon come from the main realm, not jest's sandbox: no instanceof.
function isError(e: unknown): boolean {
  return Object.prototype.toString.call(e) === '[object Error]' && typeof (e as Error).message === 'string';
}

function paramWithGrad(shape: number[], seed: number): Tensor {
  const p = Tensor.randn(shape, { seed });
  p.grad = Tensor.randn(shape, { seed: seed + 100 });
  return p;
}

describe('step() rejects bad params and grads, changing nothing', () => {
  test('grad shape and dtype are checked for every param before any update', () => {
    const params = [paramWithGrad([2, 3], 1), paramWithGrad([3], 2), paramWithGrad([4, 5], 3), paramWithGrad([5, 4], 4)];
    const opt = new AdamW(params, { lr: 0.1 });
    const all = () => params.flatMap((p) => [p, p.grad as Tensor]);
    const good = params[3].grad as Tensor;
    const state = opt.stateDict();

    params[3].grad = Tensor.zeros([4, 5]);
    rejectsWithoutChange(all(), () => opt.step(), 'AdamW.step: param 3: grad shape [4,5] does not match param shape [5,4]');
    params[3].grad = Tensor.zeros([5, 4], { dtype: 'bfloat16' });
    rejectsWithoutChange(all(), () => opt.step(), /param 3: grad dtype bfloat16 does not match param dtype float32/);
    params[3].grad = 'gradient' as unknown as Tensor;
    rejectsWithoutChange(params, () => opt.step(), /param 3: grad must be a Tensor, got 'gradient'/);
    params[3].grad = good;
    expect(opt.stateDict()).toEqual(state); // nor the optimizer's state
    opt.step();
    expect(opt.steps).toBe(1);
  });

  test('disposed params and grads are refused', () => {
    const a = paramWithGrad([3], 5);
    const b = paramWithGrad([3], 6);
    const opt = new SGD([a, b], { lr: 0.1, momentum: 0.9 });
    opt.step();
    (b.grad as Tensor).dispose();
    rejectsWithoutChange([a], () => opt.step(), /param 1: grad is disposed/);
    b.grad = Tensor.zeros([3]);
    b.dispose();
    rejectsWithoutChange([a], () => opt.step(), /param 1 is disposed \(tensor: disposed\)/);
    const c = Tensor.zeros([2]);
    c.dispose();
    expect(() => new AdamW([c])).toThrow(/param 0 is disposed/);
  });

  test('params must be float tensors on one device, each given once', () => {
    const p = Tensor.zeros([2]);
    expect(() => new AdamW([Tensor.zeros([2], { dtype: 'int32' })])).toThrow(/params must be float32, bfloat16 or float16/);
    expect(() => new AdamW([p, p])).toThrow(/param 1 appears more than once/);
    expect(() => new AdamW([])).toThrow(/non-empty array/);
    expect(() => new AdamW([{ params: [] }])).toThrow(/group 0 has no params/);
    expect(() => new AdamW([1 as unknown as Tensor])).toThrow(/params must be/);
    expect(() => new AdamW([{ params: [p, 'x' as unknown as Tensor] }])).toThrow(/params\[1\] is 'x', not a Tensor/);
    expect(() => new AdamW([Tensor.fromArray([1], [])])).toThrow(/scalar/);
  });

  test('group params cannot change after construction', () => {
    const p = paramWithGrad([2], 7);
    const opt = new AdamW([p]);
    expect(() => (opt.paramGroups[0].params as Tensor[]).push(Tensor.zeros([1]))).toThrow(/not extensible|read.only|frozen/);
  });
});

describe('options are checked by name and range', () => {
  const p = paramWithGrad([2, 2], 8);

  test.each([
    [() => new AdamW([p], { lr: -1 }), "AdamW: option 'lr' must be a finite number >= 0, got -1"],
    [() => new AdamW([p], { lr: NaN }), "AdamW: option 'lr' must be a finite number >= 0, got NaN"],
    [() => new AdamW([p], { betas: [1, 0.9] }), "AdamW: option 'betas' must be two numbers in [0, 1), got [1, 0.9]"],
    [() => new AdamW([p], { betas: [0.9, -0.1] }), "option 'betas' must be two numbers in [0, 1), got [0.9, -0.1]"],
    [() => new AdamW([p], { betas: [0.9] as unknown as [number, number] }), "option 'betas' must be two numbers"],
    [() => new AdamW([p], { eps: -1e-8 }), "option 'eps' must be a finite number >= 0"],
    [() => new AdamW([p], { weightDecay: -0.1 }), "option 'weightDecay' must be a finite number >= 0"],
    [() => new AdamW([p], { epsMode: 'tf' as 'hf' }), "option 'epsMode' must be one of 'torch', 'hf', got 'tf'"],
    [() => new AdamW([p], { stateDtype: 'float16' as 'bfloat16' }), "option 'stateDtype' must be one of 'float32', 'bfloat16'"],
    [() => new AdamW([p], { maxGradNorm: -1 }), "option 'maxGradNorm' must be a finite number >= 0"],
    [() => new AdamW([p], { momentum: 0.9 } as object), "AdamW: unknown option 'momentum'"],
    [() => new AdamW([p], { lR: 0.1 } as object), "AdamW: unknown option 'lR'; accepted: lr, weightDecay"],
    [() => new AdamW([{ params: [p], maxGradNorm: 1 } as never]), 'maxGradNorm is optimizer-wide'],
    [() => new SGD([p], { momentum: 1 }), "SGD: option 'momentum' must be a number in [0, 1), got 1"],
    [() => new SGD([p], { dampening: 2 }), "option 'dampening' must be a number in [0, 1], got 2"],
    [() => new SGD([p], { nesterov: true }), "SGD: option 'nesterov' requires momentum > 0 and dampening 0"],
    [() => new SGD([p], { nesterov: true, momentum: 0.9, dampening: 0.1 }), 'requires momentum > 0 and dampening 0'],
    [() => new SignSGD([p], { betas: [0.9, 0.99] } as object), "SignSGD: unknown option 'betas'"],
    [() => new Frugal([p], { density: -0.1 }), "Frugal: option 'density' must be a number in [0, 1], got -0.1"],
    [() => new Frugal([p], { density: 1.5 }), "option 'density' must be a number in [0, 1], got 1.5"],
    [() => new Frugal([p], { updateGap: 0 }), "option 'updateGap' must be an integer in [1, 2147483647], got 0"],
    [() => new Frugal([p], { updateGap: 2.5 }), "option 'updateGap' must be an integer in [1, 2147483647], got 2.5"],
    [() => new Frugal([p], { selection: 'magic' as 'all' }), "Frugal: option 'selection' must be 'all', 'none', 'blocks'"],
    [() => new Frugal([p], { stateFree: 'adamw' as 'sgd' }), "option 'stateFree' must be one of 'signsgd', 'sgd', 'none'"],
    [() => new Frugal([p], { rank: -1 }), "option 'rank' must be an integer in [0, 2147483647]"],
    [() => new Frugal([p], { seed: -1 }), "option 'seed' must be an integer in [0, 2^64)"],
    [() => new Frugal([p], { seed: 1n << 64n }), "option 'seed' must be an integer in [0, 2^64)"],
    [() => new Grass([p], { sampling: 'top-k' as 'norm' }), "Grass: option 'sampling' must be one of 'top-r', 'norm', 'uniform'"],
    [() => new Grass([p], { selection: 'blocks' as 'grass' }), "Grass: option 'selection' must be 'grass' or a function"],
    [() => new Optimizer([p], { blockOrder: 'sideways' as 'random' }), "Optimizer: option 'blockOrder' must be one of"],
  ])('%#: %s', (make, message) => {
    rejectsWithoutChange([p, p.grad as Tensor], make, message);
  });

  test('options changed between steps are re-checked at step(), by name', () => {
    const q = paramWithGrad([3], 9);
    const opt = new AdamW([q], { lr: 0.1 });
    opt.step();
    const sd = opt.stateDict();
    opt.paramGroups[0].betas = [1, 0.9];
    rejectsWithoutChange([q], () => opt.step(), "AdamW: group 0: option 'betas' must be two numbers in [0, 1), got [1, 0.9]");
    opt.paramGroups[0].betas = [0.9, 0.999];
    opt.paramGroups[0].lr = -0.1;
    rejectsWithoutChange([q], () => opt.step(), "group 0: option 'lr' must be a finite number >= 0, got -0.1");
    opt.paramGroups[0].lr = 0.1;
    (opt.paramGroups[0] as unknown as Record<string, unknown>).momentun = 0.9;
    rejectsWithoutChange([q], () => opt.step(), "AdamW: group 0: unknown option 'momentun'");
    delete (opt.paramGroups[0] as unknown as Record<string, unknown>).momentun;
    opt.paramGroups[0].stateDtype = 'bfloat16';
    rejectsWithoutChange([q], () => opt.step(), "AdamW: group 0: option 'stateDtype' cannot change after construction");
    opt.paramGroups[0].stateDtype = 'float32';
    expect(opt.stateDict().params).toEqual(sd.params); // the optimizer state is untouched too
    opt.step();
    expect(opt.steps).toBe(2);
  });
});

describe('the addon checks JS types itself', () => {
  test('wrong argument types are TypeErrors that name the argument', () => {
    const n = native();
    expect(() => n.alloc(-1, 'ten' as unknown as number, 0)).toThrow(/bytes: expected a number, got a string/);
    expect(() => n.free(-1, 5 as unknown as bigint)).toThrow(/ptr: expected a pointer as a bigint, got the number 5/);
    expect(() => n.free(-1, 0n)).toThrow(/ptr: null pointer/);
    expect(() => n.fill(-1, 0n, 0, 4, 1, null)).toThrow(/ptr: null pointer/);
    expect(() => n.fill(-1, 1n << 70n, 0, 4, 1, null)).toThrow(/not a 64-bit address/);
    expect(() => n.alloc(-1, 8, 7)).toThrow(/category: expected an integer in \[0, 4\]/);
    expect(() => n.copyToHost(new Float32Array(2), 0, 8n, -1, 16, null)).toThrow(/outside the buffer's 8 bytes/);
    expect(() => n.copyFromHost(8n, -1, 'x' as unknown as ArrayBuffer, 0, 4, null)).toThrow(/expected an ArrayBuffer or a typed array/);
    expect(() => n.random(-1, 8n, 0, 1, 2, 0n, 0, 1, null)).toThrow(/dist: expected an integer in \[0, 1\]/);
    expect(() => new n.NativeOptimizer(-1).addGroup({ lr: 0.1, bogus: 1 } as object)).toThrow(/options: unknown field 'bogus'/);
    expect(() => new n.NativeOptimizer(-1).addGroup({ beta1: 1 })).toThrow(/beta1: expected a number in \[0, 1\), got 1/);
    expect(() => n.free(-1, 16n)).toThrow(/not memory allocated by frugal-optim/);
  });

  test('misaligned and null buffers are refused by the core, naming the argument', () => {
    const t = Tensor.zeros([4]);
    const opt = new (native().NativeOptimizer)(-1);
    const g = opt.addGroup({ lr: 0.1 });
    expect(() => opt.addParam(g, { data: t.dataPtr + 2n, dtype: 0, grad: null, gradDtype: 0, shape: [2] })).toThrow(
      /param.data: pointer is not aligned/,
    );
    expect(() => opt.addParam(g, { data: 0n, dtype: 0, grad: null, gradDtype: 0, shape: [2] })).toThrow(/param.data: null pointer/);
    const p = opt.addParam(g, { data: t.dataPtr, dtype: 0, grad: null, gradDtype: 0, shape: [4] });
    expect(() => opt.setBuffers(p, t.dataPtr, t.dataPtr + 1n)).toThrow(/grad: pointer is not aligned/);
    t.fill(1.5);
    opt.step(null);  // no gradient: the param is skipped, as torch does
    expect(Array.from(t.toArray())).toEqual([1.5, 1.5, 1.5, 1.5]);
    opt.destroy();
    expect(() => opt.step(null)).toThrow(/optimizer: destroyed/);
  });

  test('garbage arguments to every addon function throw an Error naming the argument, never crash', () => {
    // Each call either throws an Error that says which argument (or how many) it expected, or is
    // one of the few listed here that legitimately accept it; a call that silently accepts junk
    // fails the test, as does a throw without a message naming what was wrong.
    const ignoresArgs = new Set(['version', 'cudaDeviceCount', 'cudaUnavailableReason', 'groupOptionsDefault', 'numThreads', '_debugPaths', '_debugResetPaths', '_debugRuleTable', 'skippedSteps']);
    const accepted = new Set([
      'addGroup({})', // every option defaulted
      'setClip(-5,1,-1,1e+300,NaN)', // max norm <= 0 turns clipping off
      'step()', // the stream is optional
      'stepAsync()', // likewise (and wait defaults to false)
      'step(null,null,null,null,null,null,null,null,null)', // a null stream is the default stream
      'stateBytes()', // all params
    ]);
    const junk: unknown[][] = [[], ['x'], [{}], [null, null, null, null, null, null, null, null, null], [-5, 1n, -1, 1e300, NaN]];
    const label = (name: string, args: unknown[]) => `${name}(${args.map((a) => (typeof a === 'object' ? JSON.stringify(a) : String(a))).join(',')})`;
    const wrong: string[] = [];
    const check = (name: string, args: unknown[], call: () => unknown) => {
      let error: unknown = null;
      try {
        call();
      } catch (e) {
        error = e;
      }
      const what = label(name, args);
      if (error === null) {
        if (!ignoresArgs.has(name) && !accepted.has(what)) wrong.push(`${what}: accepted`);
      } else if (!isError(error) || !/^[\w.[\]]+: (expected|null pointer|pointer)/.test((error as Error).message)) {
        wrong.push(`${what}: threw ${isError(error) ? JSON.stringify((error as Error).message) : String(error)}`);
      }
    };
    const n = native() as unknown as Record<string, unknown>;
    for (const [name, fn] of Object.entries(n)) {
      if (typeof fn !== 'function' || name === 'NativeOptimizer') continue;
      for (const args of junk) check(name, args, () => (fn as (...a: unknown[]) => unknown)(...args));
    }
    const fresh = () => new (native().NativeOptimizer)(-1) as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(fresh()))) {
      // One optimizer per method: an accepted stepAsync() keeps its optimizer busy for a while.
      const opt = fresh();
      if (name === 'constructor' || name === 'destroy' || typeof opt[name] !== 'function') continue;
      for (const args of junk) check(name, args, () => opt[name](...args));
    }
    expect(wrong).toEqual([]);
  });
});
