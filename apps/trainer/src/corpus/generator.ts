/**
 * The embedded default training corpus: simple English stories and dialogues, generated
 * procedurally from word lists and templates written for this project (no third-party text).
 * Deterministic: a seed gives the same string on every platform (our own PRNG, no Math.random).
 *
 *   const text = generateCorpus({ seed: 1, bytes: 200_000 });  // ~200 KB, ~70% stories
 *   text.split('\n\n').length                                   // → 493 documents
 *   generateCorpus({ seed: 1, bytes: 200_000 }) === text        // → true
 *   generateCorpus({ kinds: ['dialogue'], bytes: 5_000 })       // dialogues only
 */
import { generateDialogue } from './dialogue.js';
import { type Rng, rng } from './rng.js';
import { generateStory } from './story.js';

export { generateDialogue } from './dialogue.js';
export { type Rng, rng } from './rng.js';
export { buildStory, generateStory } from './story.js';

export type DocumentKind = 'story' | 'dialogue';

export interface CorpusOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Approximate size in bytes (= characters, the text is ASCII); default 1_000_000. */
  bytes?: number;
  /** Which documents to make (default both: ~70% stories, ~30% dialogues). */
  kinds?: readonly DocumentKind[];
}

const STORY_SHARE = 0.7;

/**
 * Documents separated by a blank line, until the text reaches `bytes` (it overshoots by less
 * than one document; at least one document is always made).
 */
export function generateCorpus(opts: CorpusOptions = {}): string {
  const { seed = 1, bytes = 1_000_000, kinds = ['story', 'dialogue'] } = opts;
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`bytes must be a number >= 0, got ${bytes}`);
  if (kinds.length === 0) throw new RangeError('kinds must name at least one of story, dialogue');
  const r = rng(seed);
  const docs: string[] = [];
  let size = 0;
  do {
    const doc = nextDocument(r, kinds);
    size += doc.length + (docs.length > 0 ? 2 : 0);
    docs.push(doc);
  } while (size < bytes);
  return docs.join('\n\n');
}

function nextDocument(r: Rng, kinds: readonly DocumentKind[]): string {
  const both = kinds.includes('story') && kinds.includes('dialogue');
  const story = both ? r.chance(STORY_SHARE) : kinds.includes('story');
  return story ? generateStory(r) : generateDialogue(r);
}
