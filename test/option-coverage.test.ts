// Every option of the package is exercised against the float64 reference: each key of
// OPTION_CHECKS must be given a non-default value by some case of test/helpers/ref64/cases.ts, and
// every value of every enum-like option (one-of lists, selections, booleans) must be run by some
// case. A new option, or a new value of one, fails here until a reference case uses it.
import { FRAMEWORK_DEFAULTS, OPTION_CHECKS, SELECTION_NAMES } from '../lib/optim/options';
import { CASES } from './helpers/ref64/cases';
import { resolve } from './helpers/ref64/options';

// What each case group passes explicitly (optimizer-wide options first, the group's over them).
const given = CASES.flatMap((c) => c.groups.map((g) => ({ c, options: { ...(c.options ?? {}), ...(g.options ?? {}) } })));

// Optimizer-wide options are not in FRAMEWORK_DEFAULTS: their defaults are stated here.
const DEFAULTS: Record<string, unknown> = { ...FRAMEWORK_DEFAULTS, maxGradNorm: 0, nonFinite: 'propagate' };
const same = (a: unknown, b: unknown) =>
  JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** The values an enum-like option can take, from its check (null: not enum-like). */
function enumValues(name: string): unknown[] | null {
  const check = (OPTION_CHECKS as Record<string, { expected: string; ok(v: unknown): boolean }>)[name];
  if (name === 'selection') return [...SELECTION_NAMES, 'a function'];
  if (check.expected === 'a boolean') return [true, false];
  const m = /^one of (.*)$/.exec(check.expected);
  if (!m) return null;
  return m[1].split(', ').map((s) => s.replace(/^'|'$/g, ''));
}

// The value a case group runs with: explicit, or the method's default as the reference resolves it.
function effective(name: string, g: (typeof given)[number]): unknown {
  if (name === 'selection' && typeof g.options.selection === 'function') return 'a function';
  if (name in g.options) return g.options[name];
  const o = resolve(g.c.method, g.options) as unknown as Record<string, unknown>;
  if (name === 'selectionKind') return typeof g.options.selection === 'function' ? o.selection : undefined;
  // Options the reference has no field for (randomizedSvd, seed) run with the framework's default.
  return name in o ? o[name] : DEFAULTS[name];
}

describe('option coverage of the reference cases', () => {
  const names = Object.keys(OPTION_CHECKS);

  it('lists the options it checks', () => {
    // The set of options this file knows of is the one OPTION_CHECKS defines; it changes with it.
    expect(names.length).toBeGreaterThan(0);
    expect(names).toEqual(expect.arrayContaining(Object.keys(FRAMEWORK_DEFAULTS)));
  });

  it.each(names)('%s: some case runs a non-default value against the reference', (name) => {
    const users = given.filter((g) => name in g.options && !same(g.options[name], DEFAULTS[name]));
    if (users.length === 0) throw new Error(`option '${name}': no case in test/helpers/ref64/cases.ts gives it a non-default value`);
  });

  it.each(names.filter((n) => enumValues(n) !== null))('%s: every value is run by some case', (name) => {
    const missing = (enumValues(name) as unknown[]).filter((v) => !given.some((g) => same(effective(name, g), v)));
    if (missing.length) throw new Error(`option '${name}': no case runs ${missing.map((v) => JSON.stringify(v)).join(', ')}`);
  });

  it('every option a case gives is a real option (no typo goes unchecked)', () => {
    const unknown = given.flatMap((g) => Object.keys(g.options).filter((k) => !(k in OPTION_CHECKS)).map((k) => `${g.c.name}: ${k}`));
    expect(unknown).toEqual([]);
  });
});
