/**
 * JSONL from untrusted files: one JSON object per line, each parsed with @llm/tensor-gpu's
 * `parseUntrustedJson` (depth-limited, duplicate keys refused), blank lines skipped, a BOM dropped.
 * Every error is AlignError DATA_INVALID naming `file:line` (and the field, from the validator).
 *
 *   const rows = await readJsonl('prefs.jsonl', validatePreferenceRow);
 *   parseJsonl('{"prompt":"a","chosen":"b","rejected":"c"}\n', 'inline', validatePreferenceRow);
 */
import { readFile, stat } from 'node:fs/promises';
import { parseUntrustedJson } from '@llm/tensor-gpu';
import { AlignError } from '../errors.js';

export interface JsonlOptions {
  /** Longest line in bytes (default 1 MiB). */
  maxLineBytes?: number;
  /** Largest file in bytes (default 1 GiB). */
  maxFileBytes?: number;
}

/** Checks one parsed line and returns it typed; `where` is 'file:line' for messages. */
export type RowValidator<R> = (value: unknown, where: string) => R;

export async function readJsonl<R>(path: string, validate: RowValidator<R>, opts: JsonlOptions = {}): Promise<R[]> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new AlignError('DATA_INVALID', `${path}: is not a file; pass the path of a .jsonl file.`);
    size = info.size;
  } catch (e) {
    if (e instanceof AlignError) throw e;
    throw new AlignError('DATA_INVALID', `${path}: cannot read the data file (${(e as Error).message}). Check the path.`, { cause: e });
  }
  const maxFile = opts.maxFileBytes ?? 1 << 30;
  if (size > maxFile) throw new AlignError('DATA_INVALID', `${path}: ${size} bytes, more than the limit of ${maxFile} (maxFileBytes).`);
  return parseJsonl(await readFile(path, 'utf8'), path, validate, opts);
}

/** The same checks on text already in memory (`name` stands for the file in messages). */
export function parseJsonl<R>(text: string, name: string, validate: RowValidator<R>, opts: JsonlOptions = {}): R[] {
  const maxLine = opts.maxLineBytes ?? 1 << 20;
  const out: R[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const where = `${name}:${i + 1}`;
    if (Buffer.byteLength(line) > maxLine) throw new AlignError('DATA_INVALID', `${where}: the line is longer than ${maxLine} bytes (maxLineBytes).`);
    let value: unknown;
    try {
      value = parseUntrustedJson(line, { what: 'the line' });
    } catch (e) {
      throw new AlignError('DATA_INVALID', `${where}: ${(e as Error).message}. Each line must be one JSON object.`, { cause: e });
    }
    out.push(validate(value, where));
  });
  if (out.length === 0) throw new AlignError('DATA_INVALID', `${name}: no rows (the file is empty or only blank lines).`);
  return out;
}
