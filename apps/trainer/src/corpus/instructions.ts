/**
 * Instruction data for SFT: conversations in the chat format (chat-format.ts), half of them
 * arithmetic that the assistant answers by calling the `calculator` tool, half questions about a
 * short generated story. Deterministic for a seed.
 *
 *   const convs = generateInstructions({ seed: 1, count: 4 });
 *   convs[0]
 *   // → { kind: 'calculator', tools: [CALCULATOR_TOOL], messages: [
 *   //      { role: 'user', content: 'what is 17 + 25?' },
 *   //      { role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'calculator', arguments: '{"expression":"17 + 25"}' } }] },
 *   //      { role: 'tool', content: '42' },
 *   //      { role: 'assistant', content: '17 + 25 is 42.' }] }
 *   toSftLine(convs[0])   // one JSONL line {"messages": [...]} of plain {role, content} messages (flatten)
 */
import type { ChatMessage } from '@llm/tokenizer-bpe';
import { makeProblem, type Problem } from './arithmetic.js';
import { CALCULATOR_TOOL, flatten, toolCall, type Conversation } from './chat-format.js';
import { askAbout, makeFactStory } from './facts.js';
import { rng, type Rng } from './rng.js';

export interface InstructionOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** How many conversations (default 1000). */
  count?: number;
  /** Share of calculator conversations (default 0.5); the rest are story questions. */
  toolShare?: number;
}

export interface Instruction extends Conversation {
  kind: 'calculator' | 'story';
}

/** How a user asks for a problem: askArithmetic(p, rng(1)) → 'what is 17 + 25?'. */
export function askArithmetic(p: Problem, r: Rng): string {
  return r.pick([`what is ${p.expression}?`, `What is ${p.expression}?`, `What is ${p.words}?`, `How much is ${p.expression}?`, `Can you work out ${p.expression}?`, `Please compute ${p.expression}.`]);
}

/** The assistant's answer once the tool said `value`, in one of ANSWER_SHAPES shapes: answerArithmetic(p, 42, 0) → '17 + 25 is 42.'. */
export function answerArithmetic(p: Problem, value: number, shape: number): string {
  return [`${p.expression} is ${value}.`, `The answer is ${value}.`, `${p.expression} = ${value}.`][shape % ANSWER_SHAPES]!;
}

export const ANSWER_SHAPES = 3;

/** A calculator conversation: question, tool call, tool result, answer. */
export function calculatorConversation(r: Rng): Instruction & { problem: Problem } {
  const p = makeProblem(r);
  return {
    kind: 'calculator',
    problem: p,
    tools: [CALCULATOR_TOOL],
    messages: [
      { role: 'user', content: askArithmetic(p, r) },
      { role: 'assistant', content: '', tool_calls: [toolCall('calculator', { expression: p.expression })] },
      { role: 'tool', content: String(p.result) },
      { role: 'assistant', content: answerArithmetic(p, p.result, r.int(ANSWER_SHAPES)) },
    ],
  };
}

/** A story question: the story and a question in the user turn, the answer (sometimes with the tool offered but not used). */
export function storyConversation(r: Rng): Instruction {
  const s = makeFactStory(r);
  const q = askAbout(s, r);
  return {
    kind: 'story',
    tools: r.chance(0.3) ? [CALCULATOR_TOOL] : null,
    messages: [
      { role: 'user', content: `${s.text}\n${q.question}` },
      { role: 'assistant', content: q.answer },
    ],
  };
}

export function generateInstructions(opts: InstructionOptions = {}): Instruction[] {
  const { seed = 1, count = 1000, toolShare = 0.5 } = opts;
  const r = rng(seed);
  const out: Instruction[] = [];
  for (let i = 0; i < count; i++) out.push(r.chance(toolShare) ? calculatorConversation(r) : storyConversation(r));
  return out;
}

/** One SFT JSONL line (`{"messages": [...]}`, plain role/content messages that render like the original with its tools). */
export function toSftLine(conv: Conversation): string {
  const messages: ChatMessage[] = flatten(conv);
  return JSON.stringify({ messages });
}
