// Issue 11 items 10, 11 and 14: native memory the GC can see, tensors freed with the worker that
// made them, and raw pointers kept at the validated borrowing entry points.
import * as lib from '../lib';
import { memoryStats, Tensor } from '../lib';
import { childJson, runChildScript } from './helpers/child';

describe('the GC sees native memory (napi_adjust_external_memory)', () => {
  test('400 dropped 4 MB tensors in a loop stay under 400 MB live, on a 64 MB JS heap', () => {
    // Before: nothing told V8 about the 4 MB behind each tiny Tensor object, no GC ran and the
    // child passed the limit after about 100 iterations.
    const r = runChildScript('test/children/alloc-loop.js', { nodeArgs: ['--max-old-space-size=64'], args: ['400', '400000000'] });
    const out = childJson<{ ok: boolean; peak: number }>(r);
    expect(out.ok).toBe(true);
    expect(out.peak).toBeLessThan(400e6);
  });

  test('optimizer state counts too: 200 dropped AdamWs (8 MB of state each) stay under 400 MB', () => {
    // Before: about 140 iterations (1.1 GB of state) before the child passed the limit.
    const r = runChildScript('test/children/alloc-loop.js', { nodeArgs: ['--max-old-space-size=64'], args: ['200', '400000000', 'optimizers'] });
    const out = childJson<{ ok: boolean; peak: number }>(r);
    expect(out.ok).toBe(true);
    expect(out.peak).toBeLessThan(400e6);
  });
});

describe('tensors allocated in a worker thread are freed with the worker', () => {
  test('6 workers (3 exit, 3 terminated) leave the ledger where it was, with no double free', () => {
    // Before: each worker's undisposed tensors (7 MB) stayed allocated after it exited.
    const r = runChildScript('test/children/worker-tensors.js', { timeoutMs: 120_000 });
    const { before, after } = childJson<{ before: Record<string, number>; after: Record<string, number> }>(r);
    expect(after).toEqual(before);
    expect(r.stderr).not.toMatch(/not memory allocated|double free|free\(\)/);
  });
});

describe('raw pointers', () => {
  test('the package entry does not export the raw addon', () => {
    expect((lib as Record<string, unknown>).native).toBeUndefined();
    expect(typeof lib.version()).toBe('string'); // still reachable internally
  });

  test("fromDevicePointer on 'cpu' accepts only addresses inside library memory", () => {
    const owner = Tensor.zeros([8]);
    const view = Tensor.fromDevicePointer(owner.dataPtr + 8n, [6], 'float32', 'cpu');
    expect(view.numel).toBe(6);
    // One element past the end, an address nobody allocated, a freed allocation: refused.
    expect(() => Tensor.fromDevicePointer(owner.dataPtr + 8n, [7], 'float32', 'cpu')).toThrow(
      /on 'cpu' the pointer must lie inside memory frugal-optim allocated .*Tensor\.fromArrayBuffer/,
    );
    expect(() => Tensor.fromDevicePointer(0x1000n, [4], 'float32', 'cpu')).toThrow(/must lie inside memory frugal-optim allocated/);
    const gone = Tensor.zeros([4]);
    const ptr = gone.dataPtr;
    gone.dispose();
    expect(() => Tensor.fromDevicePointer(ptr, [4], 'float32', 'cpu')).toThrow(/must lie inside memory frugal-optim allocated/);
    // Null and misalignment keep their own messages; an empty view needs no memory.
    expect(() => Tensor.fromDevicePointer(0n, [4], 'float32', 'cpu')).toThrow(/null pointer/);
    expect(() => Tensor.fromDevicePointer(owner.dataPtr + 2n, [1], 'float32', 'cpu')).toThrow(/misaligned for float32/);
    expect(Tensor.fromDevicePointer(0x1000n, [0], 'float32', 'cpu').numel).toBe(0);
    owner.dispose();
  });

  test('a view into library memory throws once that memory is freed, even if it is handed out again', () => {
    // Before: the view kept reading (and writing) whatever the allocator put there next.
    const owner = Tensor.full([16], 1);
    const view = Tensor.fromDevicePointer(owner.dataPtr + 16n, [4], 'float32', 'cpu');
    expect(Array.from(view.toArray())).toEqual([1, 1, 1, 1]);
    owner.dispose();
    const reuse = Array.from({ length: 8 }, () => Tensor.full([16], 2)); // likely the same address
    expect(() => view.toArray()).toThrow(/tensor: the memory it views was freed/);
    expect(() => view.fill(0)).toThrow(/the memory it views was freed/);
    expect(() => view.dataPtr).toThrow(/the memory it views was freed/);
    for (const t of reuse) expect(Array.from(t.toArray()).every((x) => x === 2)).toBe(true);
    reuse.forEach((t) => t.dispose());
  });

  test('a refused borrow leaves the ledger unchanged', () => {
    const before = memoryStats().current.tensors;
    expect(() => Tensor.fromDevicePointer(0xdead0000n, [16], 'float32', 'cpu')).toThrow();
    expect(memoryStats().current.tensors).toBe(before);
  });
});
