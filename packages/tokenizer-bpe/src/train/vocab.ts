/**
 * The growing vocabulary during training (id → bytes and bytes → id), and the step that turns it
 * into a TokenizerDefinition.
 *
 *   const v = new TrainingVocab();        // ids 0..255 = the bytes
 *   v.merge(104, 105)                     // 256 ('hi')
 *   v.merge(104, 105)                     // 256 again: same bytes, same id
 */
import type { TokenizerDefinition } from '../definition.js';

/** One training merge: symbols `left` and `right` became `id`. */
export interface Merge {
  left: number;
  right: number;
  id: number;
}

export class TrainingVocab {
  /** id → token bytes as a binary string. */
  readonly tokens: string[] = [];
  private readonly ids = new Map<string, number>();

  constructor() {
    for (let b = 0; b < 256; b++) this.add(String.fromCharCode(b));
  }

  get size(): number {
    return this.tokens.length;
  }

  /**
   * The id of bytes(left) + bytes(right): the existing id when another merge already made those
   * bytes (two different splits of one string), otherwise a new id = current size.
   */
  merge(left: number, right: number): number {
    const bytes = this.tokens[left]! + this.tokens[right]!;
    return this.ids.get(bytes) ?? this.add(bytes);
  }

  private add(bytes: string): number {
    const id = this.tokens.length;
    this.tokens.push(bytes);
    this.ids.set(bytes, id);
    return id;
  }
}

/**
 * Ranks = vocabulary ids; special tokens without an explicit id get the ids right after the last
 * token, in the order given.
 *
 *   buildDefinition(vocab, [['<eos>', undefined]], 'tiny', pattern).specialTokens
 *   // Map { '<eos>' → vocab.size }
 */
export function buildDefinition(
  vocab: TrainingVocab,
  specials: ReadonlyArray<readonly [string, number | undefined]>,
  name: string,
  pattern: string,
): TokenizerDefinition {
  const ranks = new Map<string, number>();
  vocab.tokens.forEach((bytes, id) => ranks.set(bytes, id));
  const specialTokens = new Map<string, number>();
  let next = vocab.size;
  for (const [text, id] of specials) specialTokens.set(text, id ?? next++);
  return { name, pattern, ranks, specialTokens };
}
