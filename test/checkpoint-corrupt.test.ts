// The safetensors reader and the checkpoint loader against damaged files, one defect at a time:
// each is refused with an error that says what is wrong (found by StrykerJS: these checks had
// no test, docs/mutation-testing.md). Plus the writer's 8-byte alignment and an int32 state.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, Frugal, Tensor } from '../lib';
import { loadStateDictFile, saveStateDict } from '../lib/checkpoint/optimizer-checkpoint';
import { decodeSafetensors, encodeSafetensors, readSafetensorsFile, SafetensorsTensor } from '../lib/checkpoint/safetensors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-corrupt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// A file with this exact header (as JSON) and data bytes.
function raw(header: unknown, data: Uint8Array = new Uint8Array(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  out.set(data, 8 + json.length);
  return out;
}
const decode = (buf: Uint8Array) => () => decodeSafetensors(buf, 'f.safetensors');
const f32 = (n: number) => ({ dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] });

describe('writing', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 13])('pads the header to 8-byte alignment with fewer than 8 spaces (metadata of %i chars, one multi-byte)', (n) => {
    const buf = encodeSafetensors([['t', { dtype: 'F32', shape: [1], data: new Float32Array([2]) }]], { k: 'é' + 'x'.repeat(n) });
    const len = Number(buf.readBigUInt64LE(0));
    expect((8 + len) % 8).toBe(0);
    const header = buf.subarray(8, 8 + len).toString('utf8');
    expect(header.length - header.trimEnd().length).toBeLessThan(8);
    expect(decodeSafetensors(buf, 'x').metadata.k).toBe('é' + 'x'.repeat(n));
  });

  it('refuses a tensor named __metadata__ and a data size that does not fit the shape', () => {
    expect(() => encodeSafetensors([['__metadata__', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]], {})).toThrow(/'__metadata__' is not a tensor name/);
    expect(() => encodeSafetensors([['t', { dtype: 'F32', shape: [2], data: new Float32Array(1) }]], {})).toThrow(/tensor 't' has 4 bytes, shape \[2\] of F32 needs 8/);
  });
});

describe('reading a damaged safetensors buffer', () => {
  it.each([
    ['7 bytes', Buffer.alloc(7), /truncated: 7 bytes, fewer than the 8-byte header length/],
    ['a header longer than the file', Buffer.concat([Buffer.from([100, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}  ')]), /truncated: the header says 100 bytes, the file has 4 after the length/],
    ['a header a few bytes longer than the file', Buffer.concat([Buffer.from([6, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}  ')]), /truncated: the header says 6 bytes, the file has 4 after the length/],
    // JSON.parse's own message, not a later check's.
    ['an empty header (8 bytes: not truncated)', Buffer.alloc(8), /corrupt header: (?!not a JSON object)\S/],
    ['a header that is not JSON', Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x')]), /corrupt header: (?!not a JSON object)\S/],
    ['a list header', raw([]), /corrupt header: not a JSON object/],
    ['a null header', raw(null), /corrupt header: not a JSON object/],
    ['a number header', raw(5), /corrupt header: not a JSON object/],
    ['a metadata value that is not a string', raw({ __metadata__: { a: 1 } }), /metadata 'a' must be a string/],
    ['a null entry', raw({ t: null }), /tensor 't': expected \{dtype, shape, data_offsets\}, got null/],
    ['an unsupported dtype', raw({ t: { ...f32(1), dtype: 'F64' } }, new Uint8Array(8)), /tensor 't': dtype "F64" is not one of F32, BF16, F16, I32/],
    ['a shape that is not a list', raw({ t: { ...f32(1), shape: 3 } }, new Uint8Array(4)), /tensor 't': shape \S+ is not a list of non-negative integers/],
    ['a negative dimension', raw({ t: { ...f32(1), shape: [-1] } }, new Uint8Array(4)), /tensor 't': shape \S+ is not a list of non-negative integers/],
    ['a negative second dimension', raw({ t: { ...f32(2), shape: [2, -1] } }, new Uint8Array(8)), /tensor 't': shape \S+ is not a list of non-negative integers/],
    ['a fractional dimension', raw({ t: { ...f32(1), shape: [1.5] } }, new Uint8Array(4)), /tensor 't': shape \S+ is not a list of non-negative integers/],
    ['offsets that are not a list', raw({ t: { ...f32(1), data_offsets: 4 } }, new Uint8Array(4)), /tensor 't': data_offsets \S+ is not \[begin, end\]/],
    ['three offsets', raw({ t: { ...f32(1), data_offsets: [0, 4, 4] } }, new Uint8Array(4)), /tensor 't': data_offsets \S+ is not \[begin, end\]/],
    ['a negative offset', raw({ t: { ...f32(1), data_offsets: [-4, 0] } }, new Uint8Array(4)), /tensor 't': data_offsets \S+ is not \[begin, end\]/],
    ['a fractional offset', raw({ t: { ...f32(1), data_offsets: [0, 4.5] } }, new Uint8Array(8)), /tensor 't': data_offsets \S+ is not \[begin, end\]/],
    ['an end before the start', raw({ t: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /tensor 't': data_offsets \S+ is not \[begin, end\]/],
    ['a size that does not fit the shape', raw({ t: { ...f32(2), data_offsets: [4, 8] } }, new Uint8Array(8)), /tensor 't': data_offsets \[4,8\] hold 4 bytes, shape \[2\] of F32 needs 8/],
  ] as [string, Buffer, RegExp][])('%s', (_what, buf, message) => {
    expect(decode(buf)).toThrow(message);
  });

  it('accepts what the checks allow at their edges: an empty tensor, offsets [n, n]', () => {
    const got = decodeSafetensors(raw({ e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] }, t: f32(1) }, new Uint8Array(4)), 'x');
    expect(got.tensors.get('e')!.shape).toEqual([0]);
    expect(got.tensors.get('t')!.data.length).toBe(4);
  });
});

describe('loading a damaged optimizer checkpoint', () => {
  // A real AdamW checkpoint, re-encoded with one thing changed.
  function tampered(change: (t: Map<string, SafetensorsTensor>, m: Record<string, string>) => void): string {
    const p = Tensor.randn([4], { seed: 1 });
    p.grad = Tensor.randn([4], { seed: 2 });
    const opt = new AdamW([p], { lr: 0.01 });
    opt.step();
    const good = path.join(dir, 'good.safetensors');
    saveStateDict(good, opt.stateDict());
    const { tensors, metadata } = readSafetensorsFile(good);
    change(tensors, metadata);
    const file = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.safetensors`);
    fs.writeFileSync(file, encodeSafetensors(tensors, metadata));
    return file;
  }

  it.each(['format', 'optimizer', 'step', 'max_grad_norm', 'groups', 'params'])("metadata '%s' missing", (key) => {
    const file = tampered((_t, m) => void delete m[key]);
    expect(() => loadStateDictFile(file)).toThrow(new RegExp(`not a valid frugal-optim checkpoint: metadata '${key}' is missing`));
  });

  it.each([
    ['corrupt JSON', (_t: Map<string, SafetensorsTensor>, m: Record<string, string>): void => void (m.groups = '{'), /not a valid frugal-optim checkpoint: metadata 'groups' is not JSON: /],
    ['params not a list', (_t: Map<string, SafetensorsTensor>, m: Record<string, string>): void => void (m.params = '{}'), /not a valid frugal-optim checkpoint: metadata 'params' must be a list/],
    ['a state tensor missing', (t: Map<string, SafetensorsTensor>): void => void t.delete('params.0.exp_avg'), /tensor 'params.0.exp_avg' is missing/],
    ['a state tensor of another dtype', (t: Map<string, SafetensorsTensor>): void => void t.set('params.0.exp_avg', { dtype: 'I32', shape: [4], data: new Uint8Array(16) }), /tensor 'params.0.exp_avg' is I32 \[4\], the metadata says F32 \[4\]/],
    ['a state tensor of two dimensions', (t: Map<string, SafetensorsTensor>): void => void t.set('params.0.exp_avg', { dtype: 'F32', shape: [4, 1], data: new Uint8Array(16) }), /tensor 'params.0.exp_avg' is F32 \[4,1\], the metadata says F32 \[4\]/],
    ['a state tensor of another length', (t: Map<string, SafetensorsTensor>): void => void t.set('params.0.exp_avg', { dtype: 'F32', shape: [3], data: new Uint8Array(12) }), /tensor 'params.0.exp_avg' is F32 \[3\], the metadata says F32 \[4\]/],
  ] as const)('%s', (_what, change, message) => {
    const file = tampered(change);
    expect(() => loadStateDictFile(file)).toThrow(message);
  });

  it('an int32 state tensor (FRUGAL column indices) round-trips as I32', () => {
    const p = Tensor.randn([4, 8], { seed: 3 });
    p.grad = Tensor.randn([4, 8], { seed: 4 });
    const opt = new Frugal([p], { lr: 0.01, selection: 'columns', density: 0.5 });
    opt.step();
    const file = path.join(dir, 'frugal.safetensors');
    const sd = opt.stateDict();
    saveStateDict(file, sd);
    expect(readSafetensorsFile(file).tensors.get('params.0.indices')!.dtype).toBe('I32');
    const back = loadStateDictFile(file);
    const idx = back.params[0].state.find((s) => s.name === 'indices')!;
    expect(Array.from(idx.data)).toEqual(Array.from(sd.params[0].state.find((s) => s.name === 'indices')!.data));
  });
});
