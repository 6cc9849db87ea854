import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../patterns.js';
import { randomCorpus } from '../testing/random-corpus.js';
import { trainBpe, trainBpeSync } from '../train/train.js';
import { readTextChunks, safeCut } from './read-text.js';

async function collect(gen: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const c of gen) out.push(c);
  return out;
}

describe('readTextChunks', () => {
  it('finds the last newline between two non-space characters', () => {
    expect(safeCut('ab\ncd\n\nef')).toBe(3);
    expect(safeCut('ab \ncd')).toBe(-1);
    expect(safeCut('abcd\n')).toBe(-1);
  });

  // Lines with trailing spaces, blank lines, tabs and CRLF: the cases where a careless cut would
  // change the pre-tokenized pieces.
  const text = Array.from(
    { length: 400 },
    (_, i) => randomCorpus(i, 'ab é1.', 8) + ['\n', ' \n', '\n\n', '\t\n', '\r\n'][i % 5],
  ).join('');

  it('cuts a file into chunks that concatenate to the file', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'llm-read-text-'));
    try {
      const path = join(dir, 'a.txt');
      writeFileSync(path, text);
      const chunks = await collect(readTextChunks(path, 500));
      expect(chunks.length).toBeGreaterThan(5);
      expect(chunks.join('')).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes byte chunks that split UTF-8 sequences', async () => {
    const bytes = Buffer.from(text);
    async function* pieces() {
      for (let i = 0; i < bytes.length; i += 333) yield bytes.subarray(i, i + 333);
    }
    expect((await collect(readTextChunks(pieces(), 700))).join('')).toBe(text);
  });

  for (const [name, pattern] of [
    ['gpt2', GPT2_PATTERN],
    ['cl100k', CL100K_PATTERN],
    ['o200k', O200K_PATTERN],
  ] as const) {
    it(`training on the chunks equals training on the whole text (${name})`, async () => {
      async function* bytes() {
        yield Buffer.from(text);
      }
      const chunked = await trainBpe(readTextChunks(bytes(), 300), { vocabSize: 400, pattern });
      expect(chunked).toEqual(trainBpeSync(text, { vocabSize: 400, pattern }));
    });
  }
});
