/**
 * Hostile-but-well-formed GGUFs through importGguf: metadata that lies (sizes, ids, token lists,
 * tokenizer names) and byte mutations of a real export. Each case must import or throw a
 * QuantError — never another error type.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { Tokenizer, trainBpeSync } from '@llm/tokenizer-bpe';
import { rng } from '@llm/kit';
import { QuantError } from '../errors.js';
import { exportGguf } from './export.js';
import { importParsedGguf } from './import.js';
import { parseGguf, readGguf, type GgufFile } from './reader.js';
import type { GgufValue } from './format.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let base: GgufFile;
beforeAll(async () => {
  await initBackend();
  const tok = new Tokenizer(trainBpeSync('hello world, the quick brown fox '.repeat(10), { vocabSize: 270, specialTokens: ['<|endoftext|>'] }));
  const model = new TransformerLM({ family: 'llama', vocabSize: 272, nLayer: 1, nHead: 2, nKvHead: 1, nEmbd: 32, intermediateSize: 64, blockSize: 16 });
  const dir = mkdtempSync(join(tmpdir(), 'llm-quant-ifuzz-'));
  await exportGguf({ model, tokenizer: tok }, join(dir, 'm.gguf'), { type: 'q8_0' });
  base = await readGguf(join(dir, 'm.gguf'));
  rmSync(dir, { recursive: true, force: true });
  model.dispose();
});

function outcome(g: GgufFile): 'ok' | 'QuantError' {
  try {
    importParsedGguf(g).model.dispose();
    return 'ok';
  } catch (e) {
    if (e instanceof QuantError) return 'QuantError';
    throw new Error(`not a QuantError: ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
  }
}

describe('importGguf on hostile metadata', () => {
  it('300 seeded metadata lies: each imports or throws QuantError', () => {
    const r = rng(42);
    const keys = [...base.metadata.keys()];
    const lies: GgufValue[] = [
      { type: 4, value: 0 },
      { type: 4, value: 4_000_000_000 },
      { type: 5, value: -1 },
      { type: 6, value: NaN },
      { type: 6, value: 1e30 },
      { type: 8, value: 'bogus' },
      { type: 8, value: '' },
      { type: 7, value: true },
      { type: 10, value: 2n ** 60n },
      { type: 9, itemType: 8, value: ['a', 'b'] },
      { type: 9, itemType: 5, value: [9, 9, 9] },
      { type: 9, itemType: 8, value: [] },
    ];
    const counts = { ok: 0, QuantError: 0 };
    for (let i = 0; i < 300; i++) {
      const meta = new Map(base.metadata);
      for (let k = 0, n = 1 + Math.floor(r() * 3); k < n; k++) {
        const key = keys[Math.floor(r() * keys.length)]!;
        if (r() < 0.2) meta.delete(key);
        else meta.set(key, lies[Math.floor(r() * lies.length)]!);
      }
      counts[outcome({ ...base, metadata: meta })]++;
    }
    expect(counts.QuantError).toBeGreaterThan(150);
  });

  it('400 seeded byte mutations of a real export: parse and import give QuantError or a model', () => {
    const r = rng(7);
    let imported = 0;
    for (let i = 0; i < 400; i++) {
      const b = base.bytes.slice();
      for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) b[Math.floor(r() * Math.min(b.length, base.dataOffset))] = Math.floor(r() * 256);
      let g: GgufFile;
      try {
        g = parseGguf(b);
      } catch (e) {
        expect(e).toBeInstanceOf(QuantError);
        continue;
      }
      if (outcome(g) === 'ok') imported++;
    }
    expect(imported).toBeLessThan(400);
  });
});
