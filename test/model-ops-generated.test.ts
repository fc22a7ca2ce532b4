// The model ops' C API list (FRUGAL_MODEL_C_API / FRUGAL_MODEL_C_ARGS_<op> in
// native/core/model_backend.h) is the one source of their signatures: the C declarations and the
// TS types are written from it (scripts/gen-model-ops.js) and must match it, and every listed op
// is a function of the addon's `model`.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { native } from '../lib/native';

const ROOT = path.resolve(__dirname, '..');
const FILES = ['scripts/gen-model-ops.js', 'native/core/model_backend.h', 'native/include/frugal_model.h',
  'lib/model/native-ops.ts'];

// The (op, jsName) pairs of FRUGAL_MODEL_C_API, read the way the generator reads them.
function listedOps(): Array<[string, string]> {
  const text = fs.readFileSync(path.join(ROOT, 'native/core/model_backend.h'), 'utf8');
  const list = text.slice(text.indexOf('#define FRUGAL_MODEL_C_API(X)'), text.indexOf('#define FRUGAL_MODEL_C_ARGS_'));
  return [...list.matchAll(/X\((\w+),\s*(\w+)\)/g)].map((m) => [m[1], m[2]]);
}

describe('model ops from one list', () => {
  test('the generated declarations and TS types match the list (gen-model-ops --check)', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-model-ops.js'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('--check names the stale files after an argument is renamed, and refuses a malformed argument', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-model-ops-'));
    try {
      for (const rel of FILES) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, rel), path.join(dir, rel));
      }
      const gen = path.join(dir, 'scripts', 'gen-model-ops.js');
      expect(spawnSync(process.execPath, [gen, '--check']).status).toBe(0);

      const listPath = path.join(dir, 'native/core/model_backend.h');
      const list = fs.readFileSync(listPath, 'utf8');
      fs.writeFileSync(listPath, list.replace('A(SIZE, int64_t, n, n) A(NUM, float, alpha, alpha)',
        'A(SIZE, int64_t, count, count) A(NUM, float, alpha, alpha)'));
      const stale = spawnSync(process.execPath, [gen, '--check'], { encoding: 'utf8' });
      expect(stale.status).toBe(1);
      expect(stale.stderr).toMatch(
        /stale .*native\/include\/frugal_model\.h.*lib\/model\/native-ops\.ts/,
      );

      fs.writeFileSync(listPath, list.replace('A(PTR, float*, y, y)', 'A(PTR, float*, y)'));
      const bad = spawnSync(process.execPath, [gen, '--check'], { encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/FRUGAL_MODEL_C_ARGS_rmsnorm_forward: expected only A\(kind, C type, C name, JS name\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every listed op is a function of the addon, named as listed', () => {
    const model = (native() as unknown as { model: Record<string, unknown> }).model;
    const ops = listedOps();
    expect(ops.length).toBeGreaterThanOrEqual(13);
    expect(Object.keys(model).sort()).toEqual(ops.map(([, js]) => js).sort());
    for (const [, js] of ops) expect(typeof model[js]).toBe('function');
  });
});
