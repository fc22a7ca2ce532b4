// Learning-rate schedules: plain functions of the step returning the lr multiplier, and an
// LRScheduler that applies one to an optimizer's groups (like torch's LambdaLR).
import { describeValue } from './dtype';
import type { Optimizer } from './optim/optimizer';

export type LRLambda = (step: number) => number;

export interface WarmupOptions {
  /** Linear warmup from 0 over this many steps (multiplier step / warmupSteps). */
  warmupSteps?: number;
}

export interface DecayOptions extends WarmupOptions {
  /** The step where the decay reaches minRatio (it stays there after). */
  totalSteps: number;
  /** The final multiplier, in [0, 1]. */
  minRatio?: number;
}

function check(cond: boolean, what: string, value: unknown): void {
  if (!cond) throw new RangeError(`schedule: ${what}, got ${describeValue(value)}`);
}

function optionsOf<T>(o: T): T {
  if (typeof o !== 'object' || o === null) throw new TypeError(`schedule: options must be an object, got ${describeValue(o)}`);
  return o;
}

function warmupOf(o: WarmupOptions): number {
  optionsOf(o);
  const w = o.warmupSteps ?? 0;
  check(Number.isSafeInteger(w) && w >= 0, "'warmupSteps' must be an integer >= 0", w);
  return w;
}

function decayOf(o: DecayOptions): { warmup: number; total: number; minRatio: number } {
  optionsOf(o);
  const warmup = warmupOf(o);
  check(Number.isSafeInteger(o.totalSteps) && o.totalSteps >= warmup, "'totalSteps' must be an integer >= warmupSteps", o.totalSteps);
  const minRatio = o.minRatio ?? 0;
  check(typeof minRatio === 'number' && minRatio >= 0 && minRatio <= 1, "'minRatio' must be in [0, 1]", minRatio);
  return { warmup, total: o.totalSteps, minRatio };
}

// The step a schedule is called with: a non-negative finite number (a string or undefined would
// give NaN, which would silently become the lr).
function stepOf(step: unknown): number {
  if (typeof step !== 'number' || !Number.isFinite(step) || step < 0) {
    throw new RangeError(`schedule: step must be a finite number >= 0, got ${describeValue(step)}`);
  }
  return step;
}

// Fraction of the decay phase done at `step`, in [0, 1].
function progress(step: number, warmup: number, total: number): number {
  if (total <= warmup) return 1;
  return Math.min(1, Math.max(0, (step - warmup) / (total - warmup)));
}

/** 1 after an optional linear warmup. */
export function constant(options: WarmupOptions = {}): LRLambda {
  const warmup = warmupOf(options);
  return (t) => {
    const step = stepOf(t);
    return step < warmup ? step / warmup : 1;
  };
}

/** Linear warmup, then linear decay from 1 to minRatio at totalSteps. */
export function linear(options: DecayOptions): LRLambda {
  const { warmup, total, minRatio } = decayOf(options);
  return (t) => {
    const step = stepOf(t);
    return step < warmup ? step / warmup : 1 - (1 - minRatio) * progress(step, warmup, total);
  };
}

/** Linear warmup, then cosine decay from 1 to minRatio at totalSteps (the FRUGAL/GaLore recipe). */
export function cosineWithWarmup(options: DecayOptions): LRLambda {
  const { warmup, total, minRatio } = decayOf(options);
  return (t) => {
    const step = stepOf(t);
    if (step < warmup) return step / warmup;
    return minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress(step, warmup, total)));
  };
}

/**
 * Sets each group's lr to its initial lr times the schedule: at construction for step 0, then
 * for step t after the t-th call of step() (call it after optimizer.step()).
 */
export class LRScheduler {
  readonly baseLrs: number[];
  private readonly optimizer: Optimizer;
  private readonly lambdas: LRLambda[];
  private current = 0;

  constructor(optimizer: Optimizer, lambda: LRLambda | LRLambda[]) {
    const groups = (optimizer as { paramGroups?: unknown } | null | undefined)?.paramGroups;
    if (typeof optimizer !== 'object' || optimizer === null || !Array.isArray(groups)) {
      throw new TypeError(`LRScheduler: optimizer must be an Optimizer (with paramGroups), got ${describeValue(optimizer)}`);
    }
    if (!groups.every((g) => typeof g === 'object' && g !== null && typeof g.lr === 'number' && Number.isFinite(g.lr))) {
      throw new TypeError('LRScheduler: every param group of the optimizer needs a finite number lr');
    }
    this.optimizer = optimizer;
    this.lambdas = Array.isArray(lambda) ? lambda : groups.map(() => lambda);
    if (this.lambdas.length !== groups.length || !this.lambdas.every((f) => typeof f === 'function')) {
      throw new TypeError(`LRScheduler: expected one schedule function, or one per param group (${groups.length})`);
    }
    this.baseLrs = groups.map((g) => g.lr as number);
    this.apply();
  }

  /** The schedule's step count. */
  get lastStep(): number {
    return this.current;
  }

  step(): void {
    this.current++;
    this.apply();
  }

  /** The lrs in force. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr as number);
  }

  stateDict(): { step: number; baseLrs: number[] } {
    return { step: this.current, baseLrs: this.baseLrs.slice() };
  }

  loadStateDict(sd: { step: number; baseLrs: number[] }): void {
    if (
      !Number.isSafeInteger(sd?.step) ||
      sd.step < 0 ||
      !Array.isArray(sd.baseLrs) ||
      sd.baseLrs.length !== this.baseLrs.length ||
      !sd.baseLrs.every((lr) => typeof lr === 'number' && Number.isFinite(lr) && lr >= 0)
    ) {
      throw new Error('LRScheduler.loadStateDict: expected {step, baseLrs} with one finite lr >= 0 per param group');
    }
    this.current = sd.step;
    sd.baseLrs.forEach((lr, i) => (this.baseLrs[i] = lr));
    this.apply();
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const factor = this.lambdas[i](this.current);
      if (!Number.isFinite(factor) || factor < 0) {
        throw new RangeError(`LRScheduler: the schedule gave ${factor} at step ${this.current}; expected a finite number >= 0`);
      }
      g.lr = this.baseLrs[i] * factor;
    });
  }
}
