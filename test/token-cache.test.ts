// The on-disk cache of the corpus's token ids (lib/data/token-cache.ts): a miss tokenizes and
// writes, a hit reads the same ids back, and every kind of damage (a flipped byte, a cut file, a
// garbled header, another key, an id outside the vocabulary) is noticed, tokenized again and
// rewritten rather than trusted. Writes leave no temporary; a dead writer's temporary is removed.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CorpusSplit, loadBrown, splitDocuments } from '../lib/data/brown';
import { ByteTokenizer } from '../lib/data/byte-tokenizer';
import { tokenize } from '../lib/data/dataset';
import { loadLlamaTokenizer } from '../lib/data/llama-tokenizer';
import { defaultCacheDirectory, describeTokenCache, tokenCacheFile, tokenCacheKey, tokenizeCached } from '../lib/data/token-cache';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'frugal-token-cache-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const docs = loadBrown();
// A small split: the byte tokenizer makes these fast; the format does not depend on the tokenizer.
const small: CorpusSplit = { train: docs.slice(0, 3), validation: docs.slice(3, 4) };
const bytes = new ByteTokenizer();
let n = 0;
const freshDir = () => path.join(root, `c${n++}`);

/** Whether two id arrays are equal (as bytes: jest's toEqual walks a million ids slowly). */
const same = (a: Int32Array, b: Int32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Header line and payload of a cache file. */
function parts(file: string): { header: Record<string, unknown>; headerBytes: number; payload: Buffer } {
  const all = fs.readFileSync(file);
  const nl = all.indexOf(0x0a);
  return { header: JSON.parse(all.subarray(0, nl).toString('utf8')), headerBytes: nl + 1, payload: all.subarray(nl + 1) };
}

describe('the token cache', () => {
  it('misses, writes, then hits with the same ids as tokenizing', () => {
    const dir = freshDir();
    const expected = tokenize(small, bytes);
    const first = tokenizeCached(small, bytes, dir);
    expect(first.status).toBe('written');
    expect(first.file).toBe(tokenCacheFile(dir, bytes, tokenCacheKey(small, bytes)));
    expect(describeTokenCache(first)).toBe(`token ids cached in ${first.file}`);
    expect(same(first.corpus.train, expected.train)).toBe(true);
    const second = tokenizeCached(small, bytes, dir);
    expect(second.status).toBe('hit');
    expect(describeTokenCache(second)).toBe(`token ids from the cache ${first.file}`);
    expect(same(second.corpus.train, expected.train)).toBe(true);
    expect(same(second.corpus.validation, expected.validation)).toBe(true);
    expect(second.corpus.tokenizer).toBe(bytes);
    // The file holds what the header says: the counts, the ids little-endian, their checksum.
    const { header, payload } = parts(first.file);
    expect(header).toMatchObject({ format: 'frugal-optim-tokens/1', train: expected.train.length, validation: expected.validation.length });
    expect(payload.readInt32LE(0)).toBe(expected.train[0]);
    expect(payload.readInt32LE(expected.train.length * 4)).toBe(expected.validation[0]);
    expect(fs.readdirSync(path.dirname(first.file))).toEqual([path.basename(first.file)]); // no temporary left
  });

  it('keys by tokenizer and by every document of both halves of the split', () => {
    const key = tokenCacheKey(small, bytes);
    expect(tokenCacheKey(small, new ByteTokenizer())).toBe(key);
    expect(tokenCacheKey({ train: small.train, validation: docs.slice(4, 5) }, bytes)).not.toBe(key);
    expect(tokenCacheKey({ train: small.validation, validation: small.train }, bytes)).not.toBe(key);
    const edited = small.train.map((d, i) => (i === 2 ? { ...d, text: d.text.replace('the', 'The') } : d));
    expect(tokenCacheKey({ train: edited, validation: small.validation }, bytes)).not.toBe(key);
    expect(tokenCacheKey(small, loadLlamaTokenizer())).not.toBe(key);
  });

  // Each damage, and the reason the run's log gives for not trusting the file.
  const DAMAGE: [string, (file: string) => void, RegExp][] = [
    ['a flipped bit in the ids', (f) => {
      const b = fs.readFileSync(f);
      b[b.length - 7] ^= 0x10;
      fs.writeFileSync(f, b);
    }, /the checksum does not match/],
    ['a cut file', (f) => fs.truncateSync(f, fs.statSync(f).size - 4), /holds \d+ bytes of ids, the header says \d+/],
    ['an empty file', (f) => fs.writeFileSync(f, ''), /no header line/],
    ['a garbled header', (f) => {
      const b = fs.readFileSync(f);
      b[0] = 0x78; // "x" where "{" was
      fs.writeFileSync(f, b);
    }, /the header is not JSON/],
    ['another format', (f) => {
      const { header, payload } = parts(f);
      fs.writeFileSync(f, Buffer.concat([Buffer.from(JSON.stringify({ ...header, format: 'frugal-optim-tokens/0' }) + '\n'), payload]));
    }, /the format is not frugal-optim-tokens\/1/],
    ['the file of another key', (f) => {
      const { header, payload } = parts(f);
      fs.writeFileSync(f, Buffer.concat([Buffer.from(JSON.stringify({ ...header, key: '0'.repeat(64) }) + '\n'), payload]));
    }, /the key does not match/],
    ['an id outside the vocabulary, with a matching checksum', (f) => {
      const { header, payload } = parts(f);
      payload.writeInt32LE(256, 8);
      const sha256 = createHash('sha256').update(payload).digest('hex');
      fs.writeFileSync(f, Buffer.concat([Buffer.from(JSON.stringify({ ...header, sha256 }) + '\n'), payload]));
    }, /id 256 at 2 is outside the vocabulary/],
    ['a directory in its place', (f) => {
      fs.rmSync(f);
      fs.mkdirSync(f);
    }, /cannot read it/],
  ];

  it.each(DAMAGE)('%s: is tokenized again and rewritten, not trusted', (_label, damage, reason) => {
    const dir = freshDir();
    const expected = tokenize(small, bytes);
    const { file } = tokenizeCached(small, bytes, dir);
    damage(file);
    const again = tokenizeCached(small, bytes, dir);
    expect(same(again.corpus.train, expected.train)).toBe(true);
    expect(same(again.corpus.validation, expected.validation)).toBe(true);
    if (fs.statSync(file).isDirectory()) {
      // Nothing can be renamed over a directory: the run goes on without a cache.
      expect(again.status).toBe('not-written');
      expect(again.reason).toMatch(reason);
      expect(again.reason).toMatch(/cannot write it/);
      expect(describeTokenCache(again)).toMatch(/^token ids not cached \(/);
      return;
    }
    expect(again.status).toBe('rebuilt');
    expect(again.reason).toMatch(reason);
    expect(describeTokenCache(again)).toBe(`the token cache ${file} was not usable (${again.reason}): tokenized again and rewritten`);
    expect(tokenizeCached(small, bytes, dir).status).toBe('hit');
  });

  it('runs on without a cache where the directory cannot be written', () => {
    const blocker = path.join(root, 'a-file');
    fs.writeFileSync(blocker, '');
    const r = tokenizeCached(small, bytes, path.join(blocker, 'cache'));
    expect(r.status).toBe('not-written');
    expect(r.reason).toMatch(/^cannot write it: /);
    expect(same(r.corpus.train, tokenize(small, bytes).train)).toBe(true);
  });

  it("removes a dead writer's temporary, and keeps a live one's", () => {
    const dir = freshDir();
    const { file } = tokenizeCached(small, bytes, dir);
    const tokens = path.dirname(file);
    // PID 2^22 + 1 is above Linux's pid_max default: no such process.
    const dead = path.join(tokens, `.${path.basename(file)}.${2 ** 22 + 1}.abcd1234.tmp`);
    const live = path.join(tokens, `.${path.basename(file)}.${process.ppid}.abcd1234.tmp`);
    fs.writeFileSync(dead, 'half');
    fs.writeFileSync(live, 'half');
    fs.rmSync(file);
    expect(tokenizeCached(small, bytes, dir).status).toBe('written');
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });

  it('lives in $FRUGAL_CACHE_DIR, else the platform\'s user cache directory', () => {
    expect(defaultCacheDirectory({ FRUGAL_CACHE_DIR: '/x/y', XDG_CACHE_HOME: '/c' }, 'linux')).toBe('/x/y');
    expect(defaultCacheDirectory({ XDG_CACHE_HOME: '/c' }, 'linux')).toBe('/c/frugal-optim');
    expect(defaultCacheDirectory({}, 'linux')).toBe(path.join(os.homedir(), '.cache', 'frugal-optim'));
    expect(defaultCacheDirectory({}, 'darwin')).toBe(path.join(os.homedir(), 'Library', 'Caches', 'frugal-optim'));
    expect(defaultCacheDirectory({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32')).toBe(
      path.join('C:\\Users\\u\\AppData\\Local', 'frugal-optim', 'Cache'),
    );
  });

  it('caches the LLaMA stream of the whole split: the second run reads what the first tokenized', () => {
    const dir = freshDir();
    const llama = loadLlamaTokenizer();
    const split = splitDocuments(docs);
    let t = process.hrtime.bigint();
    const first = tokenizeCached(split, llama, dir);
    const missMs = Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    const second = tokenizeCached(split, llama, dir);
    const hitMs = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(`LLaMA tokens of Brown: ${first.corpus.train.length} train, ${first.corpus.validation.length} validation; miss ${missMs.toFixed(0)} ms, hit ${hitMs.toFixed(0)} ms`);
    expect([first.status, second.status]).toEqual(['written', 'hit']);
    expect(same(second.corpus.train, first.corpus.train)).toBe(true);
    expect(same(second.corpus.validation, first.corpus.validation)).toBe(true);
    expect(llama.decodeDocuments(second.corpus.validation)).toEqual(split.validation.map((d) => d.text));
    expect(path.basename(first.file)).toMatch(/^llama-[0-9a-f]{32}\.bin$/);
  });
});
