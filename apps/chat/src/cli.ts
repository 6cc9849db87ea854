/**
 * `llm-chat`: chat with a checkpoint in the terminal.
 *
 *   llm-chat                           # the model the last llm-train / npm start run wrote under out/
 *   llm-chat --checkpoint out/sft/best [--template chatml|checkpoint|tokenizer_config.json|chat_template.jinja] [--system "Be brief."]
 *            [--temperature 0.7 --top-k 40 --top-p 0.95 --min-p 0 --seed 1 --max-tokens 200] [--docs DIR]
 *   llm-chat serve --model out/sft/best [--port 8080 …]   # the OpenAI-compatible server (src/serve/cli.ts)
 *
 * With --docs DIR each message is grounded in the top passages of the .txt / .md files under DIR
 * (numbered [1], [2], …; the sources are listed after the reply).
 * Type a message and press enter; `/reset` clears the conversation, `/exit` (or Ctrl-D) quits.
 * Reads stdin line by line when it is not a terminal, so `echo "hi" | llm-chat …` works.
 * Exit codes: 0 ok; 1 a bad checkpoint or tokenizer; 2 bad usage.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { findModelDir, loadModel, summarize, TransformerError } from '@llm/transformer';
import { Tokenizer, TokenizerError, chatmlTemplate, loadChatTemplate, loadTokenizer, trainBpeSync, type ChatTemplate } from '@llm/tokenizer-bpe';
import { SampleError } from '@llm/sample';
import { compileOrFallback } from '@llm/infer';
import { num } from './option-parsers.js';
import { ChatSession, ChatTurnError } from './chat.js';
import { runServe } from './serve/cli.js';
import { ServeError } from './serve/errors.js';
import { DocIndex } from './serve/rag/doc-index.js';
import { grounding, type Citation } from './serve/rag/grounding.js';

class ChatCliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

export function program(): Command {
  return new Command('llm-chat')
    .description('Chat with an llm-ts checkpoint in the terminal (streaming).')
    .option('--checkpoint <dir>', 'checkpoint directory (config.json + model.safetensors + tokenizer.json), or a run folder: its newest best/ or checkpoint/', 'out')
    .option('--tokenizer <file>', 'tokenizer file or "byte" (default <checkpoint>/tokenizer.json)')
    .option('--template <t>', '"chatml", or the chat template of an HF checkpoint directory, tokenizer_config.json or chat_template.jinja', 'chatml')
    .option('--system <text>', 'system message')
    .option('--temperature <n>', 'sampling temperature (0 = greedy)', num(0, 10), 0.7)
    .option('--top-k <n>', 'keep the k most likely tokens (0 = off)', num(0, 1e9, true), 40)
    .option('--top-p <n>', 'nucleus mass (1 = off)', num(1e-6, 1), 0.95)
    .option('--min-p <n>', 'min-p threshold (0 = off)', num(0, 1), 0)
    .option('--repetition-penalty <n>', 'HF repetition penalty (1 = off)', num(1e-6, 100), 1)
    .option('--seed <n>', 'sampling seed', num(0, 2 ** 31, true), 1)
    .option('--max-tokens <n>', "longest reply in tokens (default 256; a reply also ends when the model's context is full)", num(1, 1e6, true))
    .option('--engine <e>', 'infer: @llm/infer\'s WebAssembly engine; tfjs: the training model', (v: string) => {
      if (v !== 'infer' && v !== 'tfjs') throw new InvalidArgumentError('expected infer or tfjs');
      return v;
    }, 'infer')
    .option('--docs <dir>', 'ground each reply in the top passages of the .txt / .md files under DIR (cited as [n])')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
}

async function loadTemplate(spec: string): Promise<ChatTemplate> {
  if (spec === 'chatml') return chatmlTemplate();
  if (!(await stat(spec).catch(() => null))) throw new ChatCliError(`--template must be "chatml" or an existing tokenizer_config.json, chat_template.jinja or checkpoint directory, got ${spec}`, 2);
  return loadChatTemplate(spec);
}

/** "byte" (the 256 byte tokens: a BPE with no merges) or a tokenizer file. */
async function loadTokenizerSpec(spec: string): Promise<Tokenizer> {
  return new Tokenizer(spec === 'byte' ? trainBpeSync('', { vocabSize: 256, name: 'byte' }) : await loadTokenizer(spec));
}

/** One turn: the streamed reply, or one line saying why the message cannot be answered. */
async function answer(session: ChatSession, msg: string, out: NodeJS.WritableStream, say: (m: string) => void, docs: DocIndex | null = null): Promise<void> {
  let citations: Citation[] = [];
  let prompt = msg;
  if (docs) {
    const g = grounding(docs.search(msg, 3));
    citations = g.citations;
    if (citations.length) prompt = `${g.system}\n\nQuestion: ${msg}`;
  }
  const reply = session.reply(prompt);
  let piece: IteratorResult<string>;
  try {
    piece = await reply.next(); // a message that cannot fit is refused here, before anything is printed
  } catch (e) {
    if (e instanceof ChatTurnError) return say(e.message);
    throw e;
  }
  out.write('assistant> ');
  for (; !piece.done; piece = await reply.next()) out.write(piece.value);
  out.write('\n');
  for (const c of citations) out.write(`  [${c.index}] ${c.source}: ${c.text.replace(/\s+/g, ' ').slice(0, 100)}\n`);
}

export async function main(argv: readonly string[], io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; error: NodeJS.WritableStream } = { input: process.stdin, output: process.stdout, error: process.stderr }): Promise<number> {
  const say = (m: string) => void io.error.write(`llm-chat: ${m}\n`);
  try {
    if (argv[0] === 'serve') return await runServe(argv.slice(1), io);
    const cmd = program();
    await cmd.parseAsync([...argv], { from: 'user' });
    const o = cmd.opts();
    const template = await loadTemplate(o.template as string);
    const docs = o.docs ? await DocIndex.fromDir(o.docs as string) : null;
    await initBackend({ log: false });
    const dir = await findModelDir(o.checkpoint as string).catch((e: unknown) => {
      throw new ChatCliError((e as Error).message, 1);
    });
    const model = await loadModel(dir).catch((e: unknown) => {
      throw new ChatCliError(`cannot load checkpoint ${dir}: ${(e as Error).message}`, 1);
    });
    const tokenizer = await loadTokenizerSpec((o.tokenizer as string | undefined) ?? join(dir, 'tokenizer.json')).catch((e: unknown) => {
      throw new ChatCliError(`cannot load the tokenizer: ${(e as Error).message} (pass --tokenizer)`, 1);
    });
    if (tokenizer.vocabSize > model.config.vocabSize) throw new ChatCliError(`the tokenizer has ${tokenizer.vocabSize} symbols, the model ${model.config.vocabSize}: pass the tokenizer the model was trained with`, 1);
    const run = o.engine === 'infer' ? compileOrFallback(model) : null;
    if (run?.reason) say(`running on tfjs: ${run.reason}`);
    const session = new ChatSession({
      model: run?.lm ?? model,
      tokenizer,
      template,
      ...(o.system ? { system: o.system as string } : {}),
      sampling: { temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP, repetitionPenalty: o.repetitionPenalty, seed: o.seed },
      ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens as number } : {}),
    });
    const tty = Boolean((io.input as NodeJS.ReadStream).isTTY);
    const context = model.config.blockSize;
    const limit = session.maxTokens > session.reserve ? ` · replies up to ${session.maxTokens} tokens, cut short when the ${context}-token context is full` : '';
    io.error.write(`${dir}: ${summarize(model)}${limit}\n/reset clears the conversation, /exit quits.\n`);
    const rl = createInterface({ input: io.input, ...(tty ? { output: io.output, prompt: 'you> ' } : {}), terminal: tty });
    if (tty) rl.prompt();
    for await (const line of rl) {
      const msg = line.trim();
      if (msg === '/exit') break;
      if (msg === '/reset') {
        session.reset();
        io.output.write('(conversation cleared)\n');
      } else if (msg) {
        await answer(session, msg, io.output, say, docs);
      }
      if (tty) rl.prompt();
    }
    rl.close();
    run?.engine?.dispose();
    model.dispose();
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.exitCode === 0) return 0;
      say(`${e.message.replace(/^error: /, '')} (see llm-chat --help)`);
      return 2;
    }
    if (e instanceof ChatCliError) {
      say(e.message);
      return e.exitCode;
    }
    if (e instanceof TokenizerError || e instanceof TransformerError || e instanceof SampleError || e instanceof ServeError) {
      say(e.message.replace(/\s*\n\s*/g, ' '));
      return 1;
    }
    // anything else (a file-system error, a bug): one line; the stack with LLM_DEBUG=1
    const err = e as NodeJS.ErrnoException;
    say(e instanceof Error ? `${err.code && err.path ? `${err.path}: ` : ''}${e.name}: ${e.message.replace(/\s*\n\s*/g, ' ')}${process.env.LLM_DEBUG ? `\n${e.stack ?? ''}` : ''}` : String(e));
    return 1;
  }
}
