// The method registry (lib/methods) is the one place the trainer, the bench and the planner read
// a method from: its entries must be consistent with the classes they name, and the grouping rule
// must put every param exactly once, in the places the papers put them.
import { CONFIGURATIONS, RECIPE_CONFIGURATION } from '../lib/methods/configurations';
import { optimizerGroups, placeParams } from '../lib/methods/param-groups';
import { METHOD_NAMES, METHODS } from '../lib/methods/registry';
import { BENCH_METHODS } from '../lib/bench/bench-methods';
import { llamaParams } from '../lib/plan/llama-presets';

const TINY = llamaParams({ hidden: 8, intermediate: 16, heads: 2, layers: 2, vocab: 32 });

describe('method registry', () => {
  test.each(METHOD_NAMES.map((n) => [n]))('%s: the entry names itself and its recipe is options its class accepts', (name) => {
    const m = METHODS[name];
    expect(m.name).toBe(name);
    const accepts = m.spec.accepts as readonly string[];
    for (const key of Object.keys(m.recipe.options)) expect([key, accepts.includes(key)]).toEqual([key, true]);
    if (m.refreshOption !== null) {
      expect(accepts).toContain(m.refreshOption);
      expect(typeof m.recipe.options[m.refreshOption]).toBe('number');
    }
  });

  test("each method's recipe configuration is a configuration of that method", () => {
    for (const name of METHOD_NAMES) {
      const c = CONFIGURATIONS.find((x) => x.name === RECIPE_CONFIGURATION[name]);
      expect([name, c?.method]).toEqual([name, name]);
    }
  });

  test('configuration names and bench keys are unique; the bench times every configuration', () => {
    expect(new Set(CONFIGURATIONS.map((c) => c.name)).size).toBe(CONFIGURATIONS.length);
    expect(new Set(CONFIGURATIONS.map((c) => c.benchKey)).size).toBe(CONFIGURATIONS.length);
    expect(BENCH_METHODS.map((b) => [b.key, b.plan, b.method])).toEqual(CONFIGURATIONS.map((c) => [c.benchKey, c.name, c.method]));
    // the recipes' refresh intervals amortize the bench's refresh cost
    expect(BENCH_METHODS.find((b) => b.key === 'badam')!.updateGap).toBe(100);
    expect(BENCH_METHODS.find((b) => b.key === 'galore')!.updateGap).toBe(200);
    expect(BENCH_METHODS.find((b) => b.key === 'adamw')!.updateGap).toBeNull();
  });
});

describe('param grouping', () => {
  const names = (ps: readonly { name: string }[]) => ps.map((p) => p.name);

  test('every param is placed once, in model order within each part', () => {
    for (const grouping of ['whole', 'projectable', 'layer-blocks'] as const) {
      const placed = placeParams(grouping, TINY);
      const all = [...placed.method.map((x) => x.param.name), ...names(placed.regular)];
      expect([grouping, [...all].sort()]).toEqual([grouping, [...names(TINY)].sort()]);
    }
  });

  test('projectable: the matrices in the method group, embeddings, norms and head regular', () => {
    const placed = placeParams('projectable', TINY);
    expect(placed.method.every((x) => x.param.projectable && x.block === 0)).toBe(true);
    expect(names(placed.regular)).toEqual(names(TINY.filter((p) => !p.projectable)));
  });

  test("layer-blocks: a layer's matrices and norms share its block; embedding and head are regular", () => {
    const placed = placeParams('layer-blocks', TINY);
    for (const { param, block } of placed.method) expect([param.name, block]).toEqual([param.name, Number(param.unit.slice(5)) + 1]);
    expect(placed.regular.map((p) => p.unit).sort()).toEqual(['embed', 'head', 'head']);
  });

  test('optimizer groups: one per block in block order, the regular group last and marked', () => {
    const tagged = TINY.map((p) => ({ ...p, tensor: p.name }));
    const groups = optimizerGroups('layer-blocks', tagged);
    expect(groups.map((g) => g.projectable)).toEqual([undefined, undefined, false]);
    expect(groups[0].params).toEqual(names(TINY.filter((p) => p.unit === 'layer0')));
    expect(groups[1].params).toEqual(names(TINY.filter((p) => p.unit === 'layer1')));
    expect(optimizerGroups('whole', tagged)).toEqual([{ params: names(TINY) }]);
    // a unit without matrices (per-layer updates of the embedding): only the regular group
    expect(optimizerGroups('projectable', tagged.filter((p) => p.unit === 'embed'))).toEqual([
      { params: ['model.embed_tokens.weight'], projectable: false },
    ]);
  });
});
