/**
 * OpenAI wire objects: ids, usage, log-probabilities, and the sampling options a request maps to.
 *
 *   completionId('chatcmpl')          // 'chatcmpl-5f1c…'
 *   usage(12, 5, 0)                   // { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 0 } }
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { SamplingOptions } from '@llm/sample';
import type { Tokenizer } from '@llm/tokenizer-bpe';
import { ServeError } from '../errors.js';
import type { TokenLogprob } from '../scheduler/sampler.js';
import type { SamplingFields } from './validate.js';

export const completionId = (prefix: string): string => `${prefix}-${randomBytes(12).toString('hex')}`;

export const usage = (prompt: number, completion: number, cached: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: cached },
});

/** The request's sampling fields as @llm/sample options (OpenAI's defaults: temperature 1, top_p 1); logit_bias ids must be below `vocabSize`. */
export function samplingOptions(r: SamplingFields, vocabSize: number): SamplingOptions {
  const outside = Object.keys(r.logit_bias ?? {}).find((id) => Number(id) >= vocabSize);
  if (outside !== undefined) throw new ServeError('INVALID_REQUEST', `logit_bias: token id ${outside} is outside the vocabulary (${vocabSize} tokens)`, 'logit_bias');
  const o: SamplingOptions = { temperature: r.temperature ?? 1 };
  if (r.top_p !== undefined) o.topP = r.top_p;
  if (r.top_k !== undefined) o.topK = r.top_k;
  if (r.min_p !== undefined) o.minP = r.min_p;
  if (r.repetition_penalty !== undefined) o.repetitionPenalty = r.repetition_penalty;
  if (r.frequency_penalty !== undefined) o.frequencyPenalty = r.frequency_penalty;
  if (r.presence_penalty !== undefined) o.presencePenalty = r.presence_penalty;
  if (r.logit_bias) o.logitBias = r.logit_bias;
  return o;
}

/** The seed of choice i: the request's seed + i, or a fresh random one. */
export const choiceSeed = (seed: number | undefined, i: number): number => (seed !== undefined ? seed + i : randomInt(2 ** 31));

/** Chat logprobs entries (`choices[].logprobs.content`). */
export function chatLogprobs(tok: Tokenizer, lps: readonly TokenLogprob[]) {
  const entry = (id: number, logprob: number) => {
    const bytes = Array.from(tok.tokenToBytes(id));
    return { token: tok.decode([id]), logprob, bytes };
  };
  return lps.map((l) => ({ ...entry(l.token, l.logprob), top_logprobs: l.top.map((t) => entry(t.token, t.logprob)) }));
}

/** Legacy completions logprobs (`choices[].logprobs`). */
export function completionLogprobs(tok: Tokenizer, lps: readonly TokenLogprob[]) {
  let offset = 0;
  const text_offset: number[] = [];
  const tokens = lps.map((l) => {
    const t = tok.decode([l.token]);
    text_offset.push(offset);
    offset += t.length;
    return t;
  });
  return {
    tokens,
    token_logprobs: lps.map((l) => l.logprob),
    top_logprobs: lps.map((l) => Object.fromEntries(l.top.map((t) => [tok.decode([t.token]), t.logprob]))),
    text_offset,
  };
}
