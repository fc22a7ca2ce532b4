// The safetensors format, written and read here (no dependency): an 8-byte little-endian header
// length, a JSON header mapping each tensor name to {dtype, shape, data_offsets} plus a
// "__metadata__" object of strings, then the raw little-endian bytes. Reads check every offset
// against the file size, so a truncated or corrupt file is reported, never half-read.
import * as fs from 'fs';
import * as path from 'path';

export type SafetensorsDtype = 'F32' | 'BF16' | 'F16' | 'I32';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, BF16: 2, F16: 2, I32: 4 };

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

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Serializes tensors (in the given order) and string metadata into one buffer. */
export function encodeSafetensors(
  tensors: Iterable<[string, { dtype: SafetensorsDtype; shape: number[]; data: ArrayBufferView }]>,
  metadata: Record<string, string>,
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error("safetensors: '__metadata__' is not a tensor name");
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel * DTYPE_BYTES[t.dtype] !== t.data.byteLength) {
      throw new Error(`safetensors: tensor '${name}' has ${t.data.byteLength} bytes for shape [${t.shape}] of ${t.dtype}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    chunks.push(bytesOf(t.data));
    offset += t.data.byteLength;
  }
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

/** Parses a safetensors buffer; `source` names it in errors (a path). */
export function decodeSafetensors(buf: Uint8Array, source: string): SafetensorsContents {
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
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error(`${source}: corrupt header: not an object`);
  const dataLength = file.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`${source}: corrupt header: metadata '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype as SafetensorsDtype;
    const shape = e?.shape as number[];
    const offsets = e?.data_offsets as number[];
    if (!(dtype in DTYPE_BYTES)) throw new Error(`${source}: tensor '${name}': unsupported dtype ${JSON.stringify(e?.dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`${source}: tensor '${name}': corrupt shape`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
      throw new Error(`${source}: tensor '${name}': corrupt data_offsets`);
    }
    const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (offsets[1] - offsets[0] !== bytes) {
      throw new Error(`${source}: tensor '${name}': ${offsets[1] - offsets[0]} bytes for shape [${shape}] of ${dtype} (${bytes} expected)`);
    }
    if (offsets[1] > dataLength) {
      throw new Error(`${source}: truncated: tensor '${name}' ends at data byte ${offsets[1]}, the file holds ${dataLength}`);
    }
    // A copy: aligned for typed-array views, and independent of the file buffer.
    const data = new Uint8Array(bytes);
    data.set(file.subarray(dataStart + offsets[0], dataStart + offsets[1]));
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
}

/** Writes atomically (a temporary file renamed into place), so a crash never leaves half a file. */
export function writeSafetensorsFile(file: string, contents: Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, contents);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function readSafetensorsFile(file: string): SafetensorsContents {
  return decodeSafetensors(fs.readFileSync(file), file);
}
