import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectErrorAsync } from '@llm/kit';
import { initBackend } from '@llm/tensor-gpu';
import { readSftJsonl, validateSftRecord } from '@llm/train';
import { TransformerLM } from '@llm/transformer';
import { chatmlTemplate, type ChatMessage } from '@llm/tokenizer-bpe';
import { AlignError, type AlignErrorCode } from '../errors.js';
import { turnEnd, writeJsonlAtomic } from './common.js';
import { critiqueAndRevise } from './critique-revise.js';
import type { Principle } from './constitution.js';
import { ContextLM, IM_END, byteTokenizer, scriptedChatLM, tempDir } from './testing.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const tok = byteTokenizer();
const PRINCIPLES: Principle[] = [
  { name: 'p0', critique: 'Critique it under p0.', revision: 'Revise it under p0.' },
  { name: 'p1', critique: 'Critique it under p1.', revision: 'Revise it under p1.' },
  { name: 'p2', critique: 'Critique it under p2.', revision: 'Revise it under p2.' },
];

/** Replies: a draft to the prompt; "crit[name]" to a critique request; "better(current answer)" to a revision request. */
const reply = (m: ChatMessage[]): string => {
  const last = m[m.length - 1]!.content;
  const c = PRINCIPLES.find((p) => p.critique === last);
  if (c) return `crit[${c.name}]`;
  if (PRINCIPLES.some((p) => p.revision === last)) return `better(${m[1]!.content})`;
  return `draft: ${m[0]!.content}`;
};
const prompts = ['hello there', 'how are you', 'what is 2+2'];
const noTemp = (dir: string) => expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
const alignError = (p: Promise<unknown>, code: AlignErrorCode, ...fragments: string[]) => expectErrorAsync(p, code, fragments, AlignError);

describe('critiqueAndRevise', () => {
  it('runs the right number of rounds and writes SFT rows readSftJsonl accepts, plus the trace', async () => {
    const dir = tempDir();
    const sftPath = join(dir, 'sft.jsonl');
    const tracePath = join(dir, 'trace.jsonl');
    const lm = scriptedChatLM(tok, reply);
    const progress: number[] = [];
    const r = await critiqueAndRevise(lm, tok, { prompts, principles: PRINCIPLES, rounds: 2, order: 'sequential', batchSize: 2, sftPath, tracePath, seed: 3, generation: { maxNewTokens: 80 }, onProgress: (d) => progress.push(d) });
    expect(progress).toEqual([2, 3]);
    expect(r.records).toHaveLength(3);
    r.records.forEach((rec, i) => {
      expect(rec.index).toBe(i);
      expect(rec.initial).toBe(`draft: ${prompts[i]}`);
      expect(rec.rounds.map((x) => x.principle)).toEqual(['p0', 'p1']);
      expect(rec.rounds.map((x) => x.critique)).toEqual(['crit[p0]', 'crit[p1]']);
      expect(rec.rounds[0]!.revision).toBe(`better(draft: ${prompts[i]})`);
      expect(rec.rounds[1]!.revision).toBe(`better(better(draft: ${prompts[i]}))`); // round 2 critiques round 1's revision
      expect(rec.rounds[0]!.critiqueRequest).toBe(PRINCIPLES[0]!.critique);
      expect(rec.response).toBe(rec.rounds[1]!.revision);
    });
    expect(r.written).toEqual({ sft: 3, trace: 3 });
    const read = await readSftJsonl(sftPath);
    expect(read.map(({ source: _, ...x }) => x)).toEqual(prompts.map((p) => ({ prompt: p, response: `better(better(draft: ${p}))` })));
    r.sftRows.forEach((row, i) => expect(validateSftRecord(JSON.parse(JSON.stringify(row)), `row ${i}`)).toMatchObject(row));
    const trace = readFileSync(tracePath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(trace).toEqual(JSON.parse(JSON.stringify(r.records)));
    noTemp(dir);
  });

  it('chooses principles by seed (random order), the same for the same seed whatever the batch size', async () => {
    const lm = scriptedChatLM(tok, reply);
    const names = async (seed: number, batchSize: number) =>
      (await critiqueAndRevise(lm, tok, { prompts, principles: PRINCIPLES, rounds: 3, seed, batchSize, generation: { maxNewTokens: 60 } })).records.map((r) => r.rounds.map((x) => x.principle).join(','));
    const a = await names(7, 3);
    expect(await names(7, 1)).toEqual(a);
    const all = new Set<string>();
    for (let s = 0; s < 6; s++) for (const n of await names(s, 3)) all.add(n);
    expect(all.size).toBeGreaterThan(3); // seeds give different draws
    for (const n of all) for (const x of n.split(',')) expect(['p0', 'p1', 'p2']).toContain(x);
  });

  it('is deterministic with a real (tiny, random) model and seeded sampling; rows stay valid SFT records', async () => {
    const model = new TransformerLM({ family: 'llama', vocabSize: 258, nLayer: 1, nHead: 2, nEmbd: 16, intermediateSize: 24, blockSize: 512, initStd: 0.3, seed: 5 });
    const run = (seed: number) => critiqueAndRevise(model, tok, { prompts: prompts.slice(0, 2), principles: PRINCIPLES, rounds: 2, seed, generation: { maxNewTokens: 6, temperature: 1 } });
    const a = await run(1);
    const b = await run(1);
    expect(b.records).toEqual(a.records);
    expect(a.records.every((r) => r.rounds.length === 2)).toBe(true);
    const c = await run(2);
    expect(c.records.map((r) => r.initial)).not.toEqual(a.records.map((r) => r.initial));
    for (const row of a.sftRows) expect(validateSftRecord(JSON.parse(JSON.stringify(row)), 'x')).toMatchObject(row);
    // raw text (no template): the prompt is the model's whole input
    const raw = await critiqueAndRevise(model, tok, { prompts: ['abc'], principles: PRINCIPLES, template: 'none', generation: { maxNewTokens: 4 } });
    expect(raw.records[0]!.rounds).toHaveLength(1);
    model.dispose();
  });

  it('leaves no file (and keeps an older one intact) when the model fails mid-way', async () => {
    const dir = tempDir();
    const sftPath = join(dir, 'sft.jsonl');
    const tracePath = join(dir, 'trace.jsonl');
    writeFileSync(sftPath, 'old\n');
    const opts = { prompts, principles: PRINCIPLES, rounds: 1, batchSize: 2, generation: { maxNewTokens: 80 } };
    const lm = scriptedChatLM(tok, reply);
    await critiqueAndRevise(lm, tok, opts); // count the forwards of a whole run
    const total = lm.calls;
    lm.calls = 0;
    lm.failAt = total - 3; // in the last batch's revision step: the first batch's records are done
    await expect(critiqueAndRevise(lm, tok, { ...opts, sftPath, tracePath })).rejects.toThrow('simulated failure');
    expect(lm.calls).toBe(total - 3);
    expect(readFileSync(sftPath, 'utf8')).toBe('old\n');
    expect(existsSync(tracePath)).toBe(false);
    noTemp(dir);
  });

  it('writes JSONL atomically: a row that fails mid-write leaves no file and no temp file', async () => {
    const dir = tempDir();
    const path = join(dir, 'rows.jsonl');
    function* rows() {
      yield { a: 1 };
      yield { a: 2 };
      throw new Error('disk full (simulated)');
    }
    await expect(writeJsonlAtomic(path, rows())).rejects.toThrow('disk full');
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, 'old\n');
    await alignError(writeJsonlAtomic(path, [{ a: 1 }, undefined]), 'INVALID_ARGUMENT', 'row 2 cannot be written as JSON');
    expect(readFileSync(path, 'utf8')).toBe('old\n');
    noTemp(dir);
    expect(await writeJsonlAtomic(path, [{ a: 1 }, { b: 'x' }])).toBe(2);
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":"x"}\n');
  });

  it('refuses bad options with typed errors before generating', async () => {
    const lm = scriptedChatLM(tok, reply);
    await alignError(critiqueAndRevise(lm, tok, { prompts, rounds: 0 }), 'CONFIG_INVALID', 'rounds', '[1, 16]');
    await alignError(critiqueAndRevise(lm, tok, { prompts, rounds: 1.5 }), 'CONFIG_INVALID', 'rounds');
    await alignError(critiqueAndRevise(lm, tok, { prompts: [] }), 'INVALID_ARGUMENT', 'prompts');
    await alignError(critiqueAndRevise(lm, tok, { prompts: ['ok', ' '] }), 'DATA_INVALID', 'prompts[1]');
    await alignError(critiqueAndRevise(lm, tok, { prompts, principles: [{ name: 'x', critique: 'c' } as Principle] }), 'DATA_INVALID', 'principles[0]', 'field "revision"');
    await alignError(critiqueAndRevise(lm, tok, { prompts, order: 'shuffled' as 'random' }), 'CONFIG_INVALID', 'order');
    await alignError(critiqueAndRevise(lm, tok, { prompts, sftPath: join(tempDir(), 'missing', 'sft.jsonl') }), 'INVALID_ARGUMENT', 'sftPath', 'does not exist');
    await alignError(critiqueAndRevise(lm, tok, { prompts, tracePath: tempDir() }), 'INVALID_ARGUMENT', 'is a directory');
    expect(lm.calls).toBe(0);
    const small = scriptedChatLM(tok, reply);
    (small.config as { vocabSize: number }).vocabSize = 200;
    await alignError(critiqueAndRevise(small, tok, { prompts }), 'VOCAB_MISMATCH', '200', '258');
  });

  it('says which prompt and step outgrew the context', async () => {
    const lm = scriptedChatLM(tok, reply, 120);
    await alignError(
      critiqueAndRevise(lm, tok, { prompts: ['short', 'x'.repeat(40)], principles: PRINCIPLES, generation: { maxNewTokens: 80 } }),
      'SEQUENCE_TOO_LONG',
      'prompt 1',
      'round 1 critique (principle',
      "context is 120",
    );
    await alignError(critiqueAndRevise(lm, tok, { prompts: ['y'.repeat(200)] }), 'SEQUENCE_TOO_LONG', 'prompt 0, initial answer');
  });
});

describe('replies', () => {
  it('leave out the text of a final EOS token (raw-text template)', async () => {
    // says "ok" after any prompt, then token 257 (the model's EOS here)
    const lm = new ContextLM(258, 256, (ctx) => {
      const text = tok.decode(ctx);
      const logits = new Float32Array(258);
      logits[text.endsWith('ok') ? IM_END : text.endsWith('o') ? 107 : 111] = 40;
      return logits;
    });
    const r = await critiqueAndRevise(lm, tok, { prompts: ['hi'], principles: PRINCIPLES, template: 'none', generation: { eosTokenId: IM_END, maxNewTokens: 10 } });
    expect(r.records[0]).toMatchObject({ initial: 'ok', rounds: [{ critique: 'ok', revision: 'ok' }], response: 'ok' });
  });
});

describe('turnEnd', () => {
  it('finds the end-of-turn marker of ChatML and of a Jinja template; none for raw text', () => {
    expect(turnEnd('chatml')).toBe('<|im_end|>');
    expect(turnEnd(chatmlTemplate())).toBe('<|im_end|>');
    const zephyr = "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}</s>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}";
    expect(turnEnd(zephyr)).toBe('</s>');
    expect(turnEnd('none')).toBeNull();
  });
});
