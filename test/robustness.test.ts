// Inputs that once crashed the process or gave silently wrong numbers: corrupt checkpoints,
// detached borrowed buffers, absurd ranks, a compressed gradient left over from a rejected step,
// an updateGap changed between steps, BAdam's inactive norms, and resuming blocks without resets.
import { BAdam, Frugal, Grass, Tensor } from '../lib';

function withGrad(shape: number[], seed: number, gseed = seed + 100): Tensor {
  const t = Tensor.randn(shape, { seed });
  t.grad = Tensor.randn(shape, { seed: gseed });
  return t;
}

describe('checkpoints whose selection does not fit the param are refused, not stepped', () => {
  test('an index outside the matrix', () => {
    const p = withGrad([8, 16], 1);
    const opt = new Grass([p], { rank: 2, orientation: 'rows' });
    opt.step();
    const sd = opt.stateDict();
    const idx = sd.params[0].state.find((s) => s.name === 'indices')!;
    (idx.data as Int32Array)[0] = 1 << 28;
    const before = Array.from(p.toArray());
    const fresh = new Grass([p], { rank: 2, orientation: 'rows' });
    expect(() => fresh.loadStateDict(sd)).toThrow(/restored index 268435456 is outside 0..7/);
    fresh.step();  // the refused load changed nothing: a fresh optimizer steps normally
    expect(Array.from(p.toArray())).not.toEqual(before);
  });

  test('a repeated index where the selection takes distinct ones, and an axis that does not fit the kind', () => {
    const p = withGrad([4, 64], 2);
    const opt = new Frugal([p], { selection: 'columns', density: 0.25, updateGap: 10 });
    opt.step();
    const sd = opt.stateDict();
    const idx = sd.params[0].state.find((s) => s.name === 'indices')!.data as Int32Array;
    const saved = idx[1];
    idx[1] = idx[0];
    expect(() => new Frugal([p], { selection: 'columns', density: 0.25, updateGap: 10 }).loadStateDict(sd)).toThrow(/appears twice/);
    idx[1] = saved;
    sd.params[0].counters.axis = 0;  // rows, for a columns selection
    expect(() => new Frugal([p], { selection: 'columns', density: 0.25, updateGap: 10 }).loadStateDict(sd)).toThrow(/counters.axis/);
  });
});

describe('borrowed host memory', () => {
  test('a transferred (detached) ArrayBuffer makes the tensor unusable instead of dangling', () => {
    const ab = new ArrayBuffer(1 << 16);
    const t = Tensor.fromArrayBuffer(ab, [1 << 14], 'float32');
    structuredClone(ab, { transfer: [ab] });
    expect(() => t.fill(3)).toThrow(/detached/);
    expect(() => t.toArray()).toThrow(/detached/);
  });

  test('a resizable ArrayBuffer is refused', () => {
    const ab = new (ArrayBuffer as any)(64, { maxByteLength: 64 }) as ArrayBuffer;
    expect(() => Tensor.fromArrayBuffer(ab, [16], 'float32')).toThrow(/resizable/);
  });
});

test('Grass with replacement refuses an absurd number of draws', () => {
  const p = withGrad([8, 16], 3);
  const opt = new Grass([p], { rank: 2 ** 31 - 1, replacement: true, sampling: 'norm', orientation: 'rows' });
  expect(() => opt.step()).toThrow(/rank: 2147483647 draws with replacement for 8 lines/);
});

test('a compressed gradient from a rejected step is never used by a later one', () => {
  const run = (reject: number | null) => {
    const p = withGrad([8, 12], 4);
    const opt = new Grass([p], { rank: 2, orientation: 'rows', stateFree: 'signsgd', updateGap: 5 });
    opt.step();
    const g = p.grad!;
    if (reject !== null) {
      p.grad = null;
      p.compressedGrad = Tensor.full([2, 12], reject);
      expect(() => opt.step()).toThrow(/state-free rule needs the full gradient/);
      p.compressedGrad = null;
      p.grad = g;
    }
    opt.step();
    return Array.from(p.toArray());
  };
  const clean = run(null);
  expect(run(0)).toEqual(clean);
  expect(run(1e6)).toEqual(clean);
});

test('an updateGap changed between steps decides whether the next step is a refresh', () => {
  const p = withGrad([8, 12], 5);
  const opt = new Grass([p], { rank: 2, orientation: 'rows', updateGap: 2 });
  for (let i = 0; i < 3; i++) opt.step();
  expect(opt.grassInfo(p).nextStepIsRefresh).toBe(false);  // step 3 under T = 2
  opt.paramGroups[0].updateGap = 3;  // ...but a refresh under T = 3
  expect(opt.grassInfo(p).nextStepIsRefresh).toBe(true);
  const g = p.grad;
  p.grad = null;
  p.compressedGrad = Tensor.full([2, 12], 0.5);
  const before = Array.from(p.toArray());
  expect(() => opt.step()).toThrow(/needs the full .grad/);  // never a silent no-op
  expect(Array.from(p.toArray())).toEqual(before);
  p.compressedGrad = null;
  p.grad = g;
  opt.step();
  expect(Array.from(p.toArray())).not.toEqual(before);
});

test('BAdam leaves every tensor of an inactive layer alone, norms included', () => {
  const [w1, b1, w2, b2] = [withGrad([4, 4], 6), withGrad([4], 7), withGrad([4, 4], 8), withGrad([4], 9)];
  const before = [w1, b1, w2, b2].map((t) => Array.from(t.toArray()));
  const opt = new BAdam([[w1, b1], [w2, b2]], { switchEvery: 100 });
  opt.step();
  const changed = [w1, b1, w2, b2].map((t, i) => Array.from(t.toArray()).some((v, j) => v !== before[i][j]));
  expect(changed).toEqual([false, false, true, true]);  // descending: the last layer is active
  expect(opt.stateBytes(b1)).toBe(0);
  expect(opt.stateBytes(b2)).toBe(4 * 8);
});

test('FRUGAL blocks without resets resume bit-identically after a block has left the set', () => {
  const make = () => [0, 1, 2, 3].map((i) => withGrad([4, 4], 20 + i));
  const opts = { density: 0.25, updateGap: 2, resetStatistics: false } as const;
  const a = make();
  const oa = new Frugal(a, opts);
  for (let s = 0; s < 3; s++) oa.step();
  const sd = oa.stateDict();
  const b = make();
  b.forEach((t, i) => t.copyFrom(a[i]));
  const ob = new Frugal(b, opts);
  ob.loadStateDict(sd);
  for (let s = 0; s < 4; s++) {
    oa.step();
    ob.step();
  }
  a.forEach((t, i) => expect(Array.from(b[i].toArray())).toEqual(Array.from(t.toArray())));
});
