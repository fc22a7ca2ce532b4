#!/usr/bin/env node
// GPU check part 5: AdamW on 1e8 fp32 params in 100 tensors, timed with CUDA events, against a
// device copy of the same bytes in the same run (the bandwidth ceiling a fused step can reach:
// AdamW must read p, g, m, v and write p, m, v, 28 bytes a param).
'use strict';

const { f, options, check, report, finish } = require('./common');
const { Tensor, AdamW, Event } = f;

const o = options();
const PER = o.small ? 10000 : 1000000;
const COUNT = 100;
const REPS = o.small ? 2 : 20;

function timeMs(fn) {
  const start = new Event(o.device);
  const end = new Event(o.device);
  fn(); // warm-up
  start.record();
  for (let r = 0; r < REPS; r++) fn();
  end.record();
  const ms = start.elapsedMs(end) / REPS;
  start.destroy();
  end.destroy();
  return ms;
}

async function main() {
  await check(o, 'adamw-1e8', () => {
    const ps = Array.from({ length: COUNT }, (_, i) => Tensor.randn([PER], { seed: i, device: o.device }));
    ps.forEach((p, i) => (p.grad = Tensor.randn([PER], { seed: 1000 + i, device: o.device })));
    const opt = new AdamW(ps, { lr: 1e-4 });
    const stepMs = timeMs(() => opt.step());
    // The copy: 28 bytes a param moved as 14 read + 14 written, through the same number of tensors.
    const src = Array.from({ length: COUNT }, () => Tensor.zeros([PER * 3.5], { device: o.device }));
    const dst = src.map(() => Tensor.zeros([PER * 3.5], { device: o.device }));
    const copyMs = timeMs(() => dst.forEach((d, i) => d.copyFrom(src[i])));
    const bytes = 28 * PER * COUNT;
    const stepGBs = bytes / stepMs / 1e6;
    const copyGBs = bytes / copyMs / 1e6;
    report('adamw-1e8', Number.isFinite(stepGBs) && stepGBs > 0,
      `AdamW step ${stepMs.toFixed(3)} ms = ${stepGBs.toFixed(0)} GB/s; device copy of the same bytes ${copyMs.toFixed(3)} ms = ${copyGBs.toFixed(0)} GB/s; ratio ${(stepGBs / copyGBs).toFixed(2)}`,
      { stepMs, copyMs, stepGBs, copyGBs, params: PER * COUNT });
    opt.dispose();
    [...ps.map((p) => p.grad), ...ps, ...src, ...dst].forEach((t) => t.dispose());
  });
  finish(__filename);
}

main();
