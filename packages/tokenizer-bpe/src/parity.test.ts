// Exact parity with the `tiktoken` npm package (the Rust/WASM reference) on a generated corpus:
// hand-written prose, code, scripts, emoji, whitespace/digit/punctuation runs, contractions, lone
// surrogates, and a seeded random-Unicode fuzz. Each encoding is checked through its fast scanner
// and through the generic regex path (same pattern, wrapped so the scanner is not picked).
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { Tokenizer } from './encoder.js';
import { type EncodingName, getEncoding, getEncodingDefinition } from './encodings.js';
import { fixedDocuments, parityCorpus } from './testing/parity-corpus.js';

interface TiktokenLike {
  encode(text: string, allowed?: 'all' | string[], disallowed?: 'all' | string[]): Uint32Array;
  decode(ids: Uint32Array): Uint8Array;
  free(): void;
}
const require = createRequire(import.meta.url);
const { get_encoding } = require('tiktoken') as { get_encoding(name: string): TiktokenLike };

const DOCS = parityCorpus();
const ENCODINGS: EncodingName[] = ['r50k_base', 'cl100k_base', 'o200k_base'];
const references = new Map<EncodingName, TiktokenLike>();
afterAll(() => {
  for (const r of references.values()) r.free();
});

function reference(name: EncodingName): TiktokenLike {
  let r = references.get(name);
  if (r === undefined) references.set(name, (r = get_encoding(name)));
  return r;
}

/** Documents whose ids differ from tiktoken's, with a few examples for the failure message. */
function mismatches(encode: (doc: string) => number[], ref: (doc: string) => number[], docs: string[]): { count: number; examples: string[] } {
  let count = 0;
  const examples: string[] = [];
  for (const doc of docs) {
    const a = encode(doc);
    const b = ref(doc);
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) {
      count++;
      if (examples.length < 3) examples.push(JSON.stringify(doc.slice(0, 80)));
    }
  }
  return { count, examples };
}

function report(name: string, docs: number, m: { count: number; examples: string[] }): string {
  return `${name}: ${m.count} of ${docs} documents differ from tiktoken ${m.examples.join(' ')}`;
}

describe.each(ENCODINGS)('%s parity with tiktoken', (name) => {
  const tok = getEncoding(name);
  const ref = (doc: string): number[] => Array.from(reference(name).encode(doc, [], []));

  it(`encodes all ${DOCS.length} documents identically (fast scanner)`, () => {
    const m = mismatches((d) => tok.encodeOrdinary(d), ref, DOCS);
    expect(m.count, report(name, DOCS.length, m)).toBe(0);
  });

  it('encodes all documents identically through the generic regex path', () => {
    const def = getEncodingDefinition(name);
    const viaRegex = new Tokenizer({ ...def, pattern: `(?:${def.pattern})` });
    const m = mismatches((d) => viaRegex.encodeOrdinary(d), ref, DOCS);
    expect(m.count, report(`${name} (regex)`, DOCS.length, m)).toBe(0);
  });

  it('encodes special tokens like tiktoken with allowedSpecial "all"', () => {
    const specials = [...tok.specialTokens.keys()];
    const docs = fixedDocuments().slice(0, 30).map((d, k) => `${d}${specials[k % specials.length]}${d.slice(0, 7)}${specials[0]}`);
    const m = mismatches((d) => tok.encode(d, { allowedSpecial: 'all' }), (d) => Array.from(reference(name).encode(d, 'all')), docs);
    expect(m.count, report(`${name} (specials)`, docs.length, m)).toBe(0);
  });

  it('decodes to tiktoken bytes, round-trips text, streams, and counts', () => {
    const ttk = reference(name);
    let badBytes = 0;
    let badText = 0;
    let badStream = 0;
    let badCount = 0;
    for (const doc of DOCS) {
      const ids = tok.encodeOrdinary(doc);
      const bytes = tok.decodeBytes(ids);
      if (Buffer.compare(Buffer.from(bytes), Buffer.from(ttk.decode(Uint32Array.from(ids)))) !== 0) badBytes++;
      // Lone surrogates were encoded as U+FFFD; everything else must come back exactly.
      if (tok.decode(ids) !== doc.replace(/\p{Cs}/gu, '\uFFFD')) badText++;
      const d = tok.decoder();
      let streamed = '';
      for (const id of ids) streamed += d.push(id);
      streamed += d.flush();
      if (streamed !== tok.decode(ids)) badStream++;
      if (tok.countTokens(doc, { disallowedSpecial: [] }) !== ids.length) badCount++;
    }
    expect({ badBytes, badText, badStream, badCount }).toEqual({ badBytes: 0, badText: 0, badStream: 0, badCount: 0 });
  });
});

it('p50k_base (same pattern as r50k, 24 extra whitespace tokens) matches tiktoken on the fixed documents', () => {
  const tok = getEncoding('p50k_base');
  const ttk = get_encoding('p50k_base');
  try {
    const docs = fixedDocuments();
    const m = mismatches((d) => tok.encodeOrdinary(d), (d) => Array.from(ttk.encode(d, [], [])), docs);
    expect(m.count, report('p50k_base', docs.length, m)).toBe(0);
  } finally {
    ttk.free();
  }
});
