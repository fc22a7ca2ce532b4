// Runs one case of the table on the package and on the float64 reference, step by step, and
// compares every param after every step.
//   float32 params: |x - ref| <= 1e-5 + 1e-4 * |ref| (the tolerance of the authors' recorded runs).
//   bf16 / fp16 params: the stored value must be the round-to-nearest-even of the reference's
//     unrounded value, allowing only for the float32 arithmetic before that rounding: got must lie
//     in [round(x - tol), round(x + tol)] with tol = 2^-20 |x| + 1e-4 |x - p_before| + 1e-12. So at
//     most 1 ulp of the stored dtype, and only where x is within float32 noise of a rounding tie.
//     The reference then continues from the stored values, so each step is held to this alone.
import { AdamW, BAdam, Frugal, GaLore, Grass, Lion, Optimizer, SelectionContext, SGD, SignSGD, Tensor } from '../../../lib';
import { roundTo } from '../update-rules';
import { blockCount, orderedBlocks, readChoice } from './choices';
import { Method, RefOptions, resolve } from './options';
import { Choice, NonFinitePolicy, partOf, Reference64, StepOutcome } from './reference';

export type Dtype = 'float32' | 'bfloat16' | 'float16';

export interface CaseGroup {
  shapes: number[][];
  options?: Record<string, unknown>;
  blockIds?: number[];
}

export interface RefCase {
  name: string;
  method: Method;
  /** Optimizer-wide options (defaults for every group, maxGradNorm). */
  options?: Record<string, unknown>;
  /** For BAdam: each group is one block (a layer); projectable: false groups are not blocks. */
  groups: CaseGroup[];
  dtype?: Dtype;
  steps: number;
  gradScale?: number;
  /** Non-finite gradient entries: at loop step `step`, element `element` of param `param` is `value`. */
  badGrads?: { step: number; param: number; element: number; value: number }[];
  /** BAdam random order: every block exactly once per cycle of N switches (issue 11 item 5). */
  checkCycle?: boolean;
}

const CLASSES = { Optimizer, AdamW, SGD, SignSGD, Frugal, GaLore, Grass, BAdam, Lion } as const;

/** Deterministic values in [-1, 1) (a small LCG), so cases do not depend on the package's RNG. */
export function values(seed: number, count: number, scale = 1): number[] {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

interface Built {
  opt: Optimizer;
  tensors: Tensor[];
  ref: Reference64;
  options: RefOptions[];
  /** Per param: its group in the reference, its block index among the group's blocks. */
  block: number[];
  blocksIn: number[];
  /** What caller-supplied selections returned, by param index (the choice they impose). */
  supplied: Map<number, unknown>;
}

function build(c: RefCase): Built {
  const dtype = c.dtype ?? 'float32';
  const supplied = new Map<number, unknown>();
  const tensorIndex = new Map<Tensor, number>();
  // Caller-supplied selections are wrapped to record what they return: the choice they impose.
  const recording = (o: Record<string, unknown> | undefined) => {
    if (typeof o?.selection !== 'function') return o;
    const fn = o.selection as (ctx: SelectionContext) => unknown;
    return {
      ...o,
      selection: (ctx: SelectionContext) => {
        const out = fn(ctx);
        supplied.set(tensorIndex.get(ctx.param) as number, out);
        return out;
      },
    };
  };
  const shared = recording(c.options) ?? {};
  const { maxGradNorm = 0, nonFinite = 'propagate', ...defaults } = shared as { maxGradNorm?: number; nonFinite?: NonFinitePolicy };
  // Reference groups: BAdam merges its layers into one group of blocks (ids 1, 2, ...).
  const layers = c.method === 'BAdam' ? c.groups.filter((g) => g.options?.projectable !== false) : [];
  const refGroups: CaseGroup[] =
    c.method === 'BAdam'
      ? [
          { shapes: layers.flatMap((g) => g.shapes), blockIds: layers.flatMap((g, i) => g.shapes.map(() => i + 1)), options: {} },
          ...c.groups.filter((g) => g.options?.projectable === false),
        ]
      : c.groups;
  const options = refGroups.map((g) => resolve(c.method, { ...defaults, ...g.options }));
  const params: { shape: number[]; dtype: string; group: number; blockId: number; init: number[] }[] = [];
  const tensors: Tensor[] = [];
  refGroups.forEach((g, gi) =>
    g.shapes.forEach((shape, j) => {
      const numel = shape.reduce((a, b) => a * b, 1);
      const t = Tensor.fromArray(values(100 + tensors.length, numel), shape, { dtype });
      tensors.push(t);
      params.push({ shape, dtype, group: gi, blockId: g.blockIds?.[j] ?? 0, init: Array.from(t.toArray()) });
    }),
  );
  // Block numbering: distinct blocks among a group's projected params, in order of appearance.
  const block: number[] = [];
  const blocksIn: number[] = refGroups.map(() => 0);
  refGroups.forEach((_g, gi) => {
    const seen = new Map<number, number>();
    params.forEach((p, i) => {
      if (p.group !== gi || partOf(options[gi], p.shape, p.blockId) !== 'projected') return;
      const key = p.blockId > 0 ? p.blockId : -1 - i;
      if (!seen.has(key)) seen.set(key, seen.size);
      block[i] = seen.get(key) as number;
    });
    blocksIn[gi] = seen.size;
  });
  tensors.forEach((t, i) => tensorIndex.set(t, i));
  const groupInputs = refGroups.map((g, gi) => {
    const own = recording(g.options) ?? {};
    const list = tensors.filter((_t, i) => params[i].group === gi);
    return { ...own, params: list, ...(g.blockIds && c.method !== 'BAdam' ? { blockIds: g.blockIds } : {}) };
  });
  let opt: Optimizer;
  if (c.method === 'BAdam') {
    const layerGroups = layers.map((g, li) => ({
      ...(g.options ?? {}),
      params: tensors.filter((_t, i) => params[i].group === 0 && params[i].blockId === li + 1),
    }));
    const rest = groupInputs.slice(1);
    opt = new BAdam([...layerGroups, ...rest] as never, shared as never);
  } else {
    opt = new (CLASSES[c.method] as typeof Optimizer)(groupInputs as never, shared as never);
  }
  const ref = new Reference64(options, params, maxGradNorm, nonFinite);
  return { opt, tensors, ref, options, block, blocksIn, supplied };
}

function suppliedChoice(result: unknown, o: RefOptions, shape: number[]): Choice {
  if (typeof result === 'boolean') return { kind: 'blocks', active: result };
  const r = result as { indices?: ArrayLike<number>; scales?: ArrayLike<number> | null } | ArrayLike<number>;
  const indices = Array.from('indices' in r && r.indices ? r.indices : (r as ArrayLike<number>));
  const scales = 'scales' in r && r.scales ? Array.from(r.scales) : indices.map(() => 1);
  if (o.selection === 'coordinates') return { kind: 'coordinates', indices };
  const [m, n] = shape;
  const axis: 0 | 1 = o.selection === 'rows' ? 0 : o.selection === 'columns' ? 1 : m <= n ? 0 : 1;
  return { kind: 'lines', axis, indices, scales };
}

/** Runs a case; throws with the case, step, param and element of the first disagreement. */
export function runCase(c: RefCase): void {
  const b = build(c);
  const dtype = c.dtype ?? 'float32';
  const activeHistory: Set<number>[][] = b.options.map(() => []);
  try {
    for (let step = 0; step < c.steps; step++) {
      const grads = b.tensors.map((t, i) => {
        t.grad?.dispose();
        // Exact zeros at some places: sign(0) = 0, and zero stays zero through every rule.
        const data = values(1000 * (step + 1) + i, t.numel, c.gradScale ?? 1).map((x, e) => (e % 13 === 5 ? 0 : x));
        for (const bad of c.badGrads ?? []) if (bad.step === step && bad.param === i) data[bad.element] = bad.value;
        const g = Tensor.fromArray(data, t.shape, { dtype });
        t.grad = g;
        return Array.from(g.toArray());
      });
      const before = b.ref.params.map((p) => p.value.slice());
      const refreshIndex = b.ref.groups.map((g) => Math.floor(g.step / g.options.updateGap));
      const due = b.ref.groups.map((_g, gi) => b.ref.isRefresh(gi));
      const skippedBefore = nonFinite(b) === 'skip' ? b.opt.skippedSteps() : 0;
      const stateBefore = nonFinite(b) === 'error' ? stateJson(b.opt) : '';
      let refused: Error | null = null;
      try {
        b.opt.step();
      } catch (e) {
        refused = e as Error;
      }
      const sd = b.opt.stateDict();
      const activeNow: Set<number>[] = b.options.map(() => new Set());
      const choose = (i: number, g: number[]): Choice => {
        const p = b.ref.params[i];
        const o = b.options[p.group];
        const where = `${c.name}: step ${step}: param ${i}`;
        if (o.external) {
          const got = suppliedChoice(b.supplied.get(i), o, p.shape);
          const stored = sd.params[i];
          if (got.kind === 'blocks') {
            if (stored.counters.active !== got.active) throw new Error(`${where}: block active ${stored.counters.active}, selection function said ${got.active}`);
          } else if (got.kind !== 'dense') {
            const idx = Array.from(stored.state.find((s) => s.name === 'indices')?.data ?? []);
            if (idx.join() !== got.indices.join()) throw new Error(`${where}: stored indices ${idx.join(',')}, function gave ${got.indices.join(',')}`);
          }
          return got;
        }
        if (o.selection === 'blocks') {
          const active = sd.params[i].counters.active;
          const k = blockCount(b.blocksIn[p.group], o);
          if (o.blockOrder !== 'random') {
            const want = orderedBlocks(o.blockOrder, b.blocksIn[p.group], k, refreshIndex[p.group]).has(b.block[i]);
            if (want !== active) throw new Error(`${where}: block ${b.block[i]} active ${active}, ${o.blockOrder} order says ${want}`);
          }
          if (active) activeNow[p.group].add(b.block[i]);
          return { kind: 'blocks', active };
        }
        return readChoice(where, sd.params[i], o, p.shape, g);
      };
      const outcome = b.ref.step(grads, choose);
      checkOutcome(c, step, b, outcome, refused, skippedBefore, stateBefore);
      // Random block orders: k distinct blocks, whole blocks only (a block's params agree).
      b.options.forEach((o, gi) => {
        if (o.selection !== 'blocks' || o.external || !due[gi] || outcome !== 'stepped' || b.blocksIn[gi] === 0) return;
        const k = blockCount(b.blocksIn[gi], o);
        if (activeNow[gi].size !== k) throw new Error(`${c.name}: step ${step}: ${activeNow[gi].size} blocks active, expected ${k}`);
        b.ref.params.forEach((p, i) => {
          if (p.group === gi && p.part === 'projected' && activeNow[gi].has(b.block[i]) !== (p.choice as { active: boolean }).active) {
            throw new Error(`${c.name}: step ${step}: block ${b.block[i]} is active for some of its params only`);
          }
        });
        activeHistory[gi].push(activeNow[gi]);
      });
      compare(c, step, b, before, dtype);
    }
    if (c.checkCycle) checkCycles(c, b, activeHistory);
  } finally {
    b.opt.dispose();
    for (const t of b.tensors) {
      t.grad?.dispose();
      t.dispose();
    }
  }
}

function nonFinite(b: Built): NonFinitePolicy {
  return b.opt.nonFinite;
}

/** The optimizer's whole state (moments, selections, counters), to prove a refused step changed none of it. */
function stateJson(opt: Optimizer): string {
  return JSON.stringify(opt.stateDict(), (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : typeof v === 'bigint' ? `${v}` : v));
}

// The package must have done what the reference did: thrown (naming the param) and changed
// nothing under 'error', counted the step under 'skip', stepped otherwise.
function checkOutcome(c: RefCase, step: number, b: Built, outcome: StepOutcome, refused: Error | null, skippedBefore: number, stateBefore: string): void {
  const where = `${c.name}: step ${step}`;
  if (outcome === 'refused') {
    const named = (c.badGrads ?? []).filter((x) => x.step === step).map((x) => x.param);
    if (!refused || !/nonfinite 'error'/.test(refused.message) || !named.every((i) => new RegExp(`param ${i}\\b`).test(refused.message))) {
      throw new Error(`${where}: expected the step to throw naming param(s) ${named.join(', ')}; got ${refused ? refused.message : 'no error'}`);
    }
    if (stateJson(b.opt) !== stateBefore) throw new Error(`${where}: the refused step changed the optimizer's state`);
    return;
  }
  if (refused) throw refused;
  if (nonFinite(b) === 'skip') {
    const count = b.opt.skippedSteps() - skippedBefore;
    if (count !== (outcome === 'skipped' ? 1 : 0)) throw new Error(`${where}: skippedSteps grew by ${count}, the reference ${outcome}`);
  }
}

function compare(c: RefCase, step: number, b: Built, before: number[][], dtype: Dtype): void {
  b.tensors.forEach((t, i) => {
    const got = t.toArray();
    const p = b.ref.params[i];
    const exact = p.exact;
    for (let e = 0; e < got.length; e++) {
      const x = exact[e];
      let ok: boolean;
      if (dtype === 'float32') ok = Math.abs(got[e] - x) <= 1e-5 + 1e-4 * Math.abs(x);
      else {
        const tol = 2 ** -20 * Math.abs(x) + 1e-4 * Math.abs(x - before[i][e]) + 1e-12;
        const lo = roundTo(dtype, x - tol);
        const hi = roundTo(dtype, x + tol);
        ok = got[e] >= lo && got[e] <= hi;
      }
      if (!ok) {
        throw new Error(
          `${c.name}: step ${step}: param ${i} ${JSON.stringify(p.shape)} element ${e}: got ${got[e]}, ` +
            `reference ${x} (${dtype}; rounded ${roundTo(dtype, x)}; before the step ${before[i][e]})`,
        );
      }
    }
    // Low-precision params: continue from the stored values (each step is held to its own rounding).
    if (dtype !== 'float32') p.value = Array.from(got);
  });
}

// BAdam's random order shuffles all blocks once per cycle: over each run of N switches every
// block is active exactly once.
function checkCycles(c: RefCase, b: Built, history: Set<number>[][]): void {
  history.forEach((list, gi) => {
    const n = b.blocksIn[gi];
    if (n === 0) return;
    for (let start = 0; start + n <= list.length; start += n) {
      const seen = list.slice(start, start + n).flatMap((s) => [...s]);
      if (new Set(seen).size !== n || seen.length !== n) {
        throw new Error(`${c.name}: switches ${start}..${start + n - 1} activate blocks ${seen.join(',')}: not each of the ${n} blocks once`);
      }
    }
  });
}
