// The LLaMA tokenizer (lib/data/llama-tokenizer.ts over the package llama-tokenizer-js): 32000
// pieces laid out as LLaMA's (<unk>, <s>, </s>, 256 bytes, merges), ids LLaMA's own tokenizer
// gives, every Brown document back exactly from its ids, non-ASCII and odd whitespace back
// exactly, U+2581 (SentencePiece's space) the one lossy character, the chunked encoding equal to
// the library merging the whole text, and the documents framed as BOS text EOS.
import { loadBrown, splitDocuments } from '../lib/data/brown';
import { encodeDocuments, makeTokenizer } from '../lib/data/dataset';
import { LLAMA_BOS, LLAMA_EOS, LlamaLibrary, LlamaTokenizer, llamaTokenizerFromJSON, loadLlamaTokenizer } from '../lib/data/llama-tokenizer';
import { checkTrainOptions, DEFAULT_OPTIONS } from '../lib/train/options';

// The package itself, for the reference: the test reads its vocabulary, not our wrapper's tables.
const lib = (require('llama-tokenizer-js') as { default: LlamaLibrary }).default;

/** The text of ids from the definition: pieces concatenated, U+2581 as a space, byte pieces as bytes, one leading space dropped. */
function referenceDecode(ids: ArrayLike<number>): string {
  const bytes: number[] = [];
  for (const id of Array.from(ids)) {
    const piece = lib.vocabById[id];
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    if (byte) bytes.push(parseInt(byte[1], 16));
    else if (id !== LLAMA_BOS && id !== LLAMA_EOS) bytes.push(...Buffer.from(piece.split('\u2581').join(' '), 'utf8'));
  }
  const text = Buffer.from(bytes).toString('utf8');
  return text.startsWith(' ') ? text.slice(1) : text;
}

// Whitespace runs of every kind, leading and trailing spaces, tabs, CR LF, blank lines, accents
// (in the vocabulary), CJK and emoji (partly byte fallback), a combining mark, a control byte.
const AWKWARD = "  Two  leading spaces,\ttabs\t\tand CRLF\r\nthen\n\n\nblank lines   \n" +
  'Café, naïve, Ærøskøbing; 東京は日本の首都; emoji 😀👍🏽; e\u0301; NUL-less \u0007 bell; trailing   ';

describe('the LLaMA tokenizer', () => {
  const tok = loadLlamaTokenizer();
  const docs = loadBrown();

  it('has 32000 pieces: <unk>, <s>, </s>, the 256 bytes, then merged pieces', () => {
    expect(tok.vocabSize).toBe(32000);
    expect(lib.vocabById).toHaveLength(32000);
    expect(lib.vocabById.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(lib.vocabById[258]).toBe('<0xFF>');
    expect(tok.kind).toBe('llama');
    expect(tok.chunked).toBe(true);
    expect(loadLlamaTokenizer()).toBe(tok); // loaded once
    expect(makeTokenizer('llama', { train: [], validation: [] }).vocabSize).toBe(32000);
  });

  it("gives the ids LLaMA's tokenizer gives", () => {
    // LLaMA (1 and 2): "Hello world" -> <s> 15043 3186; a newline is the byte piece <0x0A> = 13.
    expect(Array.from(tok.encode('Hello world'))).toEqual([15043, 3186]);
    expect(Array.from(tok.encode('a\nb'))).toEqual([263, 13, 29890]);
    expect(lib.vocabById[263]).toBe('\u2581a');
    expect(lib.vocabById[29890]).toBe('b');
    expect(Array.from(tok.encode(''))).toEqual([]);
  });

  it('gives every Brown document back exactly, from ids that spell it by the vocabulary', () => {
    // Brown (read as latin1) is plain ASCII with newlines between paragraphs: nothing to lose.
    const all = docs.map((d) => d.text).join('');
    expect(/[^\n\x20-\x7e]/.test(all)).toBe(false);
    let tokens = 0;
    for (const d of docs) {
      const ids = tok.encode(d.text);
      tokens += ids.length;
      expect(tok.decode(ids)).toBe(d.text);
      if (d.id.endsWith('1')) expect(referenceDecode(ids)).toBe(d.text); // every tenth, by the definition
    }
    // Pieces, not characters: about 4 characters per token.
    expect(tokens).toBeLessThan(all.length / 3.5);
    expect(tokens).toBeGreaterThan(all.length / 6);
  });

  it('gives non-ASCII text and odd whitespace back exactly', () => {
    const ids = tok.encode(AWKWARD);
    expect(tok.decode(ids)).toBe(AWKWARD);
    expect(referenceDecode(ids)).toBe(AWKWARD);
    // Characters outside the vocabulary went in as UTF-8 bytes (😀 is F0 9F 98 80).
    expect(Array.from(ids)).toEqual(expect.arrayContaining([0xf0 + 3, 0x9f + 3, 0x98 + 3, 0x80 + 3]));
  });

  it("is lossy only for U+2581, SentencePiece's own space symbol, which comes back as a space", () => {
    expect(tok.decode(tok.encode('a\u2581b \u2581'))).toBe('a b  ');
    expect(Array.from(tok.encode('a\u2581b'))).toEqual(Array.from(tok.encode('a b')));
  });

  it('merges chunk by chunk exactly as the library merges the whole text', () => {
    const { validation } = splitDocuments(docs);
    for (const text of [...validation.slice(0, 8).map((d) => d.text), AWKWARD, ' x', 'x ', '   ', '\n', '\n\n a  \n  b']) {
      expect(Array.from(tok.encode(text))).toEqual(lib.encode(text, false, true));
    }
  });

  it('merges whole texts when a vocabulary has a piece with an inner space symbol', () => {
    // A vocabulary where chunking would be wrong: the wrapper must notice and not chunk.
    const vocabById = lib.vocabById.slice();
    vocabById[31999] = 'a\u2581b';
    const odd = new LlamaTokenizer({ ...lib, vocabById, encode: (p, b, s) => lib.encode(p, b, s) });
    expect(odd.chunked).toBe(false);
    expect(odd.sha256).not.toBe(tok.sha256);
    expect(Array.from(odd.encode(AWKWARD))).toEqual(lib.encode(AWKWARD, false, true));
  });

  it('refuses a package whose vocabulary is not laid out as LLaMA\'s', () => {
    expect(() => new LlamaTokenizer({ ...lib, vocabById: lib.vocabById.slice(0, 31999) }, 'llama-tokenizer-js 9.9')).toThrow(
      /llama-tokenizer-js 9\.9 does not hold LLaMA's vocabulary as expected: expected 32000 pieces, got 31999/,
    );
    const swapped = lib.vocabById.slice();
    [swapped[13], swapped[14]] = [swapped[14], swapped[13]];
    expect(() => new LlamaTokenizer({ ...lib, vocabById: swapped })).toThrow(/id 13 is not the byte piece <0x0A>/);
  });

  it('frames documents as BOS text EOS and splits the stream back into them', () => {
    const texts = [docs[0].text.slice(0, 300), '', AWKWARD];
    const ids = tok.encodeDocuments(texts);
    expect(ids[0]).toBe(LLAMA_BOS);
    expect(ids[ids.length - 1]).toBe(LLAMA_EOS);
    expect(ids.filter((id) => id === LLAMA_BOS)).toHaveLength(3);
    const first = tok.encode(texts[0]);
    expect(Array.from(ids.subarray(0, first.length + 4))).toEqual([LLAMA_BOS, ...first, LLAMA_EOS, LLAMA_BOS, LLAMA_EOS]);
    expect(tok.decodeDocuments(ids)).toEqual(texts);
    // The trainer's stream of a split is this framing.
    expect(encodeDocuments(tok, docs.slice(0, 2))).toEqual(tok.encodeDocuments([docs[0].text, docs[1].text]));
    expect(() => tok.decodeDocuments([LLAMA_BOS, 15043, LLAMA_BOS, LLAMA_EOS])).toThrow(/document starting at position 0 has no EOS \(2\)/);
    expect(() => tok.decodeDocuments([15043])).toThrow(/expected BOS \(1\) to start a document at position 0, got 15043/);
  });

  it('refuses ids outside the vocabulary, naming the id and its position', () => {
    expect(() => tok.decode([15043, 32000])).toThrow(/id 32000 at position 1 is outside the LLaMA vocabulary \(0 \.\.\. 31999\)/);
    expect(() => tok.decode([-1])).toThrow(/id -1 at position 0/);
    expect(() => tok.decode([1.5])).toThrow(/id 1.5 at position 0/);
  });

  it('is saved by its vocabulary\'s SHA-256 and restored only over the same vocabulary', () => {
    const json = tok.toJSON() as { kind: 'llama'; vocabSize: number; sha256: string };
    expect(json).toEqual({ kind: 'llama', vocabSize: 32000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(llamaTokenizerFromJSON(json)).toBe(tok);
    expect(makeTokenizer('byte', { train: [], validation: [] }, 1024, json)).toBe(tok);
    expect(() => llamaTokenizerFromJSON({ ...json, sha256: '0'.repeat(64) })).toThrow(
      /tokenized with a LLaMA vocabulary of 32000 pieces, SHA-256 0{64}; the installed llama-tokenizer-js \S+ has 32000, SHA-256 [0-9a-f]{64}/,
    );
    expect(() => llamaTokenizerFromJSON({ kind: 'llama' } as never)).toThrow(/expected \{kind: 'llama', vocabSize, sha256\}/);
  });

  it("is the trainer's --tokenizer llama", () => {
    expect(() => checkTrainOptions({ ...DEFAULT_OPTIONS, tokenizer: 'llama' })).not.toThrow();
    expect(() => checkTrainOptions({ ...DEFAULT_OPTIONS, tokenizer: 'sentencepiece' as never })).toThrow(
      /--tokenizer: expected 'byte', 'bpe', 'llama', got 'sentencepiece'/,
    );
  });
});
