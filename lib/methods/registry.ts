// The optimizer methods of this package's tools, one entry each: the library class, the papers'
// recipe, how the method splits a model's params into groups, and what the trainer may combine
// it with. The trainer, the CLI, the step bench and the planner all read this table (the bench
// and the planner through the named configurations in configurations.ts), so adding a method is
// one entry here plus its configurations there.
import { AdamW } from '../optim/adamw';
import { BAdam } from '../optim/badam';
import { Frugal } from '../optim/frugal';
import { GaLore } from '../optim/galore';
import { Grass } from '../optim/grass';
import { Lion } from '../optim/lion';
import { Optimizer } from '../optim/optimizer';
import { MethodSpec, ParamGroupInput } from '../optim/options';
import { SGD } from '../optim/sgd';
import { SignSGD } from '../optim/signsgd';
import { Grouping } from './param-groups';

/** In the order the trainer's messages list them. */
export const METHOD_NAMES = ['adamw', 'frugal', 'galore', 'badam', 'grass', 'sgd', 'signsgd', 'lion'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** The option that sets how often a method refreshes its selection. */
export type RefreshOption = 'updateGap' | 'switchEvery';

export interface Method {
  name: MethodName;
  description: string;
  /** The options the class accepts, its defaults and what it fixes. */
  spec: MethodSpec;
  /**
   * An optimizer of the class over `groups`. Options are records here because they come from
   * command lines and recipes; the class checks every one and names what is wrong.
   */
  create(groups: readonly ParamGroupInput[], options: Record<string, unknown>): Optimizer;
  /** The papers' recipe: peak learning rate and the method's own settings. */
  recipe: { lr: number; options: Record<string, unknown> };
  grouping: Grouping;
  /** null: the method never refreshes (its state covers every param from the first step). */
  refreshOption: RefreshOption | null;
  /** Per-layer updates need each layer's optimizer to stand alone; BAdam's schedule spans layers. */
  perLayer: boolean;
  /** Whether the backward may compute only compressed gradients (Grass's sparse backward). */
  sparseBackward: boolean;
}

type OptimizerClass = { readonly spec: MethodSpec; new (groups: readonly ParamGroupInput[], options: never): Optimizer };
type EntryFields = Omit<Method, 'spec' | 'create' | 'refreshOption' | 'perLayer' | 'sparseBackward'> & Partial<Method>;

// What most methods are: no refresh, fine with per-layer updates, full gradients.
function entry(Class: OptimizerClass, fields: EntryFields): Method {
  return {
    refreshOption: null,
    perLayer: true,
    sparseBackward: false,
    spec: Class.spec,
    // A record from a command line or a recipe: the class's constructor checks every option.
    create: (groups, options) => new Class(groups, options as never),
    ...fields,
  };
}

const REFRESHING = { refreshOption: 'updateGap', grouping: 'projectable' } as const;

export const METHODS: Readonly<Record<MethodName, Method>> = {
  adamw: entry(AdamW, {
    name: 'adamw', description: 'AdamW on every param (torch.optim.AdamW semantics)',
    recipe: { lr: 1e-3, options: { weightDecay: 0 } }, grouping: 'whole',
  }),
  frugal: entry(Frugal, {
    name: 'frugal', description: 'FRUGAL: AdamW on a selected part of each matrix (blocks by default), signSGD on the rest',
    recipe: { lr: 1e-3, options: { density: 0.25, updateGap: 200 } }, ...REFRESHING,
  }),
  // GaLore and Grass scale their projected updates by 0.25 and pair that with a 10x lr.
  galore: entry(GaLore, {
    name: 'galore', description: 'GaLore: AdamW in a low-rank SVD projection of each matrix',
    recipe: { lr: 1e-2, options: { density: 0.25, updateGap: 200 } }, ...REFRESHING,
  }),
  badam: entry(BAdam, {
    name: 'badam', description: 'BAdam: AdamW on one layer at a time, switching blocks every few steps',
    recipe: { lr: 1e-3, options: { switchEvery: 100 } }, grouping: 'layer-blocks', refreshOption: 'switchEvery', perLayer: false,
  }),
  grass: entry(Grass, {
    name: 'grass', description: 'Grass: AdamW on sampled rows or columns of each matrix (structured sparse projection)',
    recipe: { lr: 1e-2, options: { density: 0.25, updateGap: 200 } }, ...REFRESHING, sparseBackward: true,
  }),
  sgd: entry(SGD, {
    name: 'sgd', description: 'SGD with momentum (torch.optim.SGD semantics)', recipe: { lr: 1e-1, options: { momentum: 0.9 } }, grouping: 'whole',
  }),
  signsgd: entry(SignSGD, { name: 'signsgd', description: 'signSGD: no state at all', recipe: { lr: 3e-4, options: {} }, grouping: 'whole' }),
  // Lion's steps are signs, as signSGD's: the same lr (its paper: 3-10x below AdamW's).
  lion: entry(Lion, {
    name: 'lion', description: 'Lion: the sign of an interpolated momentum, one moment per param', recipe: { lr: 3e-4, options: {} }, grouping: 'whole',
  }),
};

export function isMethodName(name: string): name is MethodName {
  return (METHOD_NAMES as readonly string[]).includes(name);
}
