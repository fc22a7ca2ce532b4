// Seeds, as bigints up to 2^64: the same seed gives the same random choices (lines, bases, Grass
// samples, block orders); seeds that differ, in low or in high bits, give different ones. The
// choices themselves are held to the reference in ref64-cases.test.ts.
import { Frugal, Grass, Optimizer, Tensor } from '../lib';
import { values } from './helpers/ref64/run-case';

type Make = (params: Tensor[], seed: bigint) => Optimizer;

const KINDS: [string, Make][] = [
  ['columns', (p, seed) => new Frugal(p, { selection: 'columns', density: 0.3, updateGap: 1, seed })],
  ['coordinates', (p, seed) => new Frugal(p, { selection: 'coordinates', density: 0.2, updateGap: 1, seed })],
  ['random basis', (p, seed) => new Frugal(p, { selection: 'random', density: 0.5, updateGap: 1, seed })],
  ['randperm basis', (p, seed) => new Frugal(p, { selection: 'randperm', density: 0.3, updateGap: 1, seed })],
  ['grass norm sampling', (p, seed) => new Grass(p, { sampling: 'norm', replacement: true, rank: 6, updateGap: 1, seed })],
  ['random block order', (p, seed) => new Frugal(p, { selection: 'blocks', blockOrder: 'random', density: 0.5, updateGap: 1, seed })],
];

/** The choices made over four refreshes, as a string (state tensors and counters). */
function choices(make: Make, seed: bigint): string {
  const params = [[12, 20], [20, 12], [8, 8], [6, 9]].map((s, i) => Tensor.fromArray(values(i, s[0] * s[1]), s));
  const opt = make(params, seed);
  const out: string[] = [];
  try {
    for (let step = 0; step < 4; step++) {
      params.forEach((p, i) => {
        p.grad?.dispose();
        p.grad = Tensor.fromArray(values(50 + 10 * step + i, p.numel), p.shape);
      });
      opt.step();
      for (const p of opt.stateDict().params) {
        const picked = p.state.filter((s) => ['indices', 'scales', 'basis'].includes(s.name)).map((s) => Array.from(s.data).join(','));
        out.push(`${p.counters.active}:${picked.join('|')}`);
      }
    }
  } finally {
    opt.dispose();
    params.forEach((p) => {
      p.grad?.dispose();
      p.dispose();
    });
  }
  return out.join(';');
}

describe('bigint seeds', () => {
  const big = (1n << 63n) + 12345n;
  it.each(KINDS)('%s: the same bigint seed repeats the choices; other seeds change them', (_name, make) => {
    const a = choices(make, big);
    expect(choices(make, big)).toBe(a);
    expect(choices(make, big + 1n)).not.toBe(a); // low bit
    expect(choices(make, big ^ (1n << 40n))).not.toBe(a); // a high bit
    expect(choices(make, 12345n)).not.toBe(a); // bit 63
  });

  it('a bigint seed and the equal number seed are the same seed', () => {
    const viaNumber = choices((p) => new Frugal(p, { selection: 'columns', density: 0.3, updateGap: 1, seed: 987654321 }), 0n);
    expect(choices(KINDS[0][1], 987654321n)).toBe(viaNumber);
  });
});
