import { afterEach, describe, expect, it, vi } from 'vitest';
import { Rng } from '@llm/tensor-gpu';
import { buildStory, generateCorpus, generateDialogue, generateStory, rng } from './generator.js';

const SPEAKER = /^([A-Z][a-z]+): \S/;
const PREFIX = /^[A-Z][a-z]+: /;
const docsOf = (text: string) => text.split('\n\n');
const isDialogue = (doc: string) => doc.split('\n').every((line) => SPEAKER.test(line));
/** Sentences of stories: split after . ! ? when the next one starts with a capital or a quote. */
const sentencesOf = (text: string) => text.split(/\n\n|(?<=[.!?])\s+(?=[A-Z"])/).filter(Boolean);

/** How many units are distinct, and the share of the most frequent one. */
function spread(units: string[]): { distinct: number; top: number } {
  const counts = new Map<string, number>();
  for (const u of units) counts.set(u, (counts.get(u) ?? 0) + 1);
  return { distinct: counts.size / units.length, top: Math.max(...counts.values()) / units.length };
}

describe('rng', () => {
  it('is the Rng of @llm/tensor-gpu: the same stream for the same seed, another for another seed', () => {
    const draw = (seed: number): number[] => {
      const r = rng(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    const source = new Rng(1);
    expect(draw(1)).toEqual(Array.from({ length: 5 }, () => source.next()));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(2)).not.toEqual(draw(1));
    expect(draw(1).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('keeps int and pick in range', () => {
    const r = rng(5);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(7);
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
    }
    expect(() => r.pick([])).toThrow(RangeError);
  });
});

describe('generateCorpus', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateCorpus({ seed: 3, bytes: 50_000 });
    expect(generateCorpus({ seed: 3, bytes: 50_000 })).toBe(a);
    expect(generateCorpus({ seed: 4, bytes: 50_000 })).not.toBe(a);
    expect(generateCorpus({ bytes: 20_000 })).toBe(generateCorpus({ seed: 1, bytes: 20_000 }));
  });

  it('stops within one document of the target size', () => {
    for (const bytes of [10_000, 100_000, 1_000_000]) {
      const n = generateCorpus({ seed: 2, bytes }).length;
      expect(n).toBeGreaterThanOrEqual(bytes);
      expect(n).toBeLessThan(bytes + 1_000);
    }
    expect(docsOf(generateCorpus({ bytes: 0 }))).toHaveLength(1);
  });

  it('uses printable ASCII and newlines only, with one blank line between documents', () => {
    const text = generateCorpus({ seed: 9, bytes: 300_000 });
    expect(text).toMatch(/^[\x20-\x7e\n]+$/);
    expect(text).not.toMatch(/\n\n\n|^\n|\n$| \n|\n | {2}/);
    expect(text).not.toMatch(/[[\]{}]/); // no template syntax left over
  });

  it('writes "an" before a vowel and "a" before a consonant', () => {
    const text = generateCorpus({ seed: 4, bytes: 300_000 });
    expect(text).not.toMatch(/\b[Aa] [aeiouAEIOU]/);
    expect(text).not.toMatch(/\b[Aa]n [^aeiouAEIOU]/);
  });

  it('mixes about 70% stories and 30% dialogues, or only the kinds asked for', () => {
    const docs = docsOf(generateCorpus({ seed: 6, bytes: 500_000 }));
    const dialogues = docs.filter(isDialogue).length / docs.length;
    expect(dialogues).toBeGreaterThan(0.25);
    expect(dialogues).toBeLessThan(0.35);
    expect(docsOf(generateCorpus({ bytes: 30_000, kinds: ['dialogue'] })).every(isDialogue)).toBe(true);
    expect(docsOf(generateCorpus({ bytes: 30_000, kinds: ['story'] })).some(isDialogue)).toBe(false);
  });

  it('has a vocabulary of hundreds of words', () => {
    const words = new Set(generateCorpus({ seed: 1 }).toLowerCase().match(/[a-z]+/g));
    expect(words.size).toBeGreaterThanOrEqual(500); // measured: ~870
  });

  it('is not degenerate: documents differ, sentences vary, nothing dominates', () => {
    // Measured over seeds 1-5, 8 and 99 (200 KB each): stories 77-79% distinct sentences with the
    // most frequent one at <0.6%; dialogue lines 28-29% distinct (short replies like "Yes, please!"
    // recur by nature) with the most frequent one at ~1.0%.
    const text = generateCorpus({ seed: 8, bytes: 500_000 });
    const docs = docsOf(text);
    expect(new Set(docs).size).toBe(docs.length);
    const stories = spread(sentencesOf(generateCorpus({ seed: 8, bytes: 200_000, kinds: ['story'] })));
    expect(stories.distinct).toBeGreaterThan(0.7);
    expect(stories.top).toBeLessThan(0.01);
    const lines = generateCorpus({ seed: 8, bytes: 200_000, kinds: ['dialogue'] })
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(PREFIX, ''));
    const dialogue = spread(lines);
    expect(dialogue.distinct).toBeGreaterThan(0.25);
    expect(dialogue.top).toBeLessThan(0.02);
  });

  it('makes at least the bytes asked for (1 MB)', () => {
    // (speed is not a unit-test matter: a timed assertion fails on a busy machine)
    const text = generateCorpus({ seed: 11, bytes: 1_000_000 });
    expect(text.length).toBeGreaterThanOrEqual(1_000_000);
  });

  it('prints nothing', () => {
    const spies = [
      vi.spyOn(console, 'log'),
      vi.spyOn(console, 'warn'),
      vi.spyOn(console, 'error'),
      vi.spyOn(process.stdout, 'write'),
      vi.spyOn(process.stderr, 'write'),
    ];
    generateCorpus({ seed: 12, bytes: 50_000 });
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('rejects a negative size and an empty list of kinds', () => {
    expect(() => generateCorpus({ bytes: -1 })).toThrow(RangeError);
    expect(() => generateCorpus({ kinds: [] })).toThrow(RangeError);
  });
});

describe('generateStory', () => {
  it('has 4 to 10 sentences and names its hero more than once', () => {
    const r = rng(21);
    for (let i = 0; i < 2_000; i++) {
      const { hero, sentences } = buildStory(r);
      expect(sentences.length).toBeGreaterThanOrEqual(4);
      expect(sentences.length).toBeLessThanOrEqual(10);
      const text = sentences.join(' ');
      expect(text.match(new RegExp(`\\b${hero}\\b`, 'g'))?.length ?? 0).toBeGreaterThan(1);
      expect(sentences[0]).toContain(hero); // the hero is introduced first
    }
  });

  it('is one paragraph of sentences with a capital and an end mark', () => {
    const r = rng(22);
    for (let i = 0; i < 300; i++) {
      const story = generateStory(r);
      expect(story).not.toContain('\n');
      for (const s of sentencesOf(story)) expect(s).toMatch(/^"?[A-Z].*[.!?]"?$/);
    }
  });

  it('is the same story for the same seed', () => {
    expect(generateStory(rng(5))).toBe(generateStory(rng(5)));
  });
});

describe('generateDialogue', () => {
  it('has two speakers who take turns, and ends on an answer', () => {
    const r = rng(31);
    for (let i = 0; i < 1_000; i++) {
      const lines = generateDialogue(r).split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(2);
      const speakers = lines.map((line) => SPEAKER.exec(line)?.[1]);
      expect(speakers.every((s) => s !== undefined)).toBe(true);
      expect(new Set(speakers).size).toBe(2);
      speakers.forEach((s, k) => expect(s).toBe(speakers[k % 2]));
      expect(lines.at(-1)).not.toMatch(/\?$/);
    }
  });

  it('answers each question with a fitting reply', () => {
    const pairs: Array<[RegExp, (m: RegExpExecArray) => RegExp]> = [
      [/Do you want some ([a-z ]+?)(, [A-Z][a-z]+)?\?$/, (m) => new RegExp(`^(Yes, please!( I love ${m[1]}\\.)?$|No, thank you\\.)`)],
      [/What is your favorite (\w+)\?$/, (m) => new RegExp(`^My favorite ${m[1]} is `)],
      [/Have you seen my ([a-z -]+)\?$/, () => /^(Yes! It is |No, I have not\.)/],
      [/What sound does a (\w+) make\?$/, (m) => new RegExp(`^A ${m[1]} says [a-z]+!$`)],
      [/How old are you\?$/, () => /^I am (four|five|six|seven|eight)\b/],
      [/Do you have a pet\?$/, () => /^(Yes, I have a|No, but I want a) /],
      [/Is it a ([a-z -]+)\?$/, () => /^(No, guess again\.|Yes! You got it!)/],
    ];
    const seen = pairs.map(() => 0);
    const r = rng(32);
    for (let i = 0; i < 2_000; i++) {
      const lines = generateDialogue(r).split('\n').map((line) => line.replace(PREFIX, ''));
      lines.forEach((line, k) => {
        pairs.forEach(([question, reply], q) => {
          const m = question.exec(line);
          if (!m) return;
          seen[q] = (seen[q] ?? 0) + 1;
          expect(lines[k + 1]).toMatch(reply(m));
        });
      });
    }
    for (const n of seen) expect(n).toBeGreaterThan(10);
  });
});
