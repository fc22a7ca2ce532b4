// The token ids of the corpus split, cached on disk: the LLaMA tokenizer takes seconds over Brown's
// 6 MB, every run needs the same ids, so the first run writes them and later runs read them.
//
// The key is the SHA-256 of the format, the tokenizer's saved form (llama: its vocabulary's
// SHA-256) and both halves of the split (each document's name and text), so another tokenizer
// version, another corpus version or another split is another file, never stale ids. A file is
// written to a temporary name, flushed and renamed into place (a crash leaves no half file), and
// trusted only after its header, size, key, payload SHA-256 and id range check out; anything else
// is tokenized again and the file rewritten. A cache that cannot be written costs only time.
//
// File: one line of JSON (format, key, train and validation token counts, the payload's SHA-256),
// then the train ids and the validation ids as little-endian int32.
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fsyncPath, writeFileDurably } from '../checkpoint/safetensors';
import { processAlive } from '../train/checkpoint-lock';
import { CorpusSplit } from './brown';
import { TokenizedCorpus, tokenize } from './dataset';
import { Tokenizer } from './tokenizer';

const FORMAT = 'frugal-optim-tokens/1';
const MAX_HEADER = 4096;
const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

export type TokenCacheStatus = 'hit' | 'written' | 'rebuilt' | 'not-written';

export interface CachedTokens {
  corpus: TokenizedCorpus;
  file: string;
  /** hit: read from the file; written: a miss, now cached; rebuilt: the file was bad (see reason). */
  status: TokenCacheStatus;
  /** Why a file was not used (rebuilt) or not written. */
  reason?: string;
}

interface Header {
  format: string;
  key: string;
  train: number;
  validation: number;
  sha256: string;
}

/**
 * Where token caches go: $FRUGAL_CACHE_DIR, else the user's cache directory ($XDG_CACHE_HOME or
 * ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows) under frugal-optim/.
 */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.FRUGAL_CACHE_DIR) return path.resolve(env.FRUGAL_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'frugal-optim');
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches', 'frugal-optim');
  if (platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'frugal-optim', 'Cache');
  return path.join(os.homedir(), '.cache', 'frugal-optim');
}

/** The cache key of (tokenizer, split): hex SHA-256. */
export function tokenCacheKey(split: CorpusSplit, tokenizer: Tokenizer): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ format: FORMAT, tokenizer: tokenizer.toJSON() }));
  for (const [name, docs] of [['train', split.train], ['validation', split.validation]] as const) {
    h.update(`\0split ${name} ${docs.length}`);
    for (const d of docs) h.update(`\0${d.id}\0${d.text.length}\0`).update(d.text);
  }
  return h.digest('hex');
}

/** The cache file of a key in `dir`. */
export function tokenCacheFile(dir: string, tokenizer: Tokenizer, key: string): string {
  return path.join(dir, 'tokens', `${tokenizer.kind}-${key.slice(0, 32)}.bin`);
}

function encodeFile(key: string, corpus: TokenizedCorpus): Buffer {
  const n = corpus.train.length + corpus.validation.length;
  const payload = Buffer.alloc(n * 4);
  corpus.train.forEach((id, i) => payload.writeInt32LE(id, i * 4));
  corpus.validation.forEach((id, i) => payload.writeInt32LE(id, (corpus.train.length + i) * 4));
  const header: Header = {
    format: FORMAT,
    key,
    train: corpus.train.length,
    validation: corpus.validation.length,
    sha256: createHash('sha256').update(payload).digest('hex'),
  };
  return Buffer.concat([Buffer.from(JSON.stringify(header) + '\n', 'utf8'), payload]);
}

/** The corpus in `bytes` when it is a valid cache file for `key`, else the reason it is not. */
function decodeFile(bytes: Buffer, key: string, tokenizer: Tokenizer): TokenizedCorpus | string {
  const newline = bytes.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (newline < 0) return 'no header line';
  let h: Header;
  try {
    h = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as Header;
  } catch {
    return 'the header is not JSON';
  }
  if (typeof h !== 'object' || h === null || h.format !== FORMAT) return `the format is not ${FORMAT}`;
  if (h.key !== key) return 'the key does not match';
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!count(h.train) || !count(h.validation) || typeof h.sha256 !== 'string') return 'the header lacks the counts or the checksum';
  const payload = bytes.subarray(newline + 1);
  if (payload.length !== (h.train + h.validation) * 4) {
    return `the file holds ${payload.length} bytes of ids, the header says ${(h.train + h.validation) * 4}`;
  }
  if (createHash('sha256').update(payload).digest('hex') !== h.sha256) return 'the checksum does not match';
  const ids = new Int32Array(h.train + h.validation);
  for (let i = 0; i < ids.length; i++) {
    const id = payload.readInt32LE(i * 4);
    if (id < 0 || id >= tokenizer.vocabSize) return `id ${id} at ${i} is outside the vocabulary`;
    ids[i] = id;
  }
  return { tokenizer, train: ids.subarray(0, h.train), validation: ids.subarray(h.train) };
}

/** Removes temporaries of writers no longer running (a run killed mid-write). */
function removeDeadTemporaries(dir: string): void {
  for (const entry of fs.readdirSync(dir)) {
    const m = TEMPORARY.exec(entry);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) fs.rmSync(path.join(dir, entry), { force: true });
  }
}

/** Writes atomically: a temporary in the same directory, flushed, renamed into place. */
function writeAtomically(file: string, contents: Buffer): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  removeDeadTemporaries(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileDurably(tmp, contents);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  fsyncPath(dir);
}

/**
 * The split tokenized with `tokenizer`, from the cache in `dir` when a valid file is there, else
 * tokenized and written there.
 */
export function tokenizeCached(split: CorpusSplit, tokenizer: Tokenizer, dir: string = defaultCacheDirectory()): CachedTokens {
  const key = tokenCacheKey(split, tokenizer);
  const file = tokenCacheFile(dir, tokenizer, key);
  let reason: string | undefined;
  let bytes: Buffer | null = null;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    // Absent (no file, or no directory) is a plain miss; anything else is worth saying.
    if (!['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) reason = `cannot read it: ${(e as Error).message}`;
  }
  if (bytes) {
    const got = decodeFile(bytes, key, tokenizer);
    if (typeof got !== 'string') return { corpus: got, file, status: 'hit' };
    reason = got;
  }
  const corpus = tokenize(split, tokenizer);
  const status: TokenCacheStatus = reason === undefined ? 'written' : 'rebuilt';
  try {
    writeAtomically(file, encodeFile(key, corpus));
  } catch (e) {
    return { corpus, file, status: 'not-written', reason: `${reason ? `${reason}; ` : ''}cannot write it: ${(e as Error).message}` };
  }
  return { corpus, file, status, reason };
}

/** One line for the run's log about the cache. */
export function describeTokenCache(c: CachedTokens): string {
  switch (c.status) {
    case 'hit':
      return `token ids from the cache ${c.file}`;
    case 'written':
      return `token ids cached in ${c.file}`;
    case 'rebuilt':
      return `the token cache ${c.file} was not usable (${c.reason}): tokenized again and rewritten`;
    case 'not-written':
      return `token ids not cached (${c.reason})`;
  }
}
