/**
 * Example evaluation tasks, generated (no third-party text) in @llm/train's task-file format:
 * - arithmetic-add: "Question: What is 23 plus 58?\nAnswer:" → "81" (generation, exact match on the first number);
 * - arithmetic-mc: the same questions as multiple choice (the sum and three near misses);
 * - story-facts: a story of the generated corpus (new seeds, not the training text) cut just before
 *   a name or thing the story already mentioned (its hero, friend, toy, color, fruit …); the choices
 *   are that word and three others from the same word list that the story never uses — what a model
 *   trained on the corpus can get right by keeping track of who and what the story is about.
 *
 *   const { 'story-facts': lines } = makeEvalTasks({ seed: 7, items: 100 });
 *   lines[0]   // '{"task":{"name":"story-facts","type":"multiple_choice", …}}'
 *   lines[1]   // '{"context":"Once upon a time, there was a kind girl named Mia. … Then","choices":["Tom","Mia","Leo","Ella"],"gold":1}'
 */
import { rng, type Rng } from './rng.js';
import { buildStory } from './story.js';
import { BOY_NAMES, GIRL_NAMES, PET_NAMES, WORDS } from './words.js';

export interface EvalTaskFileOptions {
  /** Seed of every choice (default 7). Story seeds are derived from it and far from the corpus's. */
  seed?: number;
  /** Items per task (default 100). */
  items?: number;
}

/** Word lists whose members a story repeats; a recalled word's distractors come from its own list. */
const CATEGORIES: ReadonlyArray<readonly string[]> = [GIRL_NAMES, BOY_NAMES, PET_NAMES, ...['color', 'toy', 'animal', 'fruit', 'treat', 'snack', 'relative'].map((k) => WORDS[k] ?? [])];

const json = (v: unknown) => JSON.stringify(v);

function shuffled<T>(r: Rng, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function arithmetic(r: Rng, n: number): { gen: string[]; mc: string[] } {
  const gen = [json({ task: { name: 'arithmetic-add', type: 'generate', description: '', targetDelimiter: ' ', fewshotDelimiter: '\n\n', until: ['\n'], maxNewTokens: 6, extract: '-?\\d+' } })];
  const mc = [json({ task: { name: 'arithmetic-mc', type: 'multiple_choice', targetDelimiter: ' ', fewshotDelimiter: '\n\n' } })];
  for (let i = 0; i < n; i++) {
    const a = 10 + r.int(90);
    const b = 10 + r.int(90);
    const sum = a + b;
    const context = `Question: What is ${a} plus ${b}?\nAnswer:`;
    gen.push(json({ context, target: String(sum) }));
    const wrong = shuffled(r, [sum + 1, sum - 1, sum + 10, sum - 10, sum + 2]).slice(0, 3);
    const choices = shuffled(r, [sum, ...wrong]).map(String);
    mc.push(json({ context, choices, gold: choices.indexOf(String(sum)) }));
  }
  return { gen, mc };
}

/** One story-facts item from a story, or null when no word of a category recurs in it. */
function storyItem(r: Rng, storySeed: number): string | null {
  const text = buildStory(rng(storySeed)).sentences.join(' ');
  const firstSentenceEnd = text.indexOf('. ') + 1;
  type Hit = { at: number; word: string; list: readonly string[] };
  const hits: Hit[] = [];
  for (const list of CATEGORIES) {
    for (const word of list) {
      const re = new RegExp(`(?<=[ "])${word.replace(/[-]/g, '\\-')}\\b`, 'g');
      const at = [...text.matchAll(re)].map((m) => m.index!);
      // a recall: the word is used again after a sentence that already had it
      for (const i of at.slice(1)) if (i > firstSentenceEnd && text[i - 1] === ' ') hits.push({ at: i, word, list });
    }
  }
  if (hits.length === 0) return null;
  const hit = r.pick(hits);
  const unused = hit.list.filter((w) => w !== hit.word && !new RegExp(`\\b${w}\\b`).test(text));
  if (unused.length < 3) return null;
  const choices = shuffled(r, [hit.word, ...shuffled(r, unused).slice(0, 3)]);
  return json({ context: text.slice(0, hit.at - 1), choices, gold: choices.indexOf(hit.word) });
}

/** The task files, as lines (header first), by task name. */
export function makeEvalTasks(opts: EvalTaskFileOptions = {}): Record<string, string[]> {
  const { seed = 7, items = 100 } = opts;
  const r = rng(seed);
  const { gen, mc } = arithmetic(r, items);
  const facts = [json({ task: { name: 'story-facts', type: 'multiple_choice', targetDelimiter: ' ', fewshotDelimiter: '\n\n' } })];
  for (let s = 0; facts.length <= items; s++) {
    const line = storyItem(r, 1_000_003 * (seed + 1) + s);
    if (line) facts.push(line);
  }
  return { 'arithmetic-add': gen, 'arithmetic-mc': mc, 'story-facts': facts };
}
