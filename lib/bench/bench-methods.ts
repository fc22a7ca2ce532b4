// The optimizer configurations the step benchmark times: the named configurations of
// lib/methods, keyed the same way in our JSON and in bench/torch's, so compare.ts can pair them.
// Each names a planner configuration (for byte counts) and the library method with its options
// (for timing).
import { CONFIGURATIONS, ConfigurationName } from '../methods/configurations';
import { MethodName, METHODS } from '../methods/registry';
import { GroupPlanOptions } from '../plan/group-options';

export interface BenchMethod {
  /** Key shared with bench/torch/*.py. */
  key: string;
  /** The planner's configuration, for state and byte arithmetic. */
  plan: ConfigurationName;
  /** Overrides of the planner configuration's settings. */
  planSettings: Partial<GroupPlanOptions>;
  /** The library method to construct (lib/methods/registry.ts). */
  method: MethodName;
  /** Options for its class (beyond lr and weight decay, which the bench sets). */
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

export const BENCH_METHODS: readonly BenchMethod[] = CONFIGURATIONS.map((c): BenchMethod => {
  const method = METHODS[c.method];
  const gap = method.refreshOption === null ? null : method.recipe.options[method.refreshOption];
  return {
    key: c.benchKey,
    plan: c.name,
    planSettings: {},
    method: c.method,
    options: c.options,
    updateGap: typeof gap === 'number' ? gap : null,
    ...('dense' in c ? { dense: c.dense } : {}),
  };
});

export function benchMethod(key: string): BenchMethod {
  const m = BENCH_METHODS.find((x) => x.key === key);
  if (!m) throw new Error(`method: expected one of ${BENCH_METHODS.map((x) => x.key).join(', ')}, got '${key}'`);
  return m;
}
