// Outside review (memory safety of the public API): each test is one finding, failing until it is
// fixed. Anything that can crash, or write outside the memory it should, runs in a child process
// (test/helpers/child.ts), so a SIGSEGV is a failed test and not a dead jest worker. A child
// prints REFUSED <message> when the call was refused with an Error, ACCEPTED when it went
// through; the test wants a clean exit and a refusal.
import * as path from 'path';
import { ChildResult, ROOT, runChildCode } from './helpers/child';
import { AdamW, Tensor } from '../lib';

const NATIVE = JSON.stringify(path.join(ROOT, 'lib/native'));

// Runs `attack` (statements; may use lib, Tensor) in a child: REFUSED/ACCEPTED as above.
function attempt(attack: string, timeoutMs = 20_000): ChildResult {
  return runChildCode(
    `const { Tensor } = lib;
     try { ${attack}; console.log('ACCEPTED'); }
     catch (e) { console.log('REFUSED ' + (e && e.message)); }`,
    { timeoutMs },
  );
}

function expectRefused(r: ChildResult, message: RegExp): void {
  const out = `status ${r.status} signal ${r.signal}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-1500)}`;
  if (r.signal !== null || r.status !== 0) throw new Error(`the child crashed or failed: ${out}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('REFUSED ')) throw new Error(`the call was accepted: ${out}`);
  expect(line).toMatch(message);
}

describe('review: borrowed host memory (Tensor.fromArrayBuffer, Tensor.fromArray)', () => {
  // A view bounds the borrowed range: the tensor must fit in the view the caller passed, not in
  // the whole ArrayBuffer behind it (a Node Buffer shares an 8 KiB pool with unrelated Buffers).
  test('a tensor larger than the view it borrows is refused (it overwrote a neighbouring view)', () => {
    const ab = new ArrayBuffer(64);
    const head = new Float32Array(ab, 0, 2);
    const tail = new Float32Array(ab, 8, 14).fill(5);
    let t: Tensor | null = null;
    try {
      expect(() => {
        t = Tensor.fromArrayBuffer(head, [16], 'float32');
      }).toThrow(/fromArrayBuffer/);
    } finally {
      (t as Tensor | null)?.dispose();
    }
    expect(Array.from(tail)).toEqual(new Array(14).fill(5));
  });

  test('a tensor over a small pooled Node Buffer cannot overwrite the next Buffer of the pool', () => {
    const r = runChildCode(
      `const mine = Buffer.from('abcdefgh'); const other = Buffer.from('important secret!!');
       let refused = false;
       try { lib.Tensor.fromArrayBuffer(mine, [64], 'float32').fill(0); } catch (e) { refused = true; }
       console.log(JSON.stringify({ refused, other: other.toString() }));`,
    );
    expect(r.signal).toBeNull();
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { refused: boolean; other: string };
    expect(out.other).toBe('important secret!!');
    expect(out.refused).toBe(true);
  });

  test('an ArrayBuffer subclass that lies about byteLength cannot make a tensor past its end (SIGSEGV)', () => {
    const r = attempt(
      `class Big extends ArrayBuffer { get byteLength() { return 1 << 26; } }
       Tensor.fromArrayBuffer(new Big(16), [1 << 24], 'float32').fill(1)`,
    );
    expectRefused(r, /fromArrayBuffer/);
  });

  test("a view whose own 'byteOffset' is negative cannot place the tensor before its buffer (wild write)", () => {
    const r = attempt(
      // the offset puts the tensor at address 4096 (an unmapped page), 16 bytes long
      `const v = new Float32Array(16);
       const at = Tensor.fromArrayBuffer(v.buffer, [1], 'float32').dataPtr;
       Object.defineProperty(v, 'byteOffset', { value: 4096 - Number(at) });
       Tensor.fromArrayBuffer(v, [4], 'float32').fill(7)`,
    );
    expectRefused(r, /fromArrayBuffer/);
  });

  test("a Float32Array subclass that lies about length cannot make fromArray read past it (SIGSEGV / heap disclosure)", () => {
    const r = attempt(
      `class L extends Float32Array { get length() { return 1 << 24; } }
       Tensor.fromArray(new L(2), [1 << 24], { dtype: 'float16' })`,
    );
    expectRefused(r, /fromArray/);
  });

  test('a Float32Array over a SharedArrayBuffer is copied, or refused naming the data argument', () => {
    const data = new Float32Array(new SharedArrayBuffer(16));
    data.set([1, 2, 3, 4]);
    let t: Tensor | null = null;
    try {
      t = Tensor.fromArray(data);
      expect(Array.from(t.toArray())).toEqual([1, 2, 3, 4]);
    } catch (e) {
      // today: "Invalid argument" (node-addon-api's words, naming nothing)
      expect((e as Error).message).toMatch(/Tensor\.fromArray: data/);
    } finally {
      t?.dispose();
    }
  });
});

describe('review: Tensor.fromDevicePointer on the CPU', () => {
  // The CPU check accepts any live ledger entry, optimizer state and index buffers included, and
  // answers "inside or not" for any address: probing near a param finds the optimizer's own
  // buffers, and writing their indices makes the next step write out of bounds.
  test('it refuses the optimizer\'s internal state and index buffers (probing + overwrite crashed the step)', () => {
    const r = runChildCode(
      `const { Tensor, Frugal } = lib;
       const p = Tensor.randn([64, 32], { seed: 1 }); p.grad = Tensor.randn([64, 32], { seed: 2 });
       const o = new Frugal([p], { selection: 'rows', density: 0.25, updateGap: 1000 });
       o.step();
       const ours = [p, p.grad].map((t) => [t.dataPtr, t.dataPtr + BigInt(t.nbytes)]);
       const foreign = [];
       for (let off = -(1n << 18n); off < (1n << 18n); off += 16n) {
         const a = p.dataPtr + off;
         if (a <= 0n || ours.some(([s, e]) => a >= s && a < e)) continue;
         try { Tensor.fromDevicePointer(a, [1], 'int32', 'cpu'); } catch { continue; }
         let n = 1;
         for (;;) { try { Tensor.fromDevicePointer(a, [n * 2], 'int32', 'cpu'); n *= 2; } catch { break; } }
         foreign.push([a, n]);
         off += BigInt(n * 4) - 16n;
       }
       for (const [a, n] of foreign) Tensor.fromDevicePointer(a, [n], 'int32', 'cpu').fill(1 << 30);
       o.step();
       console.log(JSON.stringify({ foreign: foreign.length }));`,
    );
    if (r.signal !== null || r.status !== 0) {
      throw new Error(`overwriting optimizer memory through public views crashed the step: status ${r.status} signal ${r.signal}`);
    }
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).toEqual({ foreign: 0 });
  });

  // A view made in one thread of a tensor another thread owns passes the serial check, then the
  // owner's teardown frees (munmaps) the memory while the view's fill is running.
  test('a view of a worker\'s tensor is safe while the worker is terminated (SIGSEGV)', () => {
    const r = runChildCode(
      `const { Worker } = require('worker_threads');
       const src = "const lib = require(" + JSON.stringify(${JSON.stringify(path.join(ROOT, 'lib'))}) + ");" +
         "const t = lib.Tensor.zeros([1 << 24]); require('worker_threads').parentPort.postMessage(t.dataPtr); setInterval(() => {}, 1000);";
       const w = new Worker(src, { eval: true, execArgv: ['-r', ${JSON.stringify(path.join(ROOT, 'test/children/ts-register.js'))}] });
       w.once('message', (ptr) => {
         const v = lib.Tensor.fromDevicePointer(ptr, [1 << 24], 'float32', 'cpu');
         w.terminate();
         const end = Date.now() + 3000;
         let n = 0;
         try { while (Date.now() < end) v.fill(n++); console.log('ACCEPTED'); }
         catch (e) { console.log('REFUSED ' + e.message); }
         process.exit(0);
       });`,
      { timeoutMs: 30_000 },
    );
    expectRefused(r, /freed/);
  });
});

describe('review: internals reachable from JavaScript', () => {
  // TypeScript's `private` is not enforced at run time: the constructor takes a raw pointer and
  // the fields (ptr, disposedFlag, viewOf, ...) are plain writable properties; Optimizer.opt is
  // the raw NativeOptimizer. A JavaScript caller reaches all of them.
  test('new Tensor(pointer, ...) from JavaScript is refused (it wrote to a wild address)', () => {
    const r = attempt(`new Tensor(0x10n, [1 << 20], 'float32', 'cpu', false, null).fill(1)`);
    expectRefused(r, /Tensor/);
  });

  test('a disposed tensor stays disposed when its fields are written (use after free)', () => {
    const r = attempt(
      `const t = Tensor.zeros([1 << 20]); t.dispose(); t.disposedFlag = false;
       Tensor.full([1 << 20], 3); t.fill(1)`,
    );
    expectRefused(r, /disposed/);
  });
});

describe('review: int32 tensors', () => {
  // fill and full go through a float32 value: integers above 2^24 round and fractions truncate,
  // silently.
  test('Tensor.full with an int32 value above 2^24 keeps the value', () => {
    const t = Tensor.full([1], 16777217, { dtype: 'int32' });
    try {
      expect(t.toArray()[0]).toBe(16777217);
    } finally {
      t.dispose();
    }
  });

  test('fill(0.75) on an int32 tensor is refused, not truncated to 0', () => {
    const t = Tensor.zeros([2], { dtype: 'int32' });
    try {
      expect(() => t.fill(0.75)).toThrow(/fill/);
    } finally {
      t.dispose();
    }
  });
});

describe('review: messages name the call and the argument', () => {
  test('a zero-size param is refused naming the optimizer and the param', () => {
    const p = Tensor.zeros([0, 4]);
    p.grad = Tensor.zeros([0, 4]);
    try {
      // today: "param.shape[0]: expected > 0, got 0" (the C field, no method, no param index)
      expect(() => new AdamW([p])).toThrow(/^AdamW: param 0/);
    } finally {
      p.dispose();
      p.grad.dispose();
    }
  });

  test('step() reads its options object once (a getter cannot hand stateDict() a fake stream)', () => {
    const p = Tensor.zeros([4]);
    p.grad = Tensor.zeros([4]);
    const opt = new AdamW([p]);
    let reads = 0;
    const options = {};
    Object.defineProperty(options, 'stream', {
      enumerable: true,
      get() {
        reads++;
        return reads === 1 ? undefined : { destroyed: false, synchronize: () => { throw new Error('user code called by stateDict'); } };
      },
    });
    try {
      opt.step(options);
      expect(() => opt.stateDict()).not.toThrow();
      expect(reads).toBe(1);
    } finally {
      opt.dispose();
      p.dispose();
      p.grad.dispose();
    }
  });
});

describe('review: state dicts are read once', () => {
  // loadStateDict reads each state tensor's data about 20 times: a getter that returns the valid
  // array for the checks and another one afterwards loads negative second moments unchecked.
  test('a state tensor whose data changes after the checks cannot load NaN-producing state', () => {
    const p = Tensor.randn([4, 4], { seed: 1 });
    p.grad = Tensor.randn([4, 4], { seed: 2 });
    const opt = new AdamW([p]);
    try {
      opt.step();
      const sd = opt.stateDict();
      const s = sd.params[0].state.find((x) => x.name === 'exp_avg_sq');
      if (!s) throw new Error('AdamW state has no exp_avg_sq');
      const good = s.data;
      const bad = new Float32Array(good.length).fill(-1);
      let reads = 0;
      Object.defineProperty(s, 'data', { enumerable: true, get: () => (reads++ < 4 ? good : bad) });
      let refused = false;
      try {
        opt.loadStateDict(sd);
      } catch {
        refused = true;
      }
      if (!refused) {
        opt.step();
        expect(Array.from(p.toArray()).every(Number.isFinite)).toBe(true);
      }
    } finally {
      opt.dispose();
      p.grad?.dispose();
      p.dispose();
    }
  });
});

describe('review: the internal addon (lower severity: not exported, but reachable through lib/native)', () => {
  // The CPU backend rounds the size up to 64 bytes: (2^64 - 1 + 63) wraps to 0, so the allocation
  // "succeeds" with no memory and the ledger records 2^64 - 1 bytes (frugal_alloc in the C API too).
  test('alloc of 2^64 - 1 bytes on the CPU fails instead of returning an empty block', () => {
    const r = runChildCode(
      `const n = require(${NATIVE}).native();
       try { const p = n.alloc(-1, 2n ** 64n - 1n, 0); console.log('ACCEPTED ' + p + ' ' + n.memoryStats(-1).currentTotal); }
       catch (e) { console.log('REFUSED ' + e.message); }`,
    );
    expectRefused(r, /out of memory|bytes/);
  });

  test('fill with a CPU pointer outside every library allocation is refused (SIGSEGV)', () => {
    const r = runChildCode(
      `const n = require(${NATIVE}).native();
       try { n.fill(-1, 0x10n, 0, 1024, 1, null); console.log('ACCEPTED'); } catch (e) { console.log('REFUSED ' + e.message); }`,
    );
    expectRefused(r, /ptr/);
  });

  test('eventDestroy twice is refused (today it reads the freed event)', () => {
    const r = runChildCode(
      `const n = require(${NATIVE}).native();
       const e = n.eventCreate(-1); n.eventDestroy(e);
       try { n.eventDestroy(e); console.log('ACCEPTED'); } catch (err) { console.log('REFUSED ' + err.message); }`,
    );
    // today: refused with "event: frugal-optim was built without CUDA", i.e. read from freed memory
    expectRefused(r, /^REFUSED event: (?!.*CUDA)/);
  });
});
