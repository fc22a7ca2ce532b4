// Checkpoint then resume: an interrupted run resumed from its checkpoint produces exactly the
// losses the uninterrupted run had (weights, optimizer state and selection RNG restored; data
// order and lr are functions of the step).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readMetrics } from '../lib/train/metrics';
import { DEFAULT_OPTIONS, TrainOptions } from '../lib/train/options';
import { train } from '../lib/train/trainer';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-resume-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function micro(name: string, extra: Partial<TrainOptions>): TrainOptions {
  return {
    ...DEFAULT_OPTIONS,
    optimizerOptions: {},
    model: { hidden: 32, intermediate: 64, heads: 2, layers: 2 },
    steps: 16,
    batch: 4,
    seqLen: 32,
    evalEvery: 0,
    evalBatches: 1,
    device: 'cpu',
    quiet: true,
    outDir: path.join(root, name, 'out'),
    ...extra,
  };
}

function losses(o: TrainOptions, stopAfter?: number): number[] {
  const out: number[] = [];
  train(o, { onStep: (_s, l) => out.push(l), stopAfter });
  return out;
}

describe.each([
  ['frugal', { optimizer: 'frugal', updateGap: 3, opt: { blockOrder: 'random' } }],
  ['grass', { optimizer: 'grass', updateGap: 3, opt: { sampling: 'norm', replacement: true } }],
  ['galore', { optimizer: 'galore', updateGap: 4 }],
  ['adamw per-layer', { optimizer: 'adamw', perLayer: true }],
  ['badam', { optimizer: 'badam', switchEvery: 3 }],
] as const)('resume with %s', (name, cfg) => {
  it('reproduces the next losses exactly', () => {
    const { opt, ...rest } = cfg as { opt?: Record<string, unknown> } & Partial<TrainOptions>;
    const base = { ...rest, optimizerOptions: opt ?? {} } as Partial<TrainOptions>;
    const dir = path.join(root, name.replace(/ /g, '-'));
    const straight = losses(micro(`${name}-a`, base));
    const first = losses(micro(`${name}-b`, { ...base, checkpointDir: path.join(dir, 'ckpt'), checkpointEvery: 7 }), 9);
    expect(first).toEqual(straight.slice(0, 9));
    const resumed = losses(micro(`${name}-b`, { ...base, checkpointDir: path.join(dir, 'ckpt'), resume: true }));
    expect(resumed).toEqual(straight.slice(7));
    // metrics.jsonl keeps steps 1..7 from the first part and continues.
    const steps = readMetrics(path.join(root, `${name}-b`, 'out', 'metrics.jsonl'))
      .filter((r) => r.type === 'train')
      .map((r) => (r as { step: number }).step);
    expect(steps).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });
});

describe('resume errors', () => {
  it('needs a checkpoint', () => {
    expect(() => train(micro('none', { resume: true, checkpointDir: path.join(root, 'nothing-here') }))).toThrow(/no checkpoint/);
  });
  it('refuses a checkpoint made with other options', () => {
    const ckpt = path.join(root, 'mismatch');
    losses(micro('mm', { optimizer: 'adamw', steps: 2, checkpointDir: ckpt }));
    expect(() => train(micro('mm2', { optimizer: 'adamw', batch: 3, checkpointDir: ckpt, resume: true }))).toThrow(
      /batch = 4, this run has 3/,
    );
    expect(() => train(micro('mm3', { optimizer: 'frugal', checkpointDir: ckpt, resume: true }))).toThrow(/optimizer/);
  });
});
