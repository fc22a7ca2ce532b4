// The optimizers a training run steps: one over the whole model, or (per-layer updates) one per
// unit (embedding, each layer, head) so a layer can be stepped as soon as its gradients exist.
// Param groups follow the papers: the attention and MLP matrices are the projectable group, the
// embedding, norms and LM head a regular group (plain AdamW). BAdam's blocks are the layers.
import { AdamW } from '../optim/adamw';
import { BAdam } from '../optim/badam';
import { Frugal } from '../optim/frugal';
import { GaLore } from '../optim/galore';
import { Grass } from '../optim/grass';
import { Optimizer } from '../optim/optimizer';
import { MethodSpec, ParamGroupInput } from '../optim/options';
import { SGD } from '../optim/sgd';
import { SignSGD } from '../optim/signsgd';
import { LlamaModel } from '../model/llama';
import { NamedParam } from '../model/params';
import { METHOD_RECIPES, MethodName, TrainOptions } from './options';

type OptimizerClass = { spec: MethodSpec; new (params: never, options: never): Optimizer };

const CLASSES: Record<MethodName, OptimizerClass> = {
  adamw: AdamW as unknown as OptimizerClass,
  frugal: Frugal as unknown as OptimizerClass,
  galore: GaLore as unknown as OptimizerClass,
  grass: Grass as unknown as OptimizerClass,
  badam: BAdam as unknown as OptimizerClass,
  sgd: SGD as unknown as OptimizerClass,
  signsgd: SignSGD as unknown as OptimizerClass,
};

const PROJECTING: readonly MethodName[] = ['frugal', 'galore', 'grass'];

/** The method's options: its recipe, then the command line's settings, then --opt entries. */
export function methodOptions(method: MethodName, o: TrainOptions): Record<string, unknown> {
  const recipe = METHOD_RECIPES[method];
  const accepts = CLASSES[method].spec.accepts as readonly string[];
  const out: Record<string, unknown> = { ...recipe.options, lr: o.lr ?? recipe.lr };
  const flags: [string, string, unknown][] = [
    ['weightDecay', 'weight-decay', o.weightDecay],
    ['density', 'density', o.density],
    ['updateGap', 'update-gap', o.updateGap],
    ['switchEvery', 'switch-every', o.switchEvery],
  ];
  for (const [key, flag, value] of flags) {
    if (value === undefined) continue;
    if (!accepts.includes(key) && o.lenientOptions) continue;
    if (!accepts.includes(key)) throw new Error(`--${flag}: not an option of ${method} (it accepts ${accepts.join(', ')})`);
    out[key] = value;
  }
  for (const [key, value] of Object.entries(o.optimizerOptions)) {
    if (!accepts.includes(key) && o.lenientOptions) continue;
    if (!accepts.includes(key)) throw new Error(`--opt ${key}: not an option of ${method} (it accepts ${accepts.join(', ')})`);
    out[key] = value;
  }
  return out;
}

function groupsFor(method: MethodName, params: NamedParam[]): ParamGroupInput[] {
  const tensors = (list: NamedParam[]) => list.map((p) => p.tensor);
  const regular = params.filter((p) => !p.projectable && !p.unit.startsWith('layer'));
  if (method === 'badam') {
    // One block per layer (its matrices and norms); embedding, final norm and head stay AdamW.
    const units = [...new Set(params.filter((p) => p.unit.startsWith('layer')).map((p) => p.unit))];
    const groups: ParamGroupInput[] = units.map((u) => ({ params: tensors(params.filter((p) => p.unit === u)) }));
    if (regular.length) groups.push({ params: tensors(regular), projectable: false });
    return groups;
  }
  if (!PROJECTING.includes(method)) return [{ params: tensors(params) }];
  const matrices = params.filter((p) => p.projectable);
  const rest = params.filter((p) => !p.projectable);
  const groups: ParamGroupInput[] = [];
  if (matrices.length) groups.push({ params: tensors(matrices) });
  if (rest.length) groups.push({ params: tensors(rest), projectable: false });
  return groups;
}

export class OptimizerSet {
  readonly method: MethodName;
  /** unit name ('all' without per-layer updates) -> its optimizer */
  readonly byUnit: Map<string, Optimizer>;
  private readonly baseLrs = new Map<Optimizer, number[]>();

  constructor(model: LlamaModel, o: TrainOptions, method: MethodName = o.optimizer) {
    this.method = method;
    this.byUnit = new Map();
    const options = methodOptions(method, o);
    const Cls = CLASSES[method];
    const make = (params: NamedParam[], maxGradNorm: number) => {
      const opt = new Cls(groupsFor(method, params) as never, { ...options, maxGradNorm } as never);
      this.baseLrs.set(opt, opt.paramGroups.map((g) => g.lr as number));
      return opt;
    };
    try {
      if (o.perLayer) {
        // Clipping needs every gradient at once, which per-layer updates never hold.
        for (const unit of model.backwardUnits) this.byUnit.set(unit, make(model.unitParams(unit), 0));
      } else {
        // Clipping by the global norm needs every full gradient; the sparse backward has only
        // compressed ones on most steps, and a norm of those would clip differently.
        this.byUnit.set('all', make(model.named, o.sparseBackward ? 0 : o.maxGradNorm));
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  get perLayer(): boolean {
    return !this.byUnit.has('all');
  }

  /** The optimizer that steps `unit`'s params. */
  forUnit(unit: string): Optimizer {
    return this.byUnit.get(unit) ?? (this.byUnit.get('all') as Optimizer);
  }

  /** Sets every group's lr to its base lr times `factor` (the schedule's value this step). */
  setLrFactor(factor: number): void {
    for (const [opt, base] of this.baseLrs) opt.paramGroups.forEach((g, i) => (g.lr = base[i] * factor));
  }

  /** The peak lr of the first group (for logs). */
  get peakLr(): number {
    const first = this.baseLrs.values().next().value as number[];
    return first[0];
  }

  stateBytes(): number {
    let total = 0;
    for (const opt of this.byUnit.values()) total += opt.stateBytes();
    return total;
  }

  dispose(): void {
    for (const opt of this.byUnit.values()) opt.dispose();
  }
}
