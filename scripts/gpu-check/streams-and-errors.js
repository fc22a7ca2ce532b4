#!/usr/bin/env node
// GPU check part 4:
//   - two GaLore optimizers stepping on two non-blocking streams at once give the bits of the same
//     run serialized (each stream has its own cuBLAS workspace; handles are used under a lock);
//   - the cuBLAS workspace of a stream is counted as workspace and returned with the stream;
//   - refreshes every step on a stream with no host sync (index lists staged through pinned
//     memory) match the CPU;
//   - an SVD refresh with a NaN gradient gives the CPU's error, word for word;
//   - which math libraries were loaded.
'use strict';

const { f, options, check, report, expectBitwise, finish } = require('./common');
const { Tensor, GaLore, Frugal, Stream, memoryStats } = f;

const o = options();

function galoreRun(streams, seed) {
  // Two independent problems A and B; streams[0] runs A, streams[1] runs B (the same stream twice = serialized).
  const probs = [0, 1].map((k) => {
    const ps = [[256, 128], [128, 256]].map((s, i) => Tensor.randn(s, { seed: seed + 10 * k + i, device: o.device }));
    return { ps, opt: new GaLore(ps, { lr: 1e-2, rank: 8, updateGap: 2 }) };
  });
  for (let t = 0; t < 4; t++) {
    for (let k = 0; k < 2; k++) {
      probs[k].ps.forEach((p, i) => {
        p.grad?.dispose();
        p.grad = Tensor.randn(p.shape, { seed: 1000 * t + 10 * k + i + 1, device: o.device });
      });
    }
    f.synchronize(o.device); // grads ready (created on the default stream)
    for (let k = 0; k < 2; k++) probs[k].opt.step({ stream: streams[k] });
  }
  streams.forEach((s) => s.synchronize());
  const out = probs.map((p) => p.ps.map((t) => t.toArray()));
  probs.forEach((p) => (p.opt.dispose(), p.ps.forEach((t) => (t.grad.dispose(), t.dispose()))));
  return out;
}

async function main() {
  await check(o, 'concurrent-galore', () => {
    const s1 = Stream.create(o.device);
    const s2 = Stream.create(o.device);
    const concurrent = galoreRun([s1, s2], 5);
    const serial = galoreRun([s1, s1], 5);
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < 2; i++) {
        expectBitwise(`concurrent-galore-${k}-${i}`, serial[k][i], concurrent[k][i], `GaLore ${k} param ${i}: two streams vs one`);
      }
    }
    s1.destroy();
    s2.destroy();
  });

  await check(o, 'cublas-workspace-ledger', () => {
    const before = memoryStats(o.device).current.workspace;
    const s = Stream.create(o.device);
    const p = Tensor.randn([128, 64], { seed: 3, device: o.device });
    p.grad = Tensor.randn([128, 64], { seed: 4, device: o.device });
    const opt = new GaLore([p], { lr: 1e-3, rank: 4 });
    opt.step({ stream: s });
    s.synchronize();
    opt.dispose();
    const held = memoryStats(o.device).current.workspace - before;
    s.destroy();
    const after = memoryStats(o.device).current.workspace - before;
    const cuda = o.device.startsWith('cuda');
    report('cublas-workspace-ledger', !cuda || (held >= 4 << 20 && after === 0),
      `workspace held after the optimizer is gone: ${held} bytes (the stream's cuBLAS workspace); after the stream is destroyed: ${after}`);
    p.grad.dispose();
    p.dispose();
  });

  await check(o, 'staged-refreshes', () => {
    const make = (device) => [[200, 120], [120, 200]].map((s, i) => Tensor.randn(s, { seed: 60 + i, device: 'cpu' }).to(device));
    const ref = make('cpu');
    const dev = make(o.device);
    const s = Stream.create(o.device);
    const a = new Frugal(ref, { lr: 1e-3, selection: 'columns', density: 0.3, updateGap: 1 });
    const b = new Frugal(dev, { lr: 1e-3, selection: 'columns', density: 0.3, updateGap: 1 });
    for (let t = 0; t < 6; t++) {
      ref.forEach((p, i) => (p.grad?.dispose(), (p.grad = Tensor.randn(p.shape, { seed: 500 + 10 * t + i }))));
      dev.forEach((p, i) => (p.grad?.dispose(), (p.grad = ref[i].grad.to(o.device))));
      f.synchronize(o.device);
      a.step();
      b.step({ stream: s }); // no host sync between refreshes: the staged index copies must hold
    }
    s.synchronize();
    ref.forEach((p, i) => expectBitwise(`staged-refreshes-${i}`, p.toArray(), dev[i].toArray(), 'FRUGAL columns, a refresh every step, async stream'));
    a.dispose(); b.dispose(); s.destroy();
  });

  await check(o, 'nan-svd-error', () => {
    const message = (device) => {
      const p = Tensor.randn([32, 16], { seed: 1, device });
      const g = new Float32Array(32 * 16).fill(0.5);
      g[17] = NaN;
      p.grad = Tensor.fromArray(g, [32, 16]).to(device);
      const opt = new GaLore([p], { lr: 1e-3, rank: 4 });
      let text = '(no error)';
      try {
        opt.step();
        f.synchronize(device);
      } catch (e) {
        text = e.message;
      }
      opt.dispose();
      return text;
    };
    const cpu = message('cpu');
    const gpu = message(o.device);
    report('nan-svd-error', /non-finite/.test(gpu) && gpu === cpu, `GPU: "${gpu}"; CPU: "${cpu}"`);
  });

  await check(o, 'math-libraries-and-pool', () => {
    const status = o.device.startsWith('cuda') ? f.cudaMathStatus(o.device) : 'cpu';
    const cuda = o.device.startsWith('cuda');
    report('math-libraries-and-pool', !cuda || /default memory pool keeps 268435456 bytes/.test(status), `status: ${status}`);
  });

  await check(o, 'pool-threshold-override', () => {
    if (!o.device.startsWith('cuda')) return;
    // In children: the backend is created once per process, with the variable as it is then.
    const { spawnSync } = require('child_process');
    const run = (value) => {
      const script = `const f = require(${JSON.stringify(require('./common').ROOT)});
        try { f.Tensor.zeros([4], { device: ${JSON.stringify(o.device)} }); console.log(f.cudaMathStatus(${JSON.stringify(o.device)})); }
        catch (e) { console.log(e.message); }`;
      const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, FRUGAL_POOL_RELEASE_BYTES: value }, encoding: 'utf8' });
      return `${r.stdout}${r.stderr}`.trim();
    };
    const custom = run('1048576');
    const bad = run('lots');
    report('pool-threshold-override', /keeps 1048576 bytes/.test(custom) && /FRUGAL_POOL_RELEASE_BYTES: expected a byte count/.test(bad),
      `FRUGAL_POOL_RELEASE_BYTES=1048576: "${custom}"; =lots: "${bad}"`);
  });

  finish(__filename);
}

main();
