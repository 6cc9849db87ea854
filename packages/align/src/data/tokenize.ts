/**
 * Rows → token ids: prompt ids and response ids, truncated by TRL's DPOConfig rules.
 *
 *   const pair = tokenizePreference(row, tokenizer, { template: chatmlTemplate(), maxLength: 256 });
 *   // { promptIds, chosenIds, rejectedIds, source }  — the model reads prompt + response, learns the response
 *
 * Rendering:
 *  - a chat template (tokenizer-bpe's ChatTemplate): text rows become [user: prompt] + [assistant:
 *    response] (as @llm/train's SFT), message rows are used as they are. The conversation is tokenized
 *    by @llm/train's `tokenizeExample`; the response is the trailing run of trained tokens (the last
 *    assistant turn's content and its end marker, e.g. `4<|im_end|>\n`), everything before it is the
 *    prompt (header `<|im_start|>assistant\n` included). No EOS is added: the template's end-of-turn ends
 *    the response, as TRL does for conversational data.
 *  - `template: 'none'` (the CLI's `--template none`): prompt and response are encoded as plain text
 *    on their own and concatenated; the EOS token is appended to the response when the tokenizer has
 *    one (TRL appends `eos_token` to non-conversational chosen/rejected: `tokenize_row` ≤ 0.2x,
 *    `add_eos` since; dpo_trainer.py). Message rows need a template (CONFIG_INVALID).
 *
 * Truncation (TRL DPOConfig / `tokenize_row` + the collator's keep_start): first the prompt keeps its
 * LAST `maxPromptLength` tokens; each response keeps its FIRST `maxCompletionLength`; then, when prompt +
 * response exceeds `maxLength`, the response's END is cut. A prompt that leaves no room for one
 * response token under `maxLength` is AlignError SEQUENCE_TOO_LONG naming the row (TRL drops such rows
 * silently; we refuse, so nothing is lost unnoticed).
 */
import { IGNORE_INDEX } from '@llm/tensor-gpu';
import { tokenizeExample } from '@llm/train';
import type { ChatMessage, ChatTemplate, Tokenizer } from '@llm/tokenizer-bpe';
import { AlignError } from '../errors.js';
import type { ClassificationRecord, PreferenceRecord, PromptRecord, RegressionRecord, Turns, UnpairedRecord } from './records.js';

export interface TokenizeRowOptions {
  /** A chat template, or 'none' for plain concatenation. */
  template: ChatTemplate | 'none';
  /** Keep the last n prompt tokens. */
  maxPromptLength?: number;
  /** Keep the first n tokens of each response. */
  maxCompletionLength?: number;
  /** Prompt + response at most n tokens (the response's end is cut). */
  maxLength?: number;
  /**
   * EOS appended to responses with template 'none' (text of a special token of the tokenizer). Default:
   * the first of '<|endoftext|>', '</s>', '<eos>', '<|end_of_text|>' the tokenizer has; null: none.
   */
  eosToken?: string | null;
  /** Encode special-token text inside message content as control tokens (trusted data only). Default false. */
  allowSpecialInContent?: boolean;
}

export interface TokenizedPair {
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  margin?: number;
  source: string;
}

export interface TokenizedCompletion {
  promptIds: number[];
  completionIds: number[];
  source: string;
}

export interface TokenizedUnpaired extends TokenizedCompletion {
  label: boolean;
}

const EOS_CANDIDATES = ['<|endoftext|>', '</s>', '<eos>', '<|end_of_text|>'];

/** The EOS id used for template 'none', or null. */
export function resolveEos(tokenizer: Tokenizer, eosToken: string | null | undefined): number | null {
  if (eosToken === null) return null;
  if (eosToken !== undefined) {
    const id = tokenizer.specialTokens.get(eosToken);
    if (id === undefined) throw new AlignError('CONFIG_INVALID', `eosToken ${JSON.stringify(eosToken)} is not a special token of the tokenizer (it has ${[...tokenizer.specialTokens.keys()].join(', ') || 'none'}); pass one of them or null.`);
    return id;
  }
  for (const t of EOS_CANDIDATES) {
    const id = tokenizer.specialTokens.get(t);
    if (id !== undefined) return id;
  }
  return null;
}

function checkLengths(opts: TokenizeRowOptions): void {
  for (const k of ['maxPromptLength', 'maxCompletionLength', 'maxLength'] as const) {
    const v = opts[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new AlignError('CONFIG_INVALID', `${k} must be a positive integer, got ${v}.`);
  }
  if (opts.maxLength !== undefined && opts.maxLength < 2) throw new AlignError('CONFIG_INVALID', `maxLength must be ≥ 2 (one prompt token and one response token), got ${opts.maxLength}.`);
}

const asMessages = (t: Turns, role: string): ChatMessage[] => (typeof t === 'string' ? [{ role, content: t }] : t);

/** prompt + one response as ids (before truncation). */
function encodePair(prompt: Turns, response: Turns, tokenizer: Tokenizer, opts: TokenizeRowOptions, source: string, eos: number | null): { promptIds: number[]; responseIds: number[] } {
  if (opts.template === 'none') {
    if (typeof prompt !== 'string' || typeof response !== 'string') throw new AlignError('CONFIG_INVALID', `${source}: a row of chat messages needs a chat template; template 'none' concatenates text rows only.`);
    const responseIds = tokenizer.encodeOrdinary(response);
    if (eos !== null && responseIds.at(-1) !== eos) responseIds.push(eos);
    return { promptIds: tokenizer.encodeOrdinary(prompt), responseIds };
  }
  const messages = [...asMessages(prompt, 'user'), ...asMessages(response, 'assistant')];
  let ex;
  try {
    ex = tokenizeExample({ messages, source }, tokenizer, opts.template, { allowSpecialInContent: opts.allowSpecialInContent === true });
  } catch (e) {
    throw new AlignError('DATA_INVALID', `${source}: cannot render the row with template "${opts.template.name}": ${(e as Error).message}`, { cause: e });
  }
  if (!ex) throw new AlignError('DATA_INVALID', `${source}: the template renders no response tokens.`);
  let start = ex.ids.length;
  while (start > 0 && ex.labels[start - 1] !== IGNORE_INDEX) start--;
  return { promptIds: ex.ids.slice(0, start), responseIds: ex.ids.slice(start) };
}

/** TRL's truncation on one prompt and its responses (see the module comment). */
export function truncateRow(promptIds: number[], responses: number[][], opts: Pick<TokenizeRowOptions, 'maxPromptLength' | 'maxCompletionLength' | 'maxLength'>, source: string): { promptIds: number[]; responses: number[][] } {
  const prompt = opts.maxPromptLength !== undefined ? promptIds.slice(-opts.maxPromptLength) : promptIds;
  if (prompt.length === 0) throw new AlignError('DATA_INVALID', `${source}: the prompt has no tokens, so nothing predicts the first response token; give it text.`);
  let out = opts.maxCompletionLength !== undefined ? responses.map((r) => r.slice(0, opts.maxCompletionLength)) : responses;
  if (opts.maxLength !== undefined) {
    const room = opts.maxLength - prompt.length;
    if (room < 1) {
      throw new AlignError('SEQUENCE_TOO_LONG', `${source}: the prompt is ${prompt.length} tokens${opts.maxPromptLength !== undefined ? ' after maxPromptLength' : ''} and maxLength is ${opts.maxLength}: no room for a response. Raise maxLength, set maxPromptLength below it, or drop the row.`);
    }
    out = out.map((r) => r.slice(0, room));
  }
  return { promptIds: prompt, responses: out };
}

export function tokenizePreference(row: PreferenceRecord, tokenizer: Tokenizer, opts: TokenizeRowOptions): TokenizedPair {
  checkLengths(opts);
  const eos = opts.template === 'none' ? resolveEos(tokenizer, opts.eosToken) : null;
  const c = encodePair(row.prompt, row.chosen, tokenizer, opts, row.source, eos);
  const r = encodePair(row.prompt, row.rejected, tokenizer, opts, row.source, eos);
  if (c.promptIds.join() !== r.promptIds.join()) throw new AlignError('DATA_INVALID', `${row.source}: the template renders the prompt differently before "chosen" and "rejected"; use a template whose prompt render does not depend on the answer.`);
  const t = truncateRow(c.promptIds, [c.responseIds, r.responseIds], opts, row.source);
  const out: TokenizedPair = { promptIds: t.promptIds, chosenIds: t.responses[0]!, rejectedIds: t.responses[1]!, source: row.source };
  if (out.chosenIds.join() === out.rejectedIds.join()) throw new AlignError('DATA_INVALID', `${row.source}: "chosen" and "rejected" are identical after truncation to ${opts.maxCompletionLength ?? opts.maxLength} tokens; raise the limit or drop the row.`);
  if (row.margin !== undefined) out.margin = row.margin;
  return out;
}

export function tokenizeUnpaired(row: UnpairedRecord, tokenizer: Tokenizer, opts: TokenizeRowOptions): TokenizedUnpaired {
  checkLengths(opts);
  const eos = opts.template === 'none' ? resolveEos(tokenizer, opts.eosToken) : null;
  const e = encodePair(row.prompt, row.completion, tokenizer, opts, row.source, eos);
  const t = truncateRow(e.promptIds, [e.responseIds], opts, row.source);
  return { promptIds: t.promptIds, completionIds: t.responses[0]!, label: row.label, source: row.source };
}

/** A prompt for generation: with a template, rendered with the generation prompt (the assistant header). */
export function tokenizePrompt(row: PromptRecord, tokenizer: Tokenizer, opts: Pick<TokenizeRowOptions, 'template' | 'maxPromptLength'>): { promptIds: number[]; source: string } {
  let ids: number[];
  if (opts.template === 'none') {
    if (typeof row.prompt !== 'string') throw new AlignError('CONFIG_INVALID', `${row.source}: a row of chat messages needs a chat template; template 'none' takes text prompts only.`);
    ids = tokenizer.encodeOrdinary(row.prompt);
  } else {
    // the prompt + an empty assistant turn, cut before the (empty) response: = the render with the generation prompt
    const e = encodePair(row.prompt, [{ role: 'assistant', content: '\u0000' }], tokenizer, opts as TokenizeRowOptions, row.source, null);
    ids = e.promptIds;
  }
  if (opts.maxPromptLength !== undefined) ids = ids.slice(-opts.maxPromptLength);
  if (ids.length === 0) throw new AlignError('DATA_INVALID', `${row.source}: the prompt has no tokens.`);
  return { promptIds: ids, source: row.source };
}

export interface TokenizedText {
  ids: number[];
  source: string;
}

/** Text for a classifier / regressor: plain text, the START kept (HF truncation=True). */
export function tokenizeText(row: ClassificationRecord | RegressionRecord, tokenizer: Tokenizer, opts: { maxLength?: number } = {}): TokenizedText {
  const ids = tokenizer.encodeOrdinary(row.text);
  return { ids: opts.maxLength !== undefined ? ids.slice(0, opts.maxLength) : ids, source: row.source };
}

/**
 * Class names → indices: integer labels are used as they are; string labels get indices in sorted
 * order (deterministic, like HF's ClassLabel from sorted names). Mixing both is DATA_INVALID.
 */
export function labelIndex(rows: readonly ClassificationRecord[]): { names: string[]; index(row: ClassificationRecord): number } {
  const strings = rows.filter((r) => typeof r.label === 'string');
  if (strings.length && strings.length !== rows.length) {
    const bad = rows.find((r) => typeof r.label !== 'string')!;
    throw new AlignError('DATA_INVALID', `${bad.source}: field "label" is a number but other rows use names; use one kind of label per file.`);
  }
  if (strings.length) {
    const names = [...new Set(strings.map((r) => r.label as string))].sort();
    const at = new Map(names.map((n, i) => [n, i]));
    return { names, index: (r) => at.get(r.label as string)! };
  }
  const L = Math.max(...rows.map((r) => r.label as number)) + 1;
  return { names: Array.from({ length: L }, (_, i) => `LABEL_${i}`), index: (r) => r.label as number };
}
