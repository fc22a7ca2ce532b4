// The update rules in float64, written from their papers and torch's documented semantics (not
// from native/math): AdamW (Loshchilov & Hutter; torch.optim.AdamW, and the HF/FRUGAL-reference
// placement of eps), SGD with momentum (torch.optim.SGD), Lion (Chen et al. 2023), signSGD and SGD. Stored moments are
// rounded to their dtype (bf16: round to nearest even) as the implementation stores them.
import { roundTo } from '../update-rules';
import type { RefOptions } from './options';

export type RuleOptions = Pick<RefOptions, 'betas' | 'eps' | 'biasCorrection' | 'epsMode' | 'momentum' | 'dampening' | 'nesterov' | 'stateDtype'>;

/** One slot's state: its moments (AdamW) or momentum buffer (SGDM, in m), and its own step counter. */
export interface SlotState {
  m: number[];
  v: number[];
  t: number;
}

export function freshSlot(size: number): SlotState {
  return { m: new Array(size).fill(0), v: new Array(size).fill(0), t: 0 };
}

// State in float32 is kept in float64 here (the tolerance covers the difference); bf16 state is
// rounded as stored, so the reference holds the values the implementation holds. A step's update
// uses the moments it just computed, before that rounding (storage precision, not arithmetic).
function store(o: RuleOptions, x: number): number {
  return o.stateDtype === 'bfloat16' ? roundTo('bfloat16', x) : x;
}

/**
 * AdamW's direction for one slot (without lr): torch: m_hat / (sqrt(v_hat) + eps); hf (the FRUGAL
 * reference and HF's AdamW): step size sqrt(bc2)/bc1 applied to m / (sqrt(v) + eps).
 */
export function adamDirection(c: ArrayLike<number>, s: SlotState, o: RuleOptions): number[] {
  const [b1, b2] = o.betas;
  s.t += 1;
  const bc1 = o.biasCorrection ? 1 - b1 ** s.t : 1;
  const bc2 = o.biasCorrection ? 1 - b2 ** s.t : 1;
  const out = new Array<number>(c.length);
  for (let i = 0; i < c.length; i++) {
    const m = b1 * s.m[i] + (1 - b1) * c[i];
    const v = b2 * s.v[i] + (1 - b2) * c[i] * c[i];
    s.m[i] = store(o, m);
    s.v[i] = store(o, v);
    out[i] = o.epsMode === 'hf' ? (Math.sqrt(bc2) / bc1) * (m / (Math.sqrt(v) + o.eps)) : m / bc1 / (Math.sqrt(v / bc2) + o.eps);
  }
  return out;
}

/** torch.optim.SGD's direction: the buffer starts as the first gradient, then mu*b + (1-dampening)*g. */
export function sgdmDirection(c: ArrayLike<number>, s: SlotState, o: RuleOptions): number[] {
  s.t += 1;
  const out = new Array<number>(c.length);
  for (let i = 0; i < c.length; i++) {
    const b = s.t === 1 ? c[i] : o.momentum * s.m[i] + (1 - o.dampening) * c[i];
    s.m[i] = store(o, b);
    out[i] = o.nesterov ? c[i] + o.momentum * b : b;
  }
  return out;
}

/**
 * Lion's direction (without lr): sign(b1 m + (1 - b1) g), sign(0) = 0, then m = b2 m + (1 - b2) g
 * (Chen et al. 2023, Algorithm 2). On a compressed gradient the sign is taken there (FRUGAL's Lion).
 */
export function lionDirection(c: ArrayLike<number>, s: SlotState, o: RuleOptions): number[] {
  const [b1, b2] = o.betas;
  s.t += 1;
  const out = new Array<number>(c.length);
  for (let i = 0; i < c.length; i++) {
    out[i] = Math.sign(b1 * s.m[i] + (1 - b1) * c[i]);
    s.m[i] = store(o, b2 * s.m[i] + (1 - b2) * c[i]);
  }
  return out;
}

/** State-free rules on a residual: signSGD (sign(0) = 0), SGD, or nothing. */
export function stateFreeDirection(rule: 'signsgd' | 'sgd' | 'none', r: ArrayLike<number>): number[] {
  return Array.from(r, (x) => (rule === 'signsgd' ? Math.sign(x) : rule === 'sgd' ? x : 0));
}
