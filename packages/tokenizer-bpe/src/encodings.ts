/**
 * OpenAI's built-in encodings, with their ranks read from the `tiktoken` npm package (an optional
 * peer dependency: `npm install tiktoken`), so this package ships no multi-megabyte rank tables.
 *
 *   const enc = getEncoding('cl100k_base');      // Tokenizer, built once per name and cached
 *   enc.encode('hello world')                    // → [15339, 1917]
 *   getEncodingDefinition('o200k_base').ranks.size   // → 199998
 *
 * Without `tiktoken` installed these throw TokenizerError('UNSUPPORTED') saying what to do; a
 * `.tiktoken` rank file works too: `new Tokenizer(await loadTiktokenFile(path, {...}))`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { TokenizerDefinition } from './definition.js';
import { Tokenizer } from './encoder.js';
import { TokenizerError } from './errors.js';
import { parseTiktokenJson } from './formats/tiktoken.js';

export type EncodingName = 'r50k_base' | 'p50k_base' | 'cl100k_base' | 'o200k_base';

/** The encodings getEncoding knows. */
export const ENCODING_NAMES: readonly EncodingName[] = ['r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'];

const definitions = new Map<EncodingName, TokenizerDefinition>();
const tokenizers = new Map<EncodingName, Tokenizer>();

function checkName(name: string): asserts name is EncodingName {
  if (!(ENCODING_NAMES as readonly string[]).includes(name)) {
    throw new TokenizerError(
      'INVALID_ARGUMENT',
      `unknown encoding ${JSON.stringify(name)}; known: ${ENCODING_NAMES.join(', ')}`,
    );
  }
}

/**
 * Where to resolve `tiktoken` from: this module in the CJS build (`__filename`), the entry script
 * (`process.argv[1]`) and the working directory — where an app that installed the peer keeps it.
 * (`import.meta.url` would be the ESM equivalent of `__filename`, but the dual ESM/CJS build
 * cannot contain it without a bundler warning, and the app's own locations find the peer anyway.)
 */
function resolvers(): NodeJS.Require[] {
  const bases: string[] = [];
  if (typeof __filename === 'string') bases.push(__filename);
  if (typeof process.argv[1] === 'string' && process.argv[1] !== '') bases.push(resolve(process.argv[1]));
  bases.push(join(process.cwd(), 'noop.js'));
  return bases.map((b) => createRequire(b));
}

/** Path of tiktoken's encoder JSON for `name`, or an UNSUPPORTED error explaining the fix. */
function encoderJsonPath(name: EncodingName): string {
  for (const req of resolvers()) {
    try {
      return req.resolve(`tiktoken/encoders/${name}.json`);
    } catch {
      // try the next base
    }
  }
  throw new TokenizerError(
    'UNSUPPORTED',
    `getEncoding('${name}') reads its ranks from the "tiktoken" package, which is not installed. ` +
      `Run \`npm install tiktoken\`, or load a ${name}.tiktoken rank file with loadTiktokenFile() and pass it to new Tokenizer().`,
  );
}

/** The definition (ranks, pattern, special tokens) of a built-in encoding; cached. */
export function getEncodingDefinition(name: EncodingName): TokenizerDefinition {
  checkName(name);
  let def = definitions.get(name);
  if (def === undefined) {
    const path = encoderJsonPath(name);
    def = parseTiktokenJson(readFileSync(path, 'utf8'), { name });
    definitions.set(name, def);
  }
  return def;
}

/** A ready Tokenizer for a built-in encoding; built on first use (~0.2–0.5 s), then cached. */
export function getEncoding(name: EncodingName): Tokenizer {
  checkName(name);
  let tok = tokenizers.get(name);
  if (tok === undefined) {
    tok = new Tokenizer(getEncodingDefinition(name));
    tokenizers.set(name, tok);
  }
  return tok;
}
