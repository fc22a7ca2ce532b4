// A small byte-level BPE tokenizer trained on the corpus (the option to the byte tokenizer):
// text is cut into word-like chunks (a letter run, digit run or punctuation run with its leading
// space, or whitespace), each chunk starts as its UTF-8 bytes (ids 0..255), and merges learned
// by frequency add ids 256, 257, ... Training is deterministic: the most frequent pair wins,
// ties go to the smaller pair, so the same text always gives the same merges.
import { Tokenizer, TokenizerJSON } from './tokenizer';

const CHUNK = / ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+/g;
const KEY_BITS = 2 ** 20; // ids stay below 2^20, so a pair is one number a * 2^20 + b

const YIELD_EVERY = 16; // merges between the yields of trainSteps

const pairKey = (a: number, b: number) => a * KEY_BITS + b;

function chunks(text: string): string[] {
  return text.match(CHUNK) ?? [];
}

export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly merges: readonly [number, number][];
  private readonly rank = new Map<number, number>();
  private readonly pieces: Uint8Array[] = [];
  private readonly cache = new Map<string, number[]>();

  constructor(merges: readonly [number, number][]) {
    this.merges = merges;
    for (let i = 0; i < 256; i++) this.pieces.push(Uint8Array.of(i));
    merges.forEach(([a, b], i) => {
      const id = 256 + i;
      if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= id || b >= id) {
        throw new Error(`tokenizer: merge ${i} (${a}, ${b}) refers to an id that does not exist yet`);
      }
      this.rank.set(pairKey(a, b), i);
      const piece = new Uint8Array(this.pieces[a].length + this.pieces[b].length);
      piece.set(this.pieces[a]);
      piece.set(this.pieces[b], this.pieces[a].length);
      this.pieces.push(piece);
    });
  }

  get vocabSize(): number {
    return 256 + this.merges.length;
  }

  /** Learns merges on `text` until the vocabulary has `vocabSize` ids (or no pair repeats). */
  static train(text: string, vocabSize: number): BpeTokenizer {
    const run = BpeTokenizer.trainSteps(text, vocabSize);
    for (;;) {
      const r = run.next();
      if (r.done) return r.value;
    }
  }

  /**
   * train() as a generator that yields every YIELD_EVERY merges (training takes seconds): a caller
   * driving it from the event loop can stop it there, e.g. on SIGTERM.
   */
  static *trainSteps(text: string, vocabSize: number): Generator<void, BpeTokenizer, void> {
    if (!Number.isSafeInteger(vocabSize) || vocabSize < 257 || vocabSize > 65536) {
      throw new RangeError(`tokenizer: the BPE vocabulary size must be an integer in [257, 65536], got ${vocabSize}`);
    }
    // Distinct chunks with their counts: merges only look inside chunks.
    const freq = new Map<string, number>();
    for (const c of chunks(text)) freq.set(c, (freq.get(c) ?? 0) + 1);
    const words = [...freq.entries()].map(([c, n]) => ({ ids: Array.from(Buffer.from(c, 'utf8')), n }));
    const counts = new Map<number, number>();
    const where = new Map<number, Set<number>>();
    const addPairs = (w: number, sign: number) => {
      const { ids, n } = words[w];
      for (let i = 0; i + 1 < ids.length; i++) {
        const k = pairKey(ids[i], ids[i + 1]);
        const c = (counts.get(k) ?? 0) + sign * n;
        if (c === 0) counts.delete(k);
        else counts.set(k, c);
        if (sign > 0) {
          let s = where.get(k);
          if (!s) where.set(k, (s = new Set()));
          s.add(w);
        }
      }
    };
    words.forEach((_w, i) => addPairs(i, 1));

    const merges: [number, number][] = [];
    while (256 + merges.length < vocabSize) {
      let best = -1;
      let bestCount = 1; // a pair must occur at least twice to be worth an id
      for (const [k, c] of counts) {
        if (c > bestCount || (c === bestCount && best >= 0 && k < best)) {
          best = k;
          bestCount = c;
        }
      }
      if (best < 0) break;
      const a = Math.floor(best / KEY_BITS);
      const b = best % KEY_BITS;
      const id = 256 + merges.length;
      merges.push([a, b]);
      // Only words that held the pair change (the index may list some that no longer do).
      for (const w of where.get(best) ?? []) {
        addPairs(w, -1);
        words[w].ids = mergePair(words[w].ids, a, b, id);
        addPairs(w, 1);
      }
      counts.delete(best);
      where.delete(best);
      if (merges.length % YIELD_EVERY === 0) yield;
    }
    return new BpeTokenizer(merges);
  }

  static fromJSON(json: TokenizerJSON): BpeTokenizer {
    if (json.kind !== 'bpe' || !Array.isArray(json.merges)) throw new Error("tokenizer: expected {kind: 'bpe', merges: [[a, b], ...]}");
    return new BpeTokenizer(json.merges);
  }

  encode(text: string): Int32Array {
    const out: number[] = [];
    for (const c of chunks(text)) {
      let ids = this.cache.get(c);
      if (!ids) {
        ids = this.encodeChunk(Array.from(Buffer.from(c, 'utf8')));
        this.cache.set(c, ids);
      }
      for (const id of ids) out.push(id);
    }
    return Int32Array.from(out);
  }

  decode(ids: ArrayLike<number>): string {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < ids.length; i++) {
      const p = this.pieces[ids[i]];
      if (!p) throw new RangeError(`tokenizer: id ${ids[i]} is outside the vocabulary (${this.vocabSize})`);
      parts.push(p);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  toJSON(): TokenizerJSON {
    return { kind: 'bpe', merges: this.merges.map(([a, b]) => [a, b]) };
  }

  // Applies merges in the order they were learned: always the adjacent pair of lowest rank.
  private encodeChunk(ids: number[]): number[] {
    for (;;) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.rank.get(pairKey(ids[i], ids[i + 1]));
        if (r !== undefined && r < bestRank) bestRank = r;
      }
      if (bestRank === Infinity) return ids;
      const [a, b] = this.merges[bestRank];
      ids = mergePair(ids, a, b, 256 + bestRank);
    }
  }
}

function mergePair(ids: number[], a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
      out.push(id);
      i++;
    } else out.push(ids[i]);
  }
  return out;
}
