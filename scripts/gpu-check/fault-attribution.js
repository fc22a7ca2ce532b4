#!/usr/bin/env node
// GPU check part 4: a kernel faults on purpose (a borrowed tensor at an address nothing owns), in a
// child process each time, since a fault ends the CUDA context:
//   - without FRUGAL_SYNC_LAUNCHES, the fault is reported at the next call as possibly coming from
//     earlier asynchronous work, and every later call says the error was pending before it;
//   - with FRUGAL_SYNC_LAUNCHES=1, the launching call itself fails, naming the kernel;
//   - an optimizer step whose kernels fault fails (FRUGAL_SYNC_LAUNCHES=1).
'use strict';

const { spawnSync } = require('child_process');
const { options, check, report, finish, ROOT } = require('./common');

const o = options();

// Runs `body` (JS with f = the package, bad = a float32 [1 << 20] tensor at an unmapped address)
// in a child; returns the messages it printed, one per line.
function child(body, env = {}) {
  const script = `
    const f = require(${JSON.stringify(ROOT)});
    const bad = f.Tensor.fromDevicePointer(0x7f0000000000n, [1 << 20], 'float32', ${JSON.stringify(o.device)});
    const say = (label, fn) => { try { fn(); console.log(label + ': ok'); } catch (e) { console.log(label + ': ' + e.message); } };
    ${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });
  return `${r.stdout}${r.stderr}`;
}

async function main() {
  await check(o, 'async-fault', () => {
    const out = child(`
      say('fill', () => bad.fill(1));
      say('sync', () => f.synchronize(${JSON.stringify(o.device)}));
      say('next', () => f.Tensor.zeros([4], { device: ${JSON.stringify(o.device)} }).fill(2));`);
    process.stdout.write(out);
    const sync = /sync: .*may come from earlier asynchronous work/.test(out);
    const next = /next: .*(earlier asynchronous work|pending before)/.test(out);
    report('async-fault', sync && next, `fault reported at synchronize as earlier work's: ${sync}; the next call says so: ${next}`);
  });

  await check(o, 'sync-launches', () => {
    const out = child(`say('fill', () => bad.fill(1));`, { FRUGAL_SYNC_LAUNCHES: '1' });
    process.stdout.write(out);
    const ok = /fill: .*kernel.*FRUGAL_SYNC_LAUNCHES=1 waited for the whole device/.test(out);
    report('sync-launches', ok, 'FRUGAL_SYNC_LAUNCHES=1: the fill call itself fails, naming its kernel');
  });

  await check(o, 'faulting-step', () => {
    const out = child(`
      bad.grad = f.Tensor.zeros([1 << 20], { device: ${JSON.stringify(o.device)} });
      const opt = new f.AdamW([bad], { lr: 1e-3 });
      say('step', () => opt.step());`, { FRUGAL_SYNC_LAUNCHES: '1' });
    process.stdout.write(out);
    report('faulting-step', /step: .*(illegal|fault)/i.test(out), 'a step whose kernel faults returns the error');
  });

  finish(__filename);
}

main();
