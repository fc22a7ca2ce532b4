// Allocates Tensor.zeros([1000, 1000]) (4 MB) `iterations` times without dispose(), yielding to
// the event loop between iterations as a training loop does; with `optimizers`, an AdamW on one
// long-lived param instead (8 MB of optimizer state each, dropped without dispose()). The GC must see the native memory
// (napi_adjust_external_memory) to collect the dropped tensors: without that the small JS heap
// never fills, nothing is collected and the ledger grows by 4 MB per iteration. Exits 1 (and
// says so) as soon as more than `limit` bytes of tensors are live: the test's memory limit.
const path = require('path');
const { AdamW, Tensor, memoryStats } = require(path.resolve(__dirname, '../../lib'));

const iterations = Number(process.argv[2] ?? 400);
const limit = Number(process.argv[3] ?? 400e6);
const what = process.argv[4] ?? 'tensors';
const param = Tensor.zeros([1000, 1000]);
param.grad = Tensor.zeros([1000, 1000]);
const live = () => (what === 'optimizers' ? memoryStats().current.optimizerState : memoryStats().current.tensors);

(async () => {
  let peak = 0;
  for (let i = 0; i < iterations; i++) {
    if (what === 'optimizers') new AdamW([param], { lr: 0.01 }).step();
    else Tensor.zeros([1000, 1000]);
    await new Promise((resolve) => setImmediate(resolve));
    peak = Math.max(peak, live());
    if (peak > limit) {
      console.log(JSON.stringify({ ok: false, iteration: i, peak }));
      process.exit(1);
    }
  }
  console.log(JSON.stringify({ ok: true, iterations, peak }));
})();
