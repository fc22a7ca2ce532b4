// Named configurations of the methods (issue 3's recipes): a method with settings of its own,
// e.g. frugal-columns is FRUGAL selecting columns. The planner costs them by `name` (frugal-optim
// plan --optimizer) and the step bench times them by `benchKey` (shared with bench/torch/*.py).
// `plan` restates the configuration in the planner's vocabulary, the projectable group's options
// before a caller's settings; plan-exact.test.ts checks it against the optimizer the bench builds.
import type { GroupPlanOptions } from '../plan/group-options';
import { MethodName } from './registry';

export interface MethodConfiguration {
  name: string;
  benchKey: string;
  method: MethodName;
  /** Class options beyond the class's defaults. */
  options: Record<string, unknown>;
  /** `layerBlocks`: how many layer blocks the model has (BAdam keeps one of them state-full). */
  plan(layerBlocks: number): Partial<GroupPlanOptions>;
  /** SVD selection: the bench times its refresh apart from its ordinary steps (dense-refresh.ts). */
  dense?: boolean;
}

const P = 0.25; // the recipes' state-full fraction

/** In the order the planner and the bench list them. */
export const CONFIGURATIONS = [
  { name: 'adamw', benchKey: 'adamw', method: 'adamw', options: {}, plan: () => ({ selection: 'all', stateFull: 'adamw' }) },
  { name: 'sgdm', benchKey: 'sgdm', method: 'sgd', options: { momentum: 0.9 }, plan: () => ({ selection: 'all', stateFull: 'sgdm' }) },
  {
    name: 'signsgd', benchKey: 'signsgd', method: 'signsgd', options: {},
    plan: () => ({ selection: 'none', stateFull: 'none', stateFree: 'signsgd' }),
  },
  {
    name: 'frugal', benchKey: 'frugal-blocks', method: 'frugal', options: {},
    plan: () => ({ selection: 'blocks', blockOrder: 'descending', density: P, stateFree: 'signsgd' }),
  },
  {
    name: 'frugal-columns', benchKey: 'frugal-columns', method: 'frugal', options: { selection: 'columns' },
    plan: () => ({ selection: 'columns', density: P, stateFree: 'signsgd' }),
  },
  {
    name: 'frugal-svd', benchKey: 'frugal-svd', method: 'frugal', options: { selection: 'svd' }, dense: true,
    plan: () => ({ selection: 'svd', side: 'std', density: P, stateFree: 'signsgd' }),
  },
  {
    name: 'galore', benchKey: 'galore', method: 'galore', options: {}, dense: true,
    plan: () => ({ selection: 'svd', side: 'std', density: P, resetStatistics: false, stateFree: 'none' }),
  },
  {
    name: 'badam', benchKey: 'badam', method: 'badam', options: {},
    // One layer of the model state-full at a time.
    plan: (layerBlocks) => ({ selection: 'blocks', blockOrder: 'descending', density: 1 / Math.max(1, layerBlocks), stateFree: 'none' }),
  },
  {
    name: 'grass', benchKey: 'grass-top-r', method: 'grass', options: {},
    plan: () => ({ selection: 'grass', sampling: 'top-r', side: 'std', density: P, stateFree: 'none' }),
  },
  {
    name: 'grass-norm', benchKey: 'grass-norm', method: 'grass', options: { sampling: 'norm', replacement: true },
    plan: () => ({ selection: 'grass', sampling: 'norm', replacement: true, side: 'std', density: P, stateFree: 'none' }),
  },
  { name: 'lion', benchKey: 'lion', method: 'lion', options: {}, plan: () => ({ selection: 'all', stateFull: 'lion' }) },
  {
    name: 'frugal-lion', benchKey: 'frugal-lion', method: 'frugal', options: { stateFull: 'lion' },
    plan: () => ({ selection: 'blocks', blockOrder: 'descending', density: P, stateFull: 'lion', stateFree: 'signsgd' }),
  },
] as const satisfies readonly MethodConfiguration[];

export type ConfigurationName = (typeof CONFIGURATIONS)[number]['name'];
export const CONFIGURATION_NAMES: readonly ConfigurationName[] = CONFIGURATIONS.map((c) => c.name);

/** The configuration of a method's own recipe (the trainer's runs, as the planner costs them). */
export const RECIPE_CONFIGURATION: Readonly<Record<MethodName, ConfigurationName>> = {
  adamw: 'adamw', frugal: 'frugal', galore: 'galore', badam: 'badam', grass: 'grass', sgd: 'sgdm', signsgd: 'signsgd', lion: 'lion',
};

export function configuration(name: ConfigurationName): MethodConfiguration {
  return CONFIGURATIONS.find((c) => c.name === name)!;
}
