// The scheduler against @llm/sample's generate on the same model (the independent reference):
// greedy and seeded outputs equal it alone, inside a full batch, through the prefix cache and
// across preemption; the queue is bounded; cancellation and completion free every block.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { generate } from '@llm/sample';
import { ServeError } from '../errors.js';
import { tinyModel, tinyTokenizer } from '../test-fixtures.js';
import { Scheduler, type GenRequest } from './scheduler.js';
import { TfjsEngine } from './tfjs-engine.js';

let model: TransformerLM;
const tok = tinyTokenizer();
const ids = (s: string) => tok.encodeOrdinary(s);

beforeAll(async () => {
  model = await tinyModel(256, 7);
});
afterAll(() => model.dispose());

const ref = (prompt: number[], n: number, opts: { temperature?: number; topK?: number; seed?: number } = {}) =>
  generate(model, [prompt], { maxNewTokens: n, temperature: 0, ...opts }).sequences[0]!;

const req = (prompt: number[], n: number, extra: Partial<GenRequest> = {}): GenRequest => ({ prompt, maxNewTokens: n, sampling: { temperature: 0 }, ...extra });

describe('TfjsEngine', () => {
  it('a fork continues exactly like one sequence fed everything; blocks are shared and all freed', () => {
    const engine = new TfjsEngine(model, { blocksTotal: 64, blockTokens: 4 });
    const a = engine.newSequence();
    engine.step([{ seq: a, tokens: ids('shared prefix!') }]); // 14 tokens: 3 full blocks + 1 partial
    const inUse = engine.cacheStats().blocksInUse;
    const b = a.fork();
    expect(engine.cacheStats().blocksInUse).toBe(inUse + 1); // only the partial block is copied
    const [lb] = engine.step([{ seq: b, tokens: ids(' more') }]);
    const full = tf.tidy(() => model.forward(tf.tensor2d([ids('shared prefix! more')], undefined, 'int32')).slice([0, 18, 0], [1, 1, -1]).dataSync());
    const maxDiff = Math.max(...Array.from(lb!, (x, i) => Math.abs(x - full[i]!)));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(a.length).toBe(14);
    expect(b.length).toBe(19);
    b.truncate(10);
    expect(b.length).toBe(10);
    a.free();
    b.free();
    b.free();
    expect(engine.cacheStats().blocksInUse).toBe(0);
  });

  it('a step needing more blocks than are free throws CACHE_FULL and changes nothing', () => {
    const engine = new TfjsEngine(model, { blocksTotal: 2, blockTokens: 4 });
    const a = engine.newSequence();
    expect(() => engine.step([{ seq: a, tokens: ids('123456789') }])).toThrow(expect.objectContaining({ code: 'CACHE_FULL' }));
    expect(a.length).toBe(0);
    expect(engine.cacheStats().blocksInUse).toBe(0);
    a.free();
  });
});

describe('Scheduler', () => {
  it('greedy output equals generate(), alone and inside a full batch of sampled requests', async () => {
    const prompt = ids('<|im_start|>user\nhello there');
    const expected = ref(prompt, 12);
    const engine = new TfjsEngine(model, { blocksTotal: 512 });
    const s = new Scheduler(engine, tok, { maxBatch: 8, prefixCacheSize: 0 });
    const alone = await s.submit(req(prompt, 12));
    expect(alone.tokens).toEqual(expected);
    const others = Array.from({ length: 7 }, (_, i) => s.submit(req(ids(`other prompt number ${i} ${'x'.repeat(i * 9)}`), 5 + i * 3, { sampling: { temperature: 1, topK: 30 }, seed: i })));
    const inBatch = s.submit(req(prompt, 12));
    await Promise.all(others);
    expect((await inBatch).tokens).toEqual(expected);
    expect(s.stats().steps).toBeGreaterThan(0);
    expect(engine.cacheStats().blocksInUse).toBe(0);
  });

  it('seeded sampling draws what generate() draws for the same seed and processors', async () => {
    const prompt = ids('once upon a time');
    const opts = { temperature: 0.9, topK: 40, seed: 11 };
    const s = new Scheduler(new TfjsEngine(model), tok, { maxBatch: 4 });
    const [a, b] = await Promise.all([
      s.submit(req(prompt, 16, { sampling: { temperature: 0.9, topK: 40 }, seed: 11 })),
      s.submit(req(ids('another one'), 16, { sampling: { temperature: 1 }, seed: 2 })),
    ]);
    expect(a.tokens).toEqual(ref(prompt, 16, opts));
    expect(b.tokens).toEqual(ref(ids('another one'), 16, { temperature: 1, seed: 2 }));
    expect(a.text).toBe(tok.decode(a.tokens));
  });

  it('a marked prefix is prefilled once and reused (hits counted); the outputs do not change', async () => {
    const system = ids('<|im_start|>system\nYou are a terse assistant who answers in one line.<|im_end|>\n');
    const engine = new TfjsEngine(model, { blocksTotal: 256 });
    const s = new Scheduler(engine, tok, { maxBatch: 4 });
    const users = ['what is 2+2?', 'name a color', 'say hi'];
    for (const u of users) {
      const prompt = [...system, ...ids(`<|im_start|>user\n${u}`)];
      const r = await s.submit(req(prompt, 6, { prefixLength: system.length }));
      expect(r.tokens).toEqual(ref(prompt, 6));
    }
    expect(s.stats().prefixHits).toBe(2);
    const cached = engine.cacheStats().blocksInUse;
    expect(cached).toBe(Math.ceil(system.length / 16)); // only the kept prefix holds blocks
    s.clearPrefixCache();
    expect(engine.cacheStats().blocksInUse).toBe(0);
  });

  it('when blocks run out, the newest request is preempted and recomputed: outputs unchanged, nothing leaks', async () => {
    const engine = new TfjsEngine(model, { blocksTotal: 6, blockTokens: 8 }); // 48 positions for 4 requests of ~30
    const s = new Scheduler(engine, tok, { maxBatch: 4, prefixCacheSize: 0 });
    const prompts = [0, 1, 2, 3].map((i) => ids(`request ${i}: tell me`));
    const out = await Promise.all(prompts.map((p) => s.submit(req(p, 12))));
    out.forEach((r, i) => expect(r.tokens).toEqual(ref(prompts[i]!, 12)));
    expect(s.stats().preemptions).toBeGreaterThan(0);
    expect(engine.cacheStats().blocksInUse).toBe(0);
  });

  it('bounded queue, stop strings and ids, length, context and cancellation', async () => {
    const engine = new TfjsEngine(model, { blocksTotal: 128 });
    const s = new Scheduler(engine, tok, { maxBatch: 1, maxQueue: 2 });
    const p = ids('abc');
    const a = s.submit(req(p, 4));
    const b = s.submit(req(p, 4));
    await expect(s.submit(req(p, 4))).rejects.toMatchObject({ code: 'QUEUE_FULL', status: 429 });
    await Promise.all([a, b]);
    const long = await s.submit(req(ids('x'.repeat(250)), 100));
    expect(long.finishReason).toBe('length');
    expect(long.tokens).toHaveLength(256 - 250); // cut at the context
    await expect(s.submit(req(ids('x'.repeat(256)), 4))).rejects.toMatchObject({ code: 'CONTEXT_LENGTH_EXCEEDED', status: 400 });
    // a stop id / stop string taken from the greedy output itself
    const free = ref(p, 10);
    const byId = await s.submit(req(p, 10, { stopTokenIds: [free[3]!] }));
    expect(byId.tokens).toEqual(free.slice(0, free.indexOf(free[3]!) + 1));
    expect(byId.finishReason).toBe('stop');
    const text = tok.decode(free);
    const stop = text.slice(4, 6);
    const byString = await s.submit(req(p, 10, { stopStrings: [stop] }));
    expect(byString.text).toBe(text.slice(0, text.indexOf(stop)));
    expect(byString.finishReason).toBe('stop');
    // cancel: running and queued requests reject at once and free their blocks
    const ac = new AbortController();
    const pieces: string[] = [];
    const running = s.submit(req(p, 200, { signal: ac.signal, onText: (t) => (pieces.push(t), pieces.length === 3 && ac.abort()) }));
    const queued = s.submit(req(p, 5, { signal: ac.signal }));
    await expect(running).rejects.toBeInstanceOf(ServeError);
    await expect(queued).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(pieces.length).toBeLessThan(10);
    s.clearPrefixCache();
    expect(engine.cacheStats().blocksInUse).toBe(0);
    expect(s.stats()).toMatchObject({ queueDepth: 0, running: 0, cancelled: 2 });
  });

  it('closing fails running and waiting requests with OVERLOADED (503) and frees their blocks', async () => {
    const engine = new TfjsEngine(model, { blocksTotal: 64 });
    const s = new Scheduler(engine, tok, { maxBatch: 1 });
    const running = s.submit(req(ids('abc'), 100, { onText: () => s.close() }));
    const waiting = s.submit(req(ids('abc'), 5));
    await expect(running).rejects.toMatchObject({ code: 'OVERLOADED', status: 503 });
    await expect(waiting).rejects.toMatchObject({ code: 'OVERLOADED' });
    await expect(s.submit(req(ids('abc'), 5))).rejects.toMatchObject({ status: 503 });
    expect(engine.cacheStats().blocksInUse).toBe(0);
  });
});
