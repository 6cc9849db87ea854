/**
 * A small generation loop for `llm-train sample` and `npm start` (temperature + top-k, seeded, KV
 * cache, streaming text). The full sampler chain lives in @llm/sample.
 *
 *   for (const piece of generateText(model, tok, 'Once upon a time', { maxTokens: 100, temperature: 0.8, topK: 40, seed: 1 })) process.stdout.write(piece);
 */
import { tf } from '@llm/tensor-gpu';
import { Rng, type TransformerLM } from '@llm/transformer';
import type { Tokenizer } from '@llm/tokenizer-bpe';

export interface GenerateOptions {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = no top-k cut. */
  topK: number;
  seed: number;
}

/** Pick the next id from logits [V] on the host. */
export function pickToken(logits: Float32Array, o: GenerateOptions, rng: Rng): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (o.temperature <= 0) return best;
  let ids = Array.from(logits.keys());
  if (o.topK > 0 && o.topK < logits.length) ids = ids.sort((a, b) => logits[b]! - logits[a]!).slice(0, o.topK);
  const w = ids.map((i) => Math.exp((logits[i]! - logits[best]!) / o.temperature));
  let u = rng.next() * w.reduce((a, b) => a + b, 0);
  for (let j = 0; j < ids.length; j++) if ((u -= w[j]!) <= 0) return ids[j]!;
  return ids[ids.length - 1]!;
}

/** Yields decoded text pieces (never a split UTF-8 character) as tokens are generated. */
export function* generateText(model: TransformerLM, tokenizer: Tokenizer, prompt: string, o: GenerateOptions): Generator<string> {
  const ctx = model.config.blockSize;
  let ids = tokenizer.encode(prompt, { allowedSpecial: 'all' });
  if (ids.length === 0) ids = [tokenizer.encode('\n')[0] ?? 0];
  ids = ids.slice(-Math.max(1, ctx - Math.min(o.maxTokens, ctx - 1)));
  const rng = new Rng(o.seed);
  const dec = tokenizer.decoder();
  const eos = model.config.eosTokenId;
  const cache = model.createCache(1, ctx);
  try {
    let input = tf.tensor2d([ids], [1, ids.length], 'int32');
    for (let n = 0; n < o.maxTokens && cache.length < ctx; n++) {
      const logits = tf.tidy(() => model.forward(input, { cache, logitsToKeep: 1 }).reshape([-1]));
      const next = pickToken(logits.dataSync() as Float32Array, o, rng);
      tf.dispose([logits, input]);
      if (eos !== null && next === eos) return;
      const piece = dec.push(next);
      if (piece) yield piece;
      input = tf.tensor2d([[next]], [1, 1], 'int32');
    }
    input.dispose();
    const rest = dec.flush();
    if (rest) yield rest;
  } finally {
    cache.dispose();
  }
}
