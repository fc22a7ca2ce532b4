// The files of a training checkpoint: any damaged, swapped or missing file in the checkpoint
// directory makes --resume refuse, naming the file, before anything is loaded; a checkpoint of the
// flat layout of earlier versions still resumes, unless its files are from different steps; and
// --out / --checkpoint-dir that cannot be written are refused before the first step.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TrainOptions } from '../lib/train/options';
import { train } from '../lib/train/trainer';
import { microRun, seededRandom, stepLosses as losses } from './helpers/seeded';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-ckfiles-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function micro(name: string, extra: Partial<TrainOptions>): TrainOptions {
  return microRun(path.join(root, name, 'out'), { optimizer: 'adamw', ...extra });
}

function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

describe('a damaged training checkpoint is refused, naming the file', () => {
  const base = path.join(root, 'base');
  let straight: number[];
  beforeAll(() => {
    straight = losses(micro('straight', {}));
    losses(micro('base', { checkpointDir: base, checkpointEvery: 1 }), 2);
  });
  const current = (dir: string) => path.join(dir, fs.readFileSync(path.join(dir, 'LATEST'), 'utf8').trim());

  test('the intact copy resumes', () => {
    const dir = path.join(root, 'intact');
    copyDir(base, dir);
    expect(losses(micro('intact', { checkpointDir: dir, resume: true }))).toEqual(straight.slice(2));
  });

  const r = seededRandom(77);
  const damages: [string, (ckpt: string, dir: string) => string][] = [];
  for (const file of ['model.safetensors', 'optimizer-all.safetensors', 'trainer.json', 'manifest.json']) {
    damages.push([`a bit flip in ${file}`, (ckpt) => {
      const f = path.join(ckpt, file);
      const b = fs.readFileSync(f);
      b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
      fs.writeFileSync(f, b);
      return f;
    }]);
    damages.push([`${file} truncated`, (ckpt) => {
      const f = path.join(ckpt, file);
      const b = fs.readFileSync(f);
      fs.writeFileSync(f, b.subarray(0, Math.floor(b.length / 2)));
      return f;
    }]);
    damages.push([`${file} missing`, (ckpt) => {
      const f = path.join(ckpt, file);
      fs.rmSync(f);
      return f;
    }]);
  }
  damages.push(['trainer.json from the step before', (ckpt) => {
    // The state the issue reported: trainer.json at step N beside model.safetensors at N + 1.
    const f = path.join(ckpt, 'trainer.json');
    const t = JSON.parse(fs.readFileSync(f, 'utf8'));
    fs.writeFileSync(f, JSON.stringify({ ...t, step: t.step - 1 }, null, 2));
    return f;
  }]);
  damages.push(['an extra file', (ckpt) => {
    const f = path.join(ckpt, 'optimizer-extra.safetensors');
    fs.writeFileSync(f, '');
    return f;
  }]);
  damages.push(['LATEST naming nothing', (_ckpt, dir) => {
    const f = path.join(dir, 'LATEST');
    fs.writeFileSync(f, 'step-00000099\n');
    return f;
  }]);
  damages.push(['LATEST garbage', (_ckpt, dir) => {
    const f = path.join(dir, 'LATEST');
    fs.writeFileSync(f, '../../etc\n');
    return f;
  }]);

  test.each(damages.map(([what, damage], i) => [what, damage, i] as const))('%s', (what, damage, i) => {
    const dir = path.join(root, `damaged-${i}`);
    copyDir(base, dir);
    const file = damage(current(dir), dir);
    const steps: number[] = [];
    let message = '';
    try {
      train(micro(`damaged-${i}`, { checkpointDir: dir, resume: true }), { onStep: (s) => steps.push(s) });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^--resume: /);
    expect(message).toContain(path.basename(file));
    expect(message).not.toMatch(/Cannot read|undefined|is not a function/);
    expect(steps).toEqual([]); // refused before training
  });
});

describe('the flat checkpoint layout of earlier versions', () => {
  test('resumes, and is refused when its files are from different steps', () => {
    const dir = path.join(root, 'flat-src');
    losses(micro('flat-src', { checkpointDir: dir, checkpointEvery: 1 }), 3);
    const straight = losses(micro('flat-straight', {}));
    // Rebuild the old layout: the files of step 3 directly in the directory, no LATEST, no manifest.
    const flat = path.join(root, 'flat');
    const step3 = path.join(dir, fs.readFileSync(path.join(dir, 'LATEST'), 'utf8').trim());
    fs.mkdirSync(flat);
    for (const f of fs.readdirSync(step3)) if (f !== 'manifest.json') fs.copyFileSync(path.join(step3, f), path.join(flat, f));
    const mixed = path.join(root, 'flat-mixed');
    copyDir(flat, mixed);
    expect(losses(micro('flat', { checkpointDir: flat, resume: true }))).toEqual(straight.slice(3));

    const t = JSON.parse(fs.readFileSync(path.join(mixed, 'trainer.json'), 'utf8'));
    fs.writeFileSync(path.join(mixed, 'trainer.json'), JSON.stringify({ ...t, step: 2 }));
    expect(() => train(micro('flat-mixed', { checkpointDir: mixed, resume: true }))).toThrow(
      /model\.safetensors is at step 3, trainer\.json at 2: not one checkpoint/,
    );
  });
});

describe('output directories are checked before the first step', () => {
  const aFile = path.join(root, 'a-file');
  beforeAll(() => fs.writeFileSync(aFile, 'not a directory'));

  test.each([
    ['--out is a file', { outDir: aFile }, /^--out: .*a-file exists and is not a directory/],
    ['--checkpoint-dir is a file', { checkpointDir: aFile }, /^--checkpoint-dir: .*a-file exists and is not a directory/],
    ['--checkpoint-dir under a file', { checkpointDir: path.join(aFile, 'ckpt') }, /^--checkpoint-dir: cannot create the directory .*a part of the path is a file/],
    ['--out under a file', { outDir: path.join(aFile, 'out') }, /^--out: cannot create the directory/],
  ] as const)('%s', (_what, extra, pattern) => {
    const steps: number[] = [];
    expect(() => train(micro('dirs', { ...extra }), { onStep: (s) => steps.push(s) })).toThrow(pattern);
    expect(steps).toEqual([]);
  });

  test('a directory without write permission', () => {
    if (process.getuid?.() === 0) {
      // root writes through any mode bits; the cases above cover the check itself.
      console.log('skipped: running as root, so a read-only directory is still writable');
      return;
    }
    const ro = path.join(root, 'read-only');
    fs.mkdirSync(ro, { mode: 0o500 });
    expect(() => train(micro('ro', { checkpointDir: ro }))).toThrow(/^--checkpoint-dir: .* is not writable/);
  });
});
