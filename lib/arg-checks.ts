// Argument checks shared by the API and the command lines, so each refusal reads the same way.
import { describeValue } from './dtype';

/**
 * An options argument: undefined (no options) or an object with known keys only. A string
 * ('cuda:0' for {device}), null or a misspelled key ({dtpye}) is refused by name instead of being
 * ignored or failing inside destructuring.
 */
export function checkOptionsObject<T extends object>(options: unknown, keys: readonly string[], what: string): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: options must be an object {${keys.join(', ')}} or omitted, got ${describeValue(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!keys.includes(k)) throw new TypeError(`${what}: unknown option '${k}' (expected ${keys.join(', ')})`);
  }
  return options as T;
}

/** A number in decimal notation: Number() alone would also take '0x10', '0b11', ' 7 ' or '' (as 0). */
export const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Edit distance (optimal string alignment): the fewest single-character insertions, deletions,
 * substitutions and swaps of neighbours from a to b. Swaps count once because they are the
 * commonest typo ('stpes').
 */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a's first i characters and b's first j.
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * What a mistyped name most likely meant, or undefined when nothing is close. A candidate is
 * close when it is a few edits away (at most a third of the longer name, at least 1: 'stpes' is
 * 'steps', while 'xy' is not 'lr'), or when one name is the other plus whole dash-separated words
 * ('lr-rate' and 'lr', 'checkpoint' and 'checkpoint-dir'), which no distance threshold catches
 * without also matching unrelated short names. Case is ignored ('LR' is 'lr'). Among close
 * candidates the fewest edits win; ties go to the earlier candidate.
 */
export function nearMiss(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const d = editDistance(w, c);
    const close = d <= Math.max(1, Math.floor(Math.max(w.length, c.length) / 3)) || w.startsWith(`${c}-`) || c.startsWith(`${w}-`);
    if (close && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** "; did you mean 'x'?" for a near miss (see nearMiss), else '': the tail of a refusal's message. */
export function didYouMean(word: string, candidates: readonly string[], quote = (s: string) => `'${s}'`): string {
  const meant = nearMiss(word, candidates);
  return meant === undefined ? '' : `; did you mean ${quote(meant)}?`;
}
