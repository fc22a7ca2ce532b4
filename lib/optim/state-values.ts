// Value domains of restored optimizer state, keyed by state-tensor name: a checkpoint whose
// second moments are negative or NaN, whose scales are zero, or whose indices leave the matrix
// would step into silently wrong numbers (or wild addresses), so it is refused with the tensor,
// the element and what was expected. Names not in the table get DEFAULT_RULE.
import { DType } from '../dtype';
import type { SelectionName } from './options';

/** The selection axis codes of the native counters (native/core/backend.h). */
export const AXIS_ROWS = 0;
export const AXIS_COLS = 1;
export const AXIS_COORDS = 2;

type Rule =
  | 'finite' // any finite number
  | 'nonnegative' // finite and >= 0
  | 'positive' // finite and > 0
  | 'count' // an integer >= 0 (in any dtype)
  | 'indices' // line indices of the param's selection: in range, distinct unless the sampling repeats
  | 'derived'; // rebuilt from other state on load, never trusted: not checked

export const STATE_RULES: Readonly<Record<string, Rule>> = {
  exp_avg: 'finite',
  momentum_buffer: 'finite',
  momentum: 'finite',
  basis: 'finite',
  exp_avg_sq: 'nonnegative',
  scales: 'positive',
  indices: 'indices',
  mask: 'derived', // native verify_state rebuilds it from the indices
  slot_step: 'count', // per-line step counters (each also at most the param's stateStep: native verify_state)
};

/** Unknown state names: floats must be finite (any int32 already is). */
export const DEFAULT_RULE: Rule = 'finite';

export interface ValueContext {
  shape: readonly number[];
  kind: SelectionName;
  axis: number;
  /** Grass with replacement sampling (or a caller's selection) may pick a line twice. */
  duplicatesAllowed: boolean;
}

const EXPECTED: Record<Rule, string> = {
  finite: 'a finite number',
  nonnegative: 'a finite number >= 0',
  positive: 'a finite number > 0',
  count: 'an integer >= 0',
  indices: 'a line index',
  derived: '',
};

/** A float view of element j, whatever the storage (bf16 and fp16 are bit patterns). */
function reader(dtype: DType, data: ArrayLike<number>): (j: number) => number {
  if (dtype === 'bfloat16') {
    const scratch = new Uint32Array(1);
    const f = new Float32Array(scratch.buffer);
    return (j) => {
      scratch[0] = data[j] << 16;
      return f[0];
    };
  }
  if (dtype === 'float16') {
    return (j) => {
      const h = data[j];
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      if (exp === 0x1f) return frac ? NaN : sign * Infinity;
      return sign * (exp ? (1 + frac / 1024) * 2 ** (exp - 15) : (frac / 1024) * 2 ** -14);
    };
  }
  return (j) => data[j];
}

/** The number of lines an index selection chooses among (rows, columns or elements). */
function lineCount(ctx: ValueContext): number | null {
  const numel = ctx.shape.reduce((a, b) => a * b, 1);
  const rows = ctx.shape.length >= 2 ? ctx.shape[0] : 1;
  const cols = rows > 0 ? numel / rows : 0;
  if (ctx.kind === 'rows') return rows;
  if (ctx.kind === 'columns') return cols;
  if (ctx.kind === 'coordinates') return numel;
  if (ctx.kind === 'grass') return ctx.axis === AXIS_ROWS ? rows : cols;
  return null;
}

function checkIndices(what: string, data: ArrayLike<number>, ctx: ValueContext): void {
  const lines = lineCount(ctx);
  if (lines === null) return; // not an index selection: the optimizer refuses the tensor itself
  const distinct = !(ctx.kind === 'grass' && ctx.duplicatesAllowed);
  const seen = new Uint8Array(distinct ? lines : 0);
  for (let j = 0; j < data.length; j++) {
    const v = data[j];
    if (v < 0 || v >= lines) throw new Error(`${what}: restored index ${v} is outside 0..${lines - 1}`);
    if (distinct) {
      if (seen[v]) throw new Error(`${what}: restored index ${v} appears twice (selection '${ctx.kind}' takes distinct indices without replacement sampling)`);
      seen[v] = 1;
    }
  }
}

/** Throws `${what}: element j is v, expected ...` for the first value outside its name's domain. */
export function checkStateValues(what: string, t: { name: string; dtype: DType; data: ArrayLike<number> }, ctx: ValueContext): void {
  const rule = Object.prototype.hasOwnProperty.call(STATE_RULES, t.name) ? STATE_RULES[t.name] : DEFAULT_RULE;
  if (rule === 'derived') return;
  if (rule === 'indices') {
    if (t.dtype !== 'int32') throw new Error(`${what}: expected int32 line indices, got ${t.dtype}`);
    return checkIndices(what, t.data, ctx);
  }
  const at = reader(t.dtype, t.data);
  for (let j = 0; j < t.data.length; j++) {
    const v = at(j);
    const ok =
      rule === 'count' ? Number.isInteger(v) && v >= 0 :
      rule === 'nonnegative' ? Number.isFinite(v) && v >= 0 :
      rule === 'positive' ? Number.isFinite(v) && v > 0 :
      Number.isFinite(v);
    if (!ok) throw new Error(`${what}: element ${j} is ${v}, expected ${EXPECTED[rule]}`);
  }
}
