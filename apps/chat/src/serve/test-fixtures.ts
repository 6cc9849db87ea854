/**
 * Test fixtures of the server (not part of the app's surface): a tiny random-weight model with a
 * byte + ChatML tokenizer, its serve context and a listening server on 127.0.0.1, port 0.
 *
 *   const t = await startTinyServer({ maxBatch: 8 });
 *   const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'x' });
 *   await t.close();
 */
import type { FastifyInstance } from 'fastify';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM } from '@llm/transformer';
import { CHATML_SPECIAL_TOKENS, Tokenizer, chatmlTemplate, trainBpeSync } from '@llm/tokenizer-bpe';
import { createServeContext, type ServeContext } from './context.js';
import { buildServer, type ServerOptions } from './http/server.js';
import { meanHidden } from './load.js';
import type { DocIndex } from './rag/doc-index.js';
import { TfjsEngine } from './scheduler/tfjs-engine.js';
import type { SchedulerOptions } from './scheduler/scheduler.js';

export const tinyTokenizer = (): Tokenizer => new Tokenizer(trainBpeSync('', { vocabSize: 256 + CHATML_SPECIAL_TOKENS.length, specialTokens: [...CHATML_SPECIAL_TOKENS], name: 'byte+chatml' }));

export async function tinyModel(blockSize = 1024, seed = 3): Promise<TransformerLM> {
  await initBackend({ backend: 'wasm', log: false });
  return new TransformerLM({ family: 'gpt2', vocabSize: 258, nLayer: 1, nHead: 2, nEmbd: 32, blockSize, seed });
}

export interface TinyServer {
  url: string;
  app: FastifyInstance;
  ctx: ServeContext;
  model: TransformerLM;
  engine: TfjsEngine;
  close(): Promise<void>;
}

export async function startTinyServer(o: { scheduler?: SchedulerOptions; server?: ServerOptions; docs?: DocIndex; blocksTotal?: number; model?: TransformerLM } = {}): Promise<TinyServer> {
  const model = o.model ?? (await tinyModel());
  const engine = new TfjsEngine(model, { blocksTotal: o.blocksTotal ?? 1024 });
  const ctx = createServeContext({
    modelId: 'tiny',
    engine,
    tokenizer: tinyTokenizer(),
    template: chatmlTemplate(),
    embed: (ids) => meanHidden(model, ids),
    ...(o.docs ? { docs: o.docs } : {}),
    ...(o.scheduler ? { scheduler: o.scheduler } : {}),
  });
  const app = buildServer(ctx, o.server);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    ctx,
    model,
    engine,
    close: async () => {
      await app.close();
      if (!o.model) model.dispose();
    },
  };
}
