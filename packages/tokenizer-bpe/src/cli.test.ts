import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { captureIo } from './cli/io.js';
import { parseIds } from './cli/encode-commands.js';
import { loadTokenizer } from './formats/save-load.js';
import { randomCorpus } from './testing/random-corpus.js';
import { Tokenizer } from './encoder.js';

let dir: string;
let corpus: string;
const text = randomCorpus(41, 'abcdeé ', 3000) + '\nThe quick brown fox.\n';

beforeAll(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'llm-tokenizer-cli-'));
  corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], stdin = '') {
  const io = captureIo(stdin);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('llm-tokenizer train', () => {
  it('trains, reports progress and saves a compact file', async () => {
    const out = join(dir, 'tok.json');
    const r = await run(['train', '--vocab-size', '400', '--special', '<|endoftext|>', '-o', out, corpus]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/merges 143\/143 \(100\.0%\) · \d+ merges\/s · ETA 0\.0 s/);
    expect(r.err).toMatch(
      /trained 400 tokens \(256 bytes \+ 143 merges \+ 1 special\) in [\d.]+ s → .*tok\.json \(compact\)/,
    );
    const def = await loadTokenizer(out);
    expect(def.name).toBe('tok');
    expect(def.ranks.size).toBe(399);
    expect(def.specialTokens.get('<|endoftext|>')).toBe(399);
    expect(JSON.parse(readFileSync(out, 'utf8')).format).toBe('llm-ts-bpe');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes tokenizer.json with --format hf, reads stdin with -, and is quiet with -q', async () => {
    const out = join(dir, 'tokenizer.json');
    const r = await run(
      ['train', '--vocab-size', '300', '--format', 'hf', '--pattern', 'cl100k', '-q', '-o', out, '-'],
      text,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/merges \d+\//);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.model.type).toBe('BPE');
    expect((await loadTokenizer(out)).ranks.size).toBe(300);
  });

  it('writes a .tiktoken file and says how to load it', async () => {
    const out = join(dir, 'tok.tiktoken');
    const r = await run([
      'train',
      '--vocab-size',
      '300',
      '--special',
      '<|endoftext|>',
      '-q',
      '-o',
      out,
      corpus,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /\(tiktoken\)\nnote: a .tiktoken file stores only ranks; load it with --pattern gpt2 --special '<\|endoftext\|>=299'\n$/,
    );
    const enc = await run(
      ['encode', '-t', out, '--pattern', 'gpt2', '--special', '<|endoftext|>=299', '--allow-special'],
      'ab<|endoftext|>',
    );
    expect(enc.code, enc.err).toBe(0);
    expect(enc.out).toMatch(/ 299\n$/);
    const noPattern = await run(['encode', '-t', out], 'ab');
    expect(noPattern.code).toBe(2);
    expect(noPattern.err).toMatch(/stores only ranks/);
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['no command', [], /missing command/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown option', ['train', '--vocab', '3'], /train: Unknown option '--vocab'/],
    ['no --vocab-size', ['train', '-o', 'x', 'f'], /--vocab-size is required/],
    [
      'a bad --vocab-size',
      ['train', '--vocab-size', 'lots', '-o', 'x', 'f'],
      /--vocab-size must be an integer ≥ 1, got "lots"/,
    ],
    [
      'a too small --vocab-size',
      ['train', '--vocab-size', '100', '-o', 'x', 'f'],
      /vocabSize must be an integer ≥ 256/,
    ],
    ['no output', ['train', '--vocab-size', '300', 'f'], /-o\/--output is required/],
    ['no input files', ['train', '--vocab-size', '300', '-o', 'x'], /at least one text FILE/],
    [
      'a bad --format',
      ['train', '--vocab-size', '300', '--format', 'xml', '-o', 'x', 'f'],
      /--format must be one of compact, hf, tiktoken/,
    ],
    ['a bad --pattern', ['train', '--vocab-size', '300', '--pattern', '(', '-o', 'x', 'f'], /bad pattern/],
    ['encode without a tokenizer', ['encode'], /exactly one of -t\/--tokenizer FILE and --encoding NAME/],
    ['decode --json', ['decode', '-t', 'x', '--json'], /apply to encode and count only/],
    ['a bad --special for encode', ['encode', '-t', 'x', '--special', 'abc'], /--special must be TEXT=ID/],
    [
      '--pattern with --encoding',
      ['count', '--encoding', 'cl100k_base', '--pattern', 'gpt2'],
      /apply to .tiktoken files/,
    ],
    ['an unknown encoding', ['count', '--encoding', 'cl99k'], /unknown encoding "cl99k"/],
  ];
  for (const [label, argv, message] of usage) {
    it(`exits 2 on ${label}`, async () => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/llm-tokenizer --help/);
    });
  }

  it('exits 1 when an input file is missing', async () => {
    const r = await run([
      'train',
      '--vocab-size',
      '300',
      '-o',
      join(dir, 'x.json'),
      join(dir, 'missing.txt'),
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ENOENT.*missing\.txt/);
  });

  it('prints help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: llm-tokenizer <command>/);
    expect((await run(['train', '--help'])).out).toMatch(/--vocab-size N/);
  });
});

describe('llm-tokenizer encode / decode / count', () => {
  let tokPath: string;
  let tok: Tokenizer;
  beforeAll(async () => {
    tokPath = join(dir, 'enc.json');
    expect(
      (await run(['train', '--vocab-size', '500', '--special', '<|endoftext|>', '-q', '-o', tokPath, corpus]))
        .code,
    ).toBe(0);
    tok = new Tokenizer(await loadTokenizer(tokPath));
  });

  it('encodes stdin to space-separated ids, or JSON', async () => {
    const sample = 'abc dé\nThe fox';
    const ids = tok.encode(sample);
    expect((await run(['encode', '-t', tokPath], sample)).out).toBe(`${ids.join(' ')}\n`);
    expect((await run(['encode', '-t', tokPath, '--json'], sample)).out).toBe(`${JSON.stringify(ids)}\n`);
  });

  it('encodes files, and decodes back', async () => {
    const enc = await run(['encode', '-t', tokPath, corpus]);
    expect(enc.code).toBe(0);
    const dec = await run(['decode', '-t', tokPath], enc.out);
    expect(dec.out).toBe(text);
    expect((await run(['decode', '-t', tokPath], JSON.stringify(tok.encode('abc')))).out).toBe('abc');
  });

  it('counts tokens', async () => {
    expect((await run(['count', '-t', tokPath, corpus])).out).toBe(`${tok.encode(text).length}\n`);
  });

  it('handles special-token text by the flags', async () => {
    const r = await run(['encode', '-t', tokPath], 'a<|endoftext|>');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--allow-special/);
    expect((await run(['encode', '-t', tokPath, '--allow-special'], 'a<|endoftext|>')).out).toBe(
      `${tok.encode('a')[0]} 499\n`,
    );
    const asText = await run(['count', '-t', tokPath, '--special-as-text'], '<|endoftext|>');
    expect(Number(asText.out)).toBeGreaterThan(1);
  });

  it('exits 1 on bad ids, unknown ids and bad tokenizer files', async () => {
    expect((await run(['decode', '-t', tokPath], '1 two 3')).err).toMatch(/not a token id: "two"/);
    const unknown = await run(['decode', '-t', tokPath], '100000');
    expect(unknown.code).toBe(1);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format":"llm-ts-bpe","version":1}');
    const r = await run(['encode', '-t', bad], 'x');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/llm-ts-bpe JSON: "name" must be a string/);
  });

  it('uses built-in encodings (cl100k_base, from the tiktoken package)', async () => {
    const { getEncoding } = await import('./encodings.js');
    const sample = 'hello world<|endoftext|>';
    const r = await run(['encode', '--encoding', 'cl100k_base', '--allow-special'], sample);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`${getEncoding('cl100k_base').encode(sample, { allowedSpecial: 'all' }).join(' ')}\n`);
    expect(r.out).toBe('15339 1917 100257\n');
    expect((await run(['decode', '--encoding', 'cl100k_base'], r.out)).out).toBe(sample);
  });

  it('parses ids', () => {
    expect(parseIds(' 1 2,3\n4 ')).toEqual([1, 2, 3, 4]);
    expect(parseIds('[5, 6]')).toEqual([5, 6]);
    expect(parseIds('')).toEqual([]);
    expect(() => parseIds('[1.5]')).toThrow(/not a token id: 1.5/);
  });
});
