/**
 * Preference data for DPO (TRL's conversational form): the prompt is a conversation up to the
 * assistant's last turn, `chosen` the correct answer, `rejected` a wrong one — arithmetic that
 * contradicts the calculator's result, or a fact taken from another story. Deterministic for a seed.
 *
 *   const rows = generatePreferences({ seed: 1, count: 2 });
 *   rows[0]
 *   // → { kind: 'calculator',
 *   //     prompt: [system (tools), user 'what is 17 + 25?', assistant '<tool_call>…</tool_call>', tool '42'],
 *   //     chosen: [{ role: 'assistant', content: '17 + 25 is 42.' }],
 *   //     rejected: [{ role: 'assistant', content: '17 + 25 is 45.' }] }
 */
import type { ChatMessage } from '@llm/tokenizer-bpe';
import { flatten } from './chat-format.js';
import { answerFor, askAbout, makeFactStory, type StoryFacts } from './facts.js';
import { ANSWER_SHAPES, answerArithmetic, calculatorConversation } from './instructions.js';
import { rng, type Rng } from './rng.js';

export interface PreferenceOptions {
  /** PRNG seed (default 2). */
  seed?: number;
  /** How many rows (default 500). */
  count?: number;
}

export interface PreferenceRow {
  kind: 'calculator' | 'story';
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

const assistant = (content: string): ChatMessage[] => [{ role: 'assistant', content }];

/** Arithmetic: after the tool said the result, the chosen answer repeats it, the rejected one is off by 1 to 10. */
export function calculatorPreference(r: Rng): PreferenceRow {
  const conv = calculatorConversation(r);
  const p = conv.problem;
  const off = (1 + r.int(10)) * (r.chance(0.5) ? 1 : -1);
  const shape = r.int(ANSWER_SHAPES); // the same phrasing for both: only the number differs
  const prompt = flatten({ tools: conv.tools, messages: conv.messages.slice(0, 3) });
  return { kind: 'calculator', prompt, chosen: assistant(answerArithmetic(p, p.result, shape)), rejected: assistant(answerArithmetic(p, p.result + off, shape)) };
}

/** A story question: chosen is the story's fact, rejected the same answer with the fact of another story. */
export function storyPreference(r: Rng): PreferenceRow {
  const s = makeFactStory(r);
  const q = askAbout(s, r);
  let wrong = q.answer;
  for (let tries = 0; wrong === q.answer && tries < 20; tries++) {
    const other = makeFactStory(r).facts;
    wrong = answerFor(q.kind, swapFact(q.kind, s.facts, other));
  }
  if (wrong === q.answer) wrong = `I do not know.`;
  return { kind: 'story', prompt: [{ role: 'user', content: `${s.text}\n${q.question}` }], chosen: assistant(q.answer), rejected: assistant(wrong) };
}

/** `f` with the fact a question of `kind` asks about taken from `other`. */
function swapFact(kind: ReturnType<typeof askAbout>['kind'], f: StoryFacts, other: StoryFacts): StoryFacts {
  switch (kind) {
    case 'toy':
      return { ...f, color: other.color, toy: other.toy };
    case 'color':
      return { ...f, color: other.color };
    case 'place':
      return { ...f, place: other.place, atPlace: other.atPlace };
    case 'friend':
      return { ...f, friend: other.friend === f.name ? f.friend : other.friend };
  }
}

export function generatePreferences(opts: PreferenceOptions = {}): PreferenceRow[] {
  const { seed = 2, count = 500 } = opts;
  const r = rng(seed);
  const out: PreferenceRow[] = [];
  for (let i = 0; i < count; i++) out.push(r.chance(0.5) ? calculatorPreference(r) : storyPreference(r));
  return out;
}

/** One DPO JSONL line: {"prompt": [...], "chosen": [...], "rejected": [...]}. */
export function toPreferenceLine(row: PreferenceRow): string {
  return JSON.stringify({ prompt: row.prompt, chosen: row.chosen, rejected: row.rejected });
}
