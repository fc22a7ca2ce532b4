// The CPU backend steps a tensor through a typed, vectorized loop when its param and gradient
// share a dtype and its state is fp32 (native/cpu/elementwise_cpu.h, indexed_cpu.h), and through
// the generic per-element loop otherwise, or everywhere under FRUGAL_CPU_GENERIC_LOOPS=1. Both
// must give the same bits. The addon reads the switch with getenv, so each side runs in a child
// process with a real environment (test/helpers/cpu-loops-child.ts): every case is run once with
// the switch and once without, and the digests of the final params and moments are compared.
// The children also report which loops ran (_debugPaths), which proves the switch took effect:
// without that, a switch the addon never saw would compare the typed loop with itself and pass.
import * as path from 'path';
import { childJson, runTsChild } from './helpers/env-child';
import { CASES, CaseResult, DTYPES } from './helpers/cpu-loop-cases';

const CHILD = path.join(__dirname, 'helpers', 'cpu-loops-child.ts');
type Results = Record<string, CaseResult>;

let typed: Results;
let generic: Results;

beforeAll(async () => {
  const [t, g] = await Promise.all([runTsChild(CHILD, {}), runTsChild(CHILD, { FRUGAL_CPU_GENERIC_LOOPS: '1' })]);
  typed = childJson<Results>(t);
  generic = childJson<Results>(g);
}, 300_000);

const PAIRS = CASES.filter((c) => !c.genericOnly);

describe.each(PAIRS)('CPU typed loop equals the generic loop: $name', (c) => {
  it.each(DTYPES)('param %s', (dtype) => {
    const key = `${c.name} / ${dtype}`;
    const t = typed[key];
    const g = generic[key];
    if (c.stateCount >= 0) expect(t.stateCount).toBe(c.stateCount); // the moments are compared too
    if (c.indexed) expect(t.stateCount).toBeGreaterThan(0);
    // The generic child took no typed loop at all, and ran generic loops for this case.
    const gc = g.counts;
    expect(gc.elementwiseTyped + gc.indexedPass1Typed + gc.indexedPass2Typed).toBe(0);
    // Repeated lines take the sorted-run loop in both children (it has one form); the
    // comparison there is of the passes around it.
    const genericRuns = c.indexed ? gc.indexedPass2Generic + gc.indexedDuplicates : gc.elementwiseGeneric;
    expect(genericRuns).toBeGreaterThan(0);
    expect(g.digest).toBe(t.digest);
  });
});

describe('controls', () => {
  it('without the switch, the typed loops run where they apply (so the comparison is typed vs generic)', () => {
    // fp32 params with fp32 state: every elementwise case and both indexed passes are typed.
    for (const c of PAIRS) {
      const t = typed[`${c.name} / float32`].counts;
      if (c.indexed && t.indexedDuplicates > 0) {
        expect(t.indexedPass2Generic).toBe(0);  // repeated lines: the sorted-run loop only
      } else if (c.indexed) {
        expect(t.indexedPass2Typed).toBeGreaterThan(0);
        expect(t.indexedPass2Generic).toBe(0);
        expect(t.indexedPass1Generic).toBe(0);
      } else {
        expect(t.elementwiseTyped).toBeGreaterThan(0);
      }
    }
    // The indexed first pass (decay, state-free rule) ran typed in the FRUGAL cases.
    expect(typed['FRUGAL columns + signSGD / bfloat16'].counts.indexedPass1Typed).toBeGreaterThan(0);
    // bf16 state has no typed loop: the generic loop runs even without the switch.
    const bf16State = typed['AdamW, bf16 state / float32'].counts;
    expect(bf16State.elementwiseGeneric).toBeGreaterThan(0);
    expect(bf16State.elementwiseTyped).toBe(0);
  });

  it('different gradients give a different digest, so the comparison can fail', async () => {
    const other = childJson<Results>(await runTsChild(CHILD, { FRUGAL_CPU_GENERIC_LOOPS: '1' }, ['--first', '--seed', '200']));
    const key = `${CASES[0].name} / ${DTYPES[0]}`;
    expect(other[key].digest).not.toBe(typed[key].digest);
  }, 120_000);
});
