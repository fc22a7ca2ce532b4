// What the bench needs of a tokenizer: text to ids and back, a vocabulary size for the model,
// and a JSON form saved with checkpoints so a resumed run tokenizes the same way.

export type TokenizerKind = 'byte' | 'bpe' | 'llama';

export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['byte', 'bpe', 'llama'];

export interface Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  /**
   * The token stream of a list of documents, for a tokenizer with document markers of its own
   * (llama: BOS text EOS). Without it, the documents are joined by a blank line and encoded.
   */
  encodeDocuments?(texts: readonly string[]): Int32Array;
  toJSON(): TokenizerJSON;
}

/**
 * The saved form. llama's vocabulary ships in the llama-tokenizer-js package, so it is saved by
 * identity: the SHA-256 of its vocabulary and merges, checked against the installed package on
 * resume (a changed vocabulary would silently remap every id of the saved embedding).
 */
export type TokenizerJSON =
  | { kind: 'byte' }
  | { kind: 'bpe'; merges: [number, number][] }
  | { kind: 'llama'; vocabSize: number; sha256: string };
