// The Brown corpus and tokenizers: tags stripped into plain text, a fixed document split, a
// byte tokenizer and a BPE that round-trip, and batches that are a function of (seed, step).
import { BpeTokenizer } from '../lib/data/bpe-tokenizer';
import { detagDocument, detagLine, loadBrown, splitDocuments } from '../lib/data/brown';
import { ByteTokenizer } from '../lib/data/byte-tokenizer';
import { BatchSampler, joinDocuments, tokenize } from '../lib/data/dataset';

describe('Brown corpus', () => {
  const docs = loadBrown();

  it('strips part-of-speech tags and rejoins punctuation', () => {
    expect(detagLine("The/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, Atlanta's/np$ 1-1/2/cd ./.")).toBe(
      'The jury said "no evidence", Atlanta\'s 1-1/2.',
    );
    expect(detagDocument('\n\n\tA/at b/nn ./.\nC/at d/nn ./.\n\n\tE/at ./.\n')).toBe('A b. C d.\nE.');
  });

  it('has 500 documents split 475 / 25 the same way every time', () => {
    expect(docs).toHaveLength(500);
    expect(docs[0].id).toBe('ca01');
    expect(docs[0].text.startsWith('The Fulton County Grand Jury said Friday')).toBe(true);
    expect(docs.some((d) => /\/(nn|at|vbd)\b/.test(d.text))).toBe(false);
    const split = splitDocuments(docs);
    expect(split.train).toHaveLength(475);
    expect(split.validation.map((d) => d.id).slice(0, 3)).toEqual(['ca20', 'ca40', 'cb16']);
  });

  it('trains a BPE that round-trips text', () => {
    const text = joinDocuments(docs.slice(0, 20));
    const bpe = BpeTokenizer.train(text, 400);
    expect(bpe.vocabSize).toBe(400);
    const sample = docs[30].text.slice(0, 2000);
    const ids = bpe.encode(sample);
    expect(bpe.decode(ids)).toBe(sample);
    expect(ids.length).toBeLessThan(Buffer.byteLength(sample) * 0.7);
    expect(BpeTokenizer.fromJSON(bpe.toJSON()).encode(sample)).toEqual(ids);
    expect(BpeTokenizer.train(text, 400).merges).toEqual(bpe.merges);
  });
});

describe('batches', () => {
  const corpus = tokenize(splitDocuments(loadBrown()), new ByteTokenizer());
  const sampler = new BatchSampler(corpus, 4, 16, 7);

  it('are the same for the same (seed, step), with targets shifted by one', () => {
    const a = sampler.trainBatch(3);
    expect(new BatchSampler(corpus, 4, 16, 7).trainBatch(3)).toEqual(a);
    expect(sampler.trainBatch(4).ids).not.toEqual(a.ids);
    expect(new BatchSampler(corpus, 4, 16, 8).trainBatch(3).ids).not.toEqual(a.ids);
    expect(Array.from(a.ids.subarray(1, 16))).toEqual(Array.from(a.targets.subarray(0, 15)));
  });

  it('validation windows are fixed whole batches', () => {
    const v = sampler.validationBatches(3);
    expect(v).toHaveLength(3);
    expect(sampler.validationBatches(3)).toEqual(v);
  });

  it('refuse bad sizes', () => {
    expect(() => new BatchSampler(corpus, 0, 16, 0)).toThrow(/batch: expected an integer >= 1, got 0/);
    expect(() => new BatchSampler(corpus, 1, corpus.validation.length, 0)).toThrow(/longer than the validation split/);
  });
});
