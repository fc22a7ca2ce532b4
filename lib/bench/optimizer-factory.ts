// Builds the library optimizer a benchmark row times, with the param groups the planner assumes
// (lib/methods/param-groups.ts): projectable 2-D weights in the method's group, embeddings /
// norms / LM head in a regular (plain AdamW) group; BAdam's blocks are whole layers.
import { optimizerGroups } from '../methods/param-groups';
import { METHODS } from '../methods/registry';
import { Optimizer } from '../optim/optimizer';
import { BenchMethod } from './bench-methods';
import { BenchModel } from './bench-model';

/**
 * An optimizer over the model. `updateGap` overrides the method's refresh interval: huge to time
 * ordinary steps, 1 to make every step a refresh.
 */
export function createOptimizer(m: BenchMethod, model: BenchModel, updateGap: number | null): Optimizer {
  const method = METHODS[m.method];
  const options: Record<string, unknown> = { lr: 1e-4, weightDecay: 0, ...m.options };
  if (updateGap !== null && method.refreshOption !== null) options[method.refreshOption] = updateGap;
  const params = model.specs.map((s, i) => ({ unit: s.unit, projectable: s.projectable, tensor: model.tensors[i] }));
  return method.create(optimizerGroups(method.grouping, params), options);
}
