// The option schema (schema/options.json) is the one source: the generated files match it, the
// version comes from package.json, and the C ABI grows: a runtime built against an older frugal.h
// steps with today's library, the fields its header lacked at their defaults.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { version } from '../lib';
import { native } from '../lib/native';
import { FRAMEWORK_DEFAULTS } from '../lib/optim/options';
import { NATIVE_GROUP_DEFAULTS, PACKAGE_VERSION } from '../lib/optim/schema.generated';

const ROOT = path.resolve(__dirname, '..');
const GEN = path.join(ROOT, 'scripts', 'gen-schema.js');
const LIB_DIR = path.join(ROOT, 'build', 'Release');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

function run(command: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

// A C program compiled against `headerDir`'s frugal.h and linked with this tree's libfrugal, built in outDir.
function compileAndRun(source: string, headerDir: string, outDir: string): { status: number | null; out: string } {
  const lib = path.join(LIB_DIR, 'libfrugal.so');
  if (!fs.existsSync(lib)) throw new Error(`${lib} is missing: build with npm run build:addon (CMake)`);
  const exe = path.join(outDir, path.basename(source, '.c'));
  const cc = run('gcc', ['-std=c99', '-Wall', '-Werror', `-I${headerDir}`, source, `-L${LIB_DIR}`, '-lfrugal', '-lm',
    `-Wl,-rpath,${LIB_DIR}`, '-o', exe]);
  if (cc.status !== 0) throw new Error(`gcc ${source}: ${cc.out}`);
  return run(exe, []);
}

describe('one schema', () => {
  test('every generated file matches schema/options.json (gen-schema --check)', () => {
    const r = run(process.execPath, [GEN, '--check']);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  test('--check names a stale file, and a field inserted before a newer one is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-schema-'));
    try {
      // A copy of the tree's inputs with one edit each, run by a copy of the generator.
      const copy = (rel: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, rel), path.join(dir, rel));
      };
      // The rules' math headers too: the generator checks that each rule's header exists.
      const rules = fs.readdirSync(path.join(ROOT, 'native/math/rules')).map((f) => `native/math/rules/${f}`);
      for (const rel of ['scripts/gen-schema.js', 'schema/options.json', 'package.json', 'native/include/frugal.h',
        'native/core/schema.generated.h', 'native/core/schema.generated.cpp', 'native/addon/schema.generated.h',
        'lib/optim/schema.generated.ts', ...rules]) copy(rel);
      const gen = path.join(dir, 'scripts', 'gen-schema.js');
      expect(spawnSync(process.execPath, [gen, '--check']).status).toBe(0);

      const schemaPath = path.join(dir, 'schema', 'options.json');
      const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
      const options = schema.structs.find((s: { c: string }) => s.c === 'frugal_group_options');
      options.fields.find((f: { c: string }) => f.c === 'update_gap').default = 100;
      fs.writeFileSync(schemaPath, JSON.stringify(schema));
      const stale = spawnSync(process.execPath, [gen, '--check'], { encoding: 'utf8' });
      expect(stale.status).toBe(1);
      expect(stale.stderr).toMatch(/stale .*native\/core\/schema\.generated\.cpp.*lib\/optim\/schema\.generated\.ts/);

      const desc = schema.structs.find((s: { c: string }) => s.c === 'frugal_param_desc');
      desc.fields.push({ c: 'late', type: 'int32', default: 0, abi: 1 });
      fs.writeFileSync(schemaPath, JSON.stringify(schema));
      const inserted = spawnSync(process.execPath, [gen, '--check'], { encoding: 'utf8' });
      expect(inserted.status).toBe(1);
      expect(inserted.stderr).toMatch(/frugal_param_desc\.late: abi 1 after a field of abi 2; fields are append-only/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the core, the addon and the TS layer share the defaults', () => {
    // The core holds float fields as float32 (density, a double, defaults to 1: exact either way).
    const asStored = Object.fromEntries(
      Object.entries(NATIVE_GROUP_DEFAULTS).map(([k, v]) => [k, typeof v === 'number' ? Math.fround(v) : v]),
    );
    expect(native().groupOptionsDefault()).toEqual(asStored);
    expect(FRAMEWORK_DEFAULTS.lr).toBe(NATIVE_GROUP_DEFAULTS.lr);
    expect(FRAMEWORK_DEFAULTS.betas).toEqual([0.9, 0.999]);
    expect(FRAMEWORK_DEFAULTS.updateGap).toBe(NATIVE_GROUP_DEFAULTS.update_gap);
  });

  test('a bad enum value is refused by the core with the values it accepts, named', () => {
    const opt = new (native().NativeOptimizer)(-1);
    try {
      // Outside the enum: the addon's type check (its maximum from the schema); inside it but not
      // accepted by the option: the core's check, naming the values.
      expect(() => opt.addGroup({ grass_sampling: 3 })).toThrow('options.grass_sampling: expected an integer in [0, 2], got 3');
      expect(() => opt.addGroup({ state_dtype: 2 })).toThrow('state_dtype: expected 0 (float32) or 1 (bfloat16), got 2 (float16)');
      expect(() => opt.addGroup({ rank: -1 })).toThrow('rank: expected an integer >= 0 (0: from density), got -1');
      expect(() => opt.addGroup({ selection: 10 })).toThrow(/options\.selection: expected an integer in \[0, 9\], got 10/);
    } finally {
      opt.destroy();
    }
  });
});

describe('version', () => {
  test("frugal_version() and the TS version are package.json's", () => {
    expect(version()).toBe(PACKAGE.version);
    expect(PACKAGE_VERSION).toBe(PACKAGE.version);
  });
});

describe('C ABI growth', () => {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-abi-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the C example and an ABI-1 caller step with this library, the missing fields at their defaults', () => {
    const old = path.join(dir, 'abi1');
    fs.mkdirSync(old);
    const gen = run(process.execPath, [GEN, '--header-at-abi', '1', '--out', path.join(old, 'frugal.h')]);
    expect(gen.status).toBe(0);
    const header = fs.readFileSync(path.join(old, 'frugal.h'), 'utf8');
    expect(header).toMatch(/#define FRUGAL_ABI_VERSION 1\n/);
    expect(header).not.toMatch(/block_id/);  // frugal_param_desc has one field fewer

    const example = compileAndRun(path.join(ROOT, 'examples', 'c', 'adamw_step.c'), old, old);
    expect(example.out).toMatch(/AdamW step on 8 CPU parameters: ok/);
    expect(example.out).toMatch(/library ABI 2, header ABI 1, version /);
    expect(example.status).toBe(0);

    const caller = compileAndRun(path.join(ROOT, 'test', 'abi', 'old_caller.c'), old, old);
    expect(caller.out).toMatch(/desc size 104, state bytes 128 \(expected 128\)/);
    expect(caller.out).toMatch(/desc\.size: expected 104 \(ABI 1\) or 112 \(ABI 2\).*got 8/);
    expect(caller.status).toBe(0);
  });

  test('the C example built against the current header', () => {
    const r = compileAndRun(path.join(ROOT, 'examples', 'c', 'adamw_step.c'), path.join(ROOT, 'native', 'include'), dir);
    expect(r.out).toMatch(/AdamW step on 8 CPU parameters: ok/);
    expect(r.out).toMatch(/unsized options rejected: options\.size: expected \d+ \(ABI 1\)/);
    expect(r.out).toMatch(new RegExp(`library ABI 2, header ABI 2, version ${PACKAGE.version.replace(/\./g, '\\.')}`));
    expect(r.status).toBe(0);
  });
});
