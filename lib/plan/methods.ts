// The named configurations (lib/methods/configurations.ts) as param groups the planner can cost:
// the method's grouping (lib/methods/param-groups.ts) decides which tensors are regular (plain
// AdamW) and which get the configuration's selection and rules.
import { didYouMean } from '../arg-checks';
import { CONFIGURATION_NAMES, ConfigurationName, configuration } from '../methods/configurations';
import { placeParams } from '../methods/param-groups';
import { METHODS } from '../methods/registry';
import { groupOptions, GroupPlanOptions } from './group-options';
import { ParamSpec } from './llama-presets';
import { PlannedGroup } from './optimizer-state';

/** The names `plan --optimizer` takes, in the order its usage lists them. */
export const METHOD_NAMES = CONFIGURATION_NAMES;

export function checkMethod(name: string): ConfigurationName {
  const m = CONFIGURATION_NAMES.find((c) => c === name.toLowerCase());
  if (!m) throw new Error(`optimizer: expected one of ${CONFIGURATION_NAMES.join(', ')}, got '${name}'${didYouMean(name, CONFIGURATION_NAMES)}`);
  return m;
}

/**
 * The param groups a configuration builds over a model: one group when its method steps every
 * tensor; otherwise the regular group, then the method's, whose params carry their layer block's
 * id for BAdam (tensors of one unit share a block).
 */
export function methodGroups(name: ConfigurationName, params: readonly ParamSpec[],
  settings: Partial<GroupPlanOptions> = {}): PlannedGroup[] {
  const config = configuration(name);
  const { grouping } = METHODS[config.method];
  const placed = placeParams(grouping, params);
  const layerBlocks = new Set(params.filter((p) => p.projectable).map((p) => p.unit)).size;
  const merged = { ...config.plan(layerBlocks), ...settings };
  // FRUGAL at density 0 (the paper's rho = 0): no projectable tensor is state-full, which the core
  // expresses as selection 'none' (it refuses density 0).
  if (merged.density === 0 && config.method === 'frugal') Object.assign(merged, { selection: 'none', density: 1 });
  const options = groupOptions(merged);
  const shape = (p: ParamSpec) => ({ name: p.name, shape: p.shape });
  if (grouping === 'whole') return [{ label: name, options, params: params.map(shape) }];
  const regular = groupOptions({ selection: 'all', stateFull: 'adamw', stateDtype: options.stateDtype });
  return [
    { label: 'regular', options: regular, params: placed.regular.map(shape) },
    { label: name, options, params: placed.method.map(({ param, block }) => ({ ...shape(param), blockId: block })) },
  ].filter((g) => g.params.length > 0);
}
