// Byte-level tokenizer: the UTF-8 bytes of the text are the ids (vocabulary 256). No training,
// no unknown tokens, and a tiny embedding, which suits the CPU default.
import { Tokenizer, TokenizerJSON } from './tokenizer';

export class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte' as const;
  readonly vocabSize = 256;

  encode(text: string): Int32Array {
    return Int32Array.from(Buffer.from(text, 'utf8'));
  }

  decode(ids: ArrayLike<number>): string {
    return Buffer.from(Uint8Array.from(ids as ArrayLike<number>)).toString('utf8');
  }

  toJSON(): TokenizerJSON {
    return { kind: 'byte' };
  }
}
