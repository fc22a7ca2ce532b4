// The memory-efficient methods through the TypeScript API: how params are arranged (projectable
// 2-D params vs regular ones), caller-supplied selections, Grass's compressed-gradient path,
// BAdam's block schedule, and state sizes. The numbers themselves are checked against the
// reference runs and invariants in test/reference*.test.ts and test/invariants*.test.ts.
import { AdamW, BAdam, Frugal, GaLore, Grass, memoryStats, releaseWorkspace, SelectionContext, Tensor } from '../lib';
import { expectBitIdentical, setGrads } from './helpers/update-rules';

function params(shapes: number[][], seed = 0): Tensor[] {
  return shapes.map((s, i) => Tensor.randn(s, { seed: seed + i }));
}

describe('param arrangement', () => {
  test('FRUGAL defaults: blocks, descending, density 0.25, T 200, AdamW + signSGD', () => {
    const opt = new Frugal(params([[4, 4]]));
    expect(opt.paramGroups[0]).toMatchObject({
      selection: 'blocks',
      blockOrder: 'descending',
      density: 0.25,
      updateGap: 200,
      stateFull: 'adamw',
      stateFree: 'signsgd',
    });
    const galore = new GaLore(params([[4, 4]]));
    expect(galore.paramGroups[0]).toMatchObject({ selection: 'svd', stateFullLrScale: 0.25, resetStatistics: false, stateFree: 'none', updateGap: 200 });
    const grass = new Grass(params([[4, 4]]));
    expect(grass.paramGroups[0]).toMatchObject({ selection: 'grass', orientation: 'std', sampling: 'top-r', stateFullLrScale: 0.25, updateGap: 200, stateFree: 'none' });
  });

  test('regular groups and non-2-D params get plain AdamW, exactly as AdamW would', () => {
    const shapes = [[6, 4], [4], [3, 5]];
    const a = params(shapes);
    const b = params(shapes);
    // Group 1 is not projectable: with the same betas/eps/lr it must step like AdamW.
    const frugal = new Frugal([{ params: [a[0], a[1]] }, { params: [a[2]], projectable: false }], { lr: 0.01, weightDecay: 0.1, density: 1 });
    const adamw = new AdamW(b, { lr: 0.01, weightDecay: 0.1 });
    for (let t = 0; t < 3; t++) {
      setGrads(a, t);
      setGrads(b, t);
      frugal.step();
      adamw.step();
    }
    expectBitIdentical(a[1].toArray(), b[1].toArray()); // 1-D: regular
    expectBitIdentical(a[2].toArray(), b[2].toArray()); // projectable: false
    expectBitIdentical(a[0].toArray(), b[0].toArray()); // density 1: all state-full, the same arithmetic
  });

  test('FRUGAL at density 0.25 keeps a quarter of the blocks state-full', () => {
    const p = params([[16, 16], [16, 16], [16, 16], [16, 16], [16]]);
    const before = memoryStats('cpu').current.optimizerState;
    const frugal = new Frugal(p, { lr: 0.01 });
    setGrads(p, 0);
    frugal.step();
    const adamStateOfOne = 16 * 16 * 8;
    expect(frugal.stateBytes(p[3])).toBe(adamStateOfOne); // descending: the last block first
    expect(frugal.stateBytes(p[0])).toBe(0);
    expect(frugal.stateBytes()).toBe(adamStateOfOne + 16 * 8);
    expect(memoryStats('cpu').current.optimizerState - before).toBe(frugal.stateBytes());
  });
});

test('dense projections count their scratch as workspace, apart from state; dispose returns both', () => {
  const p = params([[16, 8]]);
  setGrads(p, 0);
  // The workspace pool is the device's: optimizers other files left to the GC may hold it.
  releaseWorkspace('cpu');
  const before = memoryStats('cpu').current;
  const opt = new GaLore(p, { rank: 2, updateGap: 5 });
  opt.step();
  const mid = memoryStats('cpu').current;
  expect(mid.workspace).toBeGreaterThan(before.workspace);
  expect(mid.optimizerState - before.optimizerState).toBe(opt.stateBytes());
  expect(opt.stateBytes()).toBeGreaterThan(0);
  opt.dispose();
  releaseWorkspace('cpu'); // a no-op unless another optimizer on the cpu keeps the pool
  const after = memoryStats('cpu').current;
  expect(after.workspace).toBe(before.workspace);
  expect(after.optimizerState).toBe(before.optimizerState);
});

describe('caller-supplied selections', () => {
  test('the function is called at each refresh with the step, param, grad, index and group', () => {
    const p = params([[5, 6], [3]]);
    const calls: { step: number; paramIndex: number; shape: readonly number[]; grad: boolean }[] = [];
    const select = (ctx: SelectionContext) => {
      calls.push({ step: ctx.step, paramIndex: ctx.paramIndex, shape: ctx.param.shape, grad: ctx.grad === ctx.param.grad });
      expect(ctx.group.updateGap).toBe(2);
      return [ctx.step % 6, 5];
    };
    const opt = new Frugal(p, { lr: 0.01, selection: select, selectionKind: 'columns', updateGap: 2 });
    for (let t = 0; t < 5; t++) {
      setGrads(p, t);
      opt.step();
    }
    // Only the 2-D param has a selection; refreshes at steps 0, 2, 4.
    expect(calls).toEqual([0, 2, 4].map((step) => ({ step, paramIndex: 0, shape: [5, 6], grad: true })));
    const info = opt.grassInfo(p[0]);
    expect(info.orientation).toBe('columns');
    expect(Array.from(info.indices.toArray())).toEqual([4, 5]);
    expect(info.scales).toBeNull();
    expect(info.indices.isBorrowed).toBe(false); // a copy since issue 11 item 9
    expect(opt.stateBytes(p[0])).toBeGreaterThanOrEqual(2 * 5 * 8); // moments of 2 columns of 5
  });

  test('a blocks function returns whether each tensor is state-full', () => {
    const p = params([[4, 4], [4, 4]]);
    const opt = new Frugal(p, { lr: 0.01, selection: ({ paramIndex }) => paramIndex === 0, updateGap: 10 });
    setGrads(p, 0);
    opt.step();
    expect(opt.stateBytes(p[0])).toBe(16 * 8);
    expect(opt.stateBytes(p[1])).toBe(0);
  });

  test('bad results are named; the core checks the indices', () => {
    const p = params([[4, 4]]);
    const run = (select: () => unknown) => {
      const opt = new Frugal(p, { selection: select as never, selectionKind: 'rows' });
      setGrads(p, 0);
      return () => opt.step();
    };
    expect(run(() => 'rows')).toThrow(/param 0: selection function: must return a boolean \(blocks\), indices/);
    expect(run(() => [0.5])).toThrow(/index 0 is 0.5, not a 32-bit integer/);
    expect(run(() => ({ indices: [0, 1], scales: [1] }))).toThrow(/1 scales for 2 indices/);
    expect(run(() => [9])).toThrow(/indices\[0\]: 9 is outside 0..3/);
    expect(run(() => { throw new Error('my strategy failed'); })).toThrow('my strategy failed');
  });
});

describe('Grass', () => {
  test('grassInfo: orientation by the smaller side, indices and scales, refresh flag', () => {
    const [tall, wide] = params([[12, 4], [4, 12]]);
    const opt = new Grass([tall, wide], { rank: 2, updateGap: 3, sampling: 'norm', replacement: true, seed: 1 });
    expect(opt.grassInfo(tall).nextStepIsRefresh).toBe(true);
    expect(opt.grassInfo(tall).orientation).toBe('columns');
    setGrads([tall, wide], 0);
    opt.step();
    const t = opt.grassInfo(tall);
    const w = opt.grassInfo(wide);
    expect(t.orientation).toBe('columns');
    expect(w.orientation).toBe('rows');
    expect(t.indices.dtype).toBe('int32');
    expect(t.indices.shape).toEqual([2]);
    expect(t.scales?.shape).toEqual([2]);
    for (const i of t.indices.toArray()) expect(i).toBeGreaterThanOrEqual(0);
    for (const s of (t.scales as Tensor).toArray()) expect(s).toBeGreaterThan(0);
    expect(t.nextStepIsRefresh).toBe(false);
    setGrads([tall, wide], 1);
    opt.step();
    setGrads([tall, wide], 2);
    opt.step();
    expect(opt.grassInfo(tall).nextStepIsRefresh).toBe(true);
    expect(() => new AdamW([tall]).grassInfo(tall)).toThrow(/uses selection 'all'; grassInfo needs grass, rows or columns/);
  });

  test('the compressed gradient gives exactly the update of the full gradient', () => {
    const shapes = [[6, 10], [10, 6]];
    const full = params(shapes, 20);
    const compressed = params(shapes, 20);
    const make = (p: Tensor[]) => new Grass(p, { lr: 0.01, rank: 3, updateGap: 3, weightDecay: 0.1, sampling: 'norm', replacement: true, seed: 2 });
    const a = make(full);
    const b = make(compressed);
    for (let t = 0; t < 7; t++) {
      setGrads(full, t);
      setGrads(compressed, t);
      compressed.forEach((p) => {
        p.compressedGrad?.dispose();
        p.compressedGrad = null;
        const info = b.grassInfo(p);
        if (info.nextStepIsRefresh) return; // a refresh needs the full gradient
        // Gc = rho * G[sigma, :] (rows) or rho * G[:, sigma] (columns), built from grassInfo.
        const g = (p.grad as Tensor).toArray();
        const [m, n] = p.shape;
        const idx = info.indices.toArray();
        const rho = info.scales ? info.scales.toArray() : new Float32Array(idx.length).fill(1);
        const k = idx.length;
        const gc = new Float32Array(info.orientation === 'rows' ? k * n : m * k);
        for (let j = 0; j < k; j++) {
          if (info.orientation === 'rows') for (let c = 0; c < n; c++) gc[j * n + c] = rho[j] * g[idx[j] * n + c];
          else for (let r = 0; r < m; r++) gc[r * k + j] = rho[j] * g[r * n + idx[j]];
        }
        p.compressedGrad = Tensor.fromArray(gc, info.orientation === 'rows' ? [k, n] : [m, k]);
        p.grad = null; // the compressed path must not need it
      });
      a.step();
      b.step();
      compressed.forEach((p, i) => expectBitIdentical(p.toArray(), full[i].toArray()));
    }
  });

  test('compressed gradients are checked: shape, and no compressed-only refresh', () => {
    const p = params([[4, 8]])[0];
    const opt = new Grass([p], { rank: 2, updateGap: 2 });
    p.compressedGrad = Tensor.zeros([2, 8]);
    expect(() => opt.step()).toThrow(/re-chooses the selection and needs the full .grad/);
    setGrads([p], 0);
    opt.step();
    p.compressedGrad = Tensor.zeros([8, 2]);
    expect(() => opt.step()).toThrow(/param 0: compressedGrad shape \[8,2\] does not match expected shape \[2,8\]/);
    p.compressedGrad = Tensor.zeros([2, 8], { dtype: 'bfloat16' });
    expect(() => opt.step()).toThrow(/compressedGrad dtype bfloat16 does not match param dtype float32/);
    p.compressedGrad = Tensor.zeros([2, 8]);
    p.grad = null;
    opt.step();
    expect(opt.steps).toBe(2);
  });
});

describe('BAdam', () => {
  // Which blocks (lists of params) changed in one step.
  function stepAndSeeWhichMoved(opt: BAdam, layers: Tensor[][], t: number): number[] {
    const all = layers.flat();
    setGrads(all, t);
    const before = all.map((p) => Array.from(p.toArray()));
    opt.step();
    return layers
      .map((ps, b) => (ps.some((p) => Array.from(p.toArray()).some((x, i) => x !== before[all.indexOf(p)][i])) ? b : -1))
      .filter((b) => b >= 0);
  }

  test('one block at a time, descending, switching every K steps; inactive blocks untouched', () => {
    const layers = [params([[4, 4], [4, 4]], 1), params([[4, 4]], 3), params([[4, 4]], 4)];
    const opt = new BAdam(layers, { lr: 0.01, weightDecay: 0.5, switchEvery: 2 });
    expect(opt.paramGroups).toHaveLength(1);
    expect(opt.paramGroups[0].blockIds).toEqual([1, 1, 2, 3]);
    const active: number[] = [];
    for (let t = 0; t < 8; t++) {
      const moved = stepAndSeeWhichMoved(opt, layers, t);
      expect(moved).toHaveLength(1);
      active.push(moved[0]);
      // Only the active block holds state.
      layers.forEach((ps, b) => ps.forEach((p) => expect(opt.stateBytes(p)).toBe(b === moved[0] ? 16 * 8 : 0)));
    }
    expect(active).toEqual([2, 2, 1, 1, 0, 0, 2, 2]);
  });

  test('param groups are blocks; projectable: false groups are plain AdamW every step', () => {
    const a = params([[3, 3]], 10);
    const b = params([[3, 3]], 11);
    const head = params([[3, 3]], 12);
    const opt = new BAdam([{ params: a }, { params: b }, { params: head, projectable: false }], { switchEvery: 1, blockOrder: 'ascending' });
    expect(opt.paramGroups.map((g) => g.params.length)).toEqual([2, 1]);
    const seen = [0, 1, 2, 3].map((t) => stepAndSeeWhichMoved(opt, [a, b, head], t));
    expect(seen).toEqual([[0, 2], [1, 2], [0, 2], [1, 2]]);
  });

  test('random order: one block per switch, reproducible by seed; options are checked', () => {
    const run = (seed: number) => {
      const layers = [0, 1, 2, 3].map((i) => params([[2, 2]], 20 + i));
      const opt = new BAdam(layers, { switchEvery: 1, blockOrder: 'random', seed });
      return [0, 1, 2, 3, 4, 5].map((t) => stepAndSeeWhichMoved(opt, layers, t));
    };
    const first = run(7);
    first.forEach((moved) => expect(moved).toHaveLength(1));
    expect(run(7)).toEqual(first);
    expect(() => new BAdam([{ params: params([[2, 2]]), lr: 0.1 }, { params: params([[2, 2]]) }])).toThrow(
      /blocks share one set of options; block 1 has lr undefined, block 0 0.1/,
    );
    expect(() => new BAdam(params([[2, 2]]), { blockOrder: 'mirror' as 'random' })).toThrow(
      /'blockOrder' must be one of 'descending', 'ascending', 'random'/,
    );
    expect(() => new BAdam([{ params: params([[2, 2]]), projectable: false }])).toThrow(/no blocks/);
  });
});
