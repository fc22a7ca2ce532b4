// Builds the library optimizer a benchmark row times, with the param groups the planner
// assumes: projectable 2-D weights in the method's group, embeddings / norms / LM head in a
// regular (plain AdamW) group; BAdam's blocks are whole layers.
import { AdamW } from '../optim/adamw';
import { Frugal } from '../optim/frugal';
import { GaLore } from '../optim/galore';
import { Grass } from '../optim/grass';
import { Optimizer } from '../optim/optimizer';
import { SGD } from '../optim/sgd';
import { SignSGD } from '../optim/signsgd';
import { Tensor } from '../tensor';
import { BenchMethod } from './bench-methods';
import { BenchModel } from './bench-model';

type OptimizerClass = new (params: never, options?: never) => Optimizer;

function badamClass(): OptimizerClass {
  // BAdam arrives in lib/optim/badam.ts; loaded lazily so the bench builds without it.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require('../optim/badam') as { BAdam: OptimizerClass };
  return mod.BAdam;
}

function classOf(name: BenchMethod['className']): OptimizerClass {
  switch (name) {
    case 'AdamW': return AdamW as unknown as OptimizerClass;
    case 'SGD': return SGD as unknown as OptimizerClass;
    case 'SignSGD': return SignSGD as unknown as OptimizerClass;
    case 'Frugal': return Frugal as unknown as OptimizerClass;
    case 'GaLore': return GaLore as unknown as OptimizerClass;
    case 'Grass': return Grass as unknown as OptimizerClass;
    case 'BAdam': return badamClass();
    default: throw new Error(`unknown optimizer class '${String(name)}'`);
  }
}

/** Whether the class splits params into a projected and a regular group. */
function projects(m: BenchMethod): boolean {
  return m.className !== 'AdamW' && m.className !== 'SGD' && m.className !== 'SignSGD';
}

/**
 * An optimizer over the model. `updateGap` overrides the method's refresh interval: huge to time
 * ordinary steps, 1 to make every step a refresh.
 */
export function createOptimizer(m: BenchMethod, model: BenchModel, updateGap: number | null): Optimizer {
  const Cls = classOf(m.className);
  const options: Record<string, unknown> = { lr: 1e-4, weightDecay: 0, ...m.options };
  if (updateGap !== null && m.updateGap !== null) {
    options[m.className === 'BAdam' ? 'switchEvery' : 'updateGap'] = updateGap;
  }
  if (!projects(m)) return new Cls(model.tensors as never, options as never);
  const groups: { params: Tensor[]; projectable?: boolean; blocks?: Tensor[][] }[] = [];
  let regular = model.regular;
  if (m.className === 'BAdam') {
    // One block per transformer layer (its matrices and norms), in model order.
    const units = new Set(model.specs.filter((s) => s.projectable).map((s) => s.unit));
    const layers = new Map<string, Tensor[]>();
    model.specs.forEach((s, i) => {
      if (!units.has(s.unit)) return;
      if (!layers.has(s.unit)) layers.set(s.unit, []);
      layers.get(s.unit)!.push(model.tensors[i]);
    });
    for (const params of layers.values()) groups.push({ params });
    regular = model.tensors.filter((_t, i) => !units.has(model.specs[i].unit));
  } else {
    groups.push({ params: model.projectable });
  }
  if (regular.length > 0) groups.push({ params: regular, projectable: false });
  return new Cls(groups as never, options as never);
}
