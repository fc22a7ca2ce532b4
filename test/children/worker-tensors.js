// Spawns worker threads that allocate tensors (and an optimizer) and never dispose them; some exit
// on their own, some are terminated mid-loop. Prints the library's ledger before and after as
// JSON: every byte a worker held must be freed with its environment, and nothing twice (a worker
// that disposed some of its tensors itself must not make the teardown free them again).
const path = require('path');
const { Worker } = require('worker_threads');
const root = path.resolve(__dirname, '../..');
const { memoryStats } = require(path.join(root, 'lib'));

const WORKER = `
  const { parentPort, workerData } = require('worker_threads');
  require(workerData.register);
  const { Tensor, AdamW } = require(workerData.lib);
  const kept = [];
  for (let i = 0; i < 8; i++) kept.push(Tensor.zeros([256, 1024]));
  kept[0].dispose(); // disposed by the worker itself: freed once, not again at teardown
  const p = Tensor.zeros([64, 64]);
  p.grad = Tensor.full([64, 64], 0.5);
  const opt = new AdamW([p], { lr: 0.01 });
  opt.step();
  parentPort.postMessage('allocated');
  if (workerData.hang) setInterval(() => kept.push(Tensor.zeros([16])), 1);
`;

function run(hang) {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, {
      eval: true,
      workerData: { register: path.join(__dirname, 'ts-register.js'), lib: path.join(root, 'lib'), hang },
    });
    w.on('error', reject);
    w.on('message', () => {
      if (hang) w.terminate();
    });
    w.on('exit', resolve);
  });
}

(async () => {
  const before = memoryStats().current;
  for (let i = 0; i < 6; i++) await run(i % 2 === 1);
  const after = memoryStats().current;
  console.log(JSON.stringify({ before, after }));
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
