// Issue 10 review (adversarial): a corrupted schema/options.json, in a copy of the tree, is refused
// by scripts/gen-schema.js with a message naming the place, and no generated file is written
// (the generator runs in write mode here, not --check).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const RULE_HEADERS = fs.readdirSync(path.join(ROOT, 'native/math/rules')).map((f) => `native/math/rules/${f}`);
const OUTPUTS = [
  'native/include/frugal.h',
  'native/core/schema.generated.h',
  'native/core/schema.generated.cpp',
  'native/addon/schema.generated.h',
  'lib/optim/schema.generated.ts',
  'native/math/rules/rules.generated.h',
  'native/math/rules/rule_fields.generated.h',
];
const INPUTS = ['scripts/gen-schema.js', 'schema/options.json', 'package.json', ...OUTPUTS, ...RULE_HEADERS];

type Schema = any;
const rules = (s: Schema) => s.enums.find((e: Schema) => e.c === 'frugal_rule').values;
const selections = (s: Schema) => s.enums.find((e: Schema) => e.c === 'frugal_selection').values;
const options = (s: Schema) => s.structs.find((x: Schema) => x.c === 'frugal_group_options').fields;
const field = (s: Schema, c: string) => options(s).find((f: Schema) => f.c === c);

const CASES: [string, (s: Schema) => void, RegExp][] = [
  ['a rule registered twice', (s) => rules(s).push(JSON.parse(JSON.stringify(rules(s)[1]))), /^gen-schema: frugal_rule\.ADAMW: named twice$/],
  [
    "a second rule under another's JS name",
    (s) => rules(s).push({ ...JSON.parse(JSON.stringify(rules(s)[1])), c: 'SGD2' }),
    /^gen-schema: frugal_rule\.SGD2\.js: 'adamw' already names frugal_rule\.ADAMW$/,
  ],
  ["a selection under another's JS name", (s) => (selections(s)[1].js = 'all'), /^gen-schema: frugal_selection\.NONE\.js: 'all' already names frugal_selection\.ALL$/],
  ["an option under another's JS name", (s) => (field(s, 'weight_decay').js.name = 'lr'), /^gen-schema: frugal_group_options\.weight_decay\.js\.name: 'lr' is already the option of frugal_group_options\.lr$/],
  ['a tuple index twice', (s) => (field(s, 'beta2').js.index = 0), /^gen-schema: frugal_group_options\.beta2\.js\.name: 'betas\[0\]' is already the option of frugal_group_options\.beta1$/],
  ['a rule without its header', (s) => (rules(s)[0].rule.header = 'missing.h'), /^gen-schema: frugal_rule\.NONE\.rule\.header: native\/math\/rules\/missing\.h does not exist$/],
  ['a rule with three slots', (s) => rules(s).find((v: Schema) => v.rule.slots.length === 2).rule.slots.push('w'), /^gen-schema: frugal_rule\.ADAMW\.rule\.slots: expected at most 2 /],
  ['an unknown role', (s) => (rules(s)[0].rule.roles = ['state_fulll']), /^gen-schema: frugal_rule\.NONE\.rule\.roles: expected distinct values of state_full, state_free, partial, got \["state_fulll"\]$/],
  ["a JS name with a quote (it would end the TS and C strings it goes into)", (s) => (selections(s)[0].js = "a'b"), /^gen-schema: frugal_selection\.ALL\.js: expected its JS name \(letters, digits, _ and -\), got "a'b"$/],
  ["a doc with '*/' (it would end the C comment it goes into)", (s) => (field(s, 'lr').doc = 'x */ int y; /*'), /^gen-schema: frugal_group_options\.lr\.doc: expected text without '\*\/'$/],
];

describe('review: gen-schema refuses a corrupted schema, naming the place, writing nothing', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-schema-review-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(CASES)('%s', (_name, edit, message) => {
    const tree = fs.mkdtempSync(path.join(dir, 'tree-'));
    for (const rel of INPUTS) {
      fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, rel), path.join(tree, rel));
    }
    const schemaPath = path.join(tree, 'schema/options.json');
    const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
    edit(schema);
    fs.writeFileSync(schemaPath, JSON.stringify(schema, null, 1));
    const r = spawnSync(process.execPath, [path.join(tree, 'scripts/gen-schema.js')], { encoding: 'utf8' });
    expect(r.stderr.trim()).toMatch(message);
    expect(r.status).toBe(1);
    for (const rel of OUTPUTS) expect([rel, fs.readFileSync(path.join(tree, rel), 'utf8') === fs.readFileSync(path.join(ROOT, rel), 'utf8')]).toEqual([rel, true]);
  });
});
