// `frugal-optim train --tokenizer llama`: the papers' 60M preset with LLaMA's 32000-token
// vocabulary trains on the CPU (the real command line, in a child process), its first loss is
// about ln 32000 (an untrained model's guess over the vocabulary), and the corpus's ids come
// from the on-disk cache on the next run; a resumed run uses the tokenizer the checkpoint was
// made with, or refuses.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TrainOptions } from '../lib/train/options';
import { train } from '../lib/train/trainer';
import { ChildScripts, compileChildScripts } from './helpers/child-scripts';
import { microRun, stepLosses } from './helpers/seeded';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-train-llama-'));
const cacheDir = path.join(root, 'cache');
let scripts: ChildScripts;
const savedCacheEnv = process.env.FRUGAL_CACHE_DIR;
beforeAll(() => {
  scripts = compileChildScripts();
  process.env.FRUGAL_CACHE_DIR = cacheDir; // in-process runs: never the user's cache
});
afterAll(() => {
  scripts?.remove();
  if (savedCacheEnv === undefined) delete process.env.FRUGAL_CACHE_DIR;
  else process.env.FRUGAL_CACHE_DIR = savedCacheEnv;
  fs.rmSync(root, { recursive: true, force: true });
});

interface Metric {
  type: string;
  step: number;
  loss: number;
}

function runCli(args: string[]): { status: number | null; stderr: string; metrics: Metric[] } {
  const out = path.join(root, 'out');
  fs.rmSync(out, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [scripts.script('lib/cli/main.ts'), 'train', ...args, '--out', out], {
    env: { ...process.env, FRUGAL_CACHE_DIR: cacheDir, FRUGAL_NUM_THREADS: '2' },
    encoding: 'utf8',
    timeout: 600000,
  });
  const file = path.join(out, 'metrics.jsonl');
  const metrics = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Metric) : [];
  return { status: r.status, stderr: r.stderr, metrics };
}

const tinyRun = (steps: number) =>
  ['--tokenizer', 'llama', '--preset', '60m', '--device', 'cpu', '--batch', '1', '--seq-len', '16', '--steps', String(steps), '--eval-batches', '1'];

describe('--tokenizer llama --preset 60m', () => {
  it('trains two steps on the CPU from a first loss near ln 32000, caching the ids for the next run', () => {
    const first = runCli(tinyRun(2));
    expect(first.stderr).not.toMatch(/Error|error:/);
    expect(first.status).toBe(0);
    // The 60M shape with LLaMA's vocabulary: 8 layers of 4 h^2 + 3 h f (h 512, f 1376), 2 norms
    // each, a final norm, and an untied 32000 x 512 embedding and head.
    const h = 512, f = 1376, v = 32000;
    const params = 8 * (4 * h * h + 3 * h * f + 2 * h) + h + 2 * v * h;
    expect(first.stderr).toContain(`60m model, ${(params / 1e6).toFixed(2)}M params (vocab 32000, llama tokens), cpu`);
    expect(first.stderr).toContain(`token ids cached in ${path.join(cacheDir, 'tokens')}`);
    const steps = first.metrics.filter((m) => m.type === 'train');
    expect(steps.map((m) => m.step)).toEqual([1, 2]);
    for (const m of steps) expect(Number.isFinite(m.loss)).toBe(true);
    // Small initial weights (std 0.02) make nearly uniform predictions: the loss is ln 32000 =
    // 10.37 plus about half the logits' variance (0.02^2 * 512 / 2 = 0.1), give or take the
    // noise of 16 tokens. The byte tokenizer's would be ln 256 = 5.5.
    console.log(`60m, llama tokens: step 1 loss ${steps[0].loss.toFixed(4)}, step 2 ${steps[1].loss.toFixed(4)}; ln 32000 = ${Math.log(v).toFixed(4)}`);
    expect(Math.abs(steps[0].loss - Math.log(v))).toBeLessThan(0.5);

    const second = runCli(tinyRun(1));
    expect(second.status).toBe(0);
    expect(second.stderr).toContain(`token ids from the cache ${path.join(cacheDir, 'tokens')}`);
    // The same data: the same first batch, so the same first loss.
    expect(second.metrics.find((m) => m.type === 'train')!.loss).toBe(steps[0].loss);
  });
});

/** The directory of the checkpoint LATEST names. */
const currentCheckpoint = (dir: string) => path.join(dir, fs.readFileSync(path.join(dir, 'LATEST'), 'utf8').trim());

/** Edits the current checkpoint's trainer.json and lists the edit in its manifest (as a save would). */
function editTrainerState(dir: string, edit: (state: { tokenizer: Record<string, unknown> }) => void): { tokenizer: Record<string, unknown> } {
  const ck = currentCheckpoint(dir);
  const trainerFile = path.join(ck, 'trainer.json');
  const state = JSON.parse(fs.readFileSync(trainerFile, 'utf8'));
  edit(state);
  fs.writeFileSync(trainerFile, JSON.stringify(state));
  const manifestFile = path.join(ck, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const bytes = fs.readFileSync(trainerFile);
  manifest.files['trainer.json'] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  return state;
}

describe('a resumed llama run', () => {
  const micro = (dir: string, extra: Partial<TrainOptions>) =>
    microRun(path.join(root, dir, 'out'), { tokenizer: 'llama', checkpointDir: path.join(root, dir, 'ck'), ...extra });

  it('continues with the losses of the uninterrupted run', () => {
    const straight = stepLosses(micro('straight', { steps: 4 }));
    expect(straight).toHaveLength(4);
    expect(stepLosses(micro('resumed', { steps: 4, checkpointEvery: 2 }), 2)).toEqual(straight.slice(0, 2));
    expect(stepLosses(micro('resumed', { steps: 4, checkpointEvery: 2, resume: true }))).toEqual(straight.slice(2));
  });

  it('refuses a checkpoint made with another tokenizer, or another LLaMA vocabulary', () => {
    const o = micro('other', { steps: 2 });
    train(o);
    const saved = JSON.parse(fs.readFileSync(path.join(currentCheckpoint(o.checkpointDir!), 'trainer.json'), 'utf8'));
    expect(saved.tokenizer).toEqual({ kind: 'llama', vocabSize: 32000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(() => train({ ...o, tokenizer: 'byte', resume: true, steps: 3 })).toThrow(
      /--resume: the checkpoint was made with tokenizer = "llama", this run has "byte"/,
    );
    // The same kind, another vocabulary: trainer.json's SHA-256 edited (and the manifest with it).
    const state = editTrainerState(o.checkpointDir!, (st) => {
      st.tokenizer.sha256 = 'f'.repeat(64);
    });
    expect(state.tokenizer).toEqual({ kind: 'llama', vocabSize: 32000, sha256: 'f'.repeat(64) });
    expect(() => train({ ...o, resume: true, steps: 3 })).toThrow(/tokenized with a LLaMA vocabulary of 32000 pieces, SHA-256 f{64}; the installed llama-tokenizer-js/);
    // A trainer.json whose saved tokenizer is not the one its options name.
    editTrainerState(o.checkpointDir!, (st) => {
      st.tokenizer = { kind: 'byte' };
    });
    expect(() => train({ ...o, resume: true, steps: 3 })).toThrow(/--resume: .*trainer\.json: the saved tokenizer is "byte", this run has "llama"/);
  });

  it('refuses a model vocabulary other than the tokenizer\'s', () => {
    const o = microRun(path.join(root, 'vocab', 'out'), { tokenizer: 'llama', model: { hidden: 32, intermediate: 64, heads: 2, layers: 2, vocab: 256 } });
    expect(() => train(o)).toThrow(/model: vocab 256 must be the tokenizer's vocabulary size \(llama: 32000\)/);
  });
});
