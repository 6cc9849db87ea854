// Token shards and batches: exact round trips, streaming = whole-text encoding, hostile inputs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer, trainBpeSync } from '@llm/tokenizer-bpe';
import { expectTrainError } from '../testing/sft-helpers.js';
import { resolveTokenizer, byteTokenizerDefinition, tokenizerHash } from './tokenizer.js';
import { writeTokenShard, TokenShard } from './shard.js';
import { splitTokens, WindowSampler } from './batches.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-data-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const text = Array.from({ length: 3000 }, (_, i) => `line ${i}: the quick brown fox ${i % 7 === 0 ? 'jumps — über ∑ 🦊' : 'naps'}\n`).join('');

describe('token shards', () => {
  it('byte shard: uint16 ids equal the UTF-8 bytes, streamed in small chunks, sidecar describes it', async () => {
    const path = join(root, 'a.txt');
    await writeFile(path, text);
    const tok = await resolveTokenizer('byte');
    const meta = await writeTokenShard(join(root, 'a'), [path], tok, { chunkChars: 777 });
    const bytes = Buffer.from(text, 'utf8');
    expect(meta).toMatchObject({ dtype: 'uint16', vocabSize: 256, count: bytes.length, documents: 1, tokenizer: { name: 'byte', hash: tok.hash } });
    const shard = await TokenShard.open(join(root, 'a'));
    expect(Buffer.from(Uint8Array.from(shard.read(0, shard.count))).equals(bytes)).toBe(true);
    // positioned reads (the large-file path) give the same ids
    const big = await TokenShard.open(join(root, 'a.bin'), { maxInMemoryBytes: 0 });
    expect(Array.from(big.read(12345, 50))).toEqual(Array.from(shard.read(12345, 50)));
    big.close();
  });

  it('BPE JSONL shard: each document is encoded and followed by <|endoftext|>', async () => {
    const def = trainBpeSync(text, { vocabSize: 300, name: 't' });
    def.specialTokens.set('<|endoftext|>', 300);
    const tok = { tokenizer: new Tokenizer(def), definition: def, hash: tokenizerHash(def) };
    const jsonl = join(root, 'd.jsonl');
    await writeFile(jsonl, ['{"text": "hello world"}', '', '{"text": "über fox"}'].join('\n'));
    const meta = await writeTokenShard(join(root, 'd'), [jsonl], tok);
    const shard = await TokenShard.open(join(root, 'd'));
    const expected = [...tok.tokenizer.encode('hello world'), 300, ...tok.tokenizer.encode('über fox'), 300];
    expect(Array.from(shard.read(0, shard.count))).toEqual(expected);
    expect(meta.documents).toBe(2);
  });

  it('bad inputs: missing file, empty corpus, malformed JSONL (file:line), truncated shard, wrong sidecar', async () => {
    const tok = await resolveTokenizer('byte');
    await expectTrainError(writeTokenShard(join(root, 'x'), [join(root, 'nope.txt')], tok), 'DATA_MISSING', /nope\.txt does not exist/);
    await writeFile(join(root, 'empty.txt'), '');
    await expectTrainError(writeTokenShard(join(root, 'e'), [join(root, 'empty.txt')], tok), 'DATA_EMPTY', /empty/);
    await writeFile(join(root, 'bad.jsonl'), '{"text": "ok"}\n{"text": 3}\n');
    await expectTrainError(writeTokenShard(join(root, 'b'), [join(root, 'bad.jsonl')], tok), 'DATA_INVALID', /bad\.jsonl:2: expected an object with a string "text"/);
    await writeFile(join(root, 'bad2.jsonl'), '{"text": "ok"}\n{"text": \n');
    await expectTrainError(writeTokenShard(join(root, 'b2'), [join(root, 'bad2.jsonl')], tok), 'DATA_INVALID', /bad2\.jsonl:2: not valid JSON/);
    const bin = await readFile(join(root, 'a.bin'));
    await writeFile(join(root, 'trunc.bin'), bin.subarray(0, 100));
    await writeFile(join(root, 'trunc.json'), await readFile(join(root, 'a.json')));
    await expectTrainError(TokenShard.open(join(root, 'trunc')), 'DATA_INVALID', /truncated/);
    await writeFile(join(root, 'junk.json'), '{"format": "something"}');
    await writeFile(join(root, 'junk.bin'), '');
    await expectTrainError(TokenShard.open(join(root, 'junk')), 'DATA_INVALID', /not an llm-ts token shard/);
    await expectTrainError(resolveTokenizer(join(root, 'no-tokenizer.json')), 'DATA_MISSING', /does not exist/);
  });

  it('tokenizer hashes differ for different vocabularies and match for equal ones', () => {
    expect(tokenizerHash(byteTokenizerDefinition())).toBe(tokenizerHash(byteTokenizerDefinition()));
    const def = byteTokenizerDefinition();
    def.specialTokens.set('<|endoftext|>', 256);
    expect(tokenizerHash(def)).not.toBe(tokenizerHash(byteTokenizerDefinition()));
  });
});

describe('batches', () => {
  const shard = TokenShard.fromIds(Array.from({ length: 1000 }, (_, i) => i % 256), { vocabSize: 256, tokenizer: { name: 'byte', hash: 'x' }, documents: 1, sources: [] });

  it('splits 90/10 and samples windows whose targets are the inputs shifted by one, inside the split', () => {
    const { train, val } = splitTokens(shard, 0.1);
    expect([train.start, train.end, val.start, val.end]).toEqual([0, 900, 900, 1000]);
    const s = new WindowSampler(val, { batchSize: 8, blockSize: 16, seed: 3 });
    for (let k = 0; k < 20; k++) {
      const b = s.next();
      for (let r = 0; r < 8; r++) {
        const first = b.inputs[r * 16]!;
        for (let t = 0; t < 16; t++) {
          expect(b.inputs[r * 16 + t]).toBe((first + t) % 256);
          expect(b.targets[r * 16 + t]).toBe((first + t + 1) % 256);
        }
        // window start index in [900, 1000 - 17]: ids there are (900..983) % 256
        const startIdx = [...Array(84).keys()].map((i) => (900 + i) % 256);
        expect(startIdx).toContain(first);
      }
    }
  });

  it('is deterministic given the seed, and setState(getState()) replays the same batches', () => {
    const { train } = splitTokens(shard);
    const a = new WindowSampler(train, { batchSize: 4, blockSize: 8, seed: 1 });
    const b = new WindowSampler(train, { batchSize: 4, blockSize: 8, seed: 1 });
    a.next();
    b.next();
    const state = a.getState();
    const x = a.next();
    expect(Array.from(b.next().inputs)).toEqual(Array.from(x.inputs));
    a.setState(state);
    expect(Array.from(a.next().inputs)).toEqual(Array.from(x.inputs));
    const c = new WindowSampler(train, { batchSize: 4, blockSize: 8, seed: 2 });
    expect(Array.from(c.next().inputs)).not.toEqual(Array.from(new WindowSampler(train, { batchSize: 4, blockSize: 8, seed: 1 }).next().inputs));
  });

  it('a split too short for one window is a clear error', async () => {
    await expectTrainError(() => new WindowSampler(splitTokens(shard, 0.01).val, { batchSize: 1, blockSize: 64, seed: 1 }), 'DATA_EMPTY', /too short for blockSize 64/);
  });
});
