// nonFinite 'skip' counts the steps it turned into no-ops; the count is part of what save() writes
// and load() restores, and a damaged count is refused by name.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, Tensor } from '../lib';
import { decodeSafetensors, encodeSafetensors } from '../lib/checkpoint/safetensors';

function stepWith(opt: AdamW, p: Tensor, grad: number[]): void {
  p.grad!.copyFrom(Tensor.fromArray(new Float32Array(grad), [grad.length]));
  opt.step();
}

describe('skipped steps in checkpoint files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-skipped-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('save() writes the count and load() restores it', () => {
    const p = Tensor.fromArray(new Float32Array([1, 2, 3]), [3]);
    p.grad = Tensor.zeros([3]);
    const opt = new AdamW([p], { lr: 0.1, nonFinite: 'skip' });
    stepWith(opt, p, [NaN, 1, 1]);
    stepWith(opt, p, [1, 1, 1]);
    stepWith(opt, p, [Infinity, 1, 1]);
    expect(opt.skippedSteps()).toBe(2);
    const file = path.join(dir, 'a.safetensors');
    opt.save(file);
    const q = Tensor.fromArray(new Float32Array([1, 2, 3]), [3]);
    q.grad = Tensor.zeros([3]);
    const restored = new AdamW([q], { lr: 0.1, nonFinite: 'skip' });
    restored.load(file);
    expect(restored.skippedSteps()).toBe(2);
  });

  test('a damaged count is refused, naming the key', () => {
    const p = Tensor.fromArray(new Float32Array([1, 2]), [2]);
    p.grad = Tensor.zeros([2]);
    const opt = new AdamW([p], { lr: 0.1, nonFinite: 'skip' });
    stepWith(opt, p, [NaN, 1]);
    const file = path.join(dir, 'b.safetensors');
    opt.save(file);
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file));
    const bad = { ...metadata, skipped_steps: '1e3' };
    delete (bad as Record<string, string>)['frugal.crc32'];
    fs.writeFileSync(file, encodeSafetensors([...tensors].map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.data }]), bad));
    expect(() => opt.load(file)).toThrow(/metadata 'skipped_steps' is "1e3"/);
  });
});
