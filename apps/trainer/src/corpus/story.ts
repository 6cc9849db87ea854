/**
 * Short stories: an opening that introduces the hero, a plot, and an ending.
 *
 *   generateStory(rng(3))
 *   // → 'Once upon a time, there was a small girl named Nina. Her dad gave her a green kite for her birthday. ...'
 *
 * One story keeps its choices fixed (hero, friend, relative, toy, place, animal...), so names and
 * pronouns stay consistent from the first sentence to the last.
 */
import { type Character, makeAnimal, makeChild, pairContext, relativeContext, roleContext } from './cast.js';
import { PLOTS } from './plots.js';
import type { Rng } from './rng.js';
import { type Context, capitalize, fill } from './template.js';
import { ACTIVITIES, CHORES, GAMES, INDOOR, PLACES, WORDS } from './words.js';

const MAX_SENTENCES = 10;

const OPENINGS = [
  'Once upon a time, there was a {A.adj} {A.kind} named {A}.',
  'Once upon a time, in a [small|quiet|sunny] town, there lived a {A.adj} {A.kind} named {A}.',
  'There was once a {A.adj} {A.kind} called {A}.',
  '{A} was a {A.adj} {A.kind} who lived [in a little house by the {home}|with {A.his} {P}|in a big town].',
  'Once there was a {A.kind} named {A}, and {A.he} was very {A.adj}.',
];

const TRAITS = [
  '{A.He} [loved|liked] to {act}.',
  'Every [morning|day], {A.he} {acted}.',
  '{A.He} was always {trait}.',
  '{A.He} liked to {act} [after breakfast|on sunny days|in the afternoon].',
];

const FRIEND_TRAIT = '{A.His} best friend was {B}, a {B.adj} {B.kind}.';

const ENDINGS = [
  'It was a {good} day.',
  'That night, {A} went to sleep with a big smile.',
  '{A} would always remember that day.',
  'When {A} got home, {A.he} told {A.his} {P} all about it.',
];

/** A story as its hero's name and its sentences (4 to 10): buildStory(rng(1)).hero → 'Kate'. */
export function buildStory(r: Rng): { hero: string; sentences: string[] } {
  const ctx = storyContext(r);
  const plot = r.pick(PLOTS);
  const events = plot.events(r);
  const opening = [r.pick(OPENINGS)];
  const ending = [r.pick(plot.morals)];
  const room = () => MAX_SENTENCES - opening.length - events.length - ending.length;
  if (room() > 0 && r.chance(0.7)) {
    opening.push(plot.meetsB || r.chance(0.7) ? r.pick(TRAITS) : FRIEND_TRAIT);
  }
  if (room() > 0 && r.chance(0.4)) ending.push(r.pick(ENDINGS));
  const sentences = [...opening, ...events, ...ending].map((t) => fill(t, ctx, r));
  if (!plot.meetsB && !opening.includes(FRIEND_TRAIT)) introduceFriend(sentences, ctx);
  return { hero: ctx.A ?? '', sentences };
}

/** The friend's first mention says who they are: 'Mia and Tom' → 'Mia and her friend Tom'. */
function introduceFriend(sentences: string[], ctx: Context): void {
  const name = new RegExp(`\\b${ctx.B}\\b`);
  const i = sentences.findIndex((s) => name.test(s));
  const sentence = sentences[i];
  if (sentence === undefined) return;
  sentences[i] = capitalize(sentence.replace(name, `${ctx['A.his']} friend ${ctx.B}`));
}

/** A story as one paragraph: generateStory(rng(3)) → 'Once upon a time, there was a small girl named Nina. ...'. */
export function generateStory(r: Rng): string {
  return buildStory(r).sentences.join(' ');
}

/** The fixed choices of one story: A (hero), B (friend), P (relative), and one pick per list. */
function storyContext(r: Rng): Context {
  const animals = r.chance(0.3);
  const hero: Character = animals ? makeAnimal(r) : makeChild(r);
  const friend: Character = animals ? makeAnimal(r, [hero.name]) : makeChild(r, [hero.name]);
  const [spot, spot2] = twoDistinct(r, WORDS.spot ?? []);
  const fixed: Record<string, string> = {};
  const [place, atPlace] = r.pick(PLACES);
  for (const key of ['color', 'toy', 'animal', 'time', 'treat', 'snack', 'home', 'fruit']) {
    fixed[key] = r.pick(WORDS[key] ?? []);
  }
  return {
    ...roleContext('A', hero),
    ...roleContext('B', friend),
    ...relativeContext(r),
    ...fixed,
    place,
    atPlace,
    spot,
    spot2,
    ...pairContext(r, ['act', 'acted'], ACTIVITIES),
    ...pairContext(r, ['game', 'gamed'], GAMES),
    ...pairContext(r, ['indoor', 'indoored'], INDOOR),
    ...pairContext(r, ['chore', 'chored'], CHORES),
  };
}

function twoDistinct(r: Rng, items: readonly string[]): [string, string] {
  const a = r.pick(items);
  const rest = items.filter((x) => x !== a);
  return [a, r.pick(rest.length > 0 ? rest : items)];
}
