// The safetensors format, written and read here (no dependency): an 8-byte little-endian header
// length, a JSON header mapping each tensor name to {dtype, shape, data_offsets} plus a
// "__metadata__" object of strings, then the raw little-endian bytes. Reads validate the layout
// strictly (as the format specifies: offsets contiguous from 0, no gap, no overlap, nothing after
// the last tensor, lengths equal to dtype size x shape), so a truncated or edited file is
// reported, never half-read. Files written here carry a CRC-32 of every tensor and of the header
// in the metadata (CHECKSUM_KEY); a read verifies it when present (files written before it have
// none and still load), so a flipped bit anywhere is caught.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { describeValue } from '../dtype';

export type SafetensorsDtype = 'F32' | 'BF16' | 'F16' | 'I32';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, BF16: 2, F16: 2, I32: 4 };

/** The metadata key holding the checksums (JSON: {"header": crc, "tensors": {name: crc}}). */
export const CHECKSUM_KEY = 'frugal.crc32';

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw bytes (little-endian elements). */
  data: Uint8Array;
}

export interface SafetensorsContents {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function crcHex(bytes: Uint8Array | string): string {
  return zlib.crc32(bytes).toString(16).padStart(8, '0');
}

/** JSON with object keys sorted at every level: the same text whatever order a parser kept. */
function canonicalJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The header as the checksum sees it: everything except the checksum entry itself. */
function headerDigest(header: Record<string, unknown>): string {
  const { [CHECKSUM_KEY]: _omit, ...meta } = (header.__metadata__ ?? {}) as Record<string, unknown>;
  return crcHex(canonicalJSON({ ...header, __metadata__: meta }));
}

const isDimension = (d: unknown): d is number => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0;

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Serializes tensors (in the given order) and string metadata into one buffer, with a CRC-32 of
 * every tensor and of the header in the metadata. Bad input throws naming the tensor or key.
 */
export function encodeSafetensors(
  tensors: Iterable<[string, { dtype: SafetensorsDtype; shape: number[]; data: ArrayBufferView }]>,
  metadata: Record<string, string> = {},
): Buffer {
  const fail = (why: string): never => {
    throw new TypeError(`encodeSafetensors: ${why}`);
  };
  if (tensors === null || typeof (tensors as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') {
    fail(`tensors: expected an iterable of [name, {dtype, shape, data}] pairs, got ${describeValue(tensors)}`);
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    fail(`metadata: expected an object of strings, got ${describeValue(metadata)}`);
  }
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (k === '__proto__') fail(`metadata '__proto__': not allowed as a key (JSON readers turn it into an object's prototype)`);
    if (typeof v !== 'string') fail(`metadata '${k}': expected a string (the format stores strings only), got ${describeValue(v)}`);
    if (k === CHECKSUM_KEY) fail(`metadata '${k}': reserved for the checksums this function writes`);
    meta[k] = v;
  }
  const header: Record<string, unknown> = { __metadata__: meta };
  const sums: Record<string, string> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const pair of tensors) {
    if (!Array.isArray(pair) || pair.length !== 2) fail(`expected [name, {dtype, shape, data}] pairs, got ${describeValue(pair)}`);
    const [name, t] = pair as [unknown, { dtype?: unknown; shape?: unknown; data?: unknown } | null];
    if (typeof name !== 'string' || name === '') fail(`a tensor name must be a non-empty string, got ${describeValue(name)}`);
    const n = name as string;
    if (n === '__metadata__') fail("'__metadata__' is not a tensor name");
    if (n === '__proto__') fail("'__proto__' is not allowed as a tensor name (JSON readers turn it into an object's prototype)");
    if (Object.prototype.hasOwnProperty.call(header, n)) fail(`tensor '${n}' is given twice`);
    if (typeof t !== 'object' || t === null) fail(`tensor '${n}': expected {dtype, shape, data}, got ${describeValue(t)}`);
    const { dtype, shape, data } = t as { dtype: unknown; shape: unknown; data: unknown };
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
      fail(`tensor '${n}': dtype must be one of ${Object.keys(DTYPE_BYTES).join(', ')}, got ${describeValue(dtype)}`);
    }
    // Read the shape once into a plain array: a getter or Proxy cannot change it after the check.
    const dims = Array.isArray(shape) ? Array.from(shape as unknown[]) : null;
    if (!dims || !dims.every(isDimension)) fail(`tensor '${n}': shape must be an array of non-negative integers, got ${describeValue(shape)}`);
    if (!ArrayBuffer.isView(data)) fail(`tensor '${n}': data must be a typed array or Buffer, got ${describeValue(data)}`);
    const bytes = bytesOf(data as ArrayBufferView);
    const d = dtype as SafetensorsDtype;
    const want = elementCount(dims as number[]) * DTYPE_BYTES[d];
    if (want !== bytes.byteLength) fail(`tensor '${n}' has ${bytes.byteLength} bytes, shape [${dims}] of ${d} needs ${want}`);
    header[n] = { dtype: d, shape: dims, data_offsets: [offset, offset + bytes.byteLength] };
    sums[n] = crcHex(bytes);
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const checksums = { header: headerDigest(header), tensors: sums };
  meta[CHECKSUM_KEY] = JSON.stringify(checksums);
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned (allowed by the format).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Checks one header entry; returns it typed, or throws naming the tensor and what was expected. */
function checkEntry(source: string, name: string, entry: unknown): HeaderEntry {
  const bad = (why: string): never => {
    throw new Error(`${source}: tensor '${name}': ${why}`);
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) bad(`expected {dtype, shape, data_offsets}, got ${describeValue(entry)}`);
  const e = entry as Record<string, unknown>;
  for (const k of Object.keys(e)) if (!['dtype', 'shape', 'data_offsets'].includes(k)) bad(`unknown field '${k}'`);
  if (typeof e.dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, e.dtype)) {
    bad(`dtype ${JSON.stringify(e.dtype)} is not one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  }
  if (!Array.isArray(e.shape) || !e.shape.every(isDimension)) bad(`shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
  const o = e.data_offsets;
  if (!Array.isArray(o) || o.length !== 2 || !o.every(isDimension) || o[1] < o[0]) {
    bad(`data_offsets ${JSON.stringify(o)} is not [begin, end] with integers 0 <= begin <= end`);
  }
  const shape = e.shape as number[];
  const dtype = e.dtype as SafetensorsDtype;
  const offsets = o as [number, number];
  const bytes = elementCount(shape) * DTYPE_BYTES[dtype];
  if (offsets[1] - offsets[0] !== bytes) {
    bad(`data_offsets [${offsets}] hold ${offsets[1] - offsets[0]} bytes, shape [${shape}] of ${dtype} needs ${bytes}`);
  }
  return { dtype, shape, data_offsets: offsets };
}

/** The metadata object: strings only (the format allows nothing else). */
function checkMetadata(source: string, entry: unknown): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new Error(`${source}: corrupt header: '__metadata__' must be an object of strings, got ${describeValue(entry)}`);
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (k === '__proto__') throw new Error(`${source}: corrupt header: metadata key '__proto__' is not allowed`);
    if (typeof v !== 'string') throw new Error(`${source}: corrupt header: metadata '${k}' must be a string, got ${describeValue(v)}`);
    metadata[k] = v;
  }
  return metadata;
}

/** The tensors sorted by offset must tile the data section exactly: from 0, no gap, no overlap, no tail. */
function checkTiling(source: string, entries: [string, HeaderEntry][], dataLength: number): void {
  const sorted = entries.slice().sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1]);
  let end = 0;
  for (const [name, e] of sorted) {
    const [begin, stop] = e.data_offsets;
    if (stop > dataLength) {
      throw new Error(`${source}: truncated: tensor '${name}' ends at data byte ${stop}, the file holds ${dataLength}`);
    }
    if (begin !== end) {
      throw new Error(
        `${source}: tensor '${name}': data_offsets [${begin}, ${stop}] ` +
          (begin < end ? `overlap the previous tensor, which ends at ${end}` : `leave a gap after byte ${end}`) +
          ' (tensors must be contiguous and in order)',
      );
    }
    end = stop;
  }
  if (end !== dataLength) throw new Error(`${source}: ${dataLength - end} bytes after the last tensor (which ends at data byte ${end})`);
}

function checkChecksums(source: string, header: Record<string, unknown>, metadata: Record<string, string>, tensors: Map<string, SafetensorsTensor>): void {
  const text = metadata[CHECKSUM_KEY];
  if (text === undefined) return; // written before checksums: the layout checks are all there is
  let sums: { header?: unknown; tensors?: unknown };
  try {
    sums = JSON.parse(text);
  } catch {
    throw new Error(`${source}: metadata '${CHECKSUM_KEY}' is not JSON`);
  }
  const bad = (why: string): never => {
    throw new Error(`${source}: checksum mismatch: ${why}`);
  };
  if (
    typeof sums !== 'object' || sums === null || typeof sums.header !== 'string' || typeof sums.tensors !== 'object' || sums.tensors === null ||
    Array.isArray(sums.tensors)
  ) {
    bad(`metadata '${CHECKSUM_KEY}' must be {"header": crc, "tensors": {name: crc}}`);
  }
  if (headerDigest(header) !== sums.header) bad('the header (tensor names, dtypes, shapes, offsets or metadata) was changed');
  const listed = sums.tensors as Record<string, unknown>;
  for (const name of Object.keys(listed)) if (!tensors.has(name)) bad(`tensor '${name}' has a checksum but is not in the file`);
  for (const [name, t] of tensors) {
    if (!Object.prototype.hasOwnProperty.call(listed, name) || typeof listed[name] !== 'string') bad(`tensor '${name}' has no checksum`);
    if (crcHex(t.data) !== listed[name]) bad(`the data of tensor '${name}' does not match its CRC-32`);
  }
}

/** Parses a safetensors buffer; `source` names it in errors (a path). */
export function decodeSafetensors(buf: Uint8Array, source = 'safetensors'): SafetensorsContents {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`decodeSafetensors: buf must be a Buffer or Uint8Array, got ${describeValue(buf)}`);
  if (typeof source !== 'string') throw new TypeError(`decodeSafetensors: source must be a string, got ${describeValue(source)}`);
  const file = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (file.length < 8) throw new Error(`${source}: truncated: ${file.length} bytes, fewer than the 8-byte header length`);
  const headerLength = file.readBigUInt64LE(0);
  if (headerLength > BigInt(file.length - 8)) {
    throw new Error(`${source}: truncated: the header says ${headerLength} bytes, the file has ${file.length - 8} after the length`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(file.subarray(8, dataStart).toString('utf8'));
  } catch (e) {
    throw new Error(`${source}: corrupt header: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${source}: corrupt header: not a JSON object`);
  const dataLength = file.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: [string, HeaderEntry][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__proto__') throw new Error(`${source}: corrupt header: '__proto__' is not allowed as a tensor name`);
    if (name === '__metadata__') metadata = checkMetadata(source, entry);
    else entries.push([name, checkEntry(source, name, entry)]);
  }
  checkTiling(source, entries, dataLength);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, e] of entries) {
    // A copy: aligned for typed-array views, and independent of the file buffer.
    const data = new Uint8Array(e.data_offsets[1] - e.data_offsets[0]);
    data.set(file.subarray(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]));
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  checkChecksums(source, header, metadata, tensors);
  delete metadata[CHECKSUM_KEY];
  return { tensors, metadata };
}

/** `file` as a path: a non-empty string (a number would be a file descriptor, e.g. stdin). */
export function checkPath(file: unknown, name = 'file'): string {
  if (typeof file !== 'string' || file === '' || file.includes('\0')) {
    throw new TypeError(`${name}: expected a file path (a non-empty string), got ${describeValue(file)}`);
  }
  return file;
}

/** Flushes a file or directory to disk (a directory's fsync makes a rename in it durable). */
export function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    // Some filesystems refuse fsync on a directory (EINVAL, EISDIR); there is nothing more to do.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `contents` to a new file and flushes it to disk before returning. */
export function writeFileDurably(file: string, contents: Uint8Array | string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeFileSync(fd, contents);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes atomically and durably: a temporary file, flushed, renamed into place, and the directory
 * flushed, so a crash leaves the old file or the new one, never half a file.
 */
export function writeSafetensorsFile(file: string, contents: Buffer): void {
  checkPath(file);
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileDurably(tmp, contents);
    fs.renameSync(tmp, file);
    fsyncPath(dir);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${file}: cannot write: ${(e as Error).message}`);
  }
}

/** The largest file read (Node's Buffer limit is about this; a larger one is not a checkpoint of ours). */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/**
 * Reads a whole regular file. Opened non-blocking and checked with fstat before any read: a FIFO,
 * a device (/dev/zero) or a directory is refused at once instead of blocking or reading forever.
 */
export function readRegularFile(file: string): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new Error(`${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error(`${file}: not a regular file (a ${st.isDirectory() ? 'directory' : st.isFIFO() ? 'FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'device' : 'special file'}); expected a saved file`);
    if (st.size > MAX_FILE_BYTES) throw new Error(`${file}: ${st.size} bytes, more than the ${MAX_FILE_BYTES} this reader takes`);
    const out = Buffer.alloc(st.size);
    let at = 0;
    while (at < out.length) {
      const n = fs.readSync(fd, out, at, out.length - at, at);
      if (n === 0) throw new Error(`${file}: truncated while reading: ${at} of ${out.length} bytes`);
      at += n;
    }
    return out;
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(`${file}: `) ? msg : `${file}: cannot read: ${msg}`);
  } finally {
    fs.closeSync(fd);
  }
}

export function readSafetensorsFile(file: string): SafetensorsContents {
  checkPath(file);
  return decodeSafetensors(readRegularFile(file), file);
}
