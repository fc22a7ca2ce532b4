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
  for (let i = 0; i < count; i++) {
    const t = refresh * count + i;
    if (order === 'ascending') out.add(t % n);
    else if (order === 'mirror') {
      const u = t % (2 * n);
      out.add(u < n ? n - 1 - u : u - n);
    } else out.add(n - 1 - (t % n));
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
 * state-full. With resetStatistics, blocks that leave the set free their moments; without it a
 * block keeps them once it has been state-full, so state grows towards the union of all sets.
 */
export function blockStateTimeline(sizes: readonly number[], density: number, order: BlockOrder,
  resetStatistics: boolean): BlockStateTimeline {
  const n = sizes.length;
  if (n === 0) return { first: 0, peak: 0, steadyMax: 0, firstActive: new Set(), exact: true };
  const count = activeBlockCount(n, density);
  // density 0: no block is ever state-full.
  if (count === 0) return { first: 0, peak: 0, steadyMax: 0, firstActive: new Set(), exact: true };
  if (order === 'random') {
    // Bound by the largest tensors; without resets every tensor eventually holds state.
    const byBytes = sizes.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const top = byBytes.slice(0, count);
    const first = top.reduce((a, [s]) => a + s, 0);
    const steadyMax = resetStatistics ? first : sizes.reduce((a, b) => a + b, 0);
    // Leaving blocks are freed before entering ones allocate: the peak is the steady bound.
    const peak = steadyMax;
    return { first, peak, steadyMax, firstActive: new Set(top.map(([, i]) => i)), exact: false };
  }
  const held = new Array<number>(n).fill(0);
  let current = 0;
  let peak = 0;
  let steadyMax = 0;
  let first = 0;
  let firstActive = new Set<number>();
  // Deterministic orders repeat with a period of at most 2n refreshes (mirror).
  for (let r = 0; r <= 2 * n; r++) {
    const active = activeBlocks(order, n, count, r);
    // refresh_blocks frees the blocks that leave before it allocates the ones that enter.
    if (resetStatistics) {
      for (let i = 0; i < n; i++) {
        if (!active.has(i)) {
          current -= held[i];
          held[i] = 0;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if (active.has(i) && (held[i] === 0 || resetStatistics)) {
        current += sizes[i] - held[i];
        held[i] = sizes[i];
      }
      peak = Math.max(peak, current);
    }
    steadyMax = Math.max(steadyMax, current);
    if (r === 0) {
      first = current;
      firstActive = active;
    }
  }
  return { first, peak, steadyMax, firstActive, exact: true };
}
