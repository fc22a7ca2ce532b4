// Tests for lib/checkpoint/*.ts aimed at StrykerJS's mutants (docs/mutation-testing.md,
// "StrykerJS"). The corruption fuzz (checkpoint-corruption.test.ts) asserts only that a damaged
// file is refused: a check that Stryker turns off there is usually caught by a later one (the
// state-dict checks, a CRC), so the mutant survives. Here each check must refuse with its own
// message. Public API only: Optimizer.save/load and the exported codec. Each test names what it
// kills: "<condition> -> <mutant>".
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, decodeSafetensors, encodeSafetensors, SafetensorsTensor, Tensor } from '../../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-stryker-ckpt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function stepped(): AdamW {
  const p = Tensor.randn([4], { seed: 1 });
  p.grad = Tensor.randn([4], { seed: 2 });
  const opt = new AdamW([p], { lr: 0.01 });
  opt.step();
  return opt;
}

let serial = 0;
/** A saved AdamW checkpoint re-encoded (fresh checksums) after `edit`; returns its path. */
function edited(edit: (t: Map<string, SafetensorsTensor>, m: Record<string, string>) => void): string {
  const good = path.join(dir, `good-${serial}.safetensors`);
  stepped().save(good);
  const { tensors, metadata } = decodeSafetensors(fs.readFileSync(good), good);
  edit(tensors, metadata);
  const file = path.join(dir, `bad-${serial++}.safetensors`);
  fs.writeFileSync(file, encodeSafetensors([...tensors].map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.data }]), metadata));
  return file;
}
/** Edits the JSON of metadata 'params'. */
const params = (edit: (ps: Record<string, unknown>[]) => void) =>
  edited((_t, m) => {
    const ps = JSON.parse(m.params);
    edit(ps);
    m.params = JSON.stringify(ps);
  });
const loadError = (file: string) => () => stepped().load(file);
const invalid = (file: string, why: string) => new Error(`AdamW.load: ${file}: not a valid frugal-optim checkpoint: ${why}`);

describe('the checkpoint loader names each defect', () => {
  test('a params entry that is not an object, or has no state list', () => {
    // kills: `typeof p !== 'object' || p === null` operands -> false; `!Array.isArray(meta.state)` -> false
    let f = params((ps) => void (ps[0] = 5 as never));
    expect(loadError(f)).toThrow(invalid(f, 'param 0: expected an object, got 5'));
    f = params((ps) => void (ps[0] = null as never));
    expect(loadError(f)).toThrow(invalid(f, 'param 0: expected an object, got null'));
    f = params((ps) => void (ps[0].state = {}));
    expect(loadError(f)).toThrow(invalid(f, "param 0: 'state' must be a list of tensors"));
  });

  test('a state entry without a name, or with a bad dtype or count', () => {
    // kills: each operand of the entry checks -> false; `count < 0` -> `<= 0`
    const state = (edit: (s: Record<string, unknown>) => void) => params((ps) => edit((ps[0].state as Record<string, unknown>[])[0]));
    let f = state((s) => void delete s.name);
    expect(loadError(f)).toThrow(invalid(f, 'param 0: a state tensor has no name'));
    f = params((ps) => void ((ps[0].state as unknown[])[0] = null));
    expect(loadError(f)).toThrow(invalid(f, 'param 0: a state tensor has no name'));
    const needs = (name: string) => `tensor 'params.0.${name}': the metadata needs a dtype (float32, bfloat16, float16, int32) and a count >= 0`;
    f = state((s) => void (s.dtype = 'float64'));
    expect(loadError(f)).toThrow(invalid(f, needs('exp_avg')));
    f = state((s) => void (s.count = -1));
    expect(loadError(f)).toThrow(invalid(f, needs('exp_avg')));
    f = state((s) => void (s.count = 1.5));
    expect(loadError(f)).toThrow(invalid(f, needs('exp_avg')));
  });

  test('metadata keys: an unknown one is refused, skipped_steps is optional', () => {
    // kills: the unknown-key test -> false; OPTIONAL_METADATA_KEYS -> []; `skipped !== undefined` -> true
    let f = edited((_t, m) => void (m.extra = '1'));
    expect(loadError(f)).toThrow(
      invalid(f, "unknown metadata key \"extra\" (expected format, optimizer, step, max_grad_norm, groups, params, skipped_steps and 'frugal.crc32')"),
    );
    f = edited((_t, m) => void (m.skipped_steps = '2'));
    const opt = stepped();
    opt.load(f);
    expect(opt.skippedSteps()).toBe(2);
    f = edited((_t, m) => void delete m.skipped_steps);
    expect(() => stepped().load(f)).not.toThrow();
  });

  test.each([
    ['step', '01'],
    ['step', '1e3'],
    ['step', ' 1'],
    ['step', '-1'],
    ['skipped_steps', '1.0'],
  ])("metadata '%s' = %p is not a decimal integer", (key, value) => {
    // kills: INTEGER_TEXT's anchors and alternatives -> looser patterns; the two tests -> false
    const f = edited((_t, m) => void (m[key] = value));
    expect(loadError(f)).toThrow(invalid(f, `metadata '${key}' is ${JSON.stringify(value)}, expected a decimal integer >= 0`));
  });

  test.each([['0.5'], ['1e-7'], ['1.5e+3'], ['0']])("max_grad_norm %p is a number as String() writes it", (value) => {
    // kills: NUMBER_TEXT's optional fraction and exponent groups -> required / removed
    const f = edited((_t, m) => void (m.max_grad_norm = value));
    const opt = stepped();
    opt.load(f);
    expect(opt.stateDict().maxGradNorm).toBe(Number(value));
  });

  test.each([['.5'], ['1e3'], ['-1'], ['0x10'], ['']])('max_grad_norm %p is refused', (value) => {
    // kills: NUMBER_TEXT's anchors -> removed; the test -> false
    const f = edited((_t, m) => void (m.max_grad_norm = value));
    expect(loadError(f)).toThrow(invalid(f, `metadata 'max_grad_norm' is ${JSON.stringify(value)}, expected a finite number >= 0`));
  });

  test("params that are not JSON name 'params', not 'groups'", () => {
    // kills: the second try/catch's message -> "" (groups' is tested in checkpoint-corrupt)
    const f = edited((_t, m) => void (m.params = '[{'));
    expect(loadError(f)).toThrow(new RegExp(`not a valid frugal-optim checkpoint: metadata 'params' is not JSON: `));
  });

  test('a tensor the metadata does not list', () => {
    // kills: the `!used.has(name)` loop -> removed
    const f = edited((t) => void t.set('params.0.extra', { dtype: 'F32', shape: [1], data: new Uint8Array(4) }));
    expect(loadError(f)).toThrow(invalid(f, "tensor 'params.0.extra' is not listed in metadata 'params'"));
  });
});

describe('writing a file', () => {
  test('a write that fails after the temporary file exists leaves no temporary file behind', () => {
    // kills: `fs.rmSync(tmp, { force: true })` in writeSafetensorsFile's catch -> removed or `force: false`
    const target = path.join(dir, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x'); // renaming a file onto a non-empty directory fails
    expect(() => stepped().save(target)).toThrow(new RegExp(`^AdamW\\.save: ${target}: cannot write: `));
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(fs.readdirSync(target)).toEqual(['keep']);
  });

  test('a saved file holds the step, the clipping norm and one tensor per state, and loads back', () => {
    // kills: the metadata's String(...) fields -> ""; the tensor names "params.<i>.<state>"
    const opt = stepped();
    const file = path.join(dir, 'round.safetensors');
    opt.save(file);
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
    expect([metadata.format !== '', metadata.optimizer, metadata.step, metadata.max_grad_norm]).toEqual([true, 'AdamW', '1', '0']);
    expect([...tensors.keys()].sort()).toEqual(['params.0.exp_avg', 'params.0.exp_avg_sq']);
    const back = stepped();
    back.load(file);
    expect(back.stateDict()).toEqual(opt.stateDict());
  });
});
