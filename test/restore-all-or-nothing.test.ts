// Restoring a param through the C API (frugal_optimizer_restore_param, reached through the addon's
// NativeOptimizer) is all or nothing: an allocation that fails half way leaves the optimizer
// exactly as it was, and a restored per-line step counter that its param's state step does not
// bound (or that would overflow int32 at the next step) is refused naming the field, through the
// C API and through the TypeScript checkpoint loader.
import { Frugal, Tensor } from '../lib';
import { native, NativeCounters, NativeGroupOptions } from '../lib/native';
import { SELECTION_CODES } from '../lib/optim/schema.generated';
import { runCProgram } from './helpers/c-program';
import { build, SHAPE, snapshot, step } from './helpers/restore-run';

const DTYPE_BYTES = [4, 2, 2, 4];

interface Case {
  name: string;
  options: Partial<NativeGroupOptions>;
  // Counters the restore is asked for: a different selection size than the run has, so every
  // buffer is a new one.
  counters: (c: NativeCounters) => NativeCounters;
  // The library allocations the restore makes, in order: each one is made to fail in turn.
  allocations: string[];
}

const CASES: Case[] = [
  {
    name: 'columns without resets (indices, mask, per-line counters, moments)',
    options: { selection: SELECTION_CODES.columns, density: 0.25, reset_statistics: false, update_gap: 2 },
    counters: (c) => ({ ...c, selectionCount: 3, stateStep: 1 }),
    allocations: ['indices', 'mask', 'slot_step', 'exp_avg', 'exp_avg_sq'],
  },
  {
    name: 'grass (indices, scales, mask, moments)',
    options: { selection: SELECTION_CODES.grass, rank: 2, update_gap: 2 },
    counters: (c) => ({ ...c, selectionCount: 3, stateStep: 1 }),
    allocations: ['indices', 'scales', 'mask', 'exp_avg', 'exp_avg_sq'],
  },
  {
    name: 'a random orthonormal basis (basis, moments)',
    options: { selection: SELECTION_CODES.random, rank: 2, update_gap: 2 },
    counters: (c) => ({ ...c, selectionCount: 3, stateStep: 1 }),
    allocations: ['basis', 'exp_avg', 'exp_avg_sq'],
  },
  {
    name: 'all (moments)',
    options: { selection: SELECTION_CODES.all },
    counters: (c) => ({ ...c, stateStep: 1 }),
    allocations: ['exp_avg', 'exp_avg_sq'],
  },
];

afterEach(() => native()._debugFailAllocationAfter(-1));

describe('C API restore_param: an allocation failing half way changes nothing', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    let failures = 0;
    for (let k = 0; ; k++) {
      const a = build(c.options);
      const twin = build(c.options);
      for (let t = 1; t <= 3; t++) {
        step(a, t);
        step(twin, t);
      }
      const before = snapshot(a);
      expect(snapshot(twin)).toEqual(before);
      const counters = c.counters(a.opt.getCounters(0));
      native()._debugFailAllocationAfter(k);
      let error: Error | null = null;
      try {
        a.opt.restoreParam(0, counters);
      } catch (e) {
        error = e as Error;
      }
      native()._debugFailAllocationAfter(-1);
      if (error === null) {
        // The restore made k allocations: each of them was made to fail once above.
        expect(k).toBe(c.allocations.length);
        expect(a.opt.getCounters(0).selectionCount).toBe(counters.selectionCount);
        break;
      }
      expect(error.message).toMatch(/^out of memory: could not allocate \d+ bytes on cpu \(a failure injected by a test\)$/);
      expect((error as Error & { code?: string }).code).toBe('FRUGAL_ERR_OUT_OF_MEMORY');
      failures++;
      // Exactly as before, and it steps on exactly as its twin does.
      expect(snapshot(a)).toEqual(before);
      for (let t = 4; t <= 5; t++) {
        step(a, t);
        step(twin, t);
      }
      expect(Array.from(a.param.toArray())).toEqual(Array.from(twin.param.toArray()));
      expect(snapshot(a)).toEqual(snapshot(twin));
      a.opt.destroy();
      twin.opt.destroy();
      if (k > 20) throw new Error('the restore never succeeded');
    }
    expect(failures).toBe(c.allocations.length);
  });
});

describe('restored per-line step counters are bounded by the state step and int32', () => {
  const options = CASES[0].options;

  test('C API: a state step whose per-line counters would overflow int32 at the next step is refused', () => {
    const a = build(options);
    step(a, 1);
    const before = snapshot(a);
    const c = a.opt.getCounters(0);
    const at = (stateStep: number) => ({ ...c, step: 2 ** 40, stateStep });
    expect(() => a.opt.restoreParam(0, at(2 ** 31 - 1))).toThrow(
      /^counters\.state_step: 2147483647 is too large for per-line step counters \(int32, advanced at every step\): expected at most 2147483646$/,
    );
    expect(snapshot(a)).toEqual(before);
    // The largest accepted one (control).
    expect(() => a.opt.restoreParam(0, at(2 ** 31 - 2))).not.toThrow();
  });

  test('C API: a restored slot_step above the state step is refused by verify_state, and steps refuse it too', () => {
    const a = build(options);
    for (let t = 1; t <= 3; t++) step(a, t);
    const c = a.opt.getCounters(0);
    expect(c.stateStep).toBe(3);
    // As a checkpoint loader does: restore, then fill every state tensor with the saved bytes.
    const saved = a.opt.stateTensors(0).map((t) => {
      const bytes = new Uint8Array(t.count * DTYPE_BYTES[t.dtype]);
      native().copyToHost(bytes, 0, t.data, -1, bytes.length, null);
      return bytes;
    });
    a.opt.restoreParam(0, c);
    a.opt.stateTensors(0).forEach((t, j) => native().copyFromHost(t.data, -1, saved[j], 0, saved[j].length, null));
    const slot = a.opt.stateTensors(0).find((t) => t.name === 'slot_step')!;
    expect(slot.count).toBe(2);
    const write = (values: number[]) => native().copyFromHost(slot.data, -1, Int32Array.from(values), 0, values.length * 4, null);
    write([3, 4]);
    const message = /^param 0: restored slot_step\[1\] is 4; expected a step count from 0 to counters\.state_step \(3\): a line's steps cannot outnumber the param's$/;
    expect(() => a.opt.verifyState(0)).toThrow(message);
    expect(() => a.opt.step(null)).toThrow(message);
    write([3, 2 ** 31 - 1]);
    expect(() => a.opt.verifyState(0)).toThrow(/restored slot_step\[1\] is 2147483647; expected a step count from 0 to counters\.state_step \(3\)/);
    // At the bound (control): accepted, and it steps.
    write([3, 3]);
    expect(() => a.opt.verifyState(0)).not.toThrow();
    expect(() => step(a, 4)).not.toThrow();
  });

  test('C API: counters whose state step exceeds the step are refused', () => {
    const a = build(options);
    step(a, 1);
    const before = snapshot(a);
    const c = a.opt.getCounters(0);
    expect(() => a.opt.restoreParam(0, { ...c, step: 2, stateStep: 3 })).toThrow(
      /^counters\.state_step: 3 exceeds counters\.step 2 \(the state's steps cannot outnumber the param's\)$/,
    );
    expect(snapshot(a)).toEqual(before);
  });

  const frugal = () => {
    const p = [Tensor.randn(SHAPE, { seed: 3 })];
    return { p, opt: new Frugal(p, { lr: 0.01, selection: 'columns', density: 0.25, resetStatistics: false, updateGap: 2 }) };
  };
  const run = () => {
    const r = frugal();
    for (let t = 1; t <= 3; t++) {
      r.p[0].grad = Tensor.randn(SHAPE, { seed: 100 + t });
      r.opt.step();
    }
    return r;
  };

  test('checkpoint loader: a slot_step above stateStep is refused naming it, and the optimizer is unchanged', () => {
    const src = run();
    const sd = src.opt.stateDict();
    const slot = sd.params[0].state.find((t) => t.name === 'slot_step')!;
    expect(slot.data.length).toBe(2);
    expect(sd.params[0].counters.stateStep).toBe(3);
    const dst = run();
    const before = JSON.stringify(dst.opt.stateDict(), (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v));
    // Untouched, it loads (control).
    expect(() => dst.opt.loadStateDict(src.opt.stateDict())).not.toThrow();
    slot.data[0] = 2 ** 31 - 1;
    expect(() => dst.opt.loadStateDict(sd)).toThrow(
      /Frugal\.loadStateDict: param 0: restored slot_step\[0\] is 2147483647; expected a step count from 0 to counters\.state_step \(3\)/,
    );
    slot.data[0] = 4;
    expect(() => dst.opt.loadStateDict(sd)).toThrow(/restored slot_step\[0\] is 4; expected a step count from 0 to counters\.state_step \(3\)/);
    expect(JSON.stringify(dst.opt.stateDict(), (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v))).toBe(before);
  });

  test('checkpoint loader: a checkpoint without per-line counters whose stateStep would overflow them is refused', () => {
    const sd = run().opt.stateDict();
    const p = sd.params[0];
    // A checkpoint from before per-line counters: each line then starts at stateStep.
    p.state = p.state.filter((t) => t.name !== 'slot_step');
    p.counters.step = 2 ** 31 - 1;
    p.counters.stateStep = 2 ** 31 - 1;
    sd.step = 2 ** 31 - 1;
    sd.groups[0].native.forEach((n) => (n.step = 2 ** 31 - 1));
    expect(() => frugal().opt.loadStateDict(sd)).toThrow(/counters\.state_step: 2147483647 is too large for per-line step counters/);
    p.counters.stateStep = 2 ** 31 - 2;
    expect(() => frugal().opt.loadStateDict(sd)).not.toThrow();
  });

  test('checkpoint loader: a negative slot_step is refused by the value checks', () => {
    const sd = run().opt.stateDict();
    sd.params[0].state.find((t) => t.name === 'slot_step')!.data[1] = -1;
    expect(() => frugal().opt.loadStateDict(sd)).toThrow(/param 0: state 'slot_step': element 1 is -1, expected an integer >= 0/);
  });

  test('through the C API alone (test/abi/restore_limits.c, linked with libfrugal)', () => {
    const r = runCProgram('restore_limits');
    expect(r.signal).toBeNull();
    expect(r.stdout).not.toMatch(/FAILED/);
    expect(r.stdout).toMatch(/ok: a step of 2\^63 - 1 is refused\n/);
    expect(r.stdout).toMatch(/ok: verify_state refuses a slot_step above the state step\n/);
    expect(r.stdout).toMatch(/all checks held\n$/);
    expect(r.status).toBe(0);
  });
});
