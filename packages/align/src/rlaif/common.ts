/**
 * What the RLAIF pipeline shares: conversations → token ids through a chat template (or none),
 * generation of one reply per row with @llm/sample, per-step seeds, option checks, and JSONL files
 * written atomically (temp file + rename: a failure leaves no partial file).
 *
 *   const ids = renderIds(tok, [{ role: 'user', content: 'hi' }], 'chatml');   // ends with the generation prompt
 *   await writeJsonlAtomic('out.jsonl', rows);                                 // all rows or no file
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { cutAtStop, generate, generationConfigFor, type CausalLMLike, type GenerationOptions } from '@llm/sample';
import { applyChatTemplate, encodeChat, type ChatMessage, type ChatTemplate, type Tokenizer } from '@llm/tokenizer-bpe';
import { AlignError } from '../errors.js';

/**
 * How conversations become the text a model reads: a ChatTemplate, 'chatml', Jinja source, or
 * 'none' (raw text: the messages' contents joined by a blank line, no markup — a single user message
 * is exactly its text, as `--template none` trains on prompt + response).
 */
export type RlaifTemplate = ChatTemplate | string;

/** The ids a model reads before it replies to `messages` (the template's generation prompt included). */
export function renderIds(tokenizer: Tokenizer, messages: readonly ChatMessage[], template: RlaifTemplate): number[] {
  if (template === 'none') return tokenizer.encodeOrdinary(messages.map((m) => m.content).join('\n\n'));
  return encodeChat(tokenizer, messages, { template, addGenerationPrompt: true });
}

/** Whether a template is ChatML (its replies end with `<|im_end|>`). */
function isChatml(template: RlaifTemplate): boolean {
  return template === 'chatml' || (typeof template === 'object' && template.name === 'chatml');
}

/**
 * The end-of-turn marker replies stop at: `<|im_end|>` for ChatML; for another template, what it
 * renders after an assistant message's content (e.g. `</s>`), trimmed; null for 'none' or when the
 * template renders nothing there (then give `stopStrings` / `eosTokenId` in the generation options).
 */
export function turnEnd(template: RlaifTemplate): string | null {
  if (template === 'none') return null;
  if (isChatml(template)) return '<|im_end|>';
  const marker = '\u0001reply\u0001';
  try {
    const text = applyChatTemplate([{ role: 'user', content: 'u' }, { role: 'assistant', content: marker }], { template });
    const at = text.lastIndexOf(marker);
    const end = at < 0 ? '' : text.slice(at + marker.length).trim();
    return end === '' ? null : end;
  } catch {
    return null; // a template that refuses this conversation: its errors surface when the real one is rendered
  }
}

/** The id of a special token when the tokenizer has it as one token below `vocabSize`, else null. */
function specialId(tokenizer: Tokenizer, text: string, vocabSize: number): number | null {
  try {
    const ids = tokenizer.encode(text, { allowedSpecial: 'all' });
    return ids.length === 1 && ids[0]! < vocabSize ? ids[0]! : null;
  } catch {
    return null;
  }
}

/** A model's context and vocabulary against the tokenizer's: a tokenizer with more ids than the model has rows is VOCAB_MISMATCH. */
export function checkModelTokenizer(model: CausalLMLike, tokenizer: Tokenizer, what: string): void {
  if (!model || typeof model.forward !== 'function' || !model.config) throw new AlignError('INVALID_ARGUMENT', `${what} must be a causal LM (forward, createCache, config).`);
  if (!tokenizer || typeof tokenizer.encodeOrdinary !== 'function') throw new AlignError('INVALID_ARGUMENT', `the tokenizer of ${what} must be an @llm/tokenizer-bpe Tokenizer.`);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new AlignError('VOCAB_MISMATCH', `${what} has a vocabulary of ${model.config.vocabSize} ids but its tokenizer has ${tokenizer.vocabSize}: they do not belong together (load the tokenizer saved with the model).`);
  }
}

/**
 * One reply per row (rows batched, left-padded), texts cut at the template's end-of-turn marker and
 * the stop strings, trimmed. `seed` seeds the batch (row b draws from a stream of seed and b).
 * `where(b)` names a row in SEQUENCE_TOO_LONG errors.
 */
export function generateReplies(
  model: CausalLMLike,
  tokenizer: Tokenizer,
  rows: readonly number[][],
  opts: { generation: GenerationOptions; template: RlaifTemplate; seed: number; where: (row: number) => string },
): string[] {
  const block = model.config.blockSize;
  rows.forEach((ids, b) => {
    if (ids.length === 0) throw new AlignError('INVALID_ARGUMENT', `${opts.where(b)}: the rendered conversation is empty (template 'none' with empty text); give a non-empty prompt.`);
    if (ids.length >= block) {
      throw new AlignError('SEQUENCE_TOO_LONG', `${opts.where(b)}: the conversation is ${ids.length} tokens; the model's context is ${block}, leaving no room for a reply. Shorten the prompt or the principle texts, or use a model with a longer context.`);
    }
  });
  const end = turnEnd(opts.template);
  const g = opts.generation;
  const stopStrings = [...(g.stopStrings ?? []), ...(end ? [end] : [])];
  const endId = end ? specialId(tokenizer, end, model.config.vocabSize) : null;
  const stopTokenIds = [...(g.stopTokenIds ?? []), ...(endId !== null ? [endId] : [])];
  const options = { ...g, tokenizer, seed: opts.seed, stopStrings, stopTokenIds };
  const cfg = generationConfigFor(model, options);
  const enders = new Set([...cfg.eosTokenId, ...cfg.stopTokenIds]);
  const { sequences, finishReasons } = generate(model, rows, options);
  // the text of a final EOS / stop token (e.g. '<|endoftext|>') is not part of the reply
  return sequences.map((seq, b) => {
    const ended = (finishReasons[b] === 'eos' || finishReasons[b] === 'stop') && enders.has(seq[seq.length - 1]!);
    return cutAtStop(tokenizer.decode(ended ? seq.slice(0, -1) : seq), stopStrings).trim();
  });
}

/** An integer option in [min, max] (CONFIG_INVALID naming it otherwise). */
export function intOption(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AlignError('CONFIG_INVALID', `${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value) ?? String(value)}.`);
  }
  return value;
}

/** A seed: an integer in [0, 2^53 − 1]. */
export function seedOption(value: unknown, name = 'seed'): number {
  return intOption(value, name, 0, Number.MAX_SAFE_INTEGER);
}

/** A template option: a ChatTemplate object or a non-empty string ('chatml', 'none', Jinja source). */
export function templateOption(value: unknown): RlaifTemplate {
  if (typeof value === 'string' && value.length > 0) return value;
  if (value && typeof value === 'object' && typeof (value as ChatTemplate).source === 'string') return value as ChatTemplate;
  throw new AlignError('CONFIG_INVALID', `template must be 'chatml', 'none', Jinja source or a ChatTemplate, got ${describe(value)}.`);
}

/** A list of non-empty strings (prompts). */
export function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new AlignError('INVALID_ARGUMENT', `${name} must be a non-empty array of strings, got ${describe(value)}.`);
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') throw new AlignError('DATA_INVALID', `${name}[${i}] must be a non-empty string, got ${describe(v)}.`);
  });
  return value as string[];
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  if (typeof v === 'number') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
}

/**
 * Checks, before any work, that an output path can be written: its directory exists and the path is
 * not a directory (INVALID_ARGUMENT). Saves a long generation run from failing at the end.
 */
export async function checkOutPath(path: string | undefined, name: string): Promise<void> {
  if (path === undefined) return;
  if (typeof path !== 'string' || path === '') throw new AlignError('INVALID_ARGUMENT', `${name} must be a file path, got ${describe(path)}.`);
  const dir = await stat(dirname(path)).catch(() => null);
  if (!dir?.isDirectory()) throw new AlignError('INVALID_ARGUMENT', `${name}: the directory of ${path} does not exist; create it first.`);
  const self = await stat(path).catch(() => null);
  if (self?.isDirectory()) throw new AlignError('INVALID_ARGUMENT', `${name}: ${path} is a directory; give a file path.`);
}

/**
 * Writes one JSON object per line to `path` atomically: the rows are serialised as the file is
 * written, and a failure anywhere (a row that cannot be serialised, a full disk) leaves no file —
 * an older file at `path` stays as it was — and no temp file.
 */
export async function writeJsonlAtomic(path: string, rows: Iterable<unknown>): Promise<number> {
  let count = 0;
  const enc = new TextEncoder();
  function* chunks(): Generator<Uint8Array> {
    for (const row of rows) {
      const line = JSON.stringify(row);
      if (typeof line !== 'string') throw new AlignError('INVALID_ARGUMENT', `${path}: row ${count + 1} cannot be written as JSON.`);
      count++;
      yield enc.encode(line + '\n');
    }
  }
  await writeFileAtomic(path, chunks());
  return count;
}
