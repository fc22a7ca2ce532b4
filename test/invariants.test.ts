// Invariants of the framework that hold whatever the data: a selection that covers everything is
// AdamW; Grass with every row and alpha 1 is AdamW; norm sampling with replacement is unbiased;
// the compressed-gradient path gives the full-gradient update; state bytes are exact.
import { AdamW, Grass, memoryStats, Optimizer, OptimizerOptions, Tensor } from '../lib';
import { devicesUnderTest, reportSkippedGpu } from './helpers/devices-under-test';

reportSkippedGpu('invariants.test.ts');

const SHAPE = [6, 10];
const STEPS = 6;

// The same gradients for every run: seeded normals, one tensor per step.
function gradients(device: string, shape = SHAPE, steps = STEPS): Tensor[] {
  return Array.from({ length: steps }, (_v, t) => Tensor.randn(shape, { seed: 1000 + t, device }));
}

function train(device: string, make: (p: Tensor) => Optimizer, shape = SHAPE): Float32Array {
  const p = Tensor.randn(shape, { seed: 7, device });
  p.grad = Tensor.zeros(shape, { device });
  const opt = make(p);
  for (const g of gradients(device, shape)) {
    p.grad.copyFrom(g);
    opt.step();
    g.dispose();
  }
  const out = p.toArray() as Float32Array;
  opt.dispose();
  p.grad.dispose();
  p.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const BASE: OptimizerOptions = { lr: 0.01, weightDecay: 0.1, betas: [0.9, 0.999], eps: 1e-8 };

describe.each(devicesUnderTest())('invariants on %s', (device) => {
  const adamw = () => train(device, (p) => new AdamW([p], BASE));

  it.each([
    ['blocks', { selection: 'blocks', density: 1 }],
    ['columns', { selection: 'columns', density: 1, stateFree: 'signsgd' }],
    ['rows', { selection: 'rows', density: 1, stateFree: 'signsgd' }],
    ['coordinates', { selection: 'coordinates', density: 1, stateFree: 'signsgd' }],
  ] as const)('density 1 with %s equals AdamW', (_name, sel) => {
    const got = train(device, (p) => new Optimizer([p], { ...BASE, ...sel, updateGap: 1000 }));
    expect(maxAbsDiff(got, adamw())).toBe(0);
  });

  it('a refresh with state reset is not AdamW (the comparison above can fail)', () => {
    const got = train(device, (p) => new Optimizer([p], { ...BASE, selection: 'blocks', density: 1, updateGap: 2 }));
    expect(maxAbsDiff(got, adamw())).toBeGreaterThan(1e-4);
  });

  it.each(['rows', 'columns'] as const)('Grass top-r with every %s, alpha 1, T beyond the run equals AdamW', (orientation) => {
    const lines = orientation === 'rows' ? SHAPE[0] : SHAPE[1];
    const got = train(device, (p) => new Grass([p], { ...BASE, orientation, rank: lines, stateFullLrScale: 1, updateGap: 1000 }));
    expect(maxAbsDiff(got, adamw())).toBe(0);
  });

  it('Grass with fewer rows differs from AdamW and leaves unselected rows to weight decay alone', () => {
    const p0 = Tensor.randn(SHAPE, { seed: 7 }).toArray() as Float32Array;
    const got = train(device, (p) => new Grass([p], { ...BASE, orientation: 'rows', rank: 2, stateFullLrScale: 1, updateGap: 1000 }));
    let decayedOnly = 0;
    const decay = Math.pow(1 - 0.01 * 0.1, STEPS);
    for (let r = 0; r < SHAPE[0]; r++) {
      let same = true;
      for (let c = 0; c < SHAPE[1]; c++) {
        const i = r * SHAPE[1] + c;
        if (Math.abs(got[i] - p0[i] * decay) > 1e-6 * Math.max(1, Math.abs(p0[i]))) same = false;
      }
      if (same) decayedOnly++;
    }
    expect(decayedOnly).toBe(SHAPE[0] - 2);
  });

  it('norm sampling with replacement is unbiased: the mean of P P^T G over many draws tends to G', () => {
    const shape = [8, 5];
    const g = Tensor.randn(shape, { seed: 3 }).toArray() as Float32Array;
    // Rows with very different norms, so proportional sampling is far from uniform.
    for (let r = 0; r < shape[0]; r++) for (let c = 0; c < shape[1]; c++) g[r * shape[1] + c] *= 1 + r;
    const draws = device === 'cpu' ? 3000 : 1000;
    const sum = new Float64Array(g.length);
    const p = Tensor.zeros(shape, { device });
    p.grad = Tensor.fromArray(g, shape, { device });
    let singleDrawError = 0;
    for (let s = 0; s < draws; s++) {
      p.fill(0);
      // One SGD step with lr 1 and alpha 1 from zero: p = -(P P^T G) exactly.
      const opt = new Optimizer([p], {
        selection: 'grass', selectionKind: 'grass', stateFull: 'sgdm', momentum: 0, lr: 1, stateFullLrScale: 1,
        rank: 3, sampling: 'norm', replacement: true, orientation: 'rows', updateGap: 1, seed: s + 1,
      } as OptimizerOptions);
      opt.step();
      const ppg = p.toArray() as Float32Array;
      opt.dispose();
      for (let i = 0; i < g.length; i++) sum[i] -= ppg[i];
      if (s === 0) for (let i = 0; i < g.length; i++) singleDrawError = Math.max(singleDrawError, Math.abs(-ppg[i] - g[i]));
    }
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < g.length; i++) {
      worst = Math.max(worst, Math.abs(sum[i] / draws - g[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    expect(singleDrawError).toBeGreaterThan(0.1 * scale);  // one draw is a rough estimate...
    expect(worst).toBeLessThan(0.12 * scale);               // ...their mean converges to G
    p.grad.dispose();
    p.dispose();
  });

  it.each(['rows', 'columns'] as const)('the compressed-gradient path (%s) gives exactly the full-gradient update', (orientation) => {
    const shape = [12, 9];
    const full = Tensor.randn(shape, { seed: 11, device });
    const comp = Tensor.randn(shape, { seed: 11, device });
    full.grad = Tensor.zeros(shape, { device });
    comp.grad = Tensor.zeros(shape, { device });
    const options = { ...BASE, orientation, rank: 4, sampling: 'norm', replacement: true, updateGap: 3, seed: 5 } as const;
    const a = new Grass([full], options);
    const b = new Grass([comp], options);
    for (let t = 0; t < 8; t++) {
      const g = Tensor.randn(shape, { seed: 500 + t });
      const gh = g.toArray() as Float32Array;
      full.grad.copyFrom(g.to(device));
      a.step();
      const info = b.grassInfo(comp);
      if (info.nextStepIsRefresh) {
        comp.grad.copyFrom(g.to(device));
        comp.compressedGrad = null;
      } else {
        // Gc = rho * G[sigma, :] (rows) or G[:, sigma] * rho (columns): the caller never forms more.
        const idx = info.indices.toArray() as Int32Array;
        const rho = info.scales!.toArray() as Float32Array;
        const k = idx.length;
        const [m, n] = shape;
        const gc = new Float32Array(orientation === 'rows' ? k * n : m * k);
        for (let j = 0; j < k; j++) {
          if (orientation === 'rows') for (let c = 0; c < n; c++) gc[j * n + c] = rho[j] * gh[idx[j] * n + c];
          else for (let r = 0; r < m; r++) gc[r * k + j] = rho[j] * gh[r * n + idx[j]];
        }
        comp.grad.fill(1e30);  // prove the full gradient is not read: any use would blow up
        comp.compressedGrad = Tensor.fromArray(gc, orientation === 'rows' ? [k, n] : [m, k], { device });
      }
      b.step();
      comp.compressedGrad?.dispose();
      comp.compressedGrad = null;
      g.dispose();
    }
    expect(maxAbsDiff(full.toArray() as Float32Array, comp.toArray() as Float32Array)).toBe(0);
    a.dispose(); b.dispose();
  });

  it('counts selected lines as int(len * density) in double precision, as the reference does', () => {
    // 10 * 0.7 is 7.000000000000001 in double but 6.99999988 with a float32 density.
    const p = Tensor.zeros([4, 10], { device });
    p.grad = Tensor.full([4, 10], 1, { device });
    const opt = new Optimizer([p], { selection: 'columns', density: 0.7, stateFree: 'signsgd' });
    opt.step();
    expect(opt.grassInfo(p).indices.numel).toBe(7);
    opt.dispose();
  });

  it('top-r breaks ties towards the lower index', () => {
    const p = Tensor.zeros([5, 4], { device });
    p.grad = Tensor.full([5, 4], 1, { device });  // every row has the same norm
    const opt = new Grass([p], { orientation: 'rows', rank: 2 });
    opt.step();
    expect(Array.from(opt.grassInfo(p).indices.toArray())).toEqual([0, 1]);
    opt.dispose();
  });

  it('stateBytes equals the optimizer state the allocator counts, and FRUGAL at 0.25 keeps about a third of Adam', () => {
    // A LLaMA-like layout scaled down: per layer q,k,v,o (h x h), gate/up (f x h), down (h x f);
    // embedding and LM head regular. With LLaMA-1B's proportions FRUGAL(0.25) keeps ~0.32 of AdamW's state.
    const h = 32, f = 86, vocab = 500, layers = 8;
    const proj: Tensor[] = [];
    for (let l = 0; l < layers; l++) {
      for (let i = 0; i < 4; i++) proj.push(Tensor.zeros([h, h], { device }));
      proj.push(Tensor.zeros([f, h], { device }), Tensor.zeros([f, h], { device }), Tensor.zeros([h, f], { device }));
    }
    const regular = [Tensor.zeros([vocab, h], { device }), Tensor.zeros([vocab, h], { device }), Tensor.zeros([h], { device })];
    for (const t of [...proj, ...regular]) t.grad = Tensor.full(t.shape as number[], 0.5, { device });
    const before = memoryStats(device).current.optimizerState;
    const adam = new AdamW([...proj, ...regular]);
    adam.step();
    const adamBytes = adam.stateBytes();
    expect(memoryStats(device).current.optimizerState - before).toBe(adamBytes);
    adam.dispose();
    const frugal = new Optimizer(
      [{ params: regular, projectable: false }, { params: proj, selection: 'blocks', density: 0.25, stateFree: 'signsgd' }],
      { updateGap: 10 },
    );
    frugal.step();
    const frugalBytes = frugal.stateBytes();
    expect(memoryStats(device).current.optimizerState - before).toBe(frugalBytes);
    const projNumel = proj.reduce((s, t) => s + t.numel, 0);
    const regNumel = regular.reduce((s, t) => s + t.numel, 0);
    expect(adamBytes).toBe(8 * (projNumel + regNumel));
    // round(56 * 0.25) = 14 of the 56 projectable tensors, walking down from the last.
    expect(proj.length).toBe(56);
    const active = proj.slice(proj.length - 14).reduce((s, t) => s + t.numel, 0);
    expect(frugalBytes).toBe(8 * (active + regNumel));
    expect(proj.map((t) => frugal.stateBytes(t) > 0).filter(Boolean).length).toBe(14);
    frugal.dispose();
    for (const t of [...proj, ...regular]) { t.grad!.dispose(); t.dispose(); }
  });
});
