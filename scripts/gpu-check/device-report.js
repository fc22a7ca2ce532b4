#!/usr/bin/env node
// GPU check part 1: what the package sees: devices (with usable / unusableReason), the CUDA
// unavailability reason, and which cuBLAS / cuSOLVER were loaded (after one GEMM and one SVD, so
// the handles exist). Fails when cuda:0 is missing or unusable.
'use strict';

const { f, options, check, report, finish } = require('./common');

const o = options();

async function main() {
  await check(o, 'devices', () => {
    const list = f.devices();
    process.stdout.write(`${JSON.stringify(list, null, 1)}\n`);
    const d = list.find((x) => x.device === o.device);
    report('devices', !!d && (d.usable !== false), d ? `${o.device}: ${d.name}, cc ${d.computeCapability}, usable ${d.usable}${d.unusableReason ? ` (${d.unusableReason})` : ''}` : `${o.device} missing: ${f.cudaUnavailableReason()}`);
  });
  await check(o, 'math-libraries', () => {
    const p = f.Tensor.randn([64, 32], { seed: 1, device: o.device });
    p.grad = f.Tensor.randn([64, 32], { seed: 2, device: o.device });
    const opt = new f.GaLore([p], { lr: 1e-3, rank: 4 });
    opt.step();
    f.synchronize(o.device);
    const status = o.device.startsWith('cuda') ? f.cudaMathStatus(o.device) : 'cpu';
    const ok = !o.device.startsWith('cuda') || (/cuBLAS loaded from/.test(status) && /cuSOLVER loaded from/.test(status));
    report('math-libraries', ok, status);
    opt.dispose();
    p.grad.dispose();
    p.dispose();
  });
  finish(__filename);
}

main();
