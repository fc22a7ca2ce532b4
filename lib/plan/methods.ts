// The named optimizer configurations (issue 3's recipes) as param groups the planner can cost:
// regular tensors (embeddings, norms, LM head) always get plain AdamW; projectable tensors (the
// blocks' 2-D weights) get the method's selection and rules.
import { groupOptions, GroupPlanOptions } from './group-options';
import { ParamSpec } from './llama-presets';
import { PlannedGroup } from './optimizer-state';

export const METHOD_NAMES = [
  'adamw', 'sgdm', 'signsgd', 'frugal', 'frugal-columns', 'frugal-svd', 'galore', 'badam', 'grass', 'grass-norm',
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** Projectable-group options of each method before the caller's settings are applied. */
function methodDefaults(method: MethodName, blocksPerModel: number): Partial<GroupPlanOptions> {
  switch (method) {
    case 'adamw': return { selection: 'all', stateFull: 'adamw' };
    case 'sgdm': return { selection: 'all', stateFull: 'sgdm' };
    case 'signsgd': return { selection: 'none', stateFull: 'none', stateFree: 'signsgd' };
    case 'frugal': return { selection: 'blocks', blockOrder: 'descending', density: 0.25, stateFree: 'signsgd' };
    case 'frugal-columns': return { selection: 'columns', density: 0.25, stateFree: 'signsgd' };
    case 'frugal-svd': return { selection: 'svd', side: 'std', density: 0.25, stateFree: 'signsgd' };
    case 'galore': return { selection: 'svd', side: 'std', density: 0.25, resetStatistics: false, stateFree: 'none' };
    // One layer of the model state-full at a time.
    case 'badam': return { selection: 'blocks', blockOrder: 'descending', density: 1 / Math.max(1, blocksPerModel), stateFree: 'none' };
    case 'grass': return { selection: 'grass', sampling: 'top-r', side: 'std', density: 0.25, stateFree: 'none' };
    case 'grass-norm': return { selection: 'grass', sampling: 'norm', replacement: true, side: 'std', density: 0.25, stateFree: 'none' };
    default: {
      const never: never = method;
      throw new Error(`optimizer: unknown method '${String(never)}'`);
    }
  }
}

export function checkMethod(name: string): MethodName {
  const m = name.toLowerCase() as MethodName;
  if (!METHOD_NAMES.includes(m)) throw new Error(`optimizer: expected one of ${METHOD_NAMES.join(', ')}, got '${name}'`);
  return m;
}

/** Whether the method projects the 2-D weights (and so has a projectable group at all). */
export function isProjectingMethod(method: MethodName): boolean {
  return method !== 'adamw' && method !== 'sgdm' && method !== 'signsgd';
}

/**
 * The param groups a method builds over a model. Plain methods put every tensor in one group;
 * the others split regular tensors (AdamW) from projectable ones (the method). BAdam's blocks are
 * whole layers: the tensors of one unit share a block id.
 */
export function methodGroups(method: MethodName, params: readonly ParamSpec[],
  settings: Partial<GroupPlanOptions> = {}): PlannedGroup[] {
  const units = [...new Set(params.filter((p) => p.projectable).map((p) => p.unit))];
  const merged = { ...methodDefaults(method, units.length), ...settings };
  // FRUGAL at density 0 (the paper's rho = 0): no projectable tensor is state-full, which the core
  // expresses as selection 'none' (it refuses density 0).
  if (merged.density === 0 && method.startsWith('frugal')) Object.assign(merged, { selection: 'none', density: 1 });
  const options = groupOptions(merged);
  if (!isProjectingMethod(method)) {
    return [{ label: method, options, params: params.map((p) => ({ name: p.name, shape: p.shape })) }];
  }
  const regular = groupOptions({ selection: 'all', stateFull: 'adamw', stateDtype: options.stateDtype });
  const blockId = (p: ParamSpec) => (method === 'badam' ? units.indexOf(p.unit) + 1 : 0);
  // BAdam's blocks are whole layers, their norms included; the other methods project matrices only.
  const selected = (p: ParamSpec) => p.projectable || (method === 'badam' && units.includes(p.unit));
  return [
    { label: 'regular', options: regular, params: params.filter((p) => !selected(p)).map((p) => ({ name: p.name, shape: p.shape })) },
    {
      label: method,
      options,
      params: params.filter(selected).map((p) => ({ name: p.name, shape: p.shape, blockId: blockId(p) })),
    },
  ].filter((g) => g.params.length > 0);
}
