/**
 * POST /v1/embeddings: each input's mean-pooled final hidden states ([C] floats), as floats or as
 * base64 little-endian float32 (what the official client asks for by default).
 *
 *   runEmbeddings(ctx, parseEmbeddingRequest({ model, input: ['a', 'b'] }))   // { object: 'list', data: [{ embedding: [...] }, …] }
 */
import type { ServeContext } from '../context.js';
import { ServeError } from '../errors.js';
import type { EmbeddingRequest } from './validate.js';

export function runEmbeddings(ctx: ServeContext, req: EmbeddingRequest): Record<string, unknown> {
  if (req.model !== ctx.modelId) throw new ServeError('MODEL_NOT_FOUND', `The model \`${req.model}\` does not exist; this server serves \`${ctx.modelId}\`.`, 'model');
  if (!ctx.embed) throw new ServeError('INVALID_REQUEST', 'this engine gives no hidden states: start the server with --engine tfjs for /v1/embeddings', 'model');
  const blockSize = ctx.engine.config.blockSize;
  const V = ctx.engine.config.vocabSize;
  let tokens = 0;
  const data = req.input.map((x, index) => {
    if (typeof x === 'string' && x.length / ctx.maxTokenBytes > blockSize) throw tooLong(index, blockSize);
    const ids = typeof x === 'string' ? ctx.tokenizer.encodeOrdinary(x) : x;
    if (ids.length === 0) throw new ServeError('INVALID_REQUEST', `input[${index}] has no tokens`, 'input');
    if (ids.length > blockSize) throw tooLong(index, blockSize);
    if (ids.some((t) => t >= V)) throw new ServeError('INVALID_REQUEST', `input[${index}]: token ids must be below the vocabulary size ${V}`, 'input');
    tokens += ids.length;
    const v = ctx.embed!(ids);
    const embedding = req.encoding_format === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v);
    return { object: 'embedding', index, embedding };
  });
  return { object: 'list', data, model: ctx.modelId, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

const tooLong = (i: number, ctx: number) => new ServeError('CONTEXT_LENGTH_EXCEEDED', `input[${i}] is longer than the model's context (${ctx} tokens)`, 'input');
