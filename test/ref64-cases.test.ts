// Every update path against the independent float64 reference (test/helpers/ref64): each case of
// the table runs on the package and on the reference, compared after every step. Cases named
// 'issue 11 item N' guard that fixes (see cases.ts).
import { CASES } from './helpers/ref64/cases';
import { runCase } from './helpers/ref64/run-case';

describe('float64 reference: every update path', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    runCase(c);
  });
});
