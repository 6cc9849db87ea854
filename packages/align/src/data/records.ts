/**
 * The rows @llm/align reads, validated (TRL's dataset formats):
 *
 *   preference    {"prompt": "2+2?", "chosen": "4", "rejected": "5"}               (text; optional "margin")
 *                 {"prompt": [{"role":"user","content":"2+2?"}],                     (conversational: the prompt is
 *                  "chosen": [{"role":"assistant","content":"4"}], "rejected": [...]}   messages, the answers a turn)
 *   unpaired      {"prompt": ..., "completion": ..., "label": true}                 (KTO)
 *   prompt-only   {"prompt": ...}                                                   (online methods)
 *   classification {"text": "...", "label": 2 | "positive"}
 *   regression    {"text": "...", "target": 0.7}
 *
 *   validatePreferenceRow({ prompt: 'a', chosen: 'b', rejected: 'b' }, 'x.jsonl:3')
 *   // AlignError DATA_INVALID: x.jsonl:3: "chosen" and "rejected" are identical …
 */
import type { ChatMessage } from '@llm/tokenizer-bpe';
import { AlignError } from '../errors.js';

/** Text, or chat messages (TRL's conversational format). */
export type Turns = string | ChatMessage[];

export interface PreferenceRecord {
  prompt: Turns;
  chosen: Turns;
  rejected: Turns;
  /** Bradley–Terry margin for reward training (TRL's optional column). */
  margin?: number;
  source: string;
}
export interface UnpairedRecord {
  prompt: Turns;
  completion: Turns;
  label: boolean;
  source: string;
}
export interface PromptRecord {
  prompt: Turns;
  source: string;
}
export interface ClassificationRecord {
  text: string;
  label: number | string;
  source: string;
}
export interface RegressionRecord {
  text: string;
  target: number;
  source: string;
}

const invalid = (where: string, field: string, problem: string) => new AlignError('DATA_INVALID', `${where}: field "${field}" ${problem}.`);

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty array' : 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new AlignError('DATA_INVALID', `${where}: the line must be a JSON object, got ${kind(value)}.`);
  return value as Record<string, unknown>;
}

/** A text or a non-empty list of {role, content} messages; `nonEmpty` refuses '' and all-blank content. */
function turns(v: unknown, field: string, where: string, nonEmpty: boolean): Turns {
  if (typeof v === 'string') {
    if (nonEmpty && v.trim() === '') throw invalid(where, field, 'is empty; a response needs text');
    return v;
  }
  if (!Array.isArray(v) || v.length === 0) throw invalid(where, field, `must be a string or a non-empty array of messages, got ${kind(v)}`);
  const msgs = v.map((m, i) => {
    const f = `${field}[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw invalid(where, f, `must be an object { "role", "content" }, got ${kind(m)}`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || role === '') throw invalid(where, `${f}.role`, `must be a non-empty string, got ${kind(role)}`);
    if (typeof content !== 'string') throw invalid(where, `${f}.content`, `must be a string, got ${kind(content)}`);
    return { role, content };
  });
  if (nonEmpty && msgs.every((m) => m.content.trim() === '')) throw invalid(where, field, 'is empty; a response needs text');
  return msgs;
}

/** A response as messages must end with an assistant turn (TRL: the completion is the assistant's). */
function response(v: unknown, field: string, where: string): Turns {
  const t = turns(v, field, where, true);
  if (Array.isArray(t) && t.at(-1)!.role !== 'assistant') throw invalid(where, field, `must end with a message of role "assistant", got "${t.at(-1)!.role}"`);
  return t;
}

const sameTurns = (a: Turns, b: Turns) => JSON.stringify(a) === JSON.stringify(b);

function checkForm(where: string, prompt: Turns, ...responses: Array<[string, Turns]>): void {
  for (const [f, r] of responses) {
    if (typeof prompt !== typeof r) throw invalid(where, f, `is ${typeof r === 'string' ? 'text' : 'messages'} but "prompt" is ${typeof prompt === 'string' ? 'text' : 'messages'}; use one form per row`);
  }
}

export function validatePreferenceRow(value: unknown, where: string): PreferenceRecord {
  const r = object(value, where);
  const prompt = turns(r.prompt, 'prompt', where, false);
  const chosen = response(r.chosen, 'chosen', where);
  const rejected = response(r.rejected, 'rejected', where);
  checkForm(where, prompt, ['chosen', chosen], ['rejected', rejected]);
  if (sameTurns(chosen, rejected)) throw new AlignError('DATA_INVALID', `${where}: "chosen" and "rejected" are identical, so the row states no preference; drop it or fix one side.`);
  const out: PreferenceRecord = { prompt, chosen, rejected, source: where };
  if (r.margin !== undefined) {
    if (typeof r.margin !== 'number' || !Number.isFinite(r.margin)) throw invalid(where, 'margin', `must be a finite number, got ${kind(r.margin)}`);
    out.margin = r.margin;
  }
  return out;
}

export function validateUnpairedRow(value: unknown, where: string): UnpairedRecord {
  const r = object(value, where);
  const prompt = turns(r.prompt, 'prompt', where, false);
  const completion = response(r.completion, 'completion', where);
  checkForm(where, prompt, ['completion', completion]);
  if (typeof r.label !== 'boolean') throw invalid(where, 'label', `must be true (desirable) or false (undesirable), got ${kind(r.label)}`);
  return { prompt, completion, label: r.label, source: where };
}

export function validatePromptRow(value: unknown, where: string): PromptRecord {
  const r = object(value, where);
  return { prompt: turns(r.prompt, 'prompt', where, true), source: where };
}

export function validateClassificationRow(value: unknown, where: string): ClassificationRecord {
  const r = object(value, where);
  if (typeof r.text !== 'string' || r.text.trim() === '') throw invalid(where, 'text', `must be a non-empty string, got ${kind(r.text)}`);
  const ok = (typeof r.label === 'number' && Number.isInteger(r.label) && r.label >= 0) || (typeof r.label === 'string' && r.label !== '');
  if (!ok) throw invalid(where, 'label', `must be an integer ≥ 0 or a non-empty string, got ${kind(r.label)}${typeof r.label === 'number' ? ` ${r.label}` : ''}`);
  return { text: r.text, label: r.label as number | string, source: where };
}

export function validateRegressionRow(value: unknown, where: string): RegressionRecord {
  const r = object(value, where);
  if (typeof r.text !== 'string' || r.text.trim() === '') throw invalid(where, 'text', `must be a non-empty string, got ${kind(r.text)}`);
  if (typeof r.target !== 'number' || !Number.isFinite(r.target)) throw invalid(where, 'target', `must be a finite number, got ${kind(r.target)}`);
  return { text: r.text, target: r.target, source: where };
}
