#!/usr/bin/env node
// GPU check part 3: the same step on the CPU and the GPU from the same bytes.
//   bitwise where the math is shared (native/math: elementwise, indexed and sparse updates);
//   within stated ulps where it is not (reductions summed in another order, GEMMs, SVDs).
// node scripts/gpu-check/cpu-vs-gpu.js [--device cuda:0] [--small] [--only name,...]
'use strict';

const { f, options, check, report, expectBitwise, expectUlps, finish } = require('./common');
const { Tensor, AdamW, SGD, SignSGD, Frugal, Grass, GaLore } = f;

const o = options();
const S = o.small ? 1 / 64 : 1;

// Params and grads seeded on the reference device and copied, so both sides start from the same bytes.
function pair(shapes, dtype, seed) {
  const ref = shapes.map((s, i) => Tensor.randn(s, { seed: seed + i, dtype, device: o.ref }));
  const dev = ref.map((t) => t.to(o.device));
  const setGrads = (step) => {
    ref.forEach((p, i) => {
      p.grad?.dispose();
      p.grad = Tensor.randn(p.shape, { seed: 1000 * step + seed + i + 1, dtype, device: o.ref });
    });
    dev.forEach((p, i) => {
      p.grad?.dispose();
      p.grad = ref[i].grad.to(o.device);
    });
  };
  return { ref, dev, setGrads, dispose: () => [...ref, ...dev].forEach((t) => (t.grad?.dispose(), t.dispose())) };
}

function run(ps, make, steps = 1) {
  const a = make(ps.ref);
  const b = make(ps.dev);
  for (let t = 0; t < steps; t++) {
    ps.setGrads(t);
    a.step();
    b.step();
  }
  f.synchronize(o.device);
  return [a, b];
}

function concat(ts) {
  const parts = ts.map((t) => t.toArray());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function main() {
  const big = [Math.round(32000 * S), Math.round(5120 * S)];
  for (const dtype of ['float32', 'bfloat16']) {
    await check(o, `adamw-${big.join('x')}-${dtype}`, () => {
      const ps = pair([big], dtype, 1);
      const [a, b] = run(ps, (p) => new AdamW(p, { lr: 1e-3, weightDecay: 0.1 }));
      expectBitwise(`adamw-${big.join('x')}-${dtype}`, ps.ref[0].toArray(), ps.dev[0].toArray(), 'one AdamW step (shared math)');
      a.dispose(); b.dispose(); ps.dispose();
    });
  }

  await check(o, 'list-200', () => {
    const shapes = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? [17 + i, 33] : i % 3 === 1 ? [129 + 7 * i] : [8, 8 + i]));
    for (const [name, make] of [
      ['adamw', (p) => new AdamW(p, { lr: 1e-2 })],
      ['sgdm', (p) => new SGD(p, { lr: 1e-2, momentum: 0.9 })],
      ['signsgd', (p) => new SignSGD(p, { lr: 1e-2 })],
    ]) {
      const ps = pair(shapes, 'float32', 7);
      const [a, b] = run(ps, make, 2);
      expectBitwise(`list-200-${name}`, concat(ps.ref), concat(ps.dev), `200 tensors, two ${name} steps (one multi-tensor list)`);
      a.dispose(); b.dispose(); ps.dispose();
    }
  });

  await check(o, 'indexed', () => {
    for (const selection of ['columns', 'rows', 'coordinates', 'blocks']) {
      const ps = pair([[384, 256], [256, 384], [64]], 'float32', 11);
      const [a, b] = run(ps, (p) => new Frugal(p, { lr: 1e-3, selection, density: 0.25, updateGap: 2 }), 3);
      expectBitwise(`indexed-frugal-${selection}`, concat(ps.ref), concat(ps.dev), `FRUGAL ${selection}, 3 steps with a refresh (shared math)`);
      a.dispose(); b.dispose(); ps.dispose();
    }
  });

  await check(o, 'line-norms', () => {
    // Grass top-r picks lines by their norms (rows of a tall matrix, columns of a wide one): fp64
    // sums in another order, so the same lines unless two norms tie to the last bit.
    for (const [shape, axis] of [[[300, 200], 'tall'], [[200, 300], 'wide']]) {
      for (const replacement of [false, true]) {
        const ps = pair([shape], 'float32', 21);
        const sampling = replacement ? 'norm' : 'top-r';
        const [a, b] = run(ps, (p) => new Grass(p, { lr: 1e-3, rank: 16, sampling, replacement, updateGap: 1 }), 2);
        const ia = a.grassInfo(ps.ref[0]);
        const ib = b.grassInfo(ps.dev[0]);
        const same = JSON.stringify(Array.from(ia.indices.toArray())) === JSON.stringify(Array.from(ib.indices.toArray()));
        report(`line-norms-${axis}-${sampling}`, same, `${axis} matrix, ${ia.orientation}: selected lines ${same ? 'identical' : 'differ'}`);
        if (same) expectBitwise(`grass-${axis}-${sampling}`, ps.ref[0].toArray(), ps.dev[0].toArray(), 'Grass step on the same lines');
        a.dispose(); b.dispose(); ps.dispose();
      }
    }
  });

  await check(o, 'sum-of-squares-2^31', () => {
    // Global clipping over more than 2^31 elements in all (bf16, nine tensors of 2^28): SGD with
    // lr 1 from p = 0 leaves p = -clip * g, so the clip factor is read back from one element.
    const n = o.small ? 1 << 16 : 1 << 28;
    const count = 9;
    const sides = [o.ref, o.device].map((device) => {
      const ps = Array.from({ length: count }, () => Tensor.zeros([n], { dtype: 'bfloat16', device }));
      ps.forEach((p, i) => (p.grad = Tensor.full([n], i + 1, { dtype: 'bfloat16', device })));
      const opt = new SGD(ps, { lr: 1, maxGradNorm: 1 });
      opt.step();
      f.synchronize(device);
      const first = Tensor.fromDevicePointer(ps[0].dataPtr, [1], 'bfloat16', device).toArray()[0];
      opt.dispose();
      ps.forEach((p) => (p.grad.dispose(), p.dispose()));
      return -first; // = clip * 1, rounded to bf16
    });
    const exact = 1 / Math.sqrt(n * [...Array(count)].reduce((s, _, i) => s + (i + 1) ** 2, 0));
    expectUlps('sum-of-squares-2^31', new Float32Array([sides[0]]), new Float32Array([sides[1]]), 0,
      `clip factor from ${count * n} elements (exact ${exact.toExponential(6)}; stored in bf16, so equal)`);
  });

  await check(o, 'galore', () => {
    // cuBLAS GEMMs and the cuSOLVER SVD vs the CPU's fp64 GEMM and Jacobi SVD: not the same
    // arithmetic. Stated: one GaLore step moves each weight by ~lr; the two agree to 1e-3 * lr.
    const ps = pair([[512, 256], [256, 512]], 'float32', 31);
    const lr = 1e-2;
    const [a, b] = run(ps, (p) => new GaLore(p, { lr, rank: 8, updateGap: 10 }), 2);
    const ra = concat(ps.ref);
    const rb = concat(ps.dev);
    let maxAbs = 0;
    for (let i = 0; i < ra.length; i++) maxAbs = Math.max(maxAbs, Math.abs(ra[i] - rb[i]));
    report('galore', maxAbs <= 1e-3 * lr, `GaLore 2 steps: max |diff| ${maxAbs.toExponential(2)} (stated limit ${1e-3 * lr}); ${o.device.startsWith('cuda') ? f.cudaMathStatus(o.device) : 'cpu'}`);
    a.dispose(); b.dispose(); ps.dispose();
  });

  await check(o, 'galore-fallback', () => {
    // Run with FRUGAL_CUBLAS_PATH (and FRUGAL_CUSOLVER_PATH) pointing nowhere: the fallback GEMM
    // kernel sums exact products in fp64 in order, as the CPU does, so with the host SVD on both
    // sides the step is bitwise.
    if (!process.env.FRUGAL_CUBLAS_PATH) {
      process.stdout.write('     galore-fallback runs in its own process, with FRUGAL_CUBLAS_PATH set (gpu-check part 3)\n');
      return;
    }
    const ps = pair([[192, 96], [96, 192]], 'float32', 41);
    const [a, b] = run(ps, (p) => new GaLore(p, { lr: 1e-2, rank: 4, updateGap: 10 }), 2);
    const status = o.device.startsWith('cuda') ? f.cudaMathStatus(o.device) : 'cpu';
    const forced = !o.device.startsWith('cuda') || /cuBLAS not in use: cuBLAS could not be loaded/.test(status);
    report('galore-fallback-forced', forced, `math status: ${status}`);
    if (process.env.FRUGAL_CUSOLVER_PATH) expectBitwise('galore-fallback', concat(ps.ref), concat(ps.dev), 'GaLore with the fallback GEMM and host SVD');
    else expectUlps('galore-fallback', concat(ps.ref), concat(ps.dev), 1 << 20, 'GaLore with the fallback GEMM (cuSOLVER basis)');
    a.dispose(); b.dispose(); ps.dispose();
  });

  finish(__filename);
}

main();
