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
import { Optimizer } from '../optim/optimizer';
import { MethodSpec, ParamGroupInput } from '../optim/options';
import { SGD } from '../optim/sgd';
import { SignSGD } from '../optim/signsgd';
import { Grouping } from './param-groups';

/** In the order the trainer's messages list them. */
export const METHOD_NAMES = ['adamw', 'frugal', 'galore', 'badam', 'grass', 'sgd', 'signsgd'] as const;
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

// The classes' constructors take their own option types; a record from a command line is checked
// by the class itself (Optimizer's constructor), so it is handed over as such.
type Options<C extends abstract new (...args: never) => unknown> = ConstructorParameters<C>[1];

export const METHODS: Readonly<Record<MethodName, Method>> = {
  adamw: {
    name: 'adamw',
    description: 'AdamW on every param (torch.optim.AdamW semantics)',
    spec: AdamW.spec,
    create: (groups, options) => new AdamW(groups, options as Options<typeof AdamW>),
    recipe: { lr: 1e-3, options: { weightDecay: 0 } },
    grouping: 'whole',
    refreshOption: null,
    perLayer: true,
    sparseBackward: false,
  },
  frugal: {
    name: 'frugal',
    description: 'FRUGAL: AdamW on a selected part of each matrix (blocks by default), signSGD on the rest',
    spec: Frugal.spec,
    create: (groups, options) => new Frugal(groups, options as Options<typeof Frugal>),
    recipe: { lr: 1e-3, options: { density: 0.25, updateGap: 200 } },
    grouping: 'projectable',
    refreshOption: 'updateGap',
    perLayer: true,
    sparseBackward: false,
  },
  galore: {
    name: 'galore',
    description: 'GaLore: AdamW in a low-rank SVD projection of each matrix',
    spec: GaLore.spec,
    create: (groups, options) => new GaLore(groups, options as Options<typeof GaLore>),
    // GaLore and Grass scale their projected updates by 0.25 and pair that with a 10x lr.
    recipe: { lr: 1e-2, options: { density: 0.25, updateGap: 200 } },
    grouping: 'projectable',
    refreshOption: 'updateGap',
    perLayer: true,
    sparseBackward: false,
  },
  badam: {
    name: 'badam',
    description: 'BAdam: AdamW on one layer at a time, switching blocks every few steps',
    spec: BAdam.spec,
    create: (groups, options) => new BAdam(groups, options as Options<typeof BAdam>),
    recipe: { lr: 1e-3, options: { switchEvery: 100 } },
    grouping: 'layer-blocks',
    refreshOption: 'switchEvery',
    perLayer: false,
    sparseBackward: false,
  },
  grass: {
    name: 'grass',
    description: 'Grass: AdamW on sampled rows or columns of each matrix (structured sparse projection)',
    spec: Grass.spec,
    create: (groups, options) => new Grass(groups, options as Options<typeof Grass>),
    recipe: { lr: 1e-2, options: { density: 0.25, updateGap: 200 } },
    grouping: 'projectable',
    refreshOption: 'updateGap',
    perLayer: true,
    sparseBackward: true,
  },
  sgd: {
    name: 'sgd',
    description: 'SGD with momentum (torch.optim.SGD semantics)',
    spec: SGD.spec,
    create: (groups, options) => new SGD(groups, options as Options<typeof SGD>),
    recipe: { lr: 1e-1, options: { momentum: 0.9 } },
    grouping: 'whole',
    refreshOption: null,
    perLayer: true,
    sparseBackward: false,
  },
  signsgd: {
    name: 'signsgd',
    description: 'signSGD: no state at all',
    spec: SignSGD.spec,
    create: (groups, options) => new SignSGD(groups, options as Options<typeof SignSGD>),
    recipe: { lr: 3e-4, options: {} },
    grouping: 'whole',
    refreshOption: null,
    perLayer: true,
    sparseBackward: false,
  },
};

export function isMethodName(name: string): name is MethodName {
  return (METHOD_NAMES as readonly string[]).includes(name);
}
