/**
 * Short stories with known facts, from the story generator's cast and word lists (names, toys,
 * colors, places), for question/answer instructions and for preferences whose wrong answer is a
 * fact of another story.
 *
 *   const s = makeFactStory(rng(2));
 *   s.text    // → 'Ben is a brave boy. He has a red kite. He likes to play at the beach with his friend Mia.'
 *   s.facts   // → { name: 'Ben', kind: 'boy', he: 'he', color: 'red', toy: 'kite', place: 'beach', atPlace: 'at the beach', friend: 'Mia' }
 *   askAbout(s, rng(3))   // → { question: 'What does Ben have?', answer: 'Ben has a red kite.', kind: 'toy' }
 */
import { makeAnimal, makeChild } from './cast.js';
import type { Rng } from './rng.js';
import { capitalize } from './template.js';
import { PLACES, WORDS } from './words.js';

export interface StoryFacts {
  name: string;
  kind: string;
  he: 'he' | 'she';
  color: string;
  toy: string;
  place: string;
  atPlace: string;
  friend: string;
}

export interface FactStory {
  text: string;
  facts: StoryFacts;
}

export type QuestionKind = 'toy' | 'color' | 'place' | 'friend';

export interface Question {
  question: string;
  answer: string;
  kind: QuestionKind;
}

const an = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/** A three-sentence story whose facts are all stated. */
export function makeFactStory(r: Rng): FactStory {
  const animal = r.chance(0.3);
  const hero = animal ? makeAnimal(r) : makeChild(r);
  const friend = animal ? makeAnimal(r, [hero.name]) : makeChild(r, [hero.name]);
  const [place, atPlace] = r.pick(PLACES);
  const facts: StoryFacts = { name: hero.name, kind: hero.kind, he: hero.he, color: r.pick(WORDS.color ?? []), toy: r.pick(WORDS.toy ?? []), place, atPlace, friend: friend.name };
  const He = capitalize(hero.he);
  const his = hero.he === 'he' ? 'his' : 'her';
  const text = `${hero.name} is ${an(hero.adj)} ${hero.kind}. ${He} has ${an(facts.color)} ${facts.toy}. ${He} likes to play ${atPlace} with ${his} friend ${friend.name}.`;
  return { text, facts };
}

/** The answer to a question of `kind` about `f` (also what a wrong answer is made from, with another story's facts). */
export function answerFor(kind: QuestionKind, f: StoryFacts): string {
  switch (kind) {
    case 'toy':
      return `${f.name} has ${an(f.color)} ${f.toy}.`;
    case 'color':
      return `The ${f.toy} is ${f.color}.`;
    case 'place':
      return `${f.name} likes to play ${f.atPlace}.`;
    case 'friend':
      return `${f.name}'s friend is ${f.friend}.`;
  }
}

/** One question about the story and its answer. */
export function askAbout(s: FactStory, r: Rng): Question {
  const f = s.facts;
  const kind = r.pick(['toy', 'color', 'place', 'friend'] as const);
  const question = {
    toy: r.pick([`What does ${f.name} have?`, `What toy does ${f.name} have?`]),
    color: r.pick([`What color is the ${f.toy}?`, `What color is ${f.name}'s ${f.toy}?`]),
    place: r.pick([`Where does ${f.name} like to play?`, `Where does ${f.name} play?`]),
    friend: r.pick([`Who is ${f.name}'s friend?`, `Who does ${f.name} play with?`]),
  }[kind];
  return { question, answer: answerFor(kind, f), kind };
}
