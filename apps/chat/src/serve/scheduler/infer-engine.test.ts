// The scheduler over @llm/infer's paged engine (the default `--engine`), when this build has it:
// the engine satisfies StepEngine, greedy output equals @llm/sample's generate on the tfjs model
// (the engine's logits match tfjs within 1e-4), prefixes are reused, preemption recomputes, and
// every block comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransformerLM } from '@llm/transformer';
import { generate } from '@llm/sample';
import { tinyModel, tinyTokenizer } from '../test-fixtures.js';
import type { StepEngine } from './engine.js';
import { Scheduler } from './scheduler.js';

const spec = '@llm/infer';
const infer = (await import(spec).catch(() => ({}))) as { compileForInference?: (m: TransformerLM, o: Record<string, unknown>) => StepEngine & { dispose?(): void } };
const compile = infer.compileForInference;

let model: TransformerLM;
const tok = tinyTokenizer();
beforeAll(async () => {
  model = await tinyModel(256, 9);
});
afterAll(() => model.dispose());

describe.skipIf(typeof compile !== 'function')('Scheduler on @llm/infer', () => {
  it('greedy outputs equal generate() on the tfjs model, with prefix reuse and preemption; all blocks freed', async () => {
    const engine = compile!(model, { maxTokens: 8 * 16, blockTokens: 16 }); // 8 blocks: 4 requests of ~40 positions must preempt
    try {
      const s = new Scheduler(engine, tok, { maxBatch: 4 });
      const system = tok.encodeOrdinary('system: be brief. ');
      const prompts = [0, 1, 2, 3].map((i) => [...system, ...tok.encodeOrdinary(`question ${i}?`)]);
      const out = await Promise.all(prompts.map((p) => s.submit({ prompt: p, prefixLength: system.length, maxNewTokens: 12, sampling: { temperature: 0 } })));
      out.forEach((r, i) => expect(r.tokens).toEqual(generate(model, [prompts[i]!], { maxNewTokens: 12, temperature: 0 }).sequences[0]));
      expect(s.stats().preemptions).toBeGreaterThan(0);
      for (const i of [0, 1]) {
        const again = await s.submit({ prompt: prompts[i]!, prefixLength: system.length, maxNewTokens: 12, sampling: { temperature: 0 } });
        expect(again.tokens).toEqual(out[i]!.tokens);
      }
      expect(s.stats().prefixHits).toBeGreaterThan(0);
      s.clearPrefixCache();
      expect(engine.cacheStats().blocksInUse).toBe(0);
    } finally {
      engine.dispose?.();
    }
  });
});
