// Retrieval on generated documents whose facts appear nowhere else (invented names and values
// from a seeded generator): recall@3 of generated questions ≥ 0.9; chunking keeps paragraphs,
// bounds chunk size and overlaps neighbours; the server puts the passages in the prompt and
// returns numbered citations naming the right file.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '@llm/kit';
import { startTinyServer } from '../test-fixtures.js';
import { chunkText } from './chunk.js';
import { DocIndex } from './doc-index.js';

const SYL = ['ka', 'lo', 'mir', 'zu', 'tan', 'vel', 'qo', 'ris', 'dun', 'fey', 'gor', 'pha', 'shi', 'tor', 'bex', 'wen'];
const ATTRS = [
  ['capital', 'The capital of {E} is {V}.', 'What is the capital of {E}?'],
  ['export', 'The main export of {E} is {V}.', 'What does {E} mainly export?'],
  ['founder', '{E} was founded by {V}.', 'Who founded {E}?'],
  ['river', 'The longest river in {E} is the {V}.', 'Which is the longest river in {E}?'],
] as const;

/** Invented entities with invented facts, written as markdown documents (several entities per file). */
function generateCorpus(seed: number, entities: number) {
  const r = rng(seed);
  const word = (n: number) => Array.from({ length: n }, () => SYL[Math.floor(r() * SYL.length)]).join('');
  const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
  const used = new Set<string>();
  const fresh = (n: number) => {
    for (;;) {
      const w = cap(word(n));
      if (!used.has(w)) return used.add(w), w;
    }
  };
  const facts: { entity: string; question: string; value: string; file: string }[] = [];
  const files = new Map<string, string[]>();
  for (let e = 0; e < entities; e++) {
    const entity = fresh(3);
    const file = `region-${Math.floor(e / 5)}.md`;
    const paras = files.get(file) ?? [`# Regions, part ${Math.floor(e / 5)}`];
    const sentences: string[] = [`${entity} is a land described in old travel notes.`];
    for (const [, fact, q] of ATTRS) {
      const value = fresh(2 + Math.floor(r() * 2));
      sentences.push(fact.replace('{E}', entity).replace('{V}', value));
      facts.push({ entity, question: q.replace('{E}', entity), value, file });
    }
    paras.push(sentences.join(' '));
    files.set(file, paras);
  }
  return { facts, files: [...files].map(([source, paras]) => ({ source, text: paras.join('\n\n') })) };
}

describe('chunkText', () => {
  it('packs paragraphs up to the size, overlapping the previous chunk; long paragraphs are windowed', () => {
    const paras = Array.from({ length: 6 }, (_, i) => `p${i} ${'w '.repeat(9).trim()}`); // 10 words each
    const chunks = chunkText(paras.join('\n\n'), { size: 25, overlap: 10 });
    expect(chunks[0]).toBe(`${paras[0]}\n\n${paras[1]}`);
    expect(chunks[1]!.startsWith(paras[1]!)).toBe(true); // the overlap carries the last paragraph
    for (const c of chunks) expect(c.split(/\s+/).length).toBeLessThanOrEqual(25);
    expect(chunks.join(' ')).toContain('p5');
    const long = chunkText(Array.from({ length: 100 }, (_, i) => `t${i}`).join(' '), { size: 30, overlap: 5 });
    expect(long.length).toBeGreaterThan(3);
    expect(long[1]!.split(' ')[0]).toBe('t25');
  });
});

describe('DocIndex', () => {
  it('recall@3 on generated questions about generated documents is ≥ 0.9', () => {
    const { facts, files } = generateCorpus(17, 40);
    const index = new DocIndex(files, { size: 40, overlap: 8 });
    expect(index.size).toBeGreaterThan(files.length); // documents were really chunked
    let hit = 0;
    for (const f of facts) if (index.search(f.question, 3).some((p) => p.text.includes(f.value))) hit++;
    const recall = hit / facts.length;
    expect(recall, `recall@3 = ${recall}`).toBeGreaterThanOrEqual(0.9);
  });
});

describe('--docs in the server', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llm-docs-'));
    await mkdir(join(dir, 'sub'));
    const { files } = generateCorpus(5, 10);
    for (const f of files) await writeFile(join(dir, 'sub', f.source), f.text);
    await writeFile(join(dir, 'ignored.bin'), 'The capital of Nowhere is Zed.');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the reply carries numbered citations of the passages that hold the fact, streamed and not', async () => {
    const { facts } = generateCorpus(5, 10);
    const index = await DocIndex.fromDir(dir, { size: 40, overlap: 8 });
    const t = await startTinyServer({ docs: index });
    try {
      const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const f = facts[7]!;
      const r = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: f.question }], max_tokens: 4 });
      const citations = (r.choices[0]!.message as unknown as { citations: { index: number; source: string; text: string }[] }).citations;
      expect(citations.map((c) => c.index)).toEqual(citations.map((_, i) => i + 1));
      const right = citations.find((c) => c.text.includes(f.value));
      expect(right?.source).toBe(join('sub', f.file));
      const grounded = r.usage!.prompt_tokens;
      expect(grounded).toBeGreaterThan(f.question.length + right!.text.length); // the passages are in the prompt
      const s = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: f.question }], max_tokens: 4, stream: true });
      let last: unknown = null;
      for await (const ch of s) if ((ch as unknown as { citations?: unknown }).citations) last = (ch as unknown as { citations: unknown }).citations;
      expect(last).toEqual(citations);
    } finally {
      await t.close();
    }
  });
});
