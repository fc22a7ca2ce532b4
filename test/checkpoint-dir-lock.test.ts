// The checkpoint directory's lock and clean-up rules (issue 11 item 15, review findings 1, 2, 5, 11):
// a live owner refuses a second run, a dead one is taken over, and a save removes only its own
// temporaries and those of dead processes. Plus files that are not regular and impossible state.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, Tensor } from '../lib';
import { lockCheckpointDir, LOCK_FILE } from '../lib/train/checkpoint-lock';
import { train } from '../lib/train/trainer';
import { microRun } from './helpers/seeded';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-ckpt-lock-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The PID of a process that has exited (so it no longer runs). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('a live lock refuses naming its PID; released, it can be taken again', () => {
  const dir = path.join(root, 'live');
  fs.mkdirSync(dir);
  const release = lockCheckpointDir(dir);
  expect(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
  expect(() => lockCheckpointDir(dir)).toThrow(new RegExp(`in use by PID ${process.pid}`));
  release();
  expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  lockCheckpointDir(dir)();
});

test("a dead run's lock and temporaries are taken over and removed; a live process's and user files are not", () => {
  const ck = path.join(root, 'stale');
  fs.mkdirSync(ck);
  const dead = deadPid();
  fs.writeFileSync(path.join(ck, LOCK_FILE), `${dead}\n`);
  const deadPartial = `.partial-step-00000001-${dead}`;
  const livePartial = `.partial-step-00000001-${process.ppid}`; // our parent runs
  for (const d of [deadPartial, livePartial, 'step-00000001-mine']) fs.mkdirSync(path.join(ck, d));
  fs.writeFileSync(path.join(ck, `.LATEST.${dead}.tmp`), 'x');
  const steps: number[] = [];
  train(microRun(path.join(root, 'stale-out'), { optimizer: 'adamw', steps: 2, checkpointDir: ck }), { onStep: (s) => steps.push(s) });
  expect(steps).toEqual([1, 2]);
  expect(fs.readdirSync(ck).sort()).toEqual([livePartial, 'LATEST', 'step-00000001-mine', 'step-00000002'].sort());
});

test('load() of /dev/zero and of a directory is refused at once, naming the path', () => {
  const opt = new AdamW([Tensor.randn([2, 2], { seed: 1 })], { lr: 0.1 });
  expect(() => opt.load('/dev/zero')).toThrow(/\/dev\/zero: not a regular file \(a device\)/);
  expect(() => opt.load(root)).toThrow(/not a regular file \(a directory\)/);
  opt.dispose();
});

test('a state dict with an unknown group part is refused naming it', () => {
  const opt = new AdamW([Tensor.randn([2, 2], { seed: 1 })], { lr: 0.1 });
  const sd = opt.stateDict();
  sd.groups[0].native[0].part = 'bogus' as never;
  expect(() => opt.loadStateDict(sd)).toThrow(/part 'bogus' is not one of whole, projected, regular/);
  opt.dispose();
});

test("counters or group steps beyond the optimizer's step are refused naming the field", () => {
  const p = Tensor.randn([2, 2], { seed: 1 });
  const opt = new AdamW([p], { lr: 0.1 });
  p.grad = Tensor.randn([2, 2], { seed: 2 });
  opt.step();
  const params = opt.stateDict();
  params.params[0].counters.step = params.step + 1;
  params.params[0].counters.stateStep = params.step + 1;
  expect(() => opt.loadStateDict(params)).toThrow(/param 0: counters.step 2 exceeds the optimizer's step 1/);
  const groups = opt.stateDict();
  groups.groups[0].native[0].step = groups.step + 5;
  expect(() => opt.loadStateDict(groups)).toThrow(/native group 0: step 6 exceeds the optimizer's step 1/);
  opt.dispose();
});
