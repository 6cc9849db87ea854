// The SFT and DPO generators: deterministic for a seed; tool-call examples render through the
// model's chat template (the file the server loads) into text whose tool call parses and whose
// calculator result is right (computed here independently); preferences prefer the right answer.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyChatTemplate, loadChatTemplate, type ChatTemplate } from '@llm/tokenizer-bpe';
import { calculate, makeProblem } from './arithmetic.js';
import { CALCULATOR_TOOL, CHAT_TEMPLATE, chatTemplate, flatten } from './chat-format.js';
import { makeFactStory } from './facts.js';
import { generateInstructions, toSftLine } from './instructions.js';
import { generatePreferences, toPreferenceLine } from './preferences.js';
import { rng } from './rng.js';

/** The reference: a binary integer expression, evaluated by JavaScript itself. */
const jsValue = (expr: string): number => {
  expect(expr).toMatch(/^\d+ [+\-*] \d+$/);
  return Function(`"use strict"; return (${expr});`)() as number;
};

let dir: string;
let served: ChatTemplate;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llm-chatfmt-'));
  await writeFile(join(dir, 'chat_template.jinja'), CHAT_TEMPLATE);
  served = await loadChatTemplate(dir); // what llm-chat serve reads from a checkpoint
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('generators', () => {
  it('are deterministic for a seed and differ across seeds', () => {
    expect(generateInstructions({ seed: 5, count: 50 }).map(toSftLine)).toEqual(generateInstructions({ seed: 5, count: 50 }).map(toSftLine));
    expect(generateInstructions({ seed: 5, count: 50 }).map(toSftLine)).not.toEqual(generateInstructions({ seed: 6, count: 50 }).map(toSftLine));
    expect(generatePreferences({ seed: 5, count: 50 }).map(toPreferenceLine)).toEqual(generatePreferences({ seed: 5, count: 50 }).map(toPreferenceLine));
    expect(generatePreferences({ seed: 5, count: 50 }).map(toPreferenceLine)).not.toEqual(generatePreferences({ seed: 6, count: 50 }).map(toPreferenceLine));
  });

  it('make both kinds of instructions', () => {
    const kinds = generateInstructions({ seed: 1, count: 200 }).map((c) => c.kind);
    expect(kinds.filter((k) => k === 'calculator').length).toBeGreaterThan(60);
    expect(kinds.filter((k) => k === 'story').length).toBeGreaterThan(60);
  });
});

describe('calculator tool-call examples', () => {
  const convs = generateInstructions({ seed: 3, count: 300 }).filter((c) => c.kind === 'calculator');

  it('render identically from the server form (tools + tool_calls) and the SFT JSONL form, through the served template', () => {
    expect(convs.length).toBeGreaterThan(100);
    for (const c of convs) {
      const server = applyChatTemplate(c.messages, { template: served, tools: c.tools });
      const line = JSON.parse(toSftLine(c)) as { messages: Array<{ role: string; content: string }> };
      expect(Object.keys(line)).toEqual(['messages']);
      for (const m of line.messages) expect(Object.keys(m)).toEqual(['role', 'content']); // what readSftJsonl keeps
      expect(applyChatTemplate(line.messages, { template: served })).toBe(server);
      expect(applyChatTemplate(line.messages, { template: 'chatml' })).toBe(server); // plain ChatML turns: nothing template-specific
    }
  });

  it('hold a tool call whose JSON parses, names the calculator, and whose result and answer are right', () => {
    for (const c of convs) {
      const text = applyChatTemplate(c.messages, { template: served, tools: c.tools });
      const turns = [...text.matchAll(/<\|im_start\|>(\w+)\n([\s\S]*?)<\|im_end\|>\n/g)].map((m) => ({ role: m[1]!, content: m[2]! }));
      expect(turns.map((t) => t.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
      expect(turns[0]!.content).toContain('calculator(expression): evaluate an arithmetic expression');
      const call = /^<tool_call>(.*)<\/tool_call>$/.exec(turns[2]!.content);
      expect(call, turns[2]!.content).not.toBeNull();
      const parsed = JSON.parse(call![1]!) as { name: string; arguments: { expression: string } };
      expect(parsed).toEqual({ name: 'calculator', arguments: { expression: expect.any(String) } });
      const expr = parsed.arguments.expression;
      const [a, , b] = expr.split(' ');
      expect(turns[1]!.content).toContain(a); // the user asked about these numbers
      expect(turns[1]!.content).toContain(b);
      const value = jsValue(expr);
      expect(turns[3]!.content).toBe(String(value));
      expect(turns[4]!.content).toMatch(new RegExp(`(^|[ =])${String(value).replace('-', '\\-')}\\.$`));
    }
  });

  it('render object arguments (as llm-chat serve passes them) exactly like the JSON string of the SFT data', () => {
    for (const c of convs.slice(0, 50)) {
      // the server's form: arguments parsed into an object, an id on the call, the tool message's tool_call_id
      const asServer = c.messages.map((m) => (m.tool_calls ? { ...m, tool_calls: (m.tool_calls as Array<{ function: { name: string; arguments: string } }>).map((t) => ({ type: 'function', id: 'call_1', function: { name: t.function.name, arguments: JSON.parse(t.function.arguments) as unknown } })) } : m.role === 'tool' ? { ...m, tool_call_id: 'call_1' } : m));
      expect(applyChatTemplate(asServer, { template: served, tools: c.tools, addGenerationPrompt: true })).toBe(applyChatTemplate(c.messages, { template: served, tools: c.tools, addGenerationPrompt: true }));
    }
    const text = applyChatTemplate([{ role: 'user', content: 'hi' }, { role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'f', arguments: { a: 'x "y"', n: 2, list: [1, 2] } } }] }], { template: served, tools: [CALCULATOR_TOOL] });
    const call = [...text.matchAll(/<\|im_start\|>assistant\n<tool_call>(.*)<\/tool_call>/g)].at(-1); // not the example in the tools header
    expect(JSON.parse(call![1]!)).toEqual({ name: 'f', arguments: { a: 'x "y"', n: 2, list: [1, 2] } });
  });

  it('the built-in template object and the file render the same', () => {
    const c = convs[0]!;
    expect(applyChatTemplate(c.messages, { template: chatTemplate(), tools: c.tools, addGenerationPrompt: true })).toBe(applyChatTemplate(c.messages, { template: served, tools: c.tools, addGenerationPrompt: true }));
    expect(flatten(c, served)).toEqual(flatten(c));
  });
});

describe('calculate', () => {
  it('agrees with JavaScript on random expressions (precedence included)', () => {
    const r = rng(9);
    for (let i = 0; i < 300; i++) {
      const n = 1 + r.int(4);
      let expr = String(r.int(50));
      for (let k = 0; k < n; k++) expr += ` ${r.pick(['+', '-', '*'])} ${r.int(50)}`;
      expect(calculate(expr), expr).toBe(Function(`return (${expr});`)());
    }
    const p = makeProblem(rng(2));
    expect(p.result).toBe(jsValue(p.expression));
  });

  it('refuses what it does not know', () => {
    for (const bad of ['', '2 +', '2 ** 3', '(1 + 2)', 'x + 1', '1 / 2']) expect(() => calculate(bad), bad).toThrow(RangeError);
  });
});

describe('preferences', () => {
  const rows = generatePreferences({ seed: 4, count: 200 });

  it('calculator rows: the prompt ends with the tool result, chosen states it, rejected another number', () => {
    const calc = rows.filter((r) => r.kind === 'calculator');
    expect(calc.length).toBeGreaterThan(60);
    for (const row of calc) {
      expect(row.prompt.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
      const expr = (JSON.parse(/<tool_call>(.*)<\/tool_call>/.exec(row.prompt[2]!.content)![1]!) as { arguments: { expression: string } }).arguments.expression;
      const value = jsValue(expr);
      expect(row.prompt[3]!.content).toBe(String(value));
      const last = (s: string) => Number(/(-?\d+)\.$/.exec(s)![1]);
      expect(last(row.chosen[0]!.content)).toBe(value);
      expect(last(row.rejected[0]!.content)).not.toBe(value);
      expect(row.chosen[0]!.content.replace(/-?\d+\.$/, '')).toBe(row.rejected[0]!.content.replace(/-?\d+\.$/, '')); // only the number differs
    }
  });

  it('story rows: chosen is the story\'s fact, rejected differs', () => {
    const story = rows.filter((r) => r.kind === 'story');
    expect(story.length).toBeGreaterThan(60);
    for (const row of story) {
      expect(row.prompt).toHaveLength(1);
      expect(row.chosen[0]!.content).not.toBe(row.rejected[0]!.content);
    }
  });

  it('a fact story states its facts', () => {
    for (let s = 0; s < 50; s++) {
      const { text, facts } = makeFactStory(rng(s));
      for (const v of [facts.name, facts.color, facts.toy, facts.atPlace, facts.friend]) expect(text).toContain(v);
    }
  });
});
