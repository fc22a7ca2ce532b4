// SIGTERM while `train` is still loading its data (issue 11 item 16): reading the corpus and
// training a BPE vocabulary take seconds before the first step, and a signal then must end the run
// promptly with exit 143, not after all of it (or, as before, only once training started).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChildScripts, compileChildScripts } from './helpers/child-scripts';
import { microRun } from './helpers/seeded';

let scripts: ChildScripts;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-stop-loading-'));
beforeAll(() => {
  scripts = compileChildScripts();
});
afterAll(() => {
  scripts?.remove();
  fs.rmSync(root, { recursive: true, force: true });
});

test('SIGTERM during BPE vocabulary training ends the run within seconds, exit 143, before any step', async () => {
  // A vocabulary this large takes well over 20 s to learn on this corpus.
  const options = microRun(path.join(root, 'out'), { optimizer: 'adamw', tokenizer: 'bpe', vocabSize: 8192, steps: 2 });
  const command = scripts.script('lib/cli/train-command.ts');
  // "ready" once the handlers are installed (trainWithSignals installs them before it first yields).
  const code =
    `const { trainWithSignals } = require(${JSON.stringify(command)});` +
    `const run = trainWithSignals(${JSON.stringify(options)}, { onStep: (s) => console.log('step ' + s) });` +
    `console.log('ready');` +
    `run.then((c) => { process.exitCode = c; }, (e) => { console.error(e.message); process.exitCode = 1; });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (c, s) => resolve({ code: c, signal: s })));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    child.on('close', () => reject(new Error(`the child ended before it was ready: ${err}`)));
  });
  // Past the corpus read (under a second), into the vocabulary training.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const sent = Date.now();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const end = await closed;
  clearTimeout(killer);
  const seconds = (Date.now() - sent) / 1000;
  expect({ ...end, steps: /step \d/.test(out), stderr: err }).toEqual({
    code: 143,
    signal: null,
    steps: false,
    stderr: expect.stringMatching(/interrupted by SIGTERM/),
  });
  expect(seconds).toBeLessThan(8);
}, 60000);
