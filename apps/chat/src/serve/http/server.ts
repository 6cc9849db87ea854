/**
 * The Fastify app of `llm-chat serve`: OpenAI's endpoints (models, chat completions, completions,
 * embeddings), /health, /metrics and the chat page at `/`. Bodies are bounded (`bodyLimit`, 1 MB by
 * default → 413) and checked (validate.ts → 400); every error is OpenAI's error object with its
 * status; with an API key every /v1 route needs `Authorization: Bearer KEY` (401). A client that
 * disconnects cancels its generations (their KV blocks are freed at once).
 *
 *   const app = buildServer(ctx, { apiKey: 'sk-local' });
 *   await app.listen({ host: '127.0.0.1', port: 8080 });
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { SampleError } from '@llm/sample';
import type { ServeContext } from '../context.js';
import { ServeError } from '../errors.js';
import { runChat } from '../openai/chat.js';
import { runCompletion } from '../openai/completions.js';
import { runEmbeddings } from '../openai/embeddings.js';
import { parseChatRequest, parseCompletionRequest, parseEmbeddingRequest } from '../openai/validate.js';
import { CHAT_PAGE } from '../web/page.js';
import { Metrics } from './metrics.js';
import { openSse } from './sse.js';

export interface ServerOptions {
  /** Require `Authorization: Bearer <apiKey>` on /v1 routes. */
  apiKey?: string;
  /** Largest request body in bytes (default 1,000,000). */
  bodyLimit?: number;
}

/** Any error → OpenAI's error object and status. */
export function toServeError(e: unknown): ServeError {
  if (e instanceof ServeError) return e;
  if (e instanceof SampleError) return new ServeError('INVALID_REQUEST', e.message);
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return Object.assign(new ServeError('INVALID_REQUEST', `the request body is too large: ${fe.message ?? ''}`.trim(), 'body'), { status413: true });
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new ServeError('INVALID_REQUEST', fe.message ?? 'bad request', 'body');
  return new ServeError('INTERNAL', `internal error: ${fe.message ?? String(e)}`);
}

function send(reply: FastifyReply, e: unknown): FastifyReply {
  const se = toServeError(e);
  const status = (se as { status413?: boolean }).status413 ? 413 : se.status;
  return reply.code(status === 499 ? 400 : status).type('application/json').send(se.toJSON());
}

/** An AbortSignal that fires when the client goes away before the response is complete. */
function disconnectSignal(req: FastifyRequest, reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  req.raw.on('aborted', () => ac.abort());
  return ac.signal;
}

export function buildServer(ctx: ServeContext, opts: ServerOptions = {}): FastifyInstance {
  const app = Fastify({ bodyLimit: opts.bodyLimit ?? 1_000_000, logger: false });
  const metrics = new Metrics(ctx);

  app.addHook('onResponse', async (req, reply) => {
    metrics.request(req.routeOptions.url ?? 'unknown', reply.statusCode);
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!opts.apiKey || !req.url.startsWith('/v1/')) return;
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${opts.apiKey}`) {
      return send(reply, new ServeError('INVALID_API_KEY', auth ? 'Incorrect API key provided.' : 'You didn\'t provide an API key: send "Authorization: Bearer KEY".'));
    }
  });
  app.setErrorHandler((e, _req, reply) => send(reply, e));
  app.setNotFoundHandler((req, reply) => send(reply, new ServeError('NOT_FOUND', `Unknown route ${req.method} ${req.url.split('?')[0]}`)));

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(CHAT_PAGE));
  app.get('/health', async () => ({ status: 'ok', model: ctx.modelId, ...ctx.engine.cacheStats(), queue: ctx.scheduler.stats().queueDepth }));
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));

  const modelObj = () => ({ id: ctx.modelId, object: 'model', created: ctx.created, owned_by: 'llm-ts' });
  app.get('/v1/models', async () => ({ object: 'list', data: [modelObj()] }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (req, reply) => (req.params.id === ctx.modelId ? modelObj() : send(reply, new ServeError('MODEL_NOT_FOUND', `The model \`${req.params.id}\` does not exist`, 'model'))));

  const generation = <R extends { stream: boolean }>(parse: (b: unknown) => R, run: (ctx: ServeContext, r: R, s: AbortSignal, sink?: (c: Record<string, unknown>) => void) => Promise<Record<string, unknown>>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const r = parse(req.body);
      const signal = disconnectSignal(req, reply);
      if (!r.stream) return run(ctx, r, signal);
      // Validate what can fail before the first byte (model name, prompt length) by starting the run first.
      let sse: ReturnType<typeof openSse> | null = null;
      const pending: Record<string, unknown>[] = [];
      const sink = (c: Record<string, unknown>) => (sse ? sse.send(c) : pending.push(c));
      const running = run(ctx, r, signal, sink);
      const early = await Promise.race([running.then(() => null, (e: unknown) => e), new Promise<null>((res) => setImmediate(() => res(null)))]);
      if (early) throw early;
      sse = openSse(reply);
      for (const c of pending.splice(0)) sse.send(c);
      try {
        await running;
      } catch (e) {
        if (!signal.aborted) sse.send(toServeError(e).toJSON());
      }
      sse.done();
      metrics.request(req.routeOptions.url ?? req.url, 200); // onResponse does not run for a hijacked reply
      return reply;
    };
  app.post('/v1/chat/completions', generation(parseChatRequest, runChat));
  app.post('/v1/completions', generation(parseCompletionRequest, runCompletion));
  app.post('/v1/embeddings', async (req) => runEmbeddings(ctx, parseEmbeddingRequest(req.body)));

  app.addHook('onClose', async () => ctx.scheduler.close());
  return app;
}
