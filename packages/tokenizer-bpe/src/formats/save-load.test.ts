import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenizerDefinition } from '../definition.js';
import { Tokenizer } from '../encoder.js';
import { TokenizerError } from '../errors.js';
import { CL100K_PATTERN } from '../patterns.js';
import { randomCorpus } from '../testing/random-corpus.js';
import { trainBpeSync } from '../train/train.js';
import { loadTokenizer, saveTokenizer, sniffTokenizerFormat, type TokenizerFileFormat } from './save-load.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'llm-save-load-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const corpus = randomCorpus(51, 'abcdeé中🙂 1,.', 4000);
const sample = 'abc dé 中🙂 12, e.<|endoftext|>ba';

async function rejects(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenizerError);
  expect((err as TokenizerError).code).toBe(code);
  expect((err as Error).message).toMatch(message);
}

const FORMATS: Array<[TokenizerFileFormat, string]> = [
  ['compact', 'model.json'],
  ['hf', 'model.tokenizer.json'],
  ['tiktoken', 'model.tiktoken'],
];

describe('saveTokenizer / loadTokenizer', () => {
  for (const pattern of [undefined, CL100K_PATTERN]) {
    const def: TokenizerDefinition = trainBpeSync(corpus, {
      vocabSize: 1000,
      pattern,
      specialTokens: ['<|endoftext|>', '<|pad|>'],
      name: 'model',
    });
    for (const [format, file] of FORMATS) {
      it(`round-trips a trained model through ${format} (${
        pattern ? 'cl100k' : 'gpt2'
      } pattern)`, async () => {
        const path = join(dir, `${pattern ? 'cl' : 'g'}-${file}`);
        await saveTokenizer(path, def, format);
        expect(sniffTokenizerFormat(readFileSync(path, 'utf8'))).toBe(format);
        // A .tiktoken file stores only ranks: the pattern and specials come with the load.
        const extra = format === 'tiktoken' ? { pattern: def.pattern, specialTokens: def.specialTokens } : {};
        const back = await loadTokenizer(path, { name: 'model', ...extra });
        expect(back).toEqual(def);
        const a = new Tokenizer(def);
        const b = new Tokenizer(back);
        expect(b.encode(sample, { allowedSpecial: 'all' })).toEqual(
          a.encode(sample, { allowedSpecial: 'all' }),
        );
        expect(b.encode(corpus)).toEqual(a.encode(corpus));
      });
    }
  }

  it('names hf files after the file unless told otherwise', async () => {
    const path = join(dir, 'named.json');
    await saveTokenizer(path, trainBpeSync('abab', { vocabSize: 258, name: 'x' }), 'hf');
    expect((await loadTokenizer(path)).name).toBe('named');
  });

  it('writes atomically: no temp files left, and a failed save keeps the old file', async () => {
    const path = join(dir, 'keep.json');
    const good = trainBpeSync('abab', { vocabSize: 258 });
    await saveTokenizer(path, good);
    const before = readFileSync(path, 'utf8');
    const odd = { ...good, ranks: new Map([...good.ranks].map(([t, r]) => [t, r + 1])) };
    await rejects(saveTokenizer(path, odd, 'compact'), 'UNSUPPORTED', /byte 0 must have rank 0/);
    expect(readFileSync(path, 'utf8')).toBe(before);
    await expect(saveTokenizer(join(dir, 'no-such-dir', 'x.json'), good)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('needs the pattern of a .tiktoken file, unless the file is named after a built-in encoding', async () => {
    const def = trainBpeSync('abab', { vocabSize: 258 });
    const path = join(dir, 'plain.tiktoken');
    await saveTokenizer(path, def, 'tiktoken');
    expect(readFileSync(path, 'utf8').split('\n').slice(256, 258)).toEqual(['YWI= 256', 'YWJhYg== 257']);
    await rejects(loadTokenizer(path), 'INVALID_ARGUMENT', /stores only ranks.*"plain"/);
    await rejects(
      loadTokenizer(path, { pattern: '\\S+', specialTokens: { x: 257 } }),
      'INVALID_ARGUMENT',
      /id 257/,
    );
    const named = join(dir, 'cl100k_base.tiktoken');
    await saveTokenizer(named, def, 'tiktoken');
    const back = await loadTokenizer(named);
    expect(back.pattern).toBe(CL100K_PATTERN);
    expect(back.name).toBe('cl100k_base');
    expect(back.ranks).toEqual(def.ranks);
  });

  it('refuses a pattern or specials for formats that store their own', async () => {
    const path = join(dir, 'own.json');
    await saveTokenizer(path, trainBpeSync('abab', { vocabSize: 258 }));
    await rejects(
      loadTokenizer(path, { pattern: '\\S+' }),
      'INVALID_ARGUMENT',
      /apply to .tiktoken files only/,
    );
  });

  it('rejects JSON files of unknown shape and broken JSON', async () => {
    const a = join(dir, 'other.json');
    writeFileSync(a, '{"hello": 1}');
    await rejects(loadTokenizer(a), 'INVALID_FORMAT', /neither llm-ts-bpe/);
    const b = join(dir, 'broken.json');
    writeFileSync(b, '{"format": "llm-ts-bpe",');
    await rejects(loadTokenizer(b), 'INVALID_FORMAT', /looks like JSON but does not parse/);
  });
});
