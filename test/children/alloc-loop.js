// Allocates Tensor.zeros([1000, 1000]) (4 MB) `iterations` times without dispose(), yielding to
// the event loop between iterations as a training loop does. The GC must see the native memory
// (napi_adjust_external_memory) to collect the dropped tensors: without that the small JS heap
// never fills, nothing is collected and the ledger grows by 4 MB per iteration. Exits 1 (and
// says so) as soon as more than `limit` bytes of tensors are live: the test's memory limit.
const path = require('path');
const { Tensor, memoryStats } = require(path.resolve(__dirname, '../../lib'));

const iterations = Number(process.argv[2] ?? 400);
const limit = Number(process.argv[3] ?? 400e6);

(async () => {
  let peak = 0;
  for (let i = 0; i < iterations; i++) {
    Tensor.zeros([1000, 1000]);
    await new Promise((resolve) => setImmediate(resolve));
    peak = Math.max(peak, memoryStats().current.tensors);
    if (peak > limit) {
      console.log(JSON.stringify({ ok: false, iteration: i, peak }));
      process.exit(1);
    }
  }
  console.log(JSON.stringify({ ok: true, iterations, peak }));
})();
