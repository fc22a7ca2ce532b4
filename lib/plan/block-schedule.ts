// Which whole tensors a blocks selection makes state-full at each refresh (choose_blocks and
// refresh_blocks in native/core), and the optimizer-state bytes that follow over a whole cycle.
import { BlockOrder } from './group-options';
import { roundHalfEven } from './core-allocation';

/** block_count (selection.cpp): max(1, min(n, round_half_even(n * density))) tensors at a time; 0 at density 0. */
export function activeBlockCount(n: number, density: number): number {
  if (density <= 0 || n === 0) return 0;
  return Math.max(1, Math.min(n, roundHalfEven(n * density)));
}

/**
 * Positions made state-full at refresh number `refresh` (0 at step 0, 1 at step T, ...), for the
 * deterministic orders. Random order has no fixed answer: callers bound it instead.
 */
export function activeBlocks(order: Exclude<BlockOrder, 'random'>, n: number, count: number, refresh: number): Set<number> {
  const out = new Set<number>();
  if (order === 'mirror') {
    // FRUGAL's mirror: count/2 pairs (i, n-1-i), i walking 0 .. floor(n/2)-1 and wrapping.
    const half = Math.floor(n / 2);
    const pairs = Math.floor(count / 2);
    for (let j = 0; j < pairs && half > 0; j++) {
      const i = (refresh * pairs + j) % half;
      out.add(i).add(n - 1 - i);
    }
    return out;
  }
  for (let i = 0; i < count; i++) {
    const t = refresh * count + i;
    out.add(order === 'ascending' ? t % n : n - 1 - (t % n));
  }
  return out;
}

export interface BlockStateTimeline {
  /** State bytes after the first step (refresh 0), exact for deterministic orders. */
  first: number;
  /** The most state bytes held at any moment over a whole cycle of refreshes. */
  peak: number;
  /** The most state bytes held between refreshes (after one completes). */
  steadyMax: number;
  /** Which positions hold state after the first step. */
  firstActive: Set<number>;
  /** False for random order: `first` and `peak` are then upper bounds. */
  exact: boolean;
}

/**
 * Simulate refresh_blocks over a full cycle. `sizes[i]` is the moment bytes of block i when
 * state-full. Blocks that leave the set free their moments whatever resetStatistics says (the
 * authors' BlockOptimizer clears every block's state at a refresh), so only the active set holds state.
 */
export function blockStateTimeline(sizes: readonly number[], density: number, order: BlockOrder): BlockStateTimeline {
  const n = sizes.length;
  if (n === 0) return { first: 0, peak: 0, steadyMax: 0, firstActive: new Set(), exact: true };
  const count = activeBlockCount(n, density);
  // density 0: no block is ever state-full.
  if (count === 0) return { first: 0, peak: 0, steadyMax: 0, firstActive: new Set(), exact: true };
  if (order === 'random') {
    // Bound by the largest tensors. Leaving blocks are freed before entering ones allocate: the
    // peak is the steady bound.
    const byBytes = sizes.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const top = byBytes.slice(0, count);
    const first = top.reduce((a, [s]) => a + s, 0);
    return { first, peak: first, steadyMax: first, firstActive: new Set(top.map(([, i]) => i)), exact: false };
  }
  let peak = 0;
  let first = 0;
  let firstActive = new Set<number>();
  // Deterministic orders repeat within n refreshes.
  for (let r = 0; r <= n; r++) {
    const active = activeBlocks(order, n, count, r);
    const current = [...active].reduce((a, i) => a + sizes[i], 0);
    peak = Math.max(peak, current);
    if (r === 0) {
      first = current;
      firstActive = active;
    }
  }
  return { first, peak, steadyMax: peak, firstActive, exact: true };
}
