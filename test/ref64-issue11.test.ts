// The reference cases that need issue 11's fixes (each case names its item): rank from the
// projected side, density 0, one bf16 rounding in Grass, a step counter per state slot, BAdam's
// permutation per cycle. They fail until that work is merged, and must pass after.
import { CASES } from './helpers/ref64/cases';
import { runCase } from './helpers/ref64/run-case';

describe('float64 reference: issue 11 semantics', () => {
  it.each(CASES.filter((c) => c.issue11).map((c) => [`${c.name} (${c.issue11})`, c] as const))('%s', (_name, c) => {
    runCase(c);
  });
});
