#!/usr/bin/env node
// GPU check part 2's workload for compute-sanitizer: every method steps once (with its refresh)
// on small tensors, so memcheck / racecheck / synccheck see every kernel family in seconds:
// AdamW, SGDM, signSGD, FRUGAL blocks/columns/rows/coordinates/SVD, Grass with and without
// replacement, GaLore through cuBLAS and cuSOLVER, BAdam.
'use strict';

const { f, options, check, report, finish } = require('./common');
const { Tensor, AdamW, SGD, SignSGD, Frugal, Grass, GaLore, BAdam } = f;

const o = options();

const METHODS = [
  ['adamw', (p) => new AdamW(p, { lr: 1e-3, maxGradNorm: 1 })],
  ['sgdm', (p) => new SGD(p, { lr: 1e-3, momentum: 0.9 })],
  ['signsgd', (p) => new SignSGD(p, { lr: 1e-3 })],
  ...['blocks', 'columns', 'rows', 'coordinates', 'svd'].map((selection) => [
    `frugal-${selection}`,
    (p) => new Frugal(p, { lr: 1e-3, selection, density: 0.5, updateGap: 1 }),
  ]),
  ['grass', (p) => new Grass(p, { lr: 1e-3, rank: 4, updateGap: 1 })],
  ['grass-replacement', (p) => new Grass(p, { lr: 1e-3, rank: 4, sampling: 'norm', replacement: true, updateGap: 1 })],
  ['galore', (p) => new GaLore(p, { lr: 1e-3, rank: 4, updateGap: 1 })],
  ['badam', (p) => new BAdam(p, { lr: 1e-3 })],
];

async function main() {
  for (const dtype of ['float32', 'bfloat16']) {
    for (const [name, make] of METHODS) {
      await check(o, `${name}-${dtype}`, () => {
        const ps = [[48, 40], [40, 48], [40]].map((s, i) => Tensor.randn(s, { seed: i, dtype, device: o.device }));
        const opt = make(ps);
        for (let t = 0; t < 2; t++) {
          ps.forEach((p, i) => (p.grad?.dispose(), (p.grad = Tensor.randn(p.shape, { seed: 100 * t + i, dtype, device: o.device }))));
          opt.step();
        }
        f.synchronize(o.device);
        const finite = ps.every((p) => p.toArray().every(Number.isFinite));
        report(`${name}-${dtype}`, finite, 'two steps with refreshes; weights finite');
        opt.dispose();
        ps.forEach((p) => (p.grad.dispose(), p.dispose()));
      });
    }
  }
  finish(__filename);
}

main();
