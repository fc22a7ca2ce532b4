// How a method splits a model's params, following the papers: the attention and MLP matrices are
// what memory-efficient methods project; embeddings, norms and the LM head form a regular group
// (plain AdamW). BAdam's blocks are whole layers, their norms included. One rule for the trainer
// (NamedParam), the step bench (its tensors) and the planner (ParamSpec): each turns the
// placement into its own groups.

/**
 * - whole: one group of every param, stepped by the method's rule;
 * - projectable: the projectable params in the method's group, the rest regular;
 * - layer-blocks: each unit holding projectable params is one block (all its params); the rest regular.
 */
export type Grouping = 'whole' | 'projectable' | 'layer-blocks';

export interface GroupableParam {
  /** 'embed', 'layer<i>', 'head' for this package's model: the unit per-layer updates step together. */
  unit: string;
  projectable: boolean;
}

export interface ParamPlacement<P> {
  /** The params the method's rule steps, in the order given, with their block: 1, 2, ... for layer blocks, else 0. */
  method: { param: P; block: number }[];
  /** The regular group (plain AdamW), in the order given. */
  regular: P[];
}

export function placeParams<P extends GroupableParam>(grouping: Grouping, params: readonly P[]): ParamPlacement<P> {
  if (grouping === 'whole') return { method: params.map((param) => ({ param, block: 0 })), regular: [] };
  if (grouping === 'projectable') {
    return {
      method: params.filter((p) => p.projectable).map((param) => ({ param, block: 0 })),
      regular: params.filter((p) => !p.projectable),
    };
  }
  const units = [...new Set(params.filter((p) => p.projectable).map((p) => p.unit))];
  return {
    method: params.filter((p) => units.includes(p.unit)).map((param) => ({ param, block: units.indexOf(param.unit) + 1 })),
    regular: params.filter((p) => !units.includes(p.unit)),
  };
}

export interface TensorGroup<T> {
  params: T[];
  /** false: the regular group; absent: the method's own. */
  projectable?: false;
}

/**
 * The param groups an optimizer of the method is built with: the method's group (one per block
 * for layer blocks, in block order), then the regular group; empty groups left out.
 */
export function optimizerGroups<T, P extends GroupableParam & { tensor: T }>(grouping: Grouping, params: readonly P[]): TensorGroup<T>[] {
  const placed = placeParams(grouping, params);
  const blocks = new Map<number, T[]>();
  for (const { param, block } of placed.method) {
    if (!blocks.has(block)) blocks.set(block, []);
    blocks.get(block)!.push(param.tensor);
  }
  const groups: TensorGroup<T>[] = [...blocks.keys()].sort((a, b) => a - b).map((b) => ({ params: blocks.get(b)! }));
  if (placed.regular.length > 0) groups.push({ params: placed.regular.map((p) => p.tensor), projectable: false });
  return groups;
}
