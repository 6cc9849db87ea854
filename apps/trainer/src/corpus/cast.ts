/**
 * Characters and the fixed choices of one document, as a template Context.
 *
 *   const mia: Character = { name: 'Mia', kind: 'girl', adj: 'kind', he: 'she' };
 *   roleContext('A', mia)   // → { A: 'Mia', 'A.he': 'she', 'A.He': 'She', 'A.him': 'her', 'A.his': 'her', ... }
 */
import type { Rng } from './rng.js';
import { type Context, capitalize } from './template.js';
import { BOY_NAMES, GIRL_NAMES, HERO_ANIMALS, PET_NAMES, RELATIVES, WORDS } from './words.js';

/** Someone in a story: { name: 'Mia', kind: 'girl', adj: 'kind', he: 'she' }. */
export interface Character {
  name: string;
  /** 'girl', 'boy', or an animal ('fox'). */
  kind: string;
  adj: string;
  he: 'he' | 'she';
}

/** A child with a name not in `taken`: makeChild(rng(1), ['Mia']) → { name: 'Tom', kind: 'boy', adj: 'friendly', he: 'he' }. */
export function makeChild(r: Rng, taken: readonly string[] = []): Character {
  const girl = r.chance(0.5);
  const name = pickFree(r, girl ? GIRL_NAMES : BOY_NAMES, taken);
  return { name, kind: girl ? 'girl' : 'boy', adj: r.pick(WORDS.adj ?? []), he: girl ? 'she' : 'he' };
}

/** An animal with a pet name: makeAnimal(rng(1)) → { name: 'Ziggy', kind: 'cat', adj: 'friendly', he: 'he' }. */
export function makeAnimal(r: Rng, taken: readonly string[] = []): Character {
  const name = pickFree(r, PET_NAMES, taken);
  return { name, kind: r.pick(HERO_ANIMALS), adj: r.pick(WORDS.adj ?? []), he: r.chance(0.5) ? 'she' : 'he' };
}

/** Name, pronouns, kind and adjective of a character under a role letter (see the example above). */
export function roleContext(role: string, c: Character): Record<string, string> {
  const him = c.he === 'he' ? 'him' : 'her';
  const his = c.he === 'he' ? 'his' : 'her';
  return {
    [role]: c.name,
    [`${role}.he`]: c.he,
    [`${role}.He`]: capitalize(c.he),
    [`${role}.him`]: him,
    [`${role}.his`]: his,
    [`${role}.His`]: capitalize(his),
    [`${role}.kind`]: c.kind,
    [`${role}.adj`]: c.adj,
  };
}

/** A relative as role P: { P: 'mom', 'P.Name': 'Mom', 'P.he': 'she', 'P.his': 'her', ... }. */
export function relativeContext(r: Rng): Record<string, string> {
  const [noun, he] = r.pick(RELATIVES);
  const ctx = roleContext('P', { name: noun, kind: noun, adj: '', he });
  return { ...ctx, 'P.Name': capitalize(noun) };
}

/** Pick a phrase pair, store both forms: pairContext(r, ['act', 'acted'], ACTIVITIES) → e.g. { act: 'sing songs', acted: 'sang songs' }. */
export function pairContext(
  r: Rng,
  [present, past]: readonly [string, string],
  pairs: ReadonlyArray<readonly [string, string]>,
): Context {
  const [a, b] = r.pick(pairs);
  return { [present]: a, [past]: b };
}

function pickFree(r: Rng, names: readonly string[], taken: readonly string[]): string {
  const free = names.filter((n) => !taken.includes(n));
  return r.pick(free.length > 0 ? free : names);
}
