/**
 * POST /v1/completions (legacy text completions): each prompt × n choices through the scheduler,
 * the prompt encoded as plain text (no template), streamed as `text_completion` chunks or whole.
 *
 *   await runCompletion(ctx, parseCompletionRequest({ model, prompt: 'Once upon', max_tokens: 8 }), signal);
 */
import type { ServeContext } from '../context.js';
import { ServeError } from '../errors.js';
import { choiceSeed, completionId, completionLogprobs, samplingOptions, usage } from './format.js';
import type { CompletionRequest } from './validate.js';
import type { ChunkSink } from './chat.js';

export async function runCompletion(ctx: ServeContext, req: CompletionRequest, signal: AbortSignal, sink?: ChunkSink): Promise<Record<string, unknown>> {
  if (req.model !== ctx.modelId) throw new ServeError('MODEL_NOT_FOUND', `The model \`${req.model}\` does not exist; this server serves \`${ctx.modelId}\`.`, 'model');
  const blockSize = ctx.engine.config.blockSize;
  const prompts = req.prompt.map((p, k) => {
    if (p.length / ctx.maxTokenBytes >= blockSize) throw tooLong(`at least ${Math.ceil(p.length / ctx.maxTokenBytes)}`, blockSize);
    const ids = ctx.tokenizer.encodeOrdinary(p);
    if (ids.length === 0) throw new ServeError('INVALID_REQUEST', `prompt${req.prompt.length > 1 ? `[${k}]` : ''} is empty`, 'prompt');
    if (ids.length >= blockSize) throw tooLong(String(ids.length), blockSize);
    return ids;
  });
  const id = completionId('cmpl');
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: 'text_completion', created, model: ctx.modelId };
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const jobs = prompts.flatMap((ids, p) => Array.from({ length: req.n }, (_, i) => ({ ids, index: p * req.n + i, seed: choiceSeed(req.seed, i) })));
  try {
    const results = await Promise.all(
      jobs.map((j) =>
        ctx.scheduler.submit({
          prompt: j.ids,
          maxNewTokens: Math.min(req.max_tokens ?? 16, blockSize - j.ids.length),
          sampling: samplingOptions(req, ctx.engine.config.vocabSize),
          seed: j.seed,
          stopTokenIds: ctx.stopTokenIds,
          stopStrings: req.stop,
          topLogprobs: req.logprobs ?? null,
          signal: inner.signal,
          ...(sink ? { onText: (text) => sink({ ...head, choices: [{ index: j.index, text, logprobs: null, finish_reason: null }] }) } : {}),
        }),
      ),
    );
    const choices = results.map((r, k) => ({ index: jobs[k]!.index, text: r.text, logprobs: r.logprobs ? completionLogprobs(ctx.tokenizer, r.logprobs) : null, finish_reason: r.finishReason }));
    const promptTokens = prompts.reduce((n, p) => n + p.length, 0);
    const use = usage(promptTokens, results.reduce((n, r) => n + r.tokens.length, 0), 0);
    if (sink) {
      for (const c of choices) sink({ ...head, choices: [{ index: c.index, text: '', logprobs: null, finish_reason: c.finish_reason }] });
      if (req.include_usage) sink({ ...head, choices: [], usage: use });
    }
    return { ...head, choices, usage: use };
  } catch (e) {
    inner.abort();
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

const tooLong = (n: string, ctx: number) =>
  new ServeError('CONTEXT_LENGTH_EXCEEDED', `This model's maximum context length is ${ctx} tokens. However, your prompt resulted in ${n} tokens. Please reduce the length of the prompt.`, 'prompt');

