// Token streams and batches. The training split is one stream of tokens (documents separated by
// a blank line, or by the tokenizer's own markers: llama's BOS and EOS); each training step draws `batch` windows of seq + 1 tokens at offsets that are a
// pure function of (seed, step, row), so every optimizer in a comparison sees the same data in
// the same order and a resumed run continues with exactly the batches it would have had.
// Validation uses fixed, evenly spaced windows of the validation split.
import { ByteTokenizer } from './byte-tokenizer';
import { BpeTokenizer } from './bpe-tokenizer';
import { CorpusDocument, CorpusSplit } from './brown';
import { llamaTokenizerFromJSON, loadLlamaTokenizer } from './llama-tokenizer';
import { TOKENIZER_KINDS, Tokenizer, TokenizerJSON } from './tokenizer';

export interface TokenizedCorpus {
  tokenizer: Tokenizer;
  train: Int32Array;
  validation: Int32Array;
}

export interface Batch {
  ids: Int32Array; // batch * seq, row-major
  targets: Int32Array; // the next token of each position
}

const DOCUMENT_SEPARATOR = '\n\n';

export function joinDocuments(docs: readonly CorpusDocument[]): string {
  return docs.map((d) => d.text).join(DOCUMENT_SEPARATOR);
}

/** A tokenizer restored from a checkpoint's JSON. */
function restoreTokenizer(saved: TokenizerJSON): Tokenizer {
  switch (saved.kind) {
    case 'byte':
      return new ByteTokenizer();
    case 'bpe':
      return BpeTokenizer.fromJSON(saved);
    case 'llama':
      return llamaTokenizerFromJSON(saved);
    default:
      throw new Error(`tokenizer: expected a saved tokenizer of kind ${TOKENIZER_KINDS.join(', ')}, got ${JSON.stringify(saved)}`);
  }
}

/**
 * The byte tokenizer, a BPE trained on the training split, LLaMA's (vocabulary 32000, from the
 * package llama-tokenizer-js), or one restored from JSON.
 */
export function makeTokenizer(kind: string, split: CorpusSplit, vocabSize = 1024, saved?: TokenizerJSON): Tokenizer {
  if (saved) return restoreTokenizer(saved);
  if (kind === 'byte') return new ByteTokenizer();
  if (kind === 'bpe') return BpeTokenizer.train(joinDocuments(split.train), vocabSize);
  if (kind === 'llama') return loadLlamaTokenizer();
  throw new Error(`tokenizer: expected ${TOKENIZER_KINDS.map((k) => `'${k}'`).join(', ')}, got '${kind}'`);
}

/** makeTokenizer() as a generator that yields while a BPE vocabulary trains (so it can be stopped). */
export function* makeTokenizerSteps(kind: string, split: CorpusSplit, vocabSize = 1024, saved?: TokenizerJSON): Generator<void, Tokenizer, void> {
  if (!saved && kind === 'bpe') return yield* BpeTokenizer.trainSteps(joinDocuments(split.train), vocabSize);
  return makeTokenizer(kind, split, vocabSize, saved);
}

/** The token stream of documents: the tokenizer's own framing, else joined by a blank line. */
export function encodeDocuments(tokenizer: Tokenizer, docs: readonly CorpusDocument[]): Int32Array {
  if (tokenizer.encodeDocuments) return tokenizer.encodeDocuments(docs.map((d) => d.text));
  return tokenizer.encode(joinDocuments(docs));
}

export function tokenize(split: CorpusSplit, tokenizer: Tokenizer): TokenizedCorpus {
  return {
    tokenizer,
    train: encodeDocuments(tokenizer, split.train),
    validation: encodeDocuments(tokenizer, split.validation),
  };
}

// 32-bit integer hash (two rounds of multiply-xorshift): spreads (seed, step, row) uniformly.
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

export class BatchSampler {
  readonly batch: number;
  readonly seq: number;
  private readonly corpus: TokenizedCorpus;
  private readonly seed: number;

  constructor(corpus: TokenizedCorpus, batch: number, seq: number, seed: number) {
    if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`batch: expected an integer >= 1, got ${batch}`);
    if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq-len: expected an integer >= 1, got ${seq}`);
    for (const [name, tokens] of [['training', corpus.train], ['validation', corpus.validation]] as const) {
      if (seq + 1 > tokens.length) {
        throw new RangeError(
          `seq-len: ${seq} is longer than the ${name} split (${tokens.length} tokens); a window needs seq-len + 1 tokens`,
        );
      }
    }
    this.corpus = corpus;
    this.batch = batch;
    this.seq = seq;
    this.seed = seed >>> 0;
  }

  /** The batch of training step `step` (0-based). */
  trainBatch(step: number): Batch {
    const tokens = this.corpus.train;
    const span = tokens.length - this.seq; // valid window starts: 0 .. span - 1
    const out = this.empty();
    for (let r = 0; r < this.batch; r++) {
      const h1 = mix32(this.seed ^ mix32(step * 2 + 1) ^ mix32(r + 0x9e3779b9));
      const h2 = mix32(h1 ^ 0x85ebca6b);
      const offset = (h1 * 2 ** 21 + (h2 >>> 11)) % span; // 53 random bits, then the window
      this.fill(out, r, tokens, offset);
    }
    return out;
  }

  /**
   * Up to `maxBatches` validation batches of windows spread evenly over the validation split
   * (the same ones every time).
   */
  validationBatches(maxBatches: number): Batch[] {
    const tokens = this.corpus.validation;
    const span = tokens.length - this.seq;
    // Whole batches of (mostly) non-overlapping windows; at least one batch, overlapping if the
    // split is short.
    const fit = Math.floor(tokens.length / (this.seq + 1));
    const count = Math.max(1, Math.min(maxBatches, Math.floor(fit / this.batch)));
    const windows = count * this.batch;
    const stride = windows > 1 ? (span - 1) / (windows - 1) : 0;
    const batches: Batch[] = [];
    for (let b = 0; b < count; b++) {
      const out = this.empty();
      for (let r = 0; r < this.batch; r++) this.fill(out, r, tokens, Math.round((b * this.batch + r) * stride));
      batches.push(out);
    }
    return batches;
  }

  private empty(): Batch {
    return { ids: new Int32Array(this.batch * this.seq), targets: new Int32Array(this.batch * this.seq) };
  }

  private fill(out: Batch, row: number, tokens: Int32Array, offset: number): void {
    out.ids.set(tokens.subarray(offset, offset + this.seq), row * this.seq);
    out.targets.set(tokens.subarray(offset + 1, offset + 1 + this.seq), row * this.seq);
  }
}
