/**
 * Runs a node:util parseArgs call, turning its errors into UsageErrors; plus value parsers that
 * name the option they check.
 *
 *   const { values, positionals } = withUsageErrors('train', () => parseArgs({ args, options, allowPositionals: true }));
 *   positiveInt('train', '--vocab-size', '8192')   // 8192
 */
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../patterns.js';
import { UsageError } from './usage.js';

export function withUsageErrors<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof TypeError && String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(`${command}: ${err.message}`);
    }
    throw err;
  }
}

/** A decimal integer ≥ `min`. */
export function positiveInt(command: string, option: string, value: string | undefined, min = 1): number {
  if (
    value === undefined ||
    !/^\d+$/.test(value.trim()) ||
    Number(value) < min ||
    !Number.isSafeInteger(Number(value))
  ) {
    throw new UsageError(
      `${command}: ${option} must be an integer ≥ ${min}, got ${JSON.stringify(value ?? '')}`,
    );
  }
  return Number(value);
}

/** One of `choices`. */
export function oneOf<T extends string>(
  command: string,
  option: string,
  value: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(
      `${command}: ${option} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

const NAMED_PATTERNS: Readonly<Record<string, string>> = {
  gpt2: GPT2_PATTERN,
  cl100k: CL100K_PATTERN,
  o200k: O200K_PATTERN,
};

/**
 * A --pattern value: gpt2, cl100k, o200k, or a JS regex source taken as is.
 *
 *   patternOption('cl100k') === CL100K_PATTERN
 */
export function patternOption(value: string): string {
  return NAMED_PATTERNS[value] ?? value;
}

/**
 * --special TEXT=ID values (the last '=' separates the id) → text → id.
 *
 *   specialIdOptions('encode', ['<|endoftext|>=100257'])   // Map { '<|endoftext|>' → 100257 }
 */
export function specialIdOptions(command: string, values: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) {
    const eq = v.lastIndexOf('=');
    const id = eq > 0 ? positiveInt(command, '--special', v.slice(eq + 1), 0) : NaN;
    if (Number.isNaN(id))
      throw new UsageError(`${command}: --special must be TEXT=ID, got ${JSON.stringify(v)}`);
    out.set(v.slice(0, eq), id);
  }
  return out;
}
