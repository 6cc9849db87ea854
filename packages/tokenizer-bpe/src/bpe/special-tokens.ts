/**
 * Special-token options with tiktoken's semantics, and a finder for special-token text.
 *
 *   resolveSpecialOptions(specials, {})                        // allowed: none, disallowed: all
 *   resolveSpecialOptions(specials, { allowedSpecial: 'all' }) // allowed: all, disallowed: none
 *   new SpecialFinder(['<|endoftext|>']).cursor('a<|endoftext|>')(0)  // → { index: 1, token: '<|endoftext|>' }
 *
 * Deliberate difference from tiktoken: a name in `allowedSpecial` / `disallowedSpecial` that is not
 * a special token of the encoding is an error (INVALID_ARGUMENT) instead of being ignored or, for
 * `disallowedSpecial`, silently turned into a forbidden substring.
 */
import { TokenizerError } from '../errors.js';

/** Which special tokens encode() may emit and which it must refuse to see. */
export interface SpecialTokenOptions {
  /** Special tokens whose text is encoded as the special id. Default: none. */
  allowedSpecial?: 'all' | Iterable<string>;
  /** Special tokens whose text makes encode() throw DISALLOWED_SPECIAL. Default: 'all' (minus allowed). */
  disallowedSpecial?: 'all' | Iterable<string>;
}

export interface ResolvedSpecialOptions {
  allowed: readonly string[];
  disallowed: readonly string[];
}

function namesOf(
  specials: ReadonlyMap<string, number>,
  option: 'all' | Iterable<string>,
  what: string,
): string[] {
  if (option === 'all') return [...specials.keys()];
  if (typeof option === 'string' || option == null || typeof option[Symbol.iterator] !== 'function') {
    throw new TokenizerError('INVALID_ARGUMENT', `${what} must be 'all' or an iterable of special-token strings`);
  }
  const out: string[] = [];
  for (const name of option) {
    if (!specials.has(name)) {
      throw new TokenizerError(
        'INVALID_ARGUMENT',
        `${what} names ${JSON.stringify(name)}, which is not a special token of this encoding (known: ${[...specials.keys()].map((s) => JSON.stringify(s)).join(', ') || 'none'})`,
      );
    }
    out.push(name);
  }
  return out;
}

/** Applies tiktoken's defaults: allowed = none; disallowed = 'all' = every special not allowed. */
export function resolveSpecialOptions(
  specials: ReadonlyMap<string, number>,
  options: SpecialTokenOptions = {},
): ResolvedSpecialOptions {
  const allowed = namesOf(specials, options.allowedSpecial ?? [], 'allowedSpecial');
  const disallowedOption = options.disallowedSpecial ?? 'all';
  const allowedSet = new Set(allowed); // not allowed.includes: thousands of specials would be quadratic
  const disallowed =
    disallowedOption === 'all'
      ? [...specials.keys()].filter((s) => !allowedSet.has(s))
      : namesOf(specials, disallowedOption, 'disallowedSpecial');
  return { allowed, disallowed };
}

/** The error tiktoken raises, adapted to this API's option names. */
export function disallowedSpecialError(token: string): TokenizerError {
  const t = JSON.stringify(token);
  return new TokenizerError(
    'DISALLOWED_SPECIAL',
    `Encountered text corresponding to disallowed special token ${t}.\n` +
      `If you want this text to be encoded as a special token, pass it to \`allowedSpecial\`, e.g. \`{ allowedSpecial: [${t}] }\` (or \`'all'\`).\n` +
      `If you want this text to be encoded as normal text, disable the check for this token by passing \`disallowedSpecial\` without it, e.g. \`{ disallowedSpecial: [...tokenizer.specialTokens.keys()].filter((s) => s !== ${t}) }\`.\n` +
      `To disable this check for all special tokens, pass \`{ disallowedSpecial: [] }\`.`,
  );
}

function commonPrefix(tokens: readonly string[]): string {
  let prefix = tokens[0] ?? '';
  for (const t of tokens) while (!t.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds the leftmost occurrence of any of a fixed set of strings (the longest one on a tie).
 * One text is searched with non-decreasing `from`s through a cursor, which remembers each token's
 * next hit so the text is scanned about once per token.
 */
export class SpecialFinder {
  private readonly tokens: readonly string[];
  private readonly prefix: string;
  private readonly regex: RegExp | undefined;

  constructor(tokens: readonly string[]) {
    this.tokens = [...tokens].sort((a, b) => b.length - a.length);
    this.prefix = commonPrefix(this.tokens);
    // Few tokens: indexOf per token. Many (e.g. hundreds of reserved ids): one alternation regex.
    this.regex = this.tokens.length > 8 ? new RegExp(this.tokens.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  get empty(): boolean {
    return this.tokens.length === 0;
  }

  /** A cursor over `text`: `cursor(from)` → leftmost hit at or after `from` (non-decreasing), or undefined. */
  cursor(text: string): (from: number) => { index: number; token: string } | undefined {
    const tokens = this.tokens;
    if (tokens.length === 0 || (this.prefix.length > 0 && text.indexOf(this.prefix) < 0)) return () => undefined;
    const regex = this.regex;
    if (regex) {
      return (from) => {
        regex.lastIndex = from;
        const m = regex.exec(text);
        return m ? { index: m.index, token: m[0] } : undefined;
      };
    }
    const nextAt = tokens.map(() => -2); // -2: not searched yet; -1: no more hits
    return (from) => {
      let best = -1;
      let bestToken = '';
      for (let k = 0; k < tokens.length; k++) {
        let at = nextAt[k]!;
        if (at === -2 || (at >= 0 && at < from)) at = nextAt[k] = text.indexOf(tokens[k]!, from);
        if (at >= 0 && (best < 0 || at < best)) {
          best = at;
          bestToken = tokens[k]!;
        }
      }
      return best < 0 ? undefined : { index: best, token: bestToken };
    };
  }
}
