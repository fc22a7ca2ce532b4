// The optimizer configurations the step benchmark times, named the same way in our JSON and in
// bench/torch's, so compare.ts can pair them. Each maps to a planner method (for byte counts)
// and to the library's optimizer class and options (for timing).
import { MethodName } from '../plan/methods';
import { GroupPlanOptions } from '../plan/group-options';

export interface BenchMethod {
  /** Key shared with bench/torch/*.py. */
  key: string;
  /** The planner's method, for state and byte arithmetic. */
  plan: MethodName;
  /** Overrides of the planner method's defaults. */
  planSettings: Partial<GroupPlanOptions>;
  /** The library class to construct (lib/optim). */
  className: 'AdamW' | 'SGD' | 'SignSGD' | 'Frugal' | 'GaLore' | 'BAdam' | 'Grass';
  /** Options for that class (beyond lr and weight decay, which the bench sets). */
  options: Record<string, unknown>;
  /** Steps between refreshes in the method's recipe, for amortizing refresh cost. */
  updateGap: number | null;
  /** Dense (SVD) selection: timed as dense-refresh.ts explains. */
  dense?: boolean;
}

/** How dense rows are timed (dense-refresh.ts), for the row's note. */
export const DENSE_NOTES = {
  timed: 'ordinary steps with a random orthonormal basis of the same rank (the same step arithmetic); SVD refresh timed once per matrix shape and summed over the matrices',
  untimed: 'ordinary steps with a random orthonormal basis of the same rank; SVD refresh not timed (--no-svd-refresh)',
} as const;

export const BENCH_METHODS: readonly BenchMethod[] = [
  { key: 'adamw', plan: 'adamw', planSettings: {}, className: 'AdamW', options: {}, updateGap: null },
  { key: 'sgdm', plan: 'sgdm', planSettings: {}, className: 'SGD', options: { momentum: 0.9 }, updateGap: null },
  { key: 'signsgd', plan: 'signsgd', planSettings: {}, className: 'SignSGD', options: {}, updateGap: null },
  { key: 'frugal-blocks', plan: 'frugal', planSettings: {}, className: 'Frugal', options: {}, updateGap: 200 },
  {
    key: 'frugal-columns', plan: 'frugal-columns', planSettings: {}, className: 'Frugal',
    options: { selection: 'columns' }, updateGap: 200,
  },
  {
    key: 'frugal-svd', plan: 'frugal-svd', planSettings: {}, className: 'Frugal',
    options: { selection: 'svd' }, updateGap: 200, dense: true,
  },
  { key: 'galore', plan: 'galore', planSettings: {}, className: 'GaLore', options: {}, updateGap: 200, dense: true },
  { key: 'badam', plan: 'badam', planSettings: {}, className: 'BAdam', options: {}, updateGap: 100 },
  { key: 'grass-top-r', plan: 'grass', planSettings: {}, className: 'Grass', options: {}, updateGap: 200 },
  {
    key: 'grass-norm', plan: 'grass-norm', planSettings: {}, className: 'Grass',
    options: { sampling: 'norm', replacement: true }, updateGap: 200,
  },
];

export function benchMethod(key: string): BenchMethod {
  const m = BENCH_METHODS.find((x) => x.key === key);
  if (!m) throw new Error(`method: expected one of ${BENCH_METHODS.map((x) => x.key).join(', ')}, got '${key}'`);
  return m;
}
