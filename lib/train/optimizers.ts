// The optimizers a training run steps: one over the whole model, or (per-layer updates) one per
// unit (embedding, each layer, head) so a layer can be stepped as soon as its gradients exist.
// The method's class, recipe and param grouping come from the registry (lib/methods).
import { didYouMean } from '../arg-checks';
import { optimizerGroups } from '../methods/param-groups';
import { MethodName, METHODS } from '../methods/registry';
import { Optimizer } from '../optim/optimizer';
import { LlamaModel } from '../model/llama';
import { NamedParam } from '../model/params';
import { TrainOptions } from './options';

/** The method's options: its recipe, then the command line's settings, then --opt entries. */
export function methodOptions(method: MethodName, o: TrainOptions): Record<string, unknown> {
  const { recipe, spec } = METHODS[method];
  const accepts = spec.accepts as readonly string[];
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
    if (!accepts.includes(key)) {
      throw new Error(`--opt ${key}: not an option of ${method} (it accepts ${accepts.join(', ')})${didYouMean(key, accepts)}`);
    }
    out[key] = value;
  }
  return out;
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
    const { create, grouping } = METHODS[method];
    const make = (params: NamedParam[], maxGradNorm: number) => {
      const opt = create(optimizerGroups(grouping, params), { ...options, maxGradNorm });
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
