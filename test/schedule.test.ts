// Learning-rate schedules and the LRScheduler that applies them to param groups.
import { AdamW, constant, cosineWithWarmup, linear, LRScheduler, SignSGD, Tensor } from '../lib';

describe('schedule functions', () => {
  test('cosineWithWarmup: linear warmup, cosine to minRatio, flat after', () => {
    const f = cosineWithWarmup({ warmupSteps: 10, totalSteps: 110, minRatio: 0.1 });
    expect(f(0)).toBe(0);
    expect(f(5)).toBeCloseTo(0.5, 12);
    expect(f(10)).toBeCloseTo(1, 12);
    expect(f(60)).toBeCloseTo(0.1 + 0.9 * 0.5, 12); // halfway through the decay
    expect(f(110)).toBeCloseTo(0.1, 12);
    expect(f(500)).toBeCloseTo(0.1, 12);
    for (let t = 10; t < 110; t++) expect(f(t + 1)).toBeLessThanOrEqual(f(t));
  });

  test('linear: warmup then a straight line to minRatio', () => {
    const f = linear({ warmupSteps: 4, totalSteps: 14, minRatio: 0 });
    expect([0, 2, 4, 9, 14, 20].map(f)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
    const g = linear({ totalSteps: 10, minRatio: 0.5 });
    expect(g(0)).toBe(1);
    expect(g(5)).toBeCloseTo(0.75, 12);
  });

  test('constant, with or without warmup', () => {
    expect([0, 100].map(constant())).toEqual([1, 1]);
    expect([0, 1, 2, 3].map(constant({ warmupSteps: 2 }))).toEqual([0, 0.5, 1, 1]);
  });

  test('bad schedule options are named', () => {
    expect(() => cosineWithWarmup({ warmupSteps: 10, totalSteps: 5 })).toThrow(/'totalSteps' must be an integer >= warmupSteps/);
    expect(() => linear({ totalSteps: 10, minRatio: 2 })).toThrow(/'minRatio' must be in \[0, 1\]/);
    expect(() => constant({ warmupSteps: -1 })).toThrow(/'warmupSteps' must be an integer >= 0/);
  });
});

describe('LRScheduler', () => {
  test('sets every group lr to base * f(step), and the optimizer uses it', () => {
    const a = Tensor.fromArray([0], [1]);
    const b = Tensor.fromArray([0], [1]);
    a.grad = Tensor.fromArray([-1], [1]);
    b.grad = Tensor.fromArray([-1], [1]);
    const opt = new SignSGD([{ params: [a], lr: 1 }, { params: [b], lr: 0.5 }]);
    const sched = new LRScheduler(opt, constant({ warmupSteps: 2 }));
    expect(sched.getLastLr()).toEqual([0, 0]); // step 0 of the warmup
    opt.step();
    expect([a.toArray()[0], b.toArray()[0]]).toEqual([0, 0]);
    sched.step();
    expect(sched.getLastLr()).toEqual([0.5, 0.25]);
    opt.step();
    sched.step();
    opt.step();
    expect([a.toArray()[0], b.toArray()[0]]).toEqual([1.5, 0.75]);
    expect(sched.lastStep).toBe(2);
  });

  test('one schedule per group, and a state dict that resumes', () => {
    const p = Tensor.zeros([2]);
    const q = Tensor.zeros([2]);
    const opt = new AdamW([{ params: [p] }, { params: [q], lr: 0.1 }], { lr: 0.01 });
    const fns = [linear({ totalSteps: 10 }), constant()];
    const sched = new LRScheduler(opt, fns);
    for (let i = 0; i < 4; i++) sched.step();
    const saved = sched.stateDict();
    const other = new LRScheduler(new AdamW([{ params: [Tensor.zeros([2])] }, { params: [Tensor.zeros([2])], lr: 0.1 }], { lr: 0.01 }), fns);
    other.loadStateDict(saved);
    expect(other.getLastLr()).toEqual(sched.getLastLr());
    expect(sched.getLastLr()[0]).toBeCloseTo(0.006, 12);
    expect(() => new LRScheduler(opt, [constant()])).toThrow(/one per param group \(2\)/);
    expect(() => new LRScheduler(opt, () => -1)).toThrow(/expected a finite number >= 0/);
  });
});
