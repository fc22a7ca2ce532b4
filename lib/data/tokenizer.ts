// What the bench needs of a tokenizer: text to ids and back, a vocabulary size for the model,
// and a JSON form saved with checkpoints so a resumed run tokenizes the same way.

export interface Tokenizer {
  readonly kind: 'byte' | 'bpe';
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJSON;
}

export type TokenizerJSON = { kind: 'byte' } | { kind: 'bpe'; merges: [number, number][] };
