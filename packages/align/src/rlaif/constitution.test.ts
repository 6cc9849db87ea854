import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectError, expectErrorAsync } from '@llm/kit';
import { AlignError } from '../errors.js';
import { DEFAULT_CONSTITUTION, loadConstitution, parseConstitution, validatePrinciples } from './constitution.js';
import { tempDir } from './testing.js';

const P = [
  { name: 'kind', critique: 'Say how the reply is unkind.', revision: 'Rewrite it kindly.' },
  { name: 'brief', critique: 'Say what is superfluous.', revision: 'Rewrite it briefly.' },
];

const file = (name: string, text: string) => {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
};
const bad = (p: Promise<unknown>, ...fragments: string[]) => expectErrorAsync(p, 'DATA_INVALID', fragments, AlignError);

describe('constitution', () => {
  it('has a valid default list with unique names', () => {
    expect(validatePrinciples(DEFAULT_CONSTITUTION)).toEqual(DEFAULT_CONSTITUTION);
    expect(new Set(DEFAULT_CONSTITUTION.map((p) => p.name)).size).toBe(DEFAULT_CONSTITUTION.length);
    expect(DEFAULT_CONSTITUTION.length).toBeGreaterThanOrEqual(4);
  });

  it('loads JSONL (blank lines, CRLF, extra keys), a JSON array and { principles } to the same list', async () => {
    const jsonl = file('c.jsonl', `${JSON.stringify({ ...P[0], note: 'ignored' })}\r\n\n${JSON.stringify(P[1])}\n`);
    expect(await loadConstitution(jsonl)).toEqual(P);
    expect(await loadConstitution(file('c.json', JSON.stringify(P)))).toEqual(P);
    expect(await loadConstitution(file('c.json', JSON.stringify({ principles: P })))).toEqual(P);
    // no known extension: sniffed
    expect(await loadConstitution(file('c.txt', JSON.stringify(P, null, 2)))).toEqual(P);
    expect(await loadConstitution(file('c.txt', JSON.stringify(P[0])))).toEqual([P[0]]);
  });

  it('names the line and field of a bad JSONL principle', async () => {
    const path = file('c.jsonl', `${JSON.stringify(P[0])}\n${JSON.stringify({ name: 'x', critique: 3, revision: 'r' })}\n`);
    await bad(loadConstitution(path), `${path}:2`, 'field "critique"', 'non-empty string', 'got 3');
    await bad(loadConstitution(file('c.jsonl', `${JSON.stringify(P[0])}\n{oops\n`)), 'c.jsonl:2', 'not valid JSON');
    await bad(loadConstitution(file('c.jsonl', `${JSON.stringify({ name: '', critique: 'c', revision: 'r' })}\n`)), 'c.jsonl:1', 'field "name"', 'an empty string');
    await bad(loadConstitution(file('c.jsonl', `${JSON.stringify({ name: 'n', critique: 'c' })}\n`)), 'c.jsonl:1', 'field "revision"', 'got nothing');
    await bad(loadConstitution(file('c.jsonl', '[1, 2]\n')), 'c.jsonl:1', 'must be a JSON object', 'an array');
    await bad(loadConstitution(file('c.jsonl', `${JSON.stringify(P[0])}\n${JSON.stringify(P[0])}\n`)), 'c.jsonl:2', '"kind" is already used by', 'c.jsonl:1');
  });

  it('names the index and field of a bad JSON principle', async () => {
    await bad(loadConstitution(file('c.json', JSON.stringify([P[0], { ...P[1], revision: null }]))), 'c.json[1]', 'field "revision"', 'got null');
    await bad(loadConstitution(file('c.json', JSON.stringify({ principles: [{ ...P[0], name: 7 }] }))), 'principles[0]', 'field "name"');
    await bad(loadConstitution(file('c.json', JSON.stringify({ rules: P }))), 'field "principles" is missing');
    await bad(loadConstitution(file('c.json', '[]')), 'non-empty array');
    await bad(loadConstitution(file('c.json', '{"principles": [')), 'not valid JSON');
  });

  it('refuses empty, missing, oversized and overlong input', async () => {
    await bad(loadConstitution(file('c.jsonl', '\n  \n')), 'no principles');
    await bad(loadConstitution(join(tempDir(), 'nope.jsonl')), 'not found');
    await bad(loadConstitution(tempDir()), 'is not a file');
    await bad(loadConstitution(file('c.json', JSON.stringify(P)), { maxBytes: 10 }), 'more than the limit of 10');
    await bad(loadConstitution(file('c.json', JSON.stringify(P)), { maxPrinciples: 1 }), 'more than the limit of 1');
    await bad(loadConstitution(file('c.json', JSON.stringify(P)), { maxTextLength: 5 }), 'field "critique"', 'more than the limit of 5');
    expectError(() => parseConstitution(JSON.stringify(P[0]) + '\n' + JSON.stringify(P[1]), 'inline', 'jsonl', { maxPrinciples: 1 }), 'DATA_INVALID', 'inline:2', AlignError);
    expectError(() => validatePrinciples('kind'), 'DATA_INVALID', 'non-empty array', AlignError);
  });
});
