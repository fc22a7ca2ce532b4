// The update-rule table (native/math/rules/rule_table.h) is the one registration of a rule; the
// TS side mirrors what it needs of it in lib/optim/rule-table.ts (state slots for the planner and
// the memory ledger). These tests hold the two together and check that the core's validation and
// state listing follow the table rather than a list of their own.
import { AdamW, SGD, Tensor } from '../lib';
import { native } from '../lib/native';
import { ruleStateSlots } from '../lib/plan/core-allocation';
import { UPDATE_RULES, UpdateRuleName } from '../lib/optim/rule-table';

const nativeRules = () => native()._debugRuleTable();

describe('update-rule table', () => {
  test('lib/optim/rule-table.ts lists exactly the rules the addon registers, with the same slots and roles', () => {
    const fromTs = Object.entries(UPDATE_RULES).map(([name, r]) => ({ id: r.id, name, stateSlots: [...r.stateSlots], stateFull: r.stateFull, stateFree: r.stateFree, partial: r.partial }));
    expect(nativeRules()).toEqual(fromTs);
  });

  test("the planner's state slots per element come from the table", () => {
    for (const name of Object.keys(UPDATE_RULES) as UpdateRuleName[]) expect(ruleStateSlots(name)).toBe(UPDATE_RULES[name].stateSlots.length);
    expect(ruleStateSlots('adamw')).toBe(2);
    expect(ruleStateSlots('sgdm')).toBe(1);
    expect(ruleStateSlots('signsgd')).toBe(0);
  });

  test("a param's state tensors are named by its rule's slots", () => {
    const p = Tensor.randn([8], { seed: 1 });
    p.grad = Tensor.randn([8], { seed: 2 });
    for (const [opt, rule] of [
      [new AdamW([p], { lr: 0.01 }), 'adamw'],
      [new SGD([p], { lr: 0.01, momentum: 0.9 }), 'sgdm'],
    ] as const) {
      opt.step();
      expect(opt.stateDict().params[0].state.map((s) => s.name)).toEqual(UPDATE_RULES[rule].stateSlots);
      opt.dispose();
    }
    p.grad.dispose();
    p.dispose();
  });

  test('the core accepts a rule exactly in the roles the table gives it, and lists the choices when it refuses', () => {
    const n = native();
    const tryGroup = (o: object) => {
      const opt = new n.NativeOptimizer(-1);
      try {
        opt.addGroup(o);
        return null;
      } catch (e) {
        return (e as Error).message;
      } finally {
        opt.destroy();
      }
    };
    const BLOCKS = 2; // frugal.h FRUGAL_SEL_BLOCKS: a partial selection that also admits freeze
    for (const r of nativeRules()) {
      const full = tryGroup({ state_full: r.id, selection: 0 });
      expect(full === null).toBe(r.stateFull);
      if (!r.stateFull) expect(full).toMatch(/^(options\.)?state_full: expected /); // the addon's range check may answer first
      const free = tryGroup({ state_free: r.id, selection: BLOCKS });
      expect(free === null).toBe(r.stateFree);
      if (!r.stateFree) expect(free).toMatch(/^state_free: expected none \(0\), signsgd \(3\), sgd \(4\) or freeze \(5\) \(a state-free rule keeps no state\), got \d+$/);
      const partial = tryGroup({ state_full: r.id, selection: BLOCKS });
      expect(partial === null).toBe(r.partial);
      if (r.stateFull && !r.partial) expect(partial).toBe("state_full: selection 'blocks' needs adamw (1) or sgdm (2)");
    }
  });
});
