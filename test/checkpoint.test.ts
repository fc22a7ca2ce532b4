// Checkpoints: a run saved after k steps and resumed in a fresh optimizer continues
// bit-identically on the CPU, for every method and selection; truncated, corrupt or
// mismatched files are refused with a clear error and change nothing.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, BAdam, decodeSafetensors, Frugal, GaLore, Grass, Optimizer, SGD, SignSGD, Tensor } from '../lib';
import { expectBitIdentical, setGrads } from './helpers/update-rules';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-ckpt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SHAPES = [[12, 8], [8], [6, 10], [10, 6]];

function freshParams(): Tensor[] {
  return SHAPES.map((s, i) => Tensor.randn(s, { seed: 10 + i }));
}

type Make = (params: Tensor[]) => Optimizer;

// A caller-supplied selection: columns chosen from the step number, so replayable.
const columnsByStep = ({ step, param }: { step: number; param: Tensor }) => [step % param.shape[1], (step + 3) % param.shape[1]];

const CASES: [string, Make][] = [
  ['AdamW', (p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1 })],
  ['AdamW bf16 state', (p) => new AdamW(p, { lr: 0.01, stateDtype: 'bfloat16' })],
  ['SGD nesterov', (p) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true })],
  ['SignSGD', (p) => new SignSGD(p, { lr: 0.01 })],
  ['Frugal blocks', (p) => new Frugal(p, { lr: 0.01, density: 0.5, updateGap: 2, weightDecay: 0.1 })],
  ['Frugal blocks random', (p) => new Frugal(p, { lr: 0.01, density: 0.5, updateGap: 2, blockOrder: 'random', seed: 5 })],
  ['Frugal columns', (p) => new Frugal(p, { lr: 0.01, selection: 'columns', density: 0.3, updateGap: 3, seed: 1 })],
  ['Frugal rows sgdm', (p) => new Frugal(p, { lr: 0.01, selection: 'rows', stateFull: 'sgdm', momentum: 0.9, updateGap: 2 })],
  ['Frugal coordinates', (p) => new Frugal(p, { lr: 0.01, selection: 'coordinates', density: 0.2, updateGap: 2 })],
  ['Frugal randperm', (p) => new Frugal(p, { lr: 0.01, selection: 'randperm', density: 0.5, updateGap: 2 })],
  ['Frugal function', (p) => new Frugal(p, { lr: 0.01, selection: columnsByStep, selectionKind: 'columns', updateGap: 2 })],
  ['Grass top-r', (p) => new Grass(p, { lr: 0.01, rank: 3, updateGap: 2 })],
  ['Grass norm sampling', (p) => new Grass(p, { lr: 0.01, rank: 4, sampling: 'norm', replacement: true, updateGap: 2, seed: 9 })],
  ['Grass + signSGD', (p) => new Frugal(p, { lr: 0.01, selection: 'grass', rank: 2, updateGap: 2, stateFree: 'signsgd' })],
  ['GaLore svd', (p) => new GaLore(p, { lr: 0.01, rank: 2, updateGap: 2 })],
  ['GaLore random', (p) => new GaLore(p, { lr: 0.01, selection: 'random', rank: 2, updateGap: 2, seed: 3 })],
  ['BAdam random', (p) => new BAdam([[p[0], p[1]], [p[2]], [p[3]]], { lr: 0.01, switchEvery: 2, blockOrder: 'random', seed: 4 })],
];

function run(opt: Optimizer, params: Tensor[], from: number, to: number): void {
  for (let t = from; t < to; t++) {
    setGrads(params, t);
    opt.step();
  }
}

describe.each(CASES)('%s', (name, make) => {
  test('save after 3 steps, load into a fresh optimizer, 4 more steps: bit-identical to 7 straight', () => {
    const straight = freshParams();
    const reference = make(straight);
    run(reference, straight, 0, 7);

    const first = freshParams();
    const opt = make(first);
    run(opt, first, 0, 3);
    const file = path.join(dir, `${name.replace(/\W+/g, '_')}.safetensors`);
    opt.save(file);

    const resumed = first.map((p) => p.clone()); // the model's own checkpoint
    const opt2 = make(resumed);
    opt2.load(file);
    expect(opt2.steps).toBe(3);
    run(opt2, resumed, 3, 7);
    resumed.forEach((p, i) => expectBitIdentical(p.toArray(), straight[i].toArray()));
    // The optimizers agree too: state, counters, selections, RNG words.
    expect(opt2.stateDict()).toEqual(reference.stateDict());
  });
});

describe('bad checkpoints change nothing', () => {
  function trained(): { opt: Optimizer; params: Tensor[]; file: string } {
    const params = freshParams();
    const opt = new Frugal(params, { lr: 0.01, density: 0.5, updateGap: 2 });
    run(opt, params, 0, 3);
    const file = path.join(dir, `good-${Math.random().toString(36).slice(2)}.safetensors`);
    opt.save(file);
    return { opt, params, file };
  }

  // The optimizer must behave exactly as if the failed load never happened.
  function expectUnchanged(opt: Optimizer, before: ReturnType<Optimizer['stateDict']>, load: () => void, pattern: RegExp): void {
    expect(load).toThrow(pattern);
    expect(opt.stateDict()).toEqual(before);
  }

  test('a truncated file is reported as truncated', () => {
    const { opt, file } = trained();
    const before = opt.stateDict();
    const bytes = fs.readFileSync(file);
    for (const keep of [0, 5, 20, bytes.length - 1, Math.floor(bytes.length / 2)]) {
      const cut = path.join(dir, `cut-${keep}.safetensors`);
      fs.writeFileSync(cut, bytes.subarray(0, keep));
      expectUnchanged(opt, before, () => opt.load(cut), /Frugal.load: .*truncated/);
    }
  });

  test('a corrupt header or a missing file is an error', () => {
    const { opt, file } = trained();
    const before = opt.stateDict();
    const bytes = Buffer.from(fs.readFileSync(file));
    bytes[8] = 0x78; // 'x' where the JSON header starts
    const bad = path.join(dir, 'corrupt.safetensors');
    fs.writeFileSync(bad, bytes);
    expectUnchanged(opt, before, () => opt.load(bad), /corrupt header/);
    expectUnchanged(opt, before, () => opt.load(path.join(dir, 'missing.safetensors')), /ENOENT/);
  });

  test('a checkpoint of other params, another method or other options is refused', () => {
    const { opt, file } = trained();
    const before = opt.stateDict();
    const other = SHAPES.map((s) => Tensor.zeros(s.length === 2 ? [s[1], s[0]] : s));
    const transposed = new Frugal(other, { lr: 0.01, density: 0.5, updateGap: 2 });
    const tBefore = transposed.stateDict();
    expectUnchanged(transposed, tBefore, () => transposed.load(file), /param 0: shape \[12,8\] does not match the param's \[8,12\]/);
    const fewer = new Frugal(freshParams().slice(0, 2), { density: 0.5 });
    expect(() => fewer.load(file)).toThrow(/it has 4 params, this optimizer has 2/);
    const adam = new AdamW(freshParams());
    expect(() => adam.load(file)).toThrow(/the state dict is for 'Frugal', this optimizer is 'AdamW'/);
    const columns = new Frugal(freshParams(), { selection: 'columns' });
    expect(() => columns.load(file)).toThrow(/option 'selection' is 'blocks' in the state dict, 'columns' here/);
    // The original still loads its own file, and nothing above touched it.
    expect(opt.stateDict()).toEqual(before);
    opt.load(file);
    expect(opt.stateDict()).toEqual(before);
  });

  test('a state dict with wrong sizes is refused before anything changes', () => {
    const { opt } = trained();
    const before = opt.stateDict();
    const broken = opt.stateDict();
    // param 1 is 1-D: plain AdamW state whatever the block selection.
    broken.params[1].state = broken.params[1].state.map((s) => ({ ...s, count: s.count - 1, data: s.data.slice(1) }));
    expectUnchanged(opt, before, () => opt.loadStateDict(broken), /param 1: state tensors .* do not match/);
    const wrongType = opt.stateDict();
    wrongType.params[1].state[0].data = new Float64Array(wrongType.params[1].state[0].count) as unknown as Float32Array;
    expectUnchanged(opt, before, () => opt.loadStateDict(wrongType), /param 1: state 'exp_avg' must hold/);
    const badOption = opt.stateDict();
    badOption.groups[0].options.lr = -1;
    expectUnchanged(opt, before, () => opt.loadStateDict(badOption), /group 0: option 'lr' must be a finite number >= 0/);
    expectUnchanged(opt, before, () => opt.loadStateDict({} as never), /format is undefined/);
  });

  test('the file is safetensors: header, metadata strings and per-tensor offsets', () => {
    const { file } = trained();
    const contents = decodeSafetensors(fs.readFileSync(file), file);
    expect(contents.metadata.format).toBe('frugal-optim/1');
    expect(contents.metadata.optimizer).toBe('Frugal');
    const groups = JSON.parse(contents.metadata.groups);
    expect(groups[0].options.selection).toBe('blocks');
    expect(groups[0].native[0].rng).toHaveLength(4);
    const params = JSON.parse(contents.metadata.params);
    expect(params[0].counters.step).toBe(3);
    for (const [name, t] of contents.tensors) {
      expect(name).toMatch(/^params\.\d+\.\w+$/);
      expect(['F32', 'BF16', 'I32']).toContain(t.dtype);
    }
  });
});
