// Restoring selection state (an outside review of the selection objects, issue 10): what a
// checkpoint's counters may say about a line selection's axis and a block's moments.
import { Frugal, Grass, Tensor } from '../lib';

const lineOptimizer = (sel: string) => {
  const p = [Tensor.randn([6, 10], { seed: 1 })];
  return sel === 'grass' ? new Grass(p, { lr: 0.01, rank: 2 }) : new Frugal(p, { lr: 0.01, selection: sel as 'columns', density: 0.3 });
};

describe('restoring line selections', () => {
  test.each(['columns', 'rows', 'coordinates', 'grass'])('%s: a checkpoint saved before the first step loads and records the axis', (sel) => {
    const a = lineOptimizer(sel);
    const sd = a.stateDict();
    const expected = { columns: 1, rows: 0, coordinates: 2, grass: 0 }[sel];
    expect(sd.params[0].counters.axis).toBe(expected);
    const b = lineOptimizer(sel);
    expect(() => b.loadStateDict(sd)).not.toThrow();
    // Older versions wrote axis 0 for every kind there: nothing is selected, so it still loads.
    sd.params[0].counters.axis = 0;
    expect(() => lineOptimizer(sel).loadStateDict(sd)).not.toThrow();
  });

  test('grass: a selection on the other side of the param is refused (it would index the moments with the wrong line length)', () => {
    const N = 100;
    const make = (orientation: 'rows' | 'columns') => {
      const p = [Tensor.randn([4, N], { seed: 1 })];
      return { p, opt: new Grass(p, { lr: 0.01, rank: 4, orientation, updateGap: 1, resetStatistics: false }) };
    };
    const grad = () => {
      const a = new Float32Array(4 * N);
      for (let i = 0; i < 4; i++) for (let j = 0; j < N; j++) a[i * N + j] = j < 4 ? 100 : 0.01;
      return Tensor.fromArray(a, [4, N]);
    };
    const a = make('columns');
    a.p[0].grad = grad();
    a.opt.step();
    const sd = a.opt.stateDict();
    expect(sd.params[0].counters.axis).toBe(1);
    sd.groups[0].options.orientation = 'rows';
    const b = make('rows');
    expect(() => b.opt.loadStateDict(sd)).toThrow(/counters\.axis: 1 does not fit selection 'grass' on this param with these options \(expected 0\)/);
  });
});

describe('restoring blocks', () => {
  test('an active block without moments is refused (it would step with moments of zero)', () => {
    const make = () => {
      const p = [Tensor.randn([8, 6], { seed: 1 }), Tensor.randn([6, 8], { seed: 2 })];
      return { p, opt: new Frugal(p, { lr: 0.01, density: 0.5, updateGap: 5 }) };
    };
    const a = make();
    for (const t of a.p) t.grad = Tensor.randn(t.shape, { seed: 7 });
    a.opt.step();
    const sd = a.opt.stateDict();
    const q = sd.params.find((x) => x.counters.active)!;
    expect(q).toBeDefined();
    // The untouched checkpoint loads (control).
    expect(() => make().opt.loadStateDict(a.opt.stateDict())).not.toThrow();
    q.counters.selectionCount = 0;
    q.counters.stateStep = 0;
    q.state = q.state.filter((t) => !/exp_avg/.test(t.name));
    expect(() => make().opt.loadStateDict(sd)).toThrow(/counters\.active: an active block holds moments for all 48 elements, but counters\.selection_count is 0/);
  });
});
