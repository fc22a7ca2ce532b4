// Selections: what the rules say a refresh must choose (counts, sides, ranks, orders), and checks
// that a choice read from the package is a valid one. Random choices (random/randperm bases, random
// lines, Grass sampling, random block order) cannot be reproduced from a seed, so the package's
// choice is checked here and then replayed through the reference; deterministic ones (block orders,
// top-r, the SVD subspace) are computed independently and must agree.
import type { ParamStateData } from '../../../lib';
import { matmul, orthonormalityError, roundHalfEven, subspaceDistance, symmetricEigen, transpose } from './linalg';
import { RefOptions } from './options';
import { Choice } from './reference';

function fail(where: string, what: string): never {
  throw new Error(`${where}: ${what}`);
}

/** FRUGAL/GaLore's int(len * density) for lines and coordinates (at least one while density > 0). */
export function lineCount(len: number, density: number): number {
  return density > 0 ? Math.max(1, Math.floor(len * density)) : 0;
}

/** Blocks active at a time: round(N * density), half to even (Python's round). */
export function blockCount(blocks: number, o: RefOptions): number {
  if (o.oneBlock) return 1;
  return o.density > 0 ? Math.max(1, roundHalfEven(blocks * o.density)) : 0;
}

/** Deterministic block orders: the blocks active at the c-th refresh (k at a time, wrapping). */
export function orderedBlocks(order: RefOptions['blockOrder'], n: number, k: number, c: number): Set<number> {
  const out = new Set<number>();
  if (order === 'mirror') {
    // FRUGAL's mirror: k/2 pairs (i, n-1-i) per refresh, i walking 0 .. floor(n/2)-1 and wrapping.
    const half = Math.floor(n / 2);
    for (let j = 0; j < k / 2; j++) {
      const i = (c * (k / 2) + j) % half;
      out.add(i).add(n - 1 - i);
    }
    return out;
  }
  for (let j = 0; j < k; j++) {
    const t = c * k + j;
    if (order === 'ascending') out.add(t % n);
    else out.add(n - 1 - (t % n));
  }
  return out;
}

/** The side a dense basis projects: left (U^T G, basis m x r) or right (G V, basis n x r). */
export function denseLeft(side: RefOptions['side'], m: number, n: number): boolean {
  if (side === 'left') return true;
  if (side === 'right') return false;
  const std = m < n; // std: the smaller side
  return side === 'std' ? std : !std;
}

/** Rank of a dense basis: from the projected side's length (galore_projector.py), capped at min(m, n). */
export function denseRank(o: RefOptions, m: number, n: number): number {
  const q = Math.min(m, n);
  if (o.rank > 0) return Math.min(o.rank, q);
  const side = denseLeft(o.side, m, n) ? m : n;
  return Math.min(q, Math.max(1, roundHalfEven(side * o.density)));
}

/** Grass: rows when the orientation says so, or for 'std' when rows are the smaller side. */
export function grassAxis(o: RefOptions, m: number, n: number): 0 | 1 {
  if (o.orientation === 'rows') return 0;
  if (o.orientation === 'columns') return 1;
  return m <= n ? 0 : 1;
}

function stateOf(p: ParamStateData, name: string): Float32Array | Int32Array | null {
  const t = p.state.find((s) => s.name === name);
  return t ? (t.data as Float32Array | Int32Array) : null;
}

function lineNorms(g: number[], m: number, n: number, axis: 0 | 1): number[] {
  const lines = axis === 0 ? m : n;
  const out = new Array<number>(lines).fill(0);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[axis === 0 ? i : j] += g[i * n + j] ** 2;
  return out.map(Math.sqrt);
}

function checkIndices(where: string, idx: number[], range: number, count: number, distinct: boolean): void {
  if (idx.length !== count) fail(where, `${idx.length} indices, expected ${count}`);
  for (const i of idx) if (!Number.isInteger(i) || i < 0 || i >= range) fail(where, `index ${i} outside [0, ${range})`);
  if (distinct && new Set(idx).size !== idx.length) fail(where, `duplicate indices in ${idx.join(',')}`);
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.abs(b) + 1e-12;

/**
 * The choice in force after a refresh step, read from the package's state dict and checked
 * against the rules; g is the (clipped) gradient of that step, in float64.
 */
export function readChoice(where: string, p: ParamStateData, o: RefOptions, shape: number[], g: number[]): Choice {
  const [m, n] = shape;
  const sel = o.selection;
  if (sel === 'svd' || sel === 'random' || sel === 'randperm') {
    const left = denseLeft(o.side, m, n);
    const rank = denseRank(o, m, n);
    const side = left ? m : n;
    const basis = Array.from(stateOf(p, 'basis') ?? []);
    if (basis.length !== side * rank) {
      fail(where, `basis holds ${basis.length} values, expected ${side} x ${rank} (${left ? 'left' : 'right'} projection, rank ${rank})`);
    }
    const err = orthonormalityError(basis, side, rank);
    if (err > 1e-5) fail(where, `basis columns not orthonormal (max |B^T B - I| = ${err})`);
    if (sel === 'randperm') {
      for (let r = 0; r < rank; r++) {
        const ones = [...Array(side).keys()].filter((i) => basis[i * rank + r] === 1);
        const zeros = [...Array(side).keys()].filter((i) => basis[i * rank + r] === 0);
        if (ones.length !== 1 || zeros.length !== side - 1) fail(where, `randperm basis column ${r} is not a column of the identity`);
      }
    }
    if (sel === 'svd') {
      // The top-r singular subspace of this step's gradient, computed here: eigenvectors of G G^T
      // (left) or G^T G (right).
      const gram = left ? matmul(g, transpose(g, m, n), m, n, m) : matmul(transpose(g, m, n), g, n, m, n);
      const { values, vectors } = symmetricEigen(gram, side);
      const top = new Array<number>(side * rank);
      for (let i = 0; i < side; i++) for (let r = 0; r < rank; r++) top[i * rank + r] = vectors[i * side + r];
      if (rank < side && !(values[rank - 1] > values[rank] * (1 + 1e-3))) fail(where, 'test gradient has no singular gap at the rank');
      const d = subspaceDistance(basis, top, side, rank);
      if (d > 1e-4) fail(where, `svd basis is not the top-${rank} singular subspace (distance ${d})`);
    }
    return { kind: 'dense', left, rank, basis };
  }
  if (sel === 'coordinates') {
    const idx = Array.from(stateOf(p, 'indices') ?? []);
    checkIndices(where, idx, m * n, lineCount(m * n, o.density), true);
    return { kind: 'coordinates', indices: idx };
  }
  if (sel === 'columns' || sel === 'rows' || sel === 'grass') {
    const axis: 0 | 1 = sel === 'rows' ? 0 : sel === 'columns' ? 1 : grassAxis(o, m, n);
    if (p.counters.axis !== axis) fail(where, `axis ${p.counters.axis}, expected ${axis}`);
    const lines = axis === 0 ? m : n;
    const idx = Array.from(stateOf(p, 'indices') ?? []);
    const stored = stateOf(p, 'scales');
    const scales = stored ? Array.from(stored) : idx.map(() => 1);
    if (sel !== 'grass') {
      checkIndices(where, idx, lines, lineCount(lines, o.density), true);
      if (scales.some((s) => s !== 1)) fail(where, 'rows/columns selections carry no scales');
      return { kind: 'lines', axis, indices: idx, scales };
    }
    const r = o.rank > 0 ? (o.replacement ? o.rank : Math.min(o.rank, lines)) : lineCount(lines, o.density);
    checkIndices(where, idx, lines, r, !o.replacement);
    const norms = lineNorms(g, m, n, axis);
    const total = norms.reduce((a, b) => a + b, 0);
    let want: number[];
    if (o.sampling === 'top-r') {
      const top = [...Array(lines).keys()].sort((a, b) => norms[b] - norms[a]).slice(0, r).sort((a, b) => a - b);
      const got = idx.slice().sort((a, b) => a - b);
      if (top.join() !== got.join()) fail(where, `top-${r} lines are ${top.join(',')}, got ${got.join(',')}`);
      want = idx.map(() => 1);
    } else if (o.sampling === 'uniform') {
      // Grass: uniform sampling with replacement is unbiased with rho = sqrt(lines / r).
      want = idx.map(() => (o.replacement ? Math.sqrt(lines / r) : 1));
    } else {
      // Multinomial by line norm, q_i = ||g_i|| / sum_j ||g_j||: rho = 1 / sqrt(r q_i) with
      // replacement (unbiased: E[P P^T g] = g); without replacement rho = 1.
      for (const i of idx) if (!(norms[i] > 0)) fail(where, `line ${i} has zero norm but was sampled by norm`);
      want = idx.map((i) => (o.replacement ? 1 / Math.sqrt((r * norms[i]) / total) : 1));
    }
    want.forEach((w, j) => close(scales[j], w, 1e-5) || fail(where, `scale ${j} (line ${idx[j]}) is ${scales[j]}, expected ${w}`));
    return { kind: 'lines', axis, indices: idx, scales };
  }
  return fail(where, `no reader for selection ${sel}`);
}
