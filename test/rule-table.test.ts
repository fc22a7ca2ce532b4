// A rule is registered once, by its entry in schema/options.json (frugal_rule's values), from
// which scripts/gen-schema.js writes the native list (native/math/rules/rules.generated.h, which
// rule_table.h expands) and the TS table (lib/optim/rule-table.ts reads schema.generated.ts).
// These tests hold what the addon compiled to the TS table, check that the core's validation and
// state listing follow the table rather than a list of their own, and that the generator and the
// compiler refuse a registration that disagrees with itself or with the rule's math.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, SGD, Tensor } from '../lib';
import { native } from '../lib/native';
import { ruleStateSlots } from '../lib/plan/core-allocation';
import { UPDATE_RULES, UpdateRuleName } from '../lib/optim/rule-table';

const nativeRules = () => native()._debugRuleTable();
const ROOT = path.resolve(__dirname, '..');

interface RuleValue {
  c: string;
  js: string;
  internal?: boolean;
  rule: { math: string; header: string; slots: string[]; roles: string[]; reads: string[]; defaults?: Record<string, number> };
}
interface Schema {
  enums: { c: string; values: RuleValue[] }[];
}

// A copy of the generator's inputs (and native/math, for compiling) in a temporary tree, the
// schema edited by `edit`; the generator is run there and its exit status and stderr returned.
function generateWith(edit: (rules: RuleValue[]) => void): { dir: string; status: number | null; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-rules-'));
  for (const rel of ['scripts/gen-schema.js', 'schema/options.json', 'package.json', 'native/include/frugal.h']) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, rel), path.join(dir, rel));
  }
  fs.cpSync(path.join(ROOT, 'native/math'), path.join(dir, 'native/math'), { recursive: true });
  for (const d of ['native/core', 'native/addon', 'lib/optim']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const schemaPath = path.join(dir, 'schema/options.json');
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8')) as Schema;
  edit(schema.enums.find((e) => e.c === 'frugal_rule')!.values);
  fs.writeFileSync(schemaPath, JSON.stringify(schema));
  const r = spawnSync(process.execPath, [path.join(dir, 'scripts/gen-schema.js')], { encoding: 'utf8' });
  return { dir, status: r.status, stderr: r.stderr };
}

const value = (rules: RuleValue[], c: string) => rules.find((v) => v.c === c)!;
/** The core's list of rules in a message: "adamw (1), sgdm (2) or lion (6)". */
const choices = (rules: { id: number; name: string }[]) => {
  const items = rules.map((r) => `${r.name} (${r.id})`);
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : items[0];
};

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
      if (r.stateFull && !r.partial) expect(partial).toBe(`state_full: selection 'blocks' needs ${choices(nativeRules().filter((x) => x.partial))}`);
    }
  });

  describe('the registration (schema/options.json) and its generator', () => {
    const dirs: string[] = [];
    afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const run = (edit: (rules: RuleValue[]) => void) => {
      const r = generateWith(edit);
      dirs.push(r.dir);
      return r;
    };

    test('a new rule is its math plus its schema entry: the C enum, the native list and the TS table follow', () => {
      // A second state-free sign rule on existing math, registered by its schema entry alone.
      const r = run((rules) => rules.push({ c: 'SIGN2', js: 'signsgd2', rule: { math: 'SignSgd', header: 'sign.h', slots: [], roles: ['state_free'], reads: [] } }));
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const read = (rel: string) => fs.readFileSync(path.join(r.dir, rel), 'utf8');
      const id = Object.keys(UPDATE_RULES).length;
      expect(read('native/include/frugal.h')).toContain(`FRUGAL_RULE_SIGN2 = ${id}`);
      expect(read('native/math/rules/rules.generated.h')).toContain(`X(SIGN2, ${id}, "signsgd2", SignSgd, false, true, false, 0, nullptr, nullptr)`);
      const ts = read('lib/optim/schema.generated.ts');
      expect(ts).toContain(`signsgd2: { id: ${id}, stateSlots: [], stateFull: false, stateFree: true, partial: false, optionDefaults: {} },`);
      expect(ts).toMatch(/stateFree: \[[^\]]*'signsgd2'/); // the public option's values
      // And it compiles: the table's static_asserts hold for it.
      const cc = spawnSync('g++', ['-std=c++17', '-fsyntax-only', '-x', 'c++', '-'], {
        cwd: path.join(r.dir, 'native/math/rules'), encoding: 'utf8', input: '#include "rule_table.h"\nint main() { return frugal::RULE_SIGN2; }\n',
      });
      expect(cc.stderr).toBe('');
      expect(cc.status).toBe(0);
    });

    test('the compiler refuses a registration whose slots differ from what the math keeps', () => {
      const r = run((rules) => {
        value(rules, 'ADAMW').rule.slots = ['exp_avg'];
      });
      expect(r.status).toBe(0);
      const cc = spawnSync('g++', ['-std=c++17', '-fsyntax-only', '-x', 'c++', '-'], {
        cwd: path.join(r.dir, 'native/math/rules'), encoding: 'utf8', input: '#include "rule_table.h"\n',
      });
      expect(cc.status).not.toBe(0);
      expect(cc.stderr).toContain('ADAMW: the schema names as many slots as the math keeps');
    });

    test.each([
      ['a read option not marked rule_scalar', (rules: RuleValue[]) => value(rules, 'ADAMW').rule.reads.push('lr'),
        /frugal_rule\.ADAMW\.rule\.reads: lr is not a frugal_group_options field marked rule_scalar/],
      ['a state-free rule with state', (rules: RuleValue[]) => value(rules, 'SIGN').rule.slots.push('m'),
        /frugal_rule\.SIGN\.rule: a state_free rule keeps no state/],
      ['a partial rule without state', (rules: RuleValue[]) => value(rules, 'SGD').rule.roles.push('partial'),
        /frugal_rule\.SGD\.rule: a partial rule is a state_full rule with state/],
      ['an unknown role', (rules: RuleValue[]) => value(rules, 'SGD').rule.roles.push('stateful'),
        /frugal_rule\.SGD\.rule\.roles: expected distinct values of state_full, state_free, partial/],
      ['a math header that does not exist', (rules: RuleValue[]) => { value(rules, 'SGD').rule.header = 'nothing.h'; },
        /frugal_rule\.SGD\.rule\.header: native\/math\/rules\/nothing\.h does not exist/],
      ['a default outside the option\'s range', (rules: RuleValue[]) => { value(rules, 'ADAMW').rule.defaults = { beta2: 1 }; },
        /frugal_rule\.ADAMW\.rule\.defaults\.beta2: 1 is not a number within the field's range/],
      ['a value without its registration', (rules: RuleValue[]) => rules.push({ c: 'BARE', js: 'bare' } as RuleValue),
        /frugal_rule\.BARE\.rule: expected the rule's registration/],
    ])('the generator refuses %s, naming it', (_what, edit, message) => {
      const r = run(edit);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
    });
  });
});
