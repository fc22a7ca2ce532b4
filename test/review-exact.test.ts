// An outside review against the FRUGAL authors' own optimizers (their `frugal` package: BlockAdamW,
// CoordAdamW, GaloreAdamW, BlockSGD) on options beyond the defaults. Their runs are recorded as
// data under fixtures/review-exact (the format of ../shared/testdata/frugal-reference) and
// replayed through frugal-optim on the CPU; each must match after every step within that README's
// tolerance. $REVIEW_EXACT_DIR points the replay at another folder of recorded runs.
// The last tests cover what a replay cannot: random block draws and option plumbing.
import * as fs from 'fs';
import * as path from 'path';
import { Optimizer, Tensor } from '../lib';
import { loadCase, replay } from './helpers/review-exact-run';

const dir = process.env.REVIEW_EXACT_DIR ?? path.join(__dirname, 'fixtures', 'review-exact');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('the authors\' code on options beyond the defaults', () => {
  it('has recorded runs to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it.each(files)('%s matches after every step', (file) => {
    const ref = loadCase(path.join(dir, file));
    const r = replay(ref);
    if (process.env.REVIEW_EXACT_SUMMARY) {
      fs.appendFileSync(process.env.REVIEW_EXACT_SUMMARY, `${file}\t${r.firstBadStep < 0 ? 'PASS' : 'FAIL'}\t${r.maxError.toExponential(2)}\t${r.firstBad}\n`);
    }
    expect(r.firstBad).toBe('');
  });
});

// Which of three equal params a refresh made state-full, step by step: the state-free lr is 0 and
// there is no decay, so only the state-full param moves.
function activeBlocks(seed: number, steps: number): number[] {
  const params = [0, 1, 2].map(() => {
    const t = Tensor.zeros([2, 2]);
    t.grad = Tensor.fromArray(Float32Array.from([1, 1, 1, 1]), [2, 2]);
    return t;
  });
  const opt = new Optimizer([{
    params, selection: 'blocks', blockOrder: 'random', density: 1 / 3, updateGap: 1,
    stateFree: 'sgd', stateFreeLrScale: 0, seed,
  }], { lr: 0.1 });
  const out: number[] = [];
  let before = params.map((p) => p.toArray()[0]);
  for (let t = 0; t < steps; t++) {
    opt.step();
    const now = params.map((p) => p.toArray()[0]);
    const moved = now.map((x, i) => (x !== before[i] ? i : -1)).filter((i) => i >= 0);
    expect(moved).toHaveLength(1);
    out.push(moved[0]);
    before = now;
  }
  opt.dispose();
  params.forEach((p) => { p.grad!.dispose(); p.dispose(); });
  return out;
}

describe('what a replay cannot check', () => {
  it('FRUGAL\'s random block order draws a fresh random subset at every refresh', () => {
    // The authors' BlockOptimizer: torch.randperm(N)[:count] at each refresh, independently. With
    // one block of three per refresh, the first three refreshes pick three different blocks with
    // probability 3!/3^3 = 2/9; a walk through one permutation per cycle picks them always.
    const seeds = Array.from({ length: 40 }, (_v, i) => i + 1);
    const allDistinct = seeds.filter((s) => new Set(activeBlocks(s, 3)).size === 3).length;
    // Binomial(40, 2/9): mean 8.9; more than 25 has probability below 1e-8.
    expect(allDistinct).toBeLessThanOrEqual(25);
  });

  it('an option given as undefined means its default, as the option checks treat it', () => {
    const make = (opts: Record<string, unknown>) => {
      const p = Tensor.fromArray(Float32Array.from([1, 2, 3, 4]), [2, 2]);
      p.grad = Tensor.fromArray(Float32Array.from([0.5, -1, 2, 0]), [2, 2]);
      const opt = new Optimizer([{ params: [p] }], { lr: 0.1, ...opts });
      opt.step();
      const out = p.toArray();
      opt.dispose(); p.grad.dispose(); p.dispose();
      return out;
    };
    expect(make({ betas: undefined, eps: undefined, weightDecay: undefined })).toEqual(make({}));
  });

  it('a selection function may choose nothing (the authors\' int(len * density) can be 0)', () => {
    // 8 columns at density 0.1: the reference selects int(0.8) = 0 columns, so the whole param
    // gets the state-free rule. A replayed empty choice must be accepted and do exactly that.
    const run = (selection: any) => {
      const p = Tensor.fromArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
      p.grad = Tensor.fromArray(Float32Array.from([1, -1, 0.5, 2, 0, -3]), [2, 3]);
      const opt = new Optimizer([{ params: [p], selection, selectionKind: 'columns', density: 0, stateFree: 'sgd' }], { lr: 0.1 });
      opt.step();
      const out = p.toArray();
      opt.dispose(); p.grad.dispose(); p.dispose();
      return out;
    };
    expect(run(() => [])).toEqual(run('columns'));
  });
});
