/**
 * A constitution: the principles a model critiques and revises its responses against (Bai et al.
 * 2022, "Constitutional AI"). Each principle is plain data — a name, the critique request and the
 * revision request the model is shown:
 *
 *   { "name": "harmless",
 *     "critique": "Point out anything in the assistant's last reply that is harmful, ...",
 *     "revision": "Rewrite the assistant's reply so that it is no longer harmful, ..." }
 *
 *   const principles = await loadConstitution('constitution.jsonl');   // or .json: [ … ] / { "principles": [ … ] }
 *   critiqueAndRevise(model, tok, { prompts, principles });
 *
 * Files are untrusted: every field is checked (non-empty strings, bounded lengths, unique names) and a
 * bad one is AlignError DATA_INVALID naming the file, the line (JSONL) or the index (JSON), and the field.
 */
import { readFile, stat } from 'node:fs/promises';
import { AlignError } from '../errors.js';
import { describe } from './common.js';

export interface Principle {
  /** Short unique name (e.g. 'harmless'): recorded in traces. */
  name: string;
  /** The critique request: asks the model to criticise its last reply under this principle. */
  critique: string;
  /** The revision request: asks the model to rewrite its reply to address the critique. */
  revision: string;
}

/** Bounds on a constitution file (untrusted input). */
export interface ConstitutionLimits {
  /** Largest file in bytes. Default 4 MiB. */
  maxBytes: number;
  /** Most principles. Default 10,000. */
  maxPrinciples: number;
  /** Longest name in characters. Default 200. */
  maxNameLength: number;
  /** Longest critique / revision text in characters. Default 20,000. */
  maxTextLength: number;
}

export const CONSTITUTION_LIMITS: Readonly<ConstitutionLimits> = Object.freeze({ maxBytes: 4 << 20, maxPrinciples: 10_000, maxNameLength: 200, maxTextLength: 20_000 });

/** A small general-purpose constitution (our wording, after the themes of Bai et al. 2022). */
export const DEFAULT_CONSTITUTION: readonly Principle[] = Object.freeze([
  {
    name: 'harmless',
    critique: "Point out the ways in which the assistant's last reply is harmful, unethical, dangerous or illegal.",
    revision: "Rewrite the assistant's reply so that it contains nothing harmful, unethical, dangerous or illegal.",
  },
  {
    name: 'honest',
    critique: "Point out any claim in the assistant's last reply that is false, misleading or stated with more certainty than is justified.",
    revision: "Rewrite the assistant's reply so that every claim is accurate and any uncertainty is stated plainly.",
  },
  {
    name: 'helpful',
    critique: "Explain how the assistant's last reply fails to answer what the user actually asked, or leaves out something the user needs.",
    revision: "Rewrite the assistant's reply so that it answers the user's request directly and completely.",
  },
  {
    name: 'respectful',
    critique: "Point out anything in the assistant's last reply that is rude, demeaning, toxic, racist or sexist.",
    revision: "Rewrite the assistant's reply so that it is polite and respectful to everyone.",
  },
  {
    name: 'explain-refusals',
    critique: "If the assistant's last reply declines the request, say whether it explains why and offers a safe alternative; if it complies, say whether it should have declined.",
    revision: "Rewrite the assistant's reply so that any refusal is explained briefly and points to a safe, useful alternative.",
  },
].map((p) => Object.freeze(p)));

/**
 * Checks one principle (`where` prefixes messages, e.g. 'c.jsonl:3' or 'principles[2]') and returns
 * a clean copy holding only the three fields. Other keys are ignored.
 */
export function validatePrinciple(value: unknown, where: string, limits: Partial<ConstitutionLimits> = {}): Principle {
  const lim = { ...CONSTITUTION_LIMITS, ...limits };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AlignError('DATA_INVALID', `${where}: a principle must be a JSON object { "name", "critique", "revision" }, got ${describe(value)}.`);
  }
  const r = value as Record<string, unknown>;
  const field = (key: 'name' | 'critique' | 'revision', max: number): string => {
    const v = r[key];
    if (typeof v !== 'string' || v.trim() === '') throw new AlignError('DATA_INVALID', `${where}: field "${key}" must be a non-empty string, got ${describe(v)}.`);
    if (v.length > max) throw new AlignError('DATA_INVALID', `${where}: field "${key}" has ${v.length} characters, more than the limit of ${max}.`);
    return v;
  };
  return { name: field('name', lim.maxNameLength), critique: field('critique', lim.maxTextLength), revision: field('revision', lim.maxTextLength) };
}

/**
 * Checks a list of principles given in code (the same checks as a file; names must be unique) and
 * returns clean copies. `source` names the list in messages.
 */
export function validatePrinciples(values: unknown, source = 'principles', limits: Partial<ConstitutionLimits> = {}): Principle[] {
  const lim = { ...CONSTITUTION_LIMITS, ...limits };
  if (!Array.isArray(values) || values.length === 0) throw new AlignError('DATA_INVALID', `${source}: must be a non-empty array of principles, got ${describe(values)}.`);
  if (values.length > lim.maxPrinciples) throw new AlignError('DATA_INVALID', `${source}: has ${values.length} principles, more than the limit of ${lim.maxPrinciples}.`);
  return unique(values.map((v, i) => ({ p: validatePrinciple(v, `${source}[${i}]`, lim), where: `${source}[${i}]` })));
}

function unique(items: { p: Principle; where: string }[]): Principle[] {
  const seen = new Map<string, string>();
  for (const { p, where } of items) {
    const first = seen.get(p.name);
    if (first !== undefined) throw new AlignError('DATA_INVALID', `${where}: field "name" ${JSON.stringify(p.name)} is already used by ${first}; names must be unique.`);
    seen.set(p.name, where);
  }
  return items.map((x) => x.p);
}

/**
 * Parses a constitution from text: JSONL (one principle per line, blank lines skipped) when
 * `format` is 'jsonl'; JSON (an array of principles, or `{ "principles": [...] }`) when 'json'.
 * `source` (a file name) prefixes error messages.
 */
export function parseConstitution(text: string, source: string, format: 'json' | 'jsonl', limits: Partial<ConstitutionLimits> = {}): Principle[] {
  const lim = { ...CONSTITUTION_LIMITS, ...limits };
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (e) {
      throw new AlignError('DATA_INVALID', `${source}: not valid JSON (${(e as Error).message}). Give an array of { "name", "critique", "revision" } objects.`, { cause: e });
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      if (!('principles' in value)) throw new AlignError('DATA_INVALID', `${source}: field "principles" is missing; give an array of principles, or { "principles": [...] }.`);
      return validatePrinciples((value as { principles: unknown }).principles, `${source}: principles`, lim);
    }
    return validatePrinciples(value, source, lim);
  }
  const items: { p: Principle; where: string }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new AlignError('DATA_INVALID', `${where}: not valid JSON (${(e as Error).message}). Each line must be one object { "name", "critique", "revision" }.`, { cause: e });
    }
    if (items.length >= lim.maxPrinciples) throw new AlignError('DATA_INVALID', `${where}: more than the limit of ${lim.maxPrinciples} principles.`);
    items.push({ p: validatePrinciple(value, where, lim), where });
  }
  if (items.length === 0) throw new AlignError('DATA_INVALID', `${source}: no principles (the file is empty or only blank lines).`);
  return unique(items);
}

/**
 * Reads a constitution file: `.jsonl` is one principle per line; `.json` (or any other name whose
 * text is one JSON array or one object with "principles") is an array or `{ "principles": [...] }`.
 * A missing file, one over `maxBytes`, or a bad field is DATA_INVALID naming the file, line and field.
 */
export async function loadConstitution(path: string, limits: Partial<ConstitutionLimits> = {}): Promise<Principle[]> {
  const lim = { ...CONSTITUTION_LIMITS, ...limits };
  const info = await stat(path).catch((e: unknown) => {
    throw new AlignError('DATA_INVALID', `${path}: constitution file not found (${(e as Error).message}).`, { cause: e });
  });
  if (!info.isFile()) throw new AlignError('DATA_INVALID', `${path}: is not a file.`);
  if (info.size > lim.maxBytes) throw new AlignError('DATA_INVALID', `${path}: the file has ${info.size} bytes, more than the limit of ${lim.maxBytes} (maxBytes).`);
  const text = await readFile(path, 'utf8');
  const lower = path.toLowerCase();
  let format: 'json' | 'jsonl';
  if (lower.endsWith('.jsonl')) format = 'jsonl';
  else if (lower.endsWith('.json')) format = 'json';
  else format = isJsonConstitution(text) ? 'json' : 'jsonl';
  return parseConstitution(text, path, format, lim);
}

/** Text that is one JSON array, or one object with "principles" (else it is read as JSONL). */
function isJsonConstitution(text: string): boolean {
  if (/^\uFEFF?\s*\[/.test(text)) return true;
  try {
    const v: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
    return v !== null && typeof v === 'object' && 'principles' in v;
  } catch {
    return false;
  }
}
