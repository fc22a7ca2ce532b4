// Review of the growable C ABI and its generator (issue 10) as a hostile caller would use them.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const GEN = path.join(ROOT, 'scripts', 'gen-schema.js');
const LIB_DIR = path.join(ROOT, 'build', 'Release');

function run(command: string, args: string[]): { status: number | null; signal: string | null; out: string; err: string } {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, signal: r.signal, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-review-abi-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('an ABI-1 caller whose structs end where a PROT_NONE page starts', () => {
  test('no read or write past the caller size; odd, huge, in-between and tiny sizes and NULLs refused or ignored', () => {
    const old = path.join(dir, 'abi1');
    fs.mkdirSync(old);
    expect(run(process.execPath, [GEN, '--header-at-abi', '1', '--out', path.join(old, 'frugal.h')]).status).toBe(0);
    const lib = path.join(LIB_DIR, 'libfrugal.so');
    if (!fs.existsSync(lib)) throw new Error(`${lib} is missing: build with npm run build:addon (CMake)`);
    const exe = path.join(old, 'guard_page');
    const cc = run('gcc', ['-std=c99', '-Wall', '-Werror', `-I${old}`, path.join(ROOT, 'test', 'abi', 'guard_page.c'),
      `-L${LIB_DIR}`, '-lfrugal', '-lm', `-Wl,-rpath,${LIB_DIR}`, '-o', exe]);
    expect(cc.err).toBe('');
    const r = run(exe, []);
    expect(r.signal).toBeNull();  // SIGSEGV: the library touched the guard page
    expect(r.out).not.toMatch(/FAILED/);
    expect(r.out).toMatch(/ok: size 108: init writes the size alone, add_param and add_group refuse it/);
    expect(r.out).toMatch(/ok: size 4294967295: /);
    expect(r.out).toMatch(/ok: state bytes of one block of two\nall checks held\n$/);
    expect(r.status).toBe(0);
  });
});

describe('gen-schema --check on an edited or corrupted schema', () => {
  // A copy of the generator with its inputs, the schema replaced by `text`.
  function checkWith(text: string | null): { status: number | null; err: string } {
    const copy = fs.mkdtempSync(path.join(dir, 'gen-'));
    for (const rel of ['scripts/gen-schema.js', 'package.json', 'native/include/frugal.h', 'native/core/schema.generated.h',
      'native/core/schema.generated.cpp', 'native/addon/schema.generated.h', 'lib/optim/schema.generated.ts']) {
      fs.mkdirSync(path.dirname(path.join(copy, rel)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, rel), path.join(copy, rel));
    }
    fs.mkdirSync(path.join(copy, 'schema'));
    if (text !== null) fs.writeFileSync(path.join(copy, 'schema', 'options.json'), text);
    const r = run(process.execPath, [path.join(copy, 'scripts', 'gen-schema.js'), '--check']);
    return { status: r.status, err: r.err.trim() };
  }
  const original = fs.readFileSync(path.join(ROOT, 'schema', 'options.json'), 'utf8');
   
  const edited = (edit: (s: any) => void) => {
    const s = JSON.parse(original);
    edit(s);
    return JSON.stringify(s);
  };
   
  const field = (s: any, name: string) => s.structs[0].fields.find((f: { c: string }) => f.c === name);

  test.each([
    ['missing', null, /^gen-schema: schema\/options\.json: cannot read it \(ENOENT\)$/],
    ['truncated', original.slice(0, 200), /^gen-schema: schema\/options\.json: not valid JSON: /],
    ['an empty object', '{}', /^gen-schema: enums: expected a non-empty array, got undefined$/],
    ['no structs', edited((s) => delete s.structs), /^gen-schema: structs: expected a non-empty array/],
    ['a misspelt type', edited((s) => (field(s, 'lr').type = 'flaot')),
      /^gen-schema: frugal_group_options\.lr\.type: expected one of float, double, .*, got "flaot"$/],
    ['a field without a name', edited((s) => delete field(s, 'lr').c), /^gen-schema: frugal_group_options\.fields\[0\]\.c: expected a C identifier$/],
    ['a field twice', edited((s) => s.structs[0].fields.push({ ...field(s, 'seed'), abi: 2 })),
      /^gen-schema: frugal_group_options\.seed: a field of that name comes earlier$/],
    ['a string default for a float', edited((s) => (field(s, 'lr').default = 'abc')),
      /^gen-schema: frugal_group_options\.lr\.default: "abc" is not a valid float value$/],
    ['a fractional int32 default', edited((s) => (field(s, 'update_gap').default = 1.5)),
      /^gen-schema: frugal_group_options\.update_gap\.default: 1\.5 is not a valid int32 value$/],
    ['a default outside its range', edited((s) => (field(s, 'beta1').default = 1)),
      /^gen-schema: frugal_group_options\.beta1\.default: 1 lies outside its own range \{"min":0,"below":1\}$/],
    ['a range bound as a string', edited((s) => (field(s, 'lr').range = { min: '0' })),
      /^gen-schema: frugal_group_options\.lr\.range: expected \{min, and max or below: finite numbers\}/],
    ['an enum value named twice', edited((s) => s.enums[1].values.push({ c: 'NONE', js: 'x' })), /^gen-schema: frugal_rule\.NONE: named twice$/],
    ['a default not in its enum', edited((s) => (field(s, 'state_full').default = 'ADAM')),
      /^gen-schema: frugal_group_options\.state_full: ADAM is not a value of frugal_rule$/],
  ])('%s: exit 1 with one line naming the place', (_what, text, message) => {
    const r = checkWith(text);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n|at .*gen-schema\.js/);  // one line, no stack trace
    expect(r.status).toBe(1);
  });
});
