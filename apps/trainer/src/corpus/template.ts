/**
 * A tiny sentence template language for the corpus generator.
 *
 *   [a|b|c]   one alternative, chosen at random ([a|] makes "a" optional)
 *   {key}     ctx[key] if the context has it, else a random word from the list WORDS[key]
 *   {^key}    the same, with its first letter capitalized
 *
 * Context values may themselves contain slots and alternatives; they are expanded too.
 * Afterwards "a" becomes "an" before a vowel and the first letter is capitalized.
 *
 *   fill('{A} saw a {animal} [by|near] the {place}.', { A: 'Mia' }, rng(14))   // → 'Mia saw an owl by the zoo.'
 */
import type { Rng } from './rng.js';
import { WORDS } from './words.js';

/** Fixed choices for one document: names, pronouns, the lost toy, the place... */
export type Context = Readonly<Record<string, string>>;

const ALTERNATIVES = /\[([^[\]]*)\]/g;
const SLOT = /\{(\^?)([A-Za-z0-9.]+)\}/g;
const MAX_PASSES = 4;

/** Expand one template with a context; throws on an unknown slot (a bug in a template). */
export function fill(template: string, ctx: Context, r: Rng): string {
  let text = template;
  for (let pass = 0; pass < MAX_PASSES && /[[{]/.test(text); pass++) {
    text = expandAlternatives(text, r);
    text = text.replace(SLOT, (_, caret: string, key: string) => {
      const value = lookup(key, ctx, r);
      return caret ? capitalize(value) : value;
    });
  }
  if (/[[\]{}]/.test(text)) throw new Error(`template did not expand: ${template}`);
  return capitalize(fixArticles(text));
}

/** Capitalize the first letter: capitalize('the dog') → 'The dog'. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function expandAlternatives(text: string, r: Rng): string {
  let out = text;
  while (out.includes('[')) {
    const next = out.replace(ALTERNATIVES, (_, body: string) => r.pick(body.split('|')));
    if (next === out) break;
    out = next;
  }
  return out;
}

function lookup(key: string, ctx: Context, r: Rng): string {
  const value = ctx[key];
  if (value !== undefined) return value;
  const list = WORDS[key];
  if (list === undefined) throw new Error(`unknown template slot {${key}}`);
  return r.pick(list);
}

/** 'a apple' → 'an apple', 'A owl' → 'An owl' (the word lists avoid 'a unicorn'-style exceptions). */
function fixArticles(text: string): string {
  return text.replace(/\b([Aa]) (?=[aeiouAEIOU])/g, '$1n ');
}
