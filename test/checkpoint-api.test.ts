// The checkpoint API under abuse: save() and load() take file paths only (a number would be a
// file descriptor: load(0) read stdin), every refusal carries the method's name, and
// encodeSafetensors refuses what decodeSafetensors could not read back.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, decodeSafetensors, encodeSafetensors, Tensor } from '../lib';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-ckapi-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const INTERNAL = /Cannot read properties|Cannot convert|undefined is not|is not a function|is not iterable|must be of type|Received type/;

function optimizer(): AdamW {
  const p = Tensor.randn([4, 3], { seed: 1 });
  p.grad = Tensor.randn([4, 3], { seed: 2 });
  const opt = new AdamW([p], { lr: 0.01 });
  opt.step();
  return opt;
}

describe('save() and load() take paths only', () => {
  const notPaths: [string, unknown][] = [
    ['0 (stdin)', 0],
    ['1 (stdout)', 1],
    ['1n', 1n],
    ['a Buffer', Buffer.from(path.join(dir, 'x.safetensors'))],
    ['a URL', new URL(`file://${path.join(dir, 'x.safetensors')}`)],
    ['an empty string', ''],
    ['null', null],
    ['undefined', undefined],
    ['an object', {}],
  ];
  test.each(notPaths)('load(%s) is refused at once, naming the argument', (_what, file) => {
    const opt = optimizer();
    const before = opt.stateDict();
    const t0 = Date.now();
    expect(() => opt.load(file as string)).toThrow(/^AdamW\.load: file: expected a file path \(a non-empty string\), got /);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(opt.stateDict()).toEqual(before);
  });
  test.each(notPaths)('save(%s) is refused, naming the method and the argument', (_what, file) => {
    const opt = optimizer();
    expect(() => opt.save(file as string)).toThrow(/^AdamW\.save: file: expected a file path \(a non-empty string\), got /);
  });
  test('save() errors from the file system carry the method and the file', () => {
    const opt = optimizer();
    const target = path.join(dir, 'no-such-dir', 'x.safetensors');
    expect(() => opt.save(target)).toThrow(new RegExp(`^AdamW\\.save: ${target}: cannot write: ENOENT`));
    expect(() => opt.load(target)).toThrow(new RegExp(`^AdamW\\.load: ${target}: cannot read: ENOENT`));
  });
  test('a disposed optimizer names save', () => {
    const opt = optimizer();
    opt.dispose();
    expect(() => opt.save(path.join(dir, 'y.safetensors'))).toThrow(/^AdamW\.save: /);
  });
});

describe('encodeSafetensors refuses junk with a message', () => {
  const f32 = { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) };
  const junk: [string, () => unknown, RegExp][] = [
    ['null tensors', () => encodeSafetensors(null as never, {}), /tensors: expected an iterable/],
    ['a number', () => encodeSafetensors(42 as never, {}), /tensors: expected an iterable/],
    ['a pair that is not a pair', () => encodeSafetensors([['a']] as never, {}), /expected \[name, \{dtype, shape, data\}\] pairs/],
    ['a null tensor', () => encodeSafetensors([['a', null]] as never, {}), /tensor 'a': expected \{dtype, shape, data\}/],
    ['an unknown dtype', () => encodeSafetensors([['a', { ...f32, dtype: 'F64' }]] as never, {}), /tensor 'a': dtype must be one of/],
    ['a negative shape', () => encodeSafetensors([['a', { ...f32, shape: [-2] }]], {}), /tensor 'a': shape must be an array of non-negative integers/],
    ['a string shape', () => encodeSafetensors([['a', { ...f32, shape: '2' }]] as never, {}), /tensor 'a': shape must be an array/],
    ['data that is not a typed array', () => encodeSafetensors([['a', { ...f32, data: [1, 2] }]] as never, {}), /tensor 'a': data must be a typed array/],
    ['a size mismatch', () => encodeSafetensors([['a', { ...f32, shape: [3] }]], {}), /tensor 'a' has 8 bytes, shape \[3\] of F32 needs 12/],
    ['a numeric name', () => encodeSafetensors([[7, f32]] as never, {}), /a tensor name must be a non-empty string/],
    ['a duplicate name', () => encodeSafetensors([['a', f32], ['a', f32]], {}), /tensor 'a' is given twice/],
    ['numeric metadata', () => encodeSafetensors([['a', f32]], { step: 3 } as never), /metadata 'step': expected a string .* got 3/],
    ['null metadata', () => encodeSafetensors([['a', f32]], null as never), /metadata: expected an object of strings/],
    ['the reserved checksum key', () => encodeSafetensors([['a', f32]], { 'frugal.crc32': 'x' }), /reserved/],
  ];
  test.each(junk)('%s', (_what, call, pattern) => {
    let message = '';
    try {
      call();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^encodeSafetensors: /);
    expect(message).toMatch(pattern);
    expect(message).not.toMatch(INTERNAL);
  });

  test('what it writes, decodeSafetensors reads back (metadata, shapes, bytes)', () => {
    const a = new Float32Array([1, -2, 3.5]);
    const b = new Int32Array([7]);
    const buf = encodeSafetensors([['a', { dtype: 'F32', shape: [3], data: a }], ['b', { dtype: 'I32', shape: [1, 1], data: b }]], { note: 'x' });
    const back = decodeSafetensors(buf, 'memory');
    expect(back.metadata).toEqual({ note: 'x' });
    expect([...back.tensors.keys()]).toEqual(['a', 'b']);
    expect(new Float32Array(back.tensors.get('a')!.data.buffer)).toEqual(a);
    expect(back.tensors.get('b')!.shape).toEqual([1, 1]);
    expect(() => decodeSafetensors('text' as never, 'x')).toThrow(/^decodeSafetensors: buf must be a Buffer or Uint8Array/);
  });
});
