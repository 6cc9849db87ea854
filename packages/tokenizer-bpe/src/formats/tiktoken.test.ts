import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../encoder.js';
import { TokenizerError } from '../errors.js';
import { CL100K_PATTERN, GPT2_PATTERN } from '../patterns.js';
import { base64ToBinary, binaryToBase64 } from './base64.js';
import { loadTiktokenFile, parseTiktokenFile, parseTiktokenJson, saveTiktokenFile, serializeTiktokenFile } from './tiktoken.js';

const require = createRequire(import.meta.url);

function failure(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof TokenizerError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a TokenizerError');
}

describe('base64', () => {
  it('round-trips every byte value and rejects non-canonical text', () => {
    const all = Array.from({ length: 256 }, (_, b) => String.fromCharCode(b)).join('');
    for (const s of [all, 'a', 'ab', 'abc', '\x00\xff']) expect(base64ToBinary(binaryToBase64(s), 0, binaryToBase64(s).length)).toBe(s);
    expect(binaryToBase64(' hello')).toBe(Buffer.from(' hello').toString('base64'));
    for (const bad of ['', 'a', 'IQ=', 'I===', 'IR==', 'I Q=', 'IQ=a', '!!!!', 'ñQ==']) expect(base64ToBinary(bad, 0, bad.length), bad).toBeUndefined();
  });
});

describe('.tiktoken files', () => {
  it('parses and serializes', () => {
    const text = 'IQ== 0\nIg== 1\nIGhlbGxv 2\n';
    const ranks = parseTiktokenFile(text);
    expect([...ranks]).toEqual([['!', 0], ['"', 1], [' hello', 2]]);
    expect(serializeTiktokenFile(ranks)).toBe(text);
    expect([...parseTiktokenFile('IQ== 0\r\n\r\nIg== 1')]).toEqual([['!', 0], ['"', 1]]);
    expect(serializeTiktokenFile(new Map())).toBe('');
  });

  it('round-trips a real vocabulary (cl100k_base from the tiktoken package)', () => {
    const def = parseTiktokenJson(require('tiktoken/encoders/cl100k_base.json'), { name: 'cl100k_base' });
    const again = parseTiktokenFile(serializeTiktokenFile(def.ranks));
    expect(again.size).toBe(def.ranks.size);
    for (const [token, rank] of def.ranks) if (again.get(token) !== rank) throw new Error(`rank of ${JSON.stringify(token)}`);
  });

  const hostile: Array<[string, string, RegExp]> = [
    ['a truncated line', 'IQ== 0\nIg==\n', /line 2: expected "<base64 token> <rank>"/],
    ['a missing rank', 'IQ== 0\nIg== \n', /line 2: a missing rank/],
    ['non-base64', 'IQ== 0\nnot-base64! 1\n', /line 2: "not-base64!" is not base64/],
    ['bad padding', 'IQ= 0\n', /line 1: "IQ=" is not base64/],
    ['a duplicate rank', 'IQ== 0\nIg== 0\n', /line 2: duplicate rank 0/],
    ['a duplicate token', 'IQ== 0\nIQ== 1\n', /line 2: duplicate token "!"/],
    ['a negative rank', 'IQ== -1\n', /line 1: rank "-1"/],
    ['a fractional rank', 'IQ== 1.5\n', /line 1: rank "1.5"/],
    ['a huge rank', 'IQ== 99999999999\n', /line 1: rank "99999999999"/],
    ['extra fields', 'IQ== 0 junk\n', /line 1: rank "0 junk"/],
    ['an empty token', ' 0\n', /line 1: "" is not base64/],
  ];
  it.each(hostile)('rejects %s with INVALID_FORMAT and the line', (_what, text, message) => {
    const f = failure(() => parseTiktokenFile(text));
    expect(f.code).toBe('INVALID_FORMAT');
    expect(f.message).toMatch(message);
  });

  it('refuses to serialize keys that are not binary strings', () => {
    expect(failure(() => serializeTiktokenFile(new Map([['€', 0]]))).code).toBe('INVALID_ARGUMENT');
  });

  describe('files on disk', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tiktoken-file-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('saves atomically and loads back into a working tokenizer', async () => {
      const path = join(dir, 'tiny.tiktoken');
      await writeFile(path, 'old contents');
      const ranks = new Map<string, number>();
      for (let b = 0; b < 256; b++) ranks.set(String.fromCharCode(b), b);
      ranks.set('he', 256).set('hel', 257).set('hell', 258).set('hello', 259);
      await saveTiktokenFile(path, { name: 'tiny', pattern: GPT2_PATTERN, ranks, specialTokens: new Map() });
      expect(await readdir(dir)).toEqual(['tiny.tiktoken']); // temp file renamed away
      expect((await readFile(path, 'utf8')).split('\n')[259]).toBe('aGVsbG8= 259');
      const def = await loadTiktokenFile(path, { name: 'tiny', pattern: GPT2_PATTERN, specialTokens: { '<|end|>': 260 } });
      const tok = new Tokenizer(def);
      expect(tok.encode('hello<|end|>', { allowedSpecial: 'all' })).toEqual([259, 260]);
    });

    it('reports a missing file as Node does', async () => {
      await expect(loadTiktokenFile(join(dir, 'nope.tiktoken'), { name: 'x', pattern: GPT2_PATTERN })).rejects.toThrow(/ENOENT/);
    });
  });
});

describe('tiktoken encoder JSON', () => {
  it('reads the npm package files', () => {
    const def = parseTiktokenJson(require('tiktoken/encoders/p50k_base.json'), { name: 'p50k_base' });
    expect(def.ranks.size).toBe(50280);
    expect(def.ranks.get('  ')).toBe(50257); // the second compressed line starts at 50257
    expect(def.pattern).toBe(GPT2_PATTERN);
    expect([...def.specialTokens]).toEqual([['<|endoftext|>', 50256]]);
  });

  it('accepts JSON text and a generic pat_str', () => {
    const json = JSON.stringify({ pat_str: String.raw`\s+|\S+`, special_tokens: { '<s>': 2 }, bpe_ranks: '! 0 YQ== Yg==\n! 5 Yw==' });
    const def = parseTiktokenJson(json, { name: 'mini' });
    expect([...def.ranks]).toEqual([['a', 0], ['b', 1], ['c', 5]]);
    expect(def.name).toBe('mini');
    expect(new RegExp(def.pattern, 'gu').test('\u0085')).toBe(true);
  });

  const base = { pat_str: CL100K_PATTERN, special_tokens: { '<s>': 9 }, bpe_ranks: '! 0 YQ== Yg==' };
  const hostile: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{"pat_str":', /not valid JSON/],
    ['an array', [], /expected an object/],
    ['no pat_str', { ...base, pat_str: undefined }, /"pat_str" must be a string/],
    ['bpe_ranks not a string', { ...base, bpe_ranks: ['YQ=='] }, /"bpe_ranks" must be a string/],
    ['special_tokens not an object', { ...base, special_tokens: [] }, /"special_tokens" must be an object/],
    ['a bad special id', { ...base, special_tokens: { x: -3 } }, /special token "x" has id -3/],
    ['a special id on a rank', { ...base, special_tokens: { x: 1 } }, /reuses rank 1/],
    ['a line without tokens or rank', { ...base, bpe_ranks: '! 0 YQ==\n!' }, /bpe_ranks line 2: expected/],
    ['a bad first rank', { ...base, bpe_ranks: '! x YQ==' }, /bpe_ranks line 1: rank "x"/],
    ['a non-base64 token', { ...base, bpe_ranks: '! 0 YQ== %%%%' }, /bpe_ranks line 1: token 2 "%%%%" is not base64/],
    ['a duplicate token', { ...base, bpe_ranks: '! 0 YQ==\n! 7 YQ==' }, /bpe_ranks line 2, token 1: duplicate token "a"/],
    ['overlapping rank runs', { ...base, bpe_ranks: '! 0 YQ== Yg==\n! 1 Yw==' }, /bpe_ranks line 2, token 1: duplicate rank 1/],
    ['a wrong explicit_n_vocab', { ...base, explicit_n_vocab: 5 }, /explicit_n_vocab is 5 but there are 2 ranks \+ 1 special tokens/],
  ];
  it.each(hostile)('rejects %s with INVALID_FORMAT', (_what, json, message) => {
    const f = failure(() => parseTiktokenJson(json));
    expect(f.code).toBe('INVALID_FORMAT');
    expect(f.message).toMatch(message);
  });
});
