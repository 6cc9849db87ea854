/**
 * `llm-chat serve`: the OpenAI-compatible server over a checkpoint or GGUF file.
 *
 *   llm-chat serve --model out/sft/best [--adapter dir] [--host 127.0.0.1] [--port 8080] [--api-key KEY]
 *                  [--max-batch 8] [--max-queue 64] [--ctx N] [--docs DIR] [--engine auto|infer|tfjs]
 *
 * Prints the URL of the chat page; Ctrl-C (SIGINT) or SIGTERM stops it. Exit codes as llm-chat's:
 * 0 stopped, 1 a bad model / docs / port, 2 bad usage.
 */
import { Command, Option } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { createServeContext } from './context.js';
import { buildServer } from './http/server.js';
import { loadServed, type EngineKind } from './load.js';
import { DocIndex } from './rag/doc-index.js';
import { num } from '../option-parsers.js';

const int = (min: number, max: number) => num(min, max, true);

export function serveProgram(): Command {
  return new Command('serve')
    .description('Serve a model behind the OpenAI API (chat/completions, completions, embeddings) with continuous batching, and a chat page at /.')
    .option('--model <path>', 'checkpoint directory, run folder (its newest best/ or checkpoint/) or .gguf file', 'out')
    .option('--adapter <dir>', 'a PEFT adapter directory to apply (e.g. LoRA)')
    .option('--host <host>', 'address to bind (0.0.0.0 exposes the server to the network)', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', int(0, 65535), 8080)
    .option('--api-key <key>', 'require "Authorization: Bearer KEY" on /v1 routes')
    .option('--max-batch <n>', 'most sequences stepped together', int(1, 1024), 8)
    .option('--max-queue <n>', 'most requests waiting; more are answered 429', int(1, 100000), 64)
    .option('--ctx <n>', "context in tokens (default and at most the model's)", int(2, 1 << 24))
    .option('--kv-blocks <n>', 'KV-cache blocks of 16 positions (default (max-batch + 4) contexts)', int(1, 1 << 24))
    .option('--docs <dir>', 'ground replies in the .txt / .md files under DIR (retrieval, cited as [n])')
    .option('--template <t>', '"chatml", or a tokenizer_config.json / chat_template.jinja / checkpoint directory (default: the checkpoint\'s, else ChatML)')
    .addOption(new Option('--engine <kind>', 'step engine: infer (@llm/infer, paged wasm), tfjs (reference), auto').choices(['auto', 'infer', 'tfjs']).default('auto'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

/** Parse, load, listen; resolves with the exit code when the server has stopped. */
export async function runServe(argv: readonly string[], io: { error: NodeJS.WritableStream }, stop?: AbortSignal): Promise<number> {
  const cmd = serveProgram();
  await cmd.parseAsync([...argv], { from: 'user' });
  const o = cmd.opts();
  await initBackend({ log: false });
  const docs = o.docs ? await DocIndex.fromDir(o.docs as string) : null;
  const served = await loadServed({
    model: o.model as string,
    engine: o.engine as EngineKind,
    maxBatch: o.maxBatch as number,
    ...(o.adapter ? { adapter: o.adapter as string } : {}),
    ...(o.ctx ? { ctx: o.ctx as number } : {}),
    ...(o.kvBlocks ? { kvBlocks: o.kvBlocks as number } : {}),
    ...(o.template ? { template: o.template as string } : {}),
    onNote: (m) => void io.error.write(`llm-chat serve: ${m}\n`),
  });
  const ctx = createServeContext({
    modelId: served.modelId,
    engine: served.engine,
    tokenizer: served.tokenizer,
    template: served.template,
    embed: served.embed,
    docs,
    eosTokenIds: served.eosTokenIds,
    scheduler: { maxBatch: o.maxBatch as number, maxQueue: o.maxQueue as number },
  });
  const app = buildServer(ctx, o.apiKey ? { apiKey: o.apiKey as string } : {});
  const address = await app.listen({ host: o.host as string, port: o.port as number });
  const kv = served.engine.cacheStats();
  io.error.write(`llm-chat serve: ${served.modelId} (${served.engineKind} engine, context ${served.engine.config.blockSize}, ${kv.blocksTotal} KV blocks of ${kv.blockTokens}, batch ${o.maxBatch as number})${docs ? ` · ${docs.size} passages from ${o.docs as string}` : ''}\n`);
  io.error.write(`chat page: ${address}/   OpenAI base URL: ${address}/v1\n`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    stop?.addEventListener('abort', done, { once: true });
  });
  await app.close();
  served.dispose();
  return 0;
}
