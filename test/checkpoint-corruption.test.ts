// A seeded corruption fuzz over saved optimizer checkpoints: single bit flips, truncations, header
// length off by one, trailing bytes, offset swaps, overlaps and gaps, metadata type changes, and
// state values outside their domains (NaN or negative second moments, zero scales, indices out of
// range or repeated, "1e3" steps, "" clipping norms) written with valid checksums so that only the
// value checks can catch them. Every corrupt file must be refused, by a message that names the
// file, never by a JavaScript internal error, and the optimizer must be left as it was.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AdamW, BAdam, decodeSafetensors, encodeSafetensors, Frugal, GaLore, Grass, Optimizer, SafetensorsTensor, Tensor } from '../lib';
import { seededRandom as rng } from './helpers/seeded';
import { setGrads } from './helpers/update-rules';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-corrupt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SHAPES = [[12, 8], [8], [6, 10]];
const INTERNAL = /Cannot read properties|Cannot convert|undefined is not|is not a function|is not iterable|of undefined|of null/;

type Make = (params: Tensor[]) => Optimizer;
const METHODS: [string, Make][] = [
  ['AdamW bf16 state', (p) => new AdamW(p, { lr: 0.01, stateDtype: 'bfloat16' })],
  ['Frugal columns', (p) => new Frugal(p, { lr: 0.01, selection: 'columns', density: 0.3, updateGap: 2, seed: 1 })],
  ['Grass top-r', (p) => new Grass(p, { lr: 0.01, rank: 3, updateGap: 2 })],
  ['Grass norm sampling with replacement', (p) => new Grass(p, { lr: 0.01, rank: 4, sampling: 'norm', replacement: true, updateGap: 2, seed: 9 })],
  ['GaLore svd', (p) => new GaLore(p, { lr: 0.01, rank: 2, updateGap: 2 })],
  ['BAdam', (p) => new BAdam([[p[0], p[1]], [p[2]]], { lr: 0.01, switchEvery: 2 })],
];

function saved(make: Make, name: string): { file: string; make: Make } {
  const params = SHAPES.map((s, i) => Tensor.randn(s, { seed: 10 + i }));
  const opt = make(params);
  for (let t = 0; t < 3; t++) {
    setGrads(params, t);
    opt.step();
  }
  const file = path.join(dir, `${name.replace(/\W+/g, '_')}.safetensors`);
  opt.save(file);
  return { file, make };
}

/** The header of a file, its length field and data, to edit the layout by hand. */
function split(bytes: Buffer): { header: Record<string, any>; data: Buffer } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')), data: bytes.subarray(8 + n) };
}
function join(header: Record<string, unknown>, data: Buffer, lengthDelta = 0): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length + lengthDelta));
  return Buffer.concat([len, json, data]);
}
const tensorNames = (header: Record<string, unknown>) => Object.keys(header).filter((k) => k !== '__metadata__');

/** Re-encodes with fresh checksums: only the layout and value checks can catch what was changed. */
function reencode(bytes: Buffer, edit: (t: Map<string, SafetensorsTensor>, m: Record<string, string>) => void): Buffer {
  const { tensors, metadata } = decodeSafetensors(bytes, 'original');
  edit(tensors, metadata);
  return encodeSafetensors([...tensors].map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.data }]), metadata);
}
function setParams(m: Record<string, string>, edit: (params: any[]) => void): void {
  const params = JSON.parse(m.params);
  edit(params);
  m.params = JSON.stringify(params);
}
/** Element j of a state tensor through a view of its dtype. */
function editState(t: Map<string, SafetensorsTensor>, name: string, edit: (v: Float32Array | Int32Array | Uint16Array) => void): boolean {
  const s = t.get(name);
  if (!s || s.data.byteLength === 0) return false;
  const view = s.dtype === 'I32' ? new Int32Array(s.data.buffer) : s.dtype === 'F32' ? new Float32Array(s.data.buffer) : new Uint16Array(s.data.buffer);
  edit(view);
  return true;
}
const firstState = (t: Map<string, SafetensorsTensor>, suffix: string) => [...t.keys()].find((k) => k.endsWith(`.${suffix}`));

type Corruption = [string, Buffer];

function corruptions(bytes: Buffer, seed: number): Corruption[] {
  const r = rng(seed);
  const pick = (n: number) => Math.floor(r() * n);
  const out: Corruption[] = [];
  const { header, data } = split(bytes);
  const headerEnd = bytes.length - data.length;

  // Raw damage, caught by the layout or the checksums.
  for (let i = 0; i < 40; i++) {
    const b = Buffer.from(bytes);
    const at = i < 20 ? pick(bytes.length) : headerEnd + pick(data.length); // half of them in the tensor data
    b[at] ^= 1 << pick(8);
    out.push([`bit flip at byte ${at}`, b]);
  }
  for (let i = 0; i < 6; i++) {
    const keep = pick(bytes.length);
    out.push([`truncated to ${keep} bytes`, bytes.subarray(0, keep)]);
  }
  out.push(['header length + 1', join(header, data, 1)]);
  out.push(['header length - 1', join(header, data, -1)]);
  out.push(['a trailing byte', Buffer.concat([bytes, Buffer.of(0)])]);
  const names = tensorNames(header).filter((n) => header[n].data_offsets[1] > header[n].data_offsets[0]);
  const [a, b] = [names[0], names[names.length - 1]];
  const swapped = structuredClone(header);
  [swapped[a].data_offsets, swapped[b].data_offsets] = [swapped[b].data_offsets, swapped[a].data_offsets];
  out.push([`offsets of ${a} and ${b} swapped`, join(swapped, data)]);
  const overlap = structuredClone(header);
  overlap[b].data_offsets = [overlap[b].data_offsets[0] - 4, overlap[b].data_offsets[1] - 4];
  out.push([`${b} overlapping its neighbour`, join(overlap, data)]);
  const dtype = structuredClone(header);
  dtype[a].dtype = dtype[a].dtype === 'F32' ? 'I32' : 'F32';
  out.push([`dtype of ${a} changed`, join(dtype, data)]);
  const meta = structuredClone(header);
  meta.__metadata__.step = Number(meta.__metadata__.step);
  out.push(['metadata step as a JSON number', join(meta, data)]);

  // The same layout damage in a file without checksums (as written before them): the layout checks alone.
  const bare = structuredClone(header);
  delete bare.__metadata__['frugal.crc32'];
  const bareSwap = structuredClone(bare);
  const sizes = names.map((n) => header[n].data_offsets[1] - header[n].data_offsets[0]);
  const other = names.find((n, i) => sizes[i] !== sizes[0]);
  if (other) {
    [bareSwap[a].data_offsets, bareSwap[other].data_offsets] = [bareSwap[other].data_offsets, bareSwap[a].data_offsets];
    out.push([`no checksums: offsets of ${a} and ${other} (other sizes) swapped`, join(bareSwap, data)]);
  }
  const bareOverlap = structuredClone(bare);
  bareOverlap[b].data_offsets = [bareOverlap[b].data_offsets[0] - 4, bareOverlap[b].data_offsets[1] - 4];
  out.push(['no checksums: overlap', join(bareOverlap, data)]);
  out.push(['no checksums: header length + 1', join(bare, data, 1)]);
  out.push(['no checksums: trailing bytes', Buffer.concat([join(bare, data), Buffer.alloc(4)])]);
  const gap = structuredClone(bare);
  gap[a].shape = [gap[a].shape[0] - 1];
  gap[a].data_offsets = [gap[a].data_offsets[0], gap[a].data_offsets[1] - (gap[a].dtype === 'F32' || gap[a].dtype === 'I32' ? 4 : 2)];
  out.push(['no checksums: a gap after a shortened tensor', join(gap, data)]);
  out.push(['no checksums: negative shape', join({ ...bare, [a]: { ...bare[a], shape: [-1] } }, data)]);
  out.push(['no checksums: fractional offsets', join({ ...bare, [a]: { ...bare[a], data_offsets: [0.5, 4.5] } }, data)]);
  out.push(['no checksums: metadata null', join({ ...bare, __metadata__: null }, data)]);
  out.push(['no checksums: header is an array', join([] as never, data)]);

  // Valid checksums, wrong values: the field and value checks.
  const edits: [string, (t: Map<string, SafetensorsTensor>, m: Record<string, string>) => boolean | void][] = [
    ['step "1e3"', (_t, m) => void (m.step = '1e3')],
    ['step ""', (_t, m) => void (m.step = '')],
    ['step "-1"', (_t, m) => void (m.step = '-1')],
    ['max_grad_norm ""', (_t, m) => void (m.max_grad_norm = '')],
    ['max_grad_norm "abc"', (_t, m) => void (m.max_grad_norm = 'abc')],
    ['max_grad_norm "-1"', (_t, m) => void (m.max_grad_norm = '-1')],
    ['max_grad_norm "Infinity"', (_t, m) => void (m.max_grad_norm = 'Infinity')],
    ['format missing', (_t, m) => void delete m.format],
    ['groups "null"', (_t, m) => void (m.groups = 'null')],
    ['groups not JSON', (_t, m) => void (m.groups = '[{')],
    ['a group without native', (_t, m) => void (m.groups = JSON.stringify(JSON.parse(m.groups).map((g: any) => ({ options: g.options }))))],
    ['rng words as numbers', (_t, m) => void (m.groups = JSON.stringify(JSON.parse(m.groups).map((g: any) => ({ ...g, native: g.native.map((n: any) => ({ ...n, rng: [1, 2, 3, 4] })) }))))],
    ['params "null"', (_t, m) => void (m.params = 'null')],
    ['params [null]', (_t, m) => void (m.params = '[null]')],
    ['a param without state', (_t, m) => setParams(m, (p) => delete p[0].state)],
    ['counters.step as a string', (_t, m) => setParams(m, (p) => (p[0].counters.step = String(p[0].counters.step)))],
    ['counters.step -1', (_t, m) => setParams(m, (p) => (p[0].counters.step = -1))],
    ['counters.stateStep 1.5', (_t, m) => setParams(m, (p) => (p[0].counters.stateStep = 1.5))],
    ['a state count off by one', (_t, m) => setParams(m, (p) => (p[0].state[0].count += 1))],
    ['an unknown state dtype', (_t, m) => setParams(m, (p) => (p[0].state[0].dtype = 'float64'))],
    ['a tensor not in the metadata', (t) => void t.set('params.0.extra', { dtype: 'F32', shape: [1], data: new Uint8Array(4) })],
    ['a tensor missing', (t) => void t.delete([...t.keys()][0])],
    ['exp_avg_sq NaN', (t) => editState(t, firstState(t, 'exp_avg_sq') ?? '', (v) => (v instanceof Uint16Array ? (v[0] = 0x7fc0) : (v[0] = NaN)))],
    ['exp_avg_sq negative', (t) => editState(t, firstState(t, 'exp_avg_sq') ?? '', (v) => (v instanceof Uint16Array ? (v[0] = 0xbf80) : (v[0] = -1)))],
    ['exp_avg Inf', (t) => editState(t, firstState(t, 'exp_avg') ?? '', (v) => (v instanceof Uint16Array ? (v[0] = 0x7f80) : (v[0] = Infinity)))],
    ['scales 0', (t) => editState(t, firstState(t, 'scales') ?? '', (v) => (v[0] = 0))],
    ['scales NaN', (t) => editState(t, firstState(t, 'scales') ?? '', (v) => (v[0] = NaN))],
    ['basis NaN', (t) => editState(t, firstState(t, 'basis') ?? '', (v) => (v[0] = NaN))],
    ['index out of range', (t) => editState(t, firstState(t, 'indices') ?? '', (v) => (v[0] = 1 << 20))],
    ['index negative', (t) => editState(t, firstState(t, 'indices') ?? '', (v) => (v[0] = -1))],
  ];
  for (const [what, edit] of edits) {
    let applies = true;
    const b = reencode(bytes, (t, m) => {
      if (edit(t, m) === false) applies = false;
    });
    if (applies) out.push([what, b]);
  }
  return out;
}

describe.each(METHODS)('%s: corrupt checkpoints are refused, naming the file', (name, make) => {
  test('seeded fuzz', () => {
    const { file } = saved(make, name);
    const bytes = fs.readFileSync(file);
    const fresh = make(SHAPES.map((s) => Tensor.zeros(s)));
    fresh.load(file); // the intact file loads
    const before = fresh.stateDict();
    const cases = corruptions(bytes, name.length * 7919);
    expect(cases.length).toBeGreaterThan(60);
    const bad = path.join(dir, `bad-${name.replace(/\W+/g, '_')}.safetensors`);
    let dataFlips = 0;
    for (const [what, b] of cases) {
      fs.writeFileSync(bad, b);
      let message: string | null = null;
      try {
        fresh.load(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      if (message === null) throw new Error(`${what}: the corrupt file loaded`);
      if (!message.includes(bad) || INTERNAL.test(message)) throw new Error(`${what}: refused by '${message}'`);
      if (what.startsWith('bit flip') && /CRC-32/.test(message)) dataFlips++;
      if (process.env.SHOW_REFUSALS) console.log(`${what} => ${message.replace(bad, "FILE")}`);
    }
    expect(dataFlips).toBeGreaterThanOrEqual(20); // every flip in the tensor data is a checksum mismatch
    expect(fresh.stateDict()).toEqual(before);
  });
});

describe('duplicate indices', () => {
  test('refused where the selection takes distinct lines, accepted with replacement sampling', () => {
    for (const [name, make, allowed] of [
      ['Grass top-r', METHODS[2][1], false],
      ['Frugal columns', METHODS[1][1], false],
      ['Grass replacement', METHODS[3][1], true],
    ] as const) {
      const { file } = saved(make, `dup-${name}`);
      const b = reencode(fs.readFileSync(file), (t) => {
        editState(t, firstState(t, 'indices')!, (v) => {
          v[1] = v[0];
          if (allowed) v.sort();
        });
      });
      const dup = path.join(dir, `dup-${name.replace(/\W+/g, '_')}.safetensors`);
      fs.writeFileSync(dup, b);
      const fresh = make(SHAPES.map((s) => Tensor.zeros(s)));
      if (allowed) fresh.load(dup);
      else expect(() => fresh.load(dup)).toThrow(new RegExp(`${dup}.*appears twice`));
    }
  });
});

describe('files written before checksums', () => {
  test('still load', () => {
    const { file } = saved(METHODS[1][1], 'old');
    const { header, data } = split(fs.readFileSync(file));
    delete header.__metadata__['frugal.crc32'];
    const old = path.join(dir, 'old-format.safetensors');
    fs.writeFileSync(old, join(header, data));
    const a = METHODS[1][1](SHAPES.map((s) => Tensor.zeros(s)));
    const b = METHODS[1][1](SHAPES.map((s) => Tensor.zeros(s)));
    a.load(file);
    b.load(old);
    expect(b.stateDict()).toEqual(a.stateDict());
  });
});
