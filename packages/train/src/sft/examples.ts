/**
 * SFT data: JSONL records → conversations → token ids with labels.
 *
 *   const records = await readSftJsonl('chat.jsonl');   // { prompt, response } or { messages } per line
 *   const ex = tokenizeExample(records[0]!, tokenizer, chatmlTemplate(), { maxLength: 512 });
 *   // ex.ids:    every token of the rendered conversation
 *   // ex.labels: ids[i] where the model must produce the token (assistant turns and their end
 *   //            marker), −100 elsewhere; aligned with ids (HF convention: not shifted — collate shifts)
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { IGNORE_INDEX } from '@llm/tensor-gpu';
import { TokenizerError, renderChatSegments, type ChatMessage, type ChatSegment, type ChatTemplate, type Tokenizer } from '@llm/tokenizer-bpe';
import { TrainError } from '../errors.js';
import { TRAIN_LIMITS } from '../limits.js';
import { renderSegments, type Segment } from './segments.js';

/** One SFT example as written in JSONL. `source` ('file.jsonl:12') is added by the reader for error messages. */
export type SftRecord =
  | { prompt: string; response: string; source?: string }
  | { messages: ChatMessage[]; source?: string };

/** Token ids and labels of one example; `labels[i]` is `ids[i]` or IGNORE_INDEX. */
export interface TokenizedExample {
  ids: number[];
  labels: number[];
}

/**
 * Reads an SFT JSONL file: one JSON object per line, either `{ "prompt": string, "response": string }`
 * or `{ "messages": [{ "role": string, "content": string }, ...] }` with at least one assistant
 * message. Other keys are ignored; blank lines are skipped.
 *
 *   // chat.jsonl:  {"prompt": "2+2?", "response": "4"}
 *   await readSftJsonl('chat.jsonl')   // → [{ prompt: '2+2?', response: '4', source: 'chat.jsonl:1' }]
 *
 * Errors (TrainError): missing file → DATA_MISSING; bad JSON or fields → DATA_INVALID naming
 * `file:line` and the field; no records → DATA_EMPTY.
 */
export async function readSftJsonl(path: string, opts: SftReadOptions = {}): Promise<SftRecord[]> {
  const out: SftRecord[] = [];
  for await (const record of iterateSftJsonl(path, opts)) out.push(record);
  return out;
}

/** Bounds on SFT records, which are untrusted text (defaults: TRAIN_LIMITS). */
export interface SftReadOptions {
  /** Longest JSONL line in bytes (default TRAIN_LIMITS.maxRecordBytes, 1 MiB); longer is DATA_INVALID before it is held in memory. */
  maxRecordBytes?: number;
  /** Most messages in one record (default TRAIN_LIMITS.maxMessages, 512). */
  maxMessages?: number;
}

/** Streaming form of readSftJsonl (same checks, one record at a time; DATA_EMPTY at the end if none). */
export async function* iterateSftJsonl(path: string, opts: SftReadOptions = {}): AsyncGenerator<SftRecord> {
  const maxBytes = limit(opts.maxRecordBytes, TRAIN_LIMITS.maxRecordBytes, 'maxRecordBytes');
  const validate = { maxMessages: limit(opts.maxMessages, TRAIN_LIMITS.maxMessages, 'maxMessages') };
  await checkFile(path);
  let lineNo = 0;
  let count = 0;
  for await (const raw of jsonlLines(path, maxBytes)) {
    lineNo++;
    const text = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    const where = `${path}:${lineNo}`;
    yield validateSftRecord(parseJsonLine(text, where), where, validate);
    count++;
  }
  if (count === 0) {
    throw new TrainError('DATA_EMPTY', `${path}: no records (the file is empty or only blank lines). Add one JSON object per line.`);
  }
}

function limit(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new TrainError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}.`);
  return v;
}

/**
 * The lines of a file (without `\n` / `\r\n`), decoded as UTF-8, streamed: a line longer than
 * `maxBytes` is DATA_INVALID as soon as that many bytes of it have been read, so a 100 MB line (or
 * a file with no newline at all) is never held in memory.
 */
async function* jsonlLines(path: string, maxBytes: number): AsyncGenerator<string> {
  const input = createReadStream(path, { highWaterMark: 1 << 16 });
  let parts: Buffer[] = [];
  let size = 0;
  let lineNo = 1;
  const take = (): string => {
    const line = Buffer.concat(parts, size).toString('utf8');
    parts = [];
    size = 0;
    lineNo++;
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(10, from); ; nl = chunk.indexOf(10, from)) {
        const end = nl === -1 ? chunk.length : nl;
        if (size + end - from > maxBytes) {
          throw new TrainError('DATA_INVALID', `${path}:${lineNo}: the line is longer than ${maxBytes} bytes (the limit of one record, maxRecordBytes / TRAIN_LIMITS.maxRecordBytes). Split the conversation, or raise the limit for trusted data.`);
        }
        parts.push(chunk.subarray(from, end));
        size += end - from;
        if (nl === -1) break;
        yield take();
        from = nl + 1;
      }
    }
    if (size > 0) yield take();
  } finally {
    input.destroy(); // also when the caller stops early or a line is bad
  }
}

async function checkFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw new TrainError('DATA_MISSING', `${path}: SFT data file not found (${(e as Error).message}). Check the path.`, { cause: e });
  }
  if (!info.isFile()) throw new TrainError('DATA_INVALID', `${path}: is not a file. Pass the path of a .jsonl file.`);
}

function parseJsonLine(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TrainError(
      'DATA_INVALID',
      `${where}: not valid JSON (${(e as Error).message}). Each line must be one JSON object, e.g. {"prompt": "...", "response": "..."}.`,
      { cause: e },
    );
  }
}

/**
 * Checks one parsed record and returns it typed (`where` prefixes error messages, e.g. 'data.jsonl:3').
 *
 *   validateSftRecord({ prompt: 'a', response: 'b' }, 'x')   // → { prompt: 'a', response: 'b', source: 'x' }
 *   validateSftRecord({ prompt: 'a' }, 'x')                  // throws DATA_INVALID: x: field "response" …
 */
export function validateSftRecord(value: unknown, where: string, opts: Pick<SftReadOptions, 'maxMessages'> = {}): SftRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(where, 'the line', `must be a JSON object, got ${kind(value)}`);
  }
  const r = value as Record<string, unknown>;
  const hasMessages = 'messages' in r;
  const hasPrompt = 'prompt' in r || 'response' in r;
  if (hasMessages && hasPrompt) throw invalid(where, 'messages', 'cannot be combined with "prompt"/"response"; use one form per line');
  if (hasMessages) return { messages: validateMessages(r.messages, where, opts.maxMessages ?? TRAIN_LIMITS.maxMessages), source: where };
  if (!hasPrompt) throw invalid(where, 'prompt', 'is missing; a line needs "prompt" and "response", or "messages"');
  for (const key of ['prompt', 'response']) {
    if (typeof r[key] !== 'string') throw invalid(where, key, `must be a string, got ${kind(r[key])}`);
  }
  return { prompt: r.prompt as string, response: r.response as string, source: where };
}

function validateMessages(value: unknown, where: string, maxMessages: number): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(where, 'messages', `must be a non-empty array, got ${kind(value)}`);
  if (value.length > maxMessages) throw invalid(where, 'messages', `has ${value.length} messages, more than the limit of ${maxMessages} per record (maxMessages / TRAIN_LIMITS.maxMessages); split the conversation`);
  const messages = value.map((m, i) => validateMessage(m, `messages[${i}]`, where));
  if (!messages.some((m) => m.role === 'assistant')) {
    throw invalid(where, 'messages', 'has no message with role "assistant", so there is nothing to learn; add the assistant reply');
  }
  return messages;
}

function validateMessage(m: unknown, field: string, where: string): ChatMessage {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw invalid(where, field, `must be an object { "role", "content" }, got ${kind(m)}`);
  const { role, content } = m as Record<string, unknown>;
  if (typeof role !== 'string' || role === '') throw invalid(where, `${field}.role`, `must be a non-empty string (e.g. "user"), got ${kind(role)}`);
  if (typeof content !== 'string') throw invalid(where, `${field}.content`, `must be a string, got ${kind(content)}`);
  return { role, content };
}

function invalid(where: string, field: string, problem: string): TrainError {
  const subject = field === 'the line' ? 'the line' : `field "${field}"`;
  return new TrainError('DATA_INVALID', `${where}: ${subject} ${problem}.`);
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** A record as a conversation: prompt/response becomes [user: prompt, assistant: response]. */
export function toMessages(record: SftRecord): ChatMessage[] {
  if ('messages' in record) return record.messages;
  return [
    { role: 'user', content: record.prompt },
    { role: 'assistant', content: record.response },
  ];
}

export interface TokenizeOptions {
  /** Keep at most this many tokens: the START of the example is kept, the end is cut. Default: no limit. */
  maxLength?: number;
  /** Label assistant turns only (default), or every token. */
  trainOn?: 'assistant' | 'all';
  /** Append the end-of-sequence token (`eosToken`, else the template's `eos_token`) unless the ids already end with it. Default false. */
  addEos?: boolean;
  /** Text of the end-of-sequence token for addEos (e.g. '<|endoftext|>'). Default: `template.context.eos_token`. */
  eosToken?: string;
  /** Special tokens of the template's markup whose text becomes their id (default 'all'). */
  allowedSpecial?: 'all' | Iterable<string>;
  /**
   * Message content is untrusted text: by default it is encoded as plain text, so `<|im_end|>` typed
   * in a message is characters, not the control token (as `encodeChat` does at inference), and only
   * the template's markup produces special tokens. true: content is encoded with `allowedSpecial`
   * too, for datasets that really carry control tokens in their messages. Default false.
   */
  allowSpecialInContent?: boolean;
}

/**
 * Tokenizes one record for SFT. The conversation is rendered as segments (`renderSegments`); each
 * run of equally-labelled segments is encoded on its own and the runs are concatenated, so label
 * boundaries fall exactly between template pieces. Trained: each assistant message's content and
 * the end-of-turn text after it (`<|im_end|>\n` in ChatML) so the model learns to stop; not
 * trained: system/user turns and the assistant header.
 *
 *   // byte-level tokenizer with <|im_start|> = 256, <|im_end|> = 257, ChatML, { prompt: 'hi', response: 'yo' }:
 *   // '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n' | 'yo<|im_end|>\n'
 *   ids    = [256, 117,115,101,114, 10, 104,105, 257, 10, 256, 97,115,115,105,115,116,97,110,116, 10,  121,111, 257, 10]
 *   labels = [-100 × 21 (everything above up to and including the header's newline),       121,111, 257, 10]
 *
 * Truncation keeps the first `maxLength` tokens. Returns null when no label is left to learn from
 * (labels[0] never counts: nothing predicts the first token) — e.g. the prompt alone fills
 * maxLength; the caller drops the example (tokenizeRecords counts them).
 */
export function tokenizeExample(
  record: SftRecord,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  opts: TokenizeOptions = {},
): TokenizedExample | null {
  const trainOn = checkOptions(opts, record);
  const messages = toMessages(record);
  const ids: number[] = [];
  const labels: number[] = [];
  for (const run of labelRuns(template, messages, record, opts.allowSpecialInContent === true)) {
    const piece = encode(tokenizer, run.text, run.content && !opts.allowSpecialInContent ? 'none' : (opts.allowedSpecial ?? 'all'), record);
    const train = trainOn === 'all' || run.train;
    for (const id of piece) ids.push(id), labels.push(train ? id : IGNORE_INDEX);
    if (ids.length >= (opts.maxLength ?? Infinity)) break; // the rest would be cut: not worth encoding
  }
  if (opts.addEos) appendEos(ids, labels, tokenizer, template, opts, record, trainOn === 'all' || messages.at(-1)?.role === 'assistant');
  const keep = Math.min(ids.length, opts.maxLength ?? Infinity);
  const out = { ids: ids.slice(0, keep), labels: labels.slice(0, keep) };
  return out.labels.slice(1).some((l) => l !== IGNORE_INDEX) ? out : null;
}

/** A stretch of the render encoded in one go: labelled alike, and all template markup or all message content. */
interface Run {
  text: string;
  train: boolean;
  content: boolean;
}

/**
 * The render cut into maximal runs with the same `train` flag and, unless `contentAsMarkup`, the same
 * origin (template markup or message content, from @llm/tokenizer-bpe's renderChatSegments, as
 * encodeChat cuts it at inference). Both cuts are of the same text (the full render), so their
 * boundaries interleave exactly; a template error names the record.
 */
function labelRuns(template: ChatTemplate, messages: ChatMessage[], record: SftRecord, contentAsMarkup: boolean): Run[] {
  let segments: Segment[];
  let origin: ChatSegment[] | null = null;
  try {
    segments = renderSegments(template, messages);
    if (!contentAsMarkup) origin = renderChatSegments(messages, { template });
  } catch (e) {
    if (e instanceof TokenizerError) {
      const hint = e.code === 'UNSUPPORTED' ? ' Message content is encoded as plain text, which needs it located in the render; for trusted data, allowSpecialInContent (llm-train sft --allow-special-tokens-in-data) encodes the render whole.' : '';
      throw new TrainError('TEMPLATE_INVALID', `${sourceOf(record)}: ${e.message}${hint}`, { cause: e });
    }
    throw e;
  }
  // [end offset, content?] of each origin piece, over the same full render
  const cuts: Array<[number, boolean]> = [];
  let at = 0;
  for (const o of origin ?? []) cuts.push([(at += o.text.length), o.source === 'content']);
  const total = segments.reduce((n, x) => n + x.text.length, 0);
  if (origin && at !== total) {
    throw new TrainError('TEMPLATE_INVALID', `${sourceOf(record)}: ${template.name}: the render is not the same twice (${at} vs ${total} characters), so message content cannot be located; use a deterministic template.`);
  }
  const runs: Run[] = [];
  const add = (text: string, train: boolean, content: boolean) => {
    if (text.length === 0) return;
    const last = runs.at(-1);
    if (last && last.train === train && last.content === content) last.text += text;
    else runs.push({ text, train, content });
  };
  let pos = 0;
  let k = 0;
  for (const seg of segments) {
    let from = 0;
    while (from < seg.text.length) {
      while (k < cuts.length && cuts[k]![0] <= pos) k++;
      const stop = k < cuts.length ? Math.min(seg.text.length, cuts[k]![0] - pos + from) : seg.text.length;
      add(seg.text.slice(from, stop), seg.train, k < cuts.length && cuts[k]![1]);
      pos += stop - from;
      from = stop;
    }
  }
  return runs;
}

function checkOptions(opts: TokenizeOptions, record: SftRecord): 'assistant' | 'all' {
  const { maxLength, trainOn = 'assistant' } = opts;
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 2)) {
    throw new TrainError('INVALID_ARGUMENT', `${sourceOf(record)}: maxLength must be an integer ≥ 2 (one input and one target), got ${maxLength}.`);
  }
  if (trainOn !== 'assistant' && trainOn !== 'all') {
    throw new TrainError('INVALID_ARGUMENT', `${sourceOf(record)}: trainOn must be 'assistant' or 'all', got ${JSON.stringify(trainOn)}.`);
  }
  return trainOn;
}

/** `text` as ids: 'none' = plain text (every special token's text as characters), else with those specials allowed. */
function encode(tokenizer: Tokenizer, text: string, allowedSpecial: 'none' | 'all' | Iterable<string>, record: SftRecord): number[] {
  try {
    return allowedSpecial === 'none' ? tokenizer.encodeOrdinary(text) : tokenizer.encode(text, { allowedSpecial });
  } catch (e) {
    if (e instanceof TrainError) throw e;
    throw new TrainError(
      'DATA_INVALID',
      `${sourceOf(record)}: cannot tokenize ${JSON.stringify(text.slice(0, 60))}: ${(e as Error).message}. ` +
        `Allow that special token (allowedSpecial) or remove it from the text.`,
      { cause: e },
    );
  }
}

function appendEos(
  ids: number[],
  labels: number[],
  tokenizer: Tokenizer,
  template: ChatTemplate,
  opts: TokenizeOptions,
  record: SftRecord,
  train: boolean,
): void {
  const fromTemplate = template.context.eos_token;
  const text = opts.eosToken ?? (typeof fromTemplate === 'string' ? fromTemplate : undefined);
  if (text === undefined) {
    throw new TrainError('INVALID_ARGUMENT', `${sourceOf(record)}: addEos needs an end-of-sequence token; pass eosToken (e.g. '<|endoftext|>'), template "${template.name}" has none.`);
  }
  const eos = tokenizer.encode(text, { allowedSpecial: 'all' });
  const tail = ids.slice(ids.length - eos.length);
  if (eos.length > 0 && tail.length === eos.length && tail.every((id, i) => id === eos[i])) return;
  for (const id of eos) ids.push(id), labels.push(train ? id : IGNORE_INDEX);
}

function sourceOf(record: SftRecord): string {
  return record.source ?? 'SFT record';
}

/**
 * tokenizeExample over many records; examples with nothing left to learn are skipped and listed.
 *
 *   const { examples, skipped } = tokenizeRecords(records, tok, chatmlTemplate(), { maxLength: 256 });
 *   // skipped: ['data.jsonl:7', ...] — e.g. prompts longer than maxLength
 */
export function tokenizeRecords(
  records: Iterable<SftRecord>,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  opts: TokenizeOptions = {},
): { examples: TokenizedExample[]; skipped: string[] } {
  const examples: TokenizedExample[] = [];
  const skipped: string[] = [];
  let i = 0;
  for (const record of records) {
    const ex = tokenizeExample(record, tokenizer, template, opts);
    if (ex) examples.push(ex);
    else skipped.push(record.source ?? `record ${i}`);
    i++;
  }
  return { examples, skipped };
}
