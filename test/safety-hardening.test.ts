// Follow-ups to the outside review (review-safety.test.ts): the same findings, checked at the
// places the review did not drive: the raw addon's other pointer-taking entry points, event
// handles, legitimate borrowing still working after the stricter checks, exact int32 fills of
// every size, and messages. Calls that would crash if unchecked run in a child process.
import * as path from 'path';
import { ROOT, runChildCode } from './helpers/child';
import { AdamW, Tensor } from '../lib';
import { native } from '../lib/native';

const NATIVE = JSON.stringify(path.join(ROOT, 'lib/native'));

// Runs `calls` ([name, statement] pairs using `n`, the raw addon, and `p`, a live tensor) in a
// child and returns name -> 'ACCEPTED' | 'REFUSED <message>'.
function rawCalls(calls: [string, string][]): Record<string, string> {
  const body = calls
    .map(([name, code]) => `try { ${code}; out[${JSON.stringify(name)}] = 'ACCEPTED'; } catch (e) { out[${JSON.stringify(name)}] = 'REFUSED ' + e.message; }`)
    .join('\n');
  const r = runChildCode(
    `const n = require(${NATIVE}).native();
     const p = lib.Tensor.zeros([8, 4]);
     const out = {};
     ${body}
     console.log(JSON.stringify(out));`,
  );
  if (r.signal !== null || r.status !== 0) throw new Error(`the child crashed: status ${r.status} signal ${r.signal}\n${r.stderr.slice(-1500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, string>;
}

const NOT_OURS = /are not inside memory frugal-optim allocated/;

describe('raw addon: CPU pointers are checked at every entry point', () => {
  test('cast, copy and random refuse addresses outside every allocation and host buffer', () => {
    const out = rawCalls([
      ['cast src', 'n.cast(-1, 0x1000n, 0, p.dataPtr, 0, 4, null)'],
      ['cast dst', 'n.cast(-1, p.dataPtr, 0, 0x1000n, 0, 4, null)'],
      ['copy src', 'n.copy(p.dataPtr, -1, 0x1000n, -1, 16, null)'],
      ['copy dst', 'n.copy(0x1000n, -1, p.dataPtr, -1, 16, null)'],
      ['copy past the end', 'n.copy(p.dataPtr, -1, p.dataPtr + 64n, -1, 128, null)'],
      ['random', 'n.random(-1, 0x1000n, 0, 4, 0, 1n, 0, 1, null)'],
      ['copyToHost src', 'n.copyToHost(new Float32Array(4), 0, 0x1000n, -1, 16, null)'],
      ['in bounds', 'n.copy(p.dataPtr, -1, p.dataPtr + 64n, -1, 64, null)'],
    ]);
    for (const k of ['cast src', 'cast dst', 'copy src', 'copy dst', 'copy past the end', 'random', 'copyToHost src']) {
      expect([k, out[k]]).toEqual([k, expect.stringMatching(NOT_OURS)]);
    }
    expect(out['in bounds']).toBe('ACCEPTED');
  });

  test('addParam, setBuffers and step refuse wild or freed CPU buffers; a huge shape is refused', () => {
    const out = rawCalls([
      ['addParam data', "{ const o = new n.NativeOptimizer(-1); o.addParam(o.addGroup({}), { data: 0x1000n, dtype: 0, grad: null, gradDtype: 0, shape: [4] }); }"],
      ['addParam overflow', "{ const o = new n.NativeOptimizer(-1); o.addParam(o.addGroup({}), { data: p.dataPtr, dtype: 0, grad: null, gradDtype: 0, shape: [2 ** 53, 2 ** 53, 4] }); }"],
      ['setBuffers grad', "{ const o = new n.NativeOptimizer(-1); const i = o.addParam(o.addGroup({}), { data: p.dataPtr, dtype: 0, grad: null, gradDtype: 0, shape: [8, 4] }); o.setBuffers(i, p.dataPtr, 0x2000n); }"],
      ['step after free', "{ const q = lib.Tensor.zeros([8, 4]); const g = lib.Tensor.zeros([8, 4]); const o = new n.NativeOptimizer(-1); const i = o.addParam(o.addGroup({}), { data: q.dataPtr, dtype: 0, grad: null, gradDtype: 0, shape: [8, 4] }); o.setBuffers(i, q.dataPtr, g.dataPtr); g.dispose(); o.step(null); }"],
    ]);
    expect(out['addParam data']).toMatch(/^REFUSED param\.data: .*are not inside memory/);
    expect(out['addParam overflow']).toMatch(/^REFUSED param\.shape: more than 2\^53 elements/);
    expect(out['setBuffers grad']).toMatch(/^REFUSED grad: .*are not inside memory/);
    expect(out['step after free']).toMatch(/^REFUSED param 0 grad: .*are not inside memory/);
  });

  test('event handles: record and elapsed time on a destroyed event are refused', () => {
    const out = rawCalls([
      ['record', '{ const e = n.eventCreate(-1); n.eventDestroy(e); n.eventRecord(e, null); }'],
      ['elapsed', '{ const a = n.eventCreate(-1); const b = n.eventCreate(-1); n.eventRecord(a, null); n.eventRecord(b, null); n.eventDestroy(b); n.eventElapsedMs(a, b); }'],
      ['never made', 'n.eventDestroy(0x1000n)'],
    ]);
    expect(out.record).toMatch(/^REFUSED event: not a live event/);
    expect(out.elapsed).toMatch(/^REFUSED end: not a live event/);
    expect(out['never made']).toMatch(/^REFUSED event: not a live event/);
  });
});

describe('borrowing still works after the stricter checks', () => {
  test('a tensor over a Node Buffer (a view into the shared pool) sees and makes writes within the view', () => {
    const other = Buffer.from('neighbour stays!');
    const mine = Buffer.alloc(16);
    const t = Tensor.fromArrayBuffer(mine, [2], 'float32', 8);
    try {
      t.fill(1.5);
      expect(Array.from(new Float32Array(mine.buffer, mine.byteOffset, 4))).toEqual([0, 0, 1.5, 1.5]);
      expect(other.toString()).toBe('neighbour stays!');
      expect(() => Tensor.fromArrayBuffer(mine, [3], 'float32', 8)).toThrow(/do not fit in the 16 bytes of the view/);
    } finally {
      t.dispose();
    }
  });

  test('a borrowed param whose buffer was detached is refused naming the optimizer and the param', () => {
    const ab = new ArrayBuffer(64);
    const p = Tensor.fromArrayBuffer(ab, [16], 'float32');
    structuredClone(ab, { transfer: [ab] });
    expect(() => new AdamW([p])).toThrow(/^AdamW: param 0: tensor: its borrowed ArrayBuffer was detached/);
  });

  test('a state dict whose state lives in SharedArrayBuffers loads (copied once)', () => {
    const p = Tensor.randn([4, 4], { seed: 1 });
    p.grad = Tensor.randn([4, 4], { seed: 2 });
    const opt = new AdamW([p]);
    try {
      opt.step();
      const sd = opt.stateDict();
      for (const s of sd.params[0].state) {
        const shared = new Float32Array(new SharedArrayBuffer(s.data.byteLength));
        shared.set(s.data as Float32Array);
        (s as { data: unknown }).data = shared;
      }
      const want = opt.stateDict();
      opt.loadStateDict(sd);
      expect(opt.stateDict().params[0].state.map((s) => Array.from(s.data))).toEqual(want.params[0].state.map((s) => Array.from(s.data)));
    } finally {
      opt.dispose();
      p.grad?.dispose();
      p.dispose();
    }
  });
});

describe('int32 fill is exact at every size', () => {
  test.each([1, 2, 3, 7, 1000])('%i elements of +-2^31 edges', (count) => {
    for (const v of [2147483647, -2147483648, 16777217, -16777217]) {
      const t = Tensor.full([count], v, { dtype: 'int32' });
      try {
        expect(Array.from(t.toArray()).every((x) => x === v)).toBe(true);
      } finally {
        t.dispose();
      }
    }
  });
});

describe('internals stay out of reach', () => {
  test('no property of an optimizer is the raw native optimizer', () => {
    const p = Tensor.zeros([4]);
    const opt = new AdamW([p]);
    try {
      const NativeOptimizer = native().NativeOptimizer;
      const reachable = Object.values(opt).filter((v) => v instanceof NativeOptimizer);
      expect(reachable).toHaveLength(0);
    } finally {
      opt.dispose();
      p.dispose();
    }
  });

  test('a tensor has no writable pointer, shape or disposed flag', () => {
    const t = Tensor.zeros([4]);
    try {
      expect(Object.keys(t).filter((k) => !['grad', 'compressedGrad'].includes(k))).toEqual([]);
      expect(() => {
        (t as unknown as { shape: number[] }).shape = [1 << 30];
      }).toThrow(TypeError);
      expect(t.numel).toBe(4);
    } finally {
      t.dispose();
    }
  });

  test('Tensor.empty names the shape when its byte size is beyond any allocation', () => {
    expect(() => Tensor.empty([2 ** 50, 3])).toThrow(/^Tensor\.empty: shape \[1125899906842624,3\] of float32 needs \d+ bytes/);
  });
});
