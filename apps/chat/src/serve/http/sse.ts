/**
 * Server-sent events on a hijacked Fastify reply: `data: {json}\n\n` per chunk, `data: [DONE]` at
 * the end; an error after the stream started is sent as one `data: {"error": …}` event, then [DONE].
 *
 *   const sse = openSse(reply);
 *   sse.send({ object: 'chat.completion.chunk', … });
 *   sse.done();
 */
import type { FastifyReply } from 'fastify';

export interface Sse {
  send(obj: unknown): void;
  done(): void;
  readonly closed: boolean;
}

export function openSse(reply: FastifyReply): Sse {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  const alive = () => !res.writableEnded && !res.destroyed;
  return {
    send(obj) {
      if (alive()) res.write(`data: ${JSON.stringify(obj)}\n\n`);
    },
    done() {
      if (alive()) res.end('data: [DONE]\n\n');
    },
    get closed() {
      return !alive();
    },
  };
}
