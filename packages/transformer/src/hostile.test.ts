// Hostile checkpoints (issue 12): a downloaded checkpoint is untrusted input. Every case ends in a
// typed TransformerError or a correct load, within 15 s and 1 GB; no file outside the checkpoint
// is read and no error message quotes bytes of a file. Cases that would hang or exhaust memory
// without their guard run in a child process (runIsolated) importing the built dist.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, readSafetensors, writeSafetensors, serializeSafetensors, float32ToFloat16Bits, float32ToBfloat16Bits, type RawTensor } from '@llm/tensor-gpu';
import { runIsolated, rng, type IsolatedResult } from '@llm/kit';
import { TransformerLM } from './model.js';
import { checkpointFile, loadModel } from './checkpoint.js';
import { ValueHead, loadSequenceClassifier } from './heads.js';
import { MODEL_LIMITS, resolveLimits } from './limits.js';
import { resolveConfig } from './config.js';
import { TransformerError, type TransformerErrorCode } from './errors.js';
import { expectError, fixtureDir, randomIds, useWasm } from './testing/helpers.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
/** What a file outside every checkpoint holds: no error message may ever contain it. */
const SECRET = 'TOP-SECRET-7f3a9c';

let root: string;
let n = 0;
const freshDir = async (): Promise<string> => {
  const d = join(root, `d${n++}`);
  await mkdir(d, { recursive: true });
  return d;
};

beforeAll(async () => {
  await useWasm();
  root = await mkdtemp(join(tmpdir(), 'llm-hostile-'));
  await writeFile(join(root, 'secret.safetensors'), `${SECRET}\n`.repeat(20));
  await writeFile(join(root, 'secret.json'), `{"model_type": "${SECRET}"}`);
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A copy of a committed fixture, config.json edited (or replaced by raw text). */
async function fixtureCopy(name: string, edit?: ((c: Record<string, unknown>) => void) | string): Promise<string> {
  const dir = await freshDir();
  await cp(fixtureDir(name), dir, { recursive: true });
  if (typeof edit === 'string') await writeFile(join(dir, 'config.json'), edit);
  else if (edit) {
    const c = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(c);
    await writeFile(join(dir, 'config.json'), JSON.stringify(c));
  }
  return dir;
}

/** llama-gqa split into two shards + model.safetensors.index.json, weight_map edited. */
async function sharded(editMap?: (m: Record<string, unknown>) => void): Promise<string> {
  const dir = await freshDir();
  await cp(join(fixtureDir('llama-gqa'), 'config.json'), join(dir, 'config.json'));
  const { tensors } = await readSafetensors(join(fixtureDir('llama-gqa'), 'model.safetensors'));
  const names = [...tensors.keys()];
  const map: Record<string, unknown> = {};
  const files = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  for (const [i, f] of files.entries()) {
    const part = names.filter((_, k) => k % 2 === i);
    await writeSafetensors(join(dir, f), new Map(part.map((p) => [p, tensors.get(p)!])), { format: 'pt' });
    for (const p of part) map[p] = f;
  }
  editMap?.(map);
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: map }));
  return dir;
}

/** A copy of llama-gqa with its tensors edited. */
async function withTensors(edit: (t: Map<string, RawTensor>) => void): Promise<string> {
  const dir = await fixtureCopy('llama-gqa');
  const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
  edit(tensors);
  await writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

/** A typed failure of loadModel whose message quotes nothing secret. */
async function refused(dir: string, code: TransformerErrorCode, fragment?: RegExp): Promise<TransformerError> {
  const e = await expectError(() => loadModel(dir), code, fragment);
  expect(e.message).not.toContain(SECRET);
  expect(e.message).not.toMatch(/root:|daemon:/); // /etc/passwd's first bytes
  return e;
}

/** Runs `code` (ESM; `T` is @llm/transformer) in a child under the suite's budget: 15 s, 1024 MB. */
function isolated(code: string): Promise<IsolatedResult> {
  const preamble = "import * as T from '@llm/transformer';\nimport { initBackend } from '@llm/tensor-gpu';\nawait initBackend({ backend: 'cpu', log: false });\n";
  return runIsolated(preamble + code, { cwd: PKG, timeoutMs: 15_000, memoryMb: 1024 });
}

/** The child ended within budget with a TransformerError of `code`. */
function expectTypedExit(r: IsolatedResult, code: TransformerErrorCode, fragment?: RegExp): void {
  expect(r.outcome, r.stderr.slice(-2000)).toBe('exit');
  expect(r.error, r.stderr.slice(-2000)).toMatchObject({ name: 'TransformerError', code });
  if (fragment) expect(r.error!.message).toMatch(fragment);
  expect(r.error!.message).not.toContain(SECRET);
}

const load = (dir: string, opts?: object) => `await T.loadModel(${JSON.stringify(dir)}${opts ? `, ${JSON.stringify(opts)}` : ''});`;

describe('path confinement: a checkpoint names only files inside its directory', () => {
  it('a sharded checkpoint loads, the same model as the single file', async () => {
    const a = await loadModel(fixtureDir('llama-gqa'));
    const b = await loadModel(await sharded());
    const ids = randomIds(1, 6, 96, 3);
    const [la, lb] = [a.forward(ids), b.forward(ids)];
    expect(Buffer.from(lb.dataSync().buffer).equals(Buffer.from(la.dataSync().buffer))).toBe(true);
    tf.dispose([ids, la, lb]);
    a.dispose();
    b.dispose();
  });

  it('weight_map entries outside the directory are refused by name, before any file is opened', async () => {
    // A complete, valid shard set one level up: loading it would succeed if the name were followed.
    const outside = await sharded();
    const rel = `../${outside.split('/').at(-1)}/model-00002-of-00002.safetensors`;
    const cases: Array<[unknown, RegExp]> = [
      ['../../../../etc/passwd', /which has a "\.\." segment/],
      [rel, /which has a "\.\." segment/],
      ['../secret.safetensors', /"\.\." segment/],
      ['/etc/passwd', /which is an absolute path/],
      [join(outside, 'model-00002-of-00002.safetensors'), /absolute path/],
      ['C:/Windows/x.safetensors', /absolute path/],
      ['..\\..\\secret.safetensors', /backslash/],
      ['sub\\model.safetensors', /backslash/],
      ['model-00002-of-00002.safetensors\u0000.json', /control character/],
      ['a/../../secret.safetensors', /"\.\." segment/],
      ['./model-00002-of-00002.safetensors', /empty or "\." segment/],
      ['sub//model.safetensors', /empty or "\." segment/],
      ['', /which is empty/],
      [5, /which is not a string/],
      [null, /which is not a string/],
      ['config.json', /does not end in "\.safetensors"/],
      ['x'.repeat(5000) + '.safetensors', /longer than 1024/],
    ];
    for (const [file, why] of cases) {
      const dir = await sharded((m) => (m['model.norm.weight'] = file));
      const e = await refused(dir, 'CHECKPOINT_UNSAFE_PATH', why);
      expect(e.message).toMatch(/weight_map entry "model\.norm\.weight" names the file/);
      expect(e.message.length).toBeLessThan(600);
    }
  });

  it('checkpointFile: plain relative names (subfolders too) pass, anything that could leave the directory does not', () => {
    expect(checkpointFile('/ckpt', 'sub/tokenizer.json', 'x')).toBe('/ckpt/sub/tokenizer.json');
    expect(checkpointFile('ckpt', 'model-00001-of-00002.safetensors', 'x', '.safetensors')).toBe('ckpt/model-00001-of-00002.safetensors');
    expect(() => checkpointFile('ckpt', 'sub/../../x.json', 'tokenizer_config.json: "vocab_file"')).toThrow(/^tokenizer_config\.json: "vocab_file" names the file "sub\/\.\.\/\.\.\/x\.json", which has a "\.\." segment\. A checkpoint may only name files inside its own directory/);
    expect(() => checkpointFile('ckpt', 'tokenizer.json', 'x', '.safetensors')).toThrow(/does not end in "\.safetensors"/);
  });

  it('an HF hub cache layout (snapshot entries are symlinks into blobs/) loads, single-file and sharded', async () => {
    const repo = join(await freshDir(), 'models--org--tiny');
    await mkdir(join(repo, 'blobs'), { recursive: true });
    const src = await sharded();
    const blobs: Record<string, string> = {
      'config.json': join(src, 'config.json'),
      'model.safetensors': join(fixtureDir('llama-gqa'), 'model.safetensors'),
      'model.safetensors.index.json': join(src, 'model.safetensors.index.json'),
      'model-00001-of-00002.safetensors': join(src, 'model-00001-of-00002.safetensors'),
      'model-00002-of-00002.safetensors': join(src, 'model-00002-of-00002.safetensors'),
    };
    for (const [i, from] of Object.values(blobs).entries()) await cp(from, join(repo, 'blobs', `sha${i}`));
    const snapshot = async (rev: string, files: string[]) => {
      const dir = join(repo, 'snapshots', rev);
      await mkdir(dir, { recursive: true });
      for (const f of files) await symlink(`../../blobs/sha${Object.keys(blobs).indexOf(f)}`, join(dir, f));
      return dir;
    };
    const single = await loadModel(await snapshot('aaa111', ['config.json', 'model.safetensors']));
    const shards = await loadModel(await snapshot('bbb222', ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']));
    expect(single.config).toEqual(shards.config);
    single.dispose();
    shards.dispose();
  });

  it('no error quotes the bytes of a file: not-JSON, broken JSON, a text file as safetensors', async () => {
    await refused(await fixtureCopy('llama-gqa', `root:x:0:0:root:/root:/bin/bash\n${SECRET}\n`), 'CHECKPOINT_INVALID', /config\.json is not valid JSON \(unexpected character\)\.$/);
    await refused(await fixtureCopy('llama-gqa', `{"model_type": "llama", ${SECRET}}`), 'CHECKPOINT_INVALID', /config\.json is not valid JSON/);
    await refused(await fixtureCopy('llama-gqa', `{"model_type": "llama", "x": "${SECRET}`), 'CHECKPOINT_INVALID', /config\.json is not valid JSON \((the text ends early|syntax error at character 47)\)\.$/);
    const latin = await fixtureCopy('llama-gqa');
    await writeFile(join(latin, 'config.json'), Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    await refused(latin, 'CHECKPOINT_INVALID', /config\.json is not valid UTF-8/);
    const text = await fixtureCopy('llama-gqa');
    await writeFile(join(text, 'model.safetensors'), `{}${SECRET}`.padEnd(200, 'x'));
    await refused(text, 'CHECKPOINT_INVALID', /model\.safetensors: safetensors: header length \(the first 8 bytes\) is above the limit of 33554432 bytes/);
    // Symlinks are followed (the HF cache is made of them), so one may point anywhere: still nothing quoted.
    const link = await fixtureCopy('llama-gqa');
    await rm(join(link, 'model.safetensors'));
    await symlink(join(root, 'secret.safetensors'), join(link, 'model.safetensors'));
    const e1 = await refused(link, 'CHECKPOINT_INVALID', /header length \(the first 8 bytes\) is above the limit/);
    expect(e1.message).not.toMatch(/\d{9,}/); // the first 8 bytes as a number would be a leak too
    const small = await fixtureCopy('llama-gqa');
    const h = Buffer.from(`{"a":1} ${SECRET}`);
    const b = Buffer.alloc(8 + h.length);
    b.writeBigUInt64LE(BigInt(h.length));
    h.copy(b, 8);
    await writeFile(join(small, 'model.safetensors'), b);
    await refused(small, 'CHECKPOINT_INVALID', /header is not valid JSON \(syntax error at character 8\)/);
    const wrongType = await fixtureCopy('llama-gqa', (c) => (c.model_type = `${SECRET}`.repeat(1000)));
    const e = await expectError(() => loadModel(wrongType), 'UNSUPPORTED_MODEL_TYPE', /model_type "TOP-SECRET/);
    expect(e.message.length).toBeLessThan(300); // values from the file are quoted short
  });

  it('special files and symlinks to them are refused without blocking', async () => {
    const dev = await fixtureCopy('llama-gqa');
    await rm(join(dev, 'model.safetensors'));
    await symlink('/dev/zero', join(dev, 'model.safetensors'));
    await refused(dev, 'CHECKPOINT_INVALID', /has no model\.safetensors/);
    const cfg = await fixtureCopy('llama-gqa');
    await rm(join(cfg, 'config.json'));
    await mkdir(join(cfg, 'config.json'));
    await refused(cfg, 'CHECKPOINT_INVALID', /config\.json is not a regular file/);
    // FIFOs: opening one for reading blocks until a writer comes, so these run in a child.
    const fifoCfg = await fixtureCopy('llama-gqa');
    await rm(join(fifoCfg, 'config.json'));
    execFileSync('mkfifo', [join(fifoCfg, 'config.json')]);
    const fifoShard = await sharded();
    await rm(join(fifoShard, 'model-00002-of-00002.safetensors'));
    execFileSync('mkfifo', [join(fifoShard, 'model-00002-of-00002.safetensors')]);
    const [a, b] = await Promise.all([isolated(load(fifoCfg)), isolated(load(fifoShard))]);
    expectTypedExit(a, 'CHECKPOINT_INVALID', /config\.json is not a regular file/);
    expectTypedExit(b, 'CHECKPOINT_INVALID', /model-00002-of-00002\.safetensors: safetensors: .* is not a regular file/);
  });

  it('a tensor in two shards, duplicate keys, and a weight_map that is not a map are refused', async () => {
    const twice = await sharded();
    const { tensors } = await readSafetensors(join(twice, 'model-00001-of-00002.safetensors'));
    const first = [...tensors.keys()][0]!;
    const other = await readSafetensors(join(twice, 'model-00002-of-00002.safetensors'));
    other.tensors.set(first, tensors.get(first)!);
    await writeSafetensors(join(twice, 'model-00002-of-00002.safetensors'), other.tensors);
    await refused(twice, 'CHECKPOINT_INVALID', new RegExp(`tensor "${first.replace(/\./g, '\\.')}" is in two files`));
    const text = await readFile(join(fixtureDir('llama-gqa'), 'config.json'), 'utf8');
    await refused(await fixtureCopy('llama-gqa', text.replace('"num_hidden_layers": 2,', '"num_hidden_layers": 2, "num_hidden_layers": 1000000000,')), 'CHECKPOINT_INVALID', /duplicate key "num_hidden_layers" in .*config\.json at the top level/);
    for (const map of [[], 'model.safetensors', null, 7]) {
      const dir = await sharded();
      await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: map }));
      await refused(dir, 'CHECKPOINT_INVALID', /"weight_map" must be an object/);
    }
  });
});

describe('sizes: checked against the limits before anything is allocated', () => {
  it('config.json dimensions of 1e9 and more: a typed error in milliseconds, in a 1 GB child', async () => {
    const huge: Array<[string, (c: Record<string, unknown>) => void, RegExp]> = [
      ['gpt2-tied', (c) => (c.n_layer = 1e9), /nLayer is 1,000,000,000, above the limit of 1,024 \(limits\.maxLayers\)/],
      ['mixtral-moe', (c) => (c.num_local_experts = 1e9), /nExperts .* \(limits\.maxExperts\)/],
      ['llama-gqa', (c) => (c.max_position_embeddings = 1e12), /blockSize .* \(limits\.maxPositions\)/],
      ['gpt2-tied', (c) => (c.n_positions = 2 ** 31), /limits\.maxPositions/],
      ['llama-gqa', (c) => (c.vocab_size = 1e12), /limits\.maxVocabSize/],
      ['llama-gqa', (c) => Object.assign(c, { hidden_size: 2 ** 30, head_dim: 8 }), /limits\.maxWidth/],
      ['llama-gqa', (c) => (c.intermediate_size = 1e10), /limits\.maxIntermediateSize/],
      ['llama-gqa', (c) => Object.assign(c, { num_attention_heads: 2 ** 20, num_key_value_heads: 1 }), /limits\.maxHeads/],
      ['mixtral-moe', (c) => (c.num_experts_per_tok = 1000), /limits\.maxExpertsPerTok/],
      // every dimension within its limit, their product not
      ['llama-gqa', (c) => Object.assign(c, { hidden_size: 65536, num_attention_heads: 512, num_key_value_heads: 512, head_dim: 128, intermediate_size: 262144, num_hidden_layers: 1024, vocab_size: 4_000_000 }), /parameter count is [\d,]+, above the limit of 8,000,000,000 \(limits\.maxParameters\)/],
      ['mixtral-moe', (c) => Object.assign(c, { num_hidden_layers: 1024, num_local_experts: 1024 }), /number of weight tensors .* \(limits\.maxTensors\)/],
    ];
    const dirs = await Promise.all(huge.map(([f, edit]) => fixtureCopy(f, edit)));
    // One child per case, two at a time.
    for (let i = 0; i < dirs.length; i += 2) {
      const rs = await Promise.all(dirs.slice(i, i + 2).map((d) => isolated(`const t0 = performance.now(); try { ${load(d)} } finally { console.log(performance.now() - t0); }`)));
      rs.forEach((r, k) => {
        expectTypedExit(r, 'LIMIT_EXCEEDED', huge[i + k]![2]);
        expect(r.error!.message).toMatch(/raise it: loadModel\(dir, \{ limits: \{ max\w+: … \} \}\)/);
        expect(Number(r.stdout.trim())).toBeLessThan(1000); // ms inside the child: refused before any work
      });
    }
  });

  it('limits are overridable, both ways; bad overrides are refused', async () => {
    await expectError(() => loadModel(fixtureDir('llama-gqa'), { limits: { maxLayers: 1 } }), 'LIMIT_EXCEEDED', /nLayer is 2, above the limit of 1 \(limits\.maxLayers\)/);
    await expectError(() => loadModel(fixtureDir('llama-gqa'), { limits: { maxParameters: 1000 } }), 'LIMIT_EXCEEDED', /limits\.maxParameters/);
    await expectError(() => loadModel(fixtureDir('llama-gqa'), { limits: { maxJsonBytes: 100 } }), 'LIMIT_EXCEEDED', /the size of .*config\.json in bytes is \d+, above the limit of 100 \(limits\.maxJsonBytes\)/);
    await expectError(() => loadModel(fixtureDir('llama-gqa'), { limits: { maxLayer: 3 } as never }), 'INVALID_ARGUMENT', /unknown limit "maxLayer"/);
    await expectError(() => loadModel(fixtureDir('llama-gqa'), { limits: { maxLayers: -1 } }), 'INVALID_ARGUMENT', /limits\.maxLayers must be a positive number/);
    expect(resolveLimits({ maxParameters: Infinity }).maxParameters).toBe(Infinity);
    expect(MODEL_LIMITS.maxParameters).toBe(8e9);
    // A context beyond the default limit, allowed by raising it (RoPE tables grow with use, not with blockSize).
    const cfg = { family: 'llama', vocabSize: 16, nLayer: 1, nHead: 1, nEmbd: 8, intermediateSize: 8, blockSize: 2 ** 24 } as const;
    await expectError(() => new TransformerLM(cfg), 'LIMIT_EXCEEDED', /blockSize is 16,777,216, above the limit of 1,048,576 \(limits\.maxPositions\)/);
    const m = new TransformerLM(cfg, undefined, { limits: { maxPositions: 2 ** 24 } });
    const ids = randomIds(1, 3, 16, 1);
    tf.dispose([ids, m.forward(ids)]);
    const dir = await freshDir();
    await m.save(dir);
    await expectError(() => loadModel(dir), 'LIMIT_EXCEEDED', /limits\.maxPositions/);
    (await loadModel(dir, { limits: { maxPositions: 2 ** 24 } })).dispose();
    expect(() => resolveConfig({ ...cfg, blockSize: 1e300 })).toThrow(/blockSize must be an integer ≥ 1, got 1e\+300/);
    m.dispose();
  });

  it('a long context with tiny weights loads in a 1 GB child (RoPE tables follow the positions used)', async () => {
    // max_position_embeddings 2^20 × head_dim 1024: full RoPE tables would be 4 GB; the weights are a few KB.
    const m = new TransformerLM({ family: 'llama', vocabSize: 16, nLayer: 1, nHead: 1, nKvHead: 1, nEmbd: 4, headDim: 1024, intermediateSize: 4, blockSize: 2 ** 20 });
    const dir = await freshDir();
    await m.save(dir);
    m.dispose();
    const r = await isolated(`const { tf } = await import('@llm/tensor-gpu');\nconst m = ${load(dir)}\nconsole.log(m.forward(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32')).shape.join(','));`);
    expect(r.outcome, r.stderr.slice(-2000)).toBe('exit');
    expect(r.error, r.stderr.slice(-2000)).toBeNull();
    expect(r.stdout.trim()).toBe('1,3,16');
  });

  it('createCache with huge sizes is refused before allocating (in a 1 GB child)', async () => {
    const model = `const m = new T.TransformerLM({ family: 'llama', vocabSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, intermediateSize: 8, blockSize: 64 });\n`;
    const [a, b, c] = await Promise.all([
      isolated(`${model}m.createCache(1e6, 1e6);`),
      isolated(`${model}m.createCache(1, 1e12);`),
      isolated(`${model}m.createCache(4096, 8192);`), // 2^25 positions, 4 GiB when full: within the limits
    ]);
    expectTypedExit(a, 'LIMIT_EXCEEDED', /createCache: batch × maxLen \(1000000 × 1000000\) is 1,000,000,000,000, above the limit of 67,108,864 \(limits\.maxCachePositions\)/);
    expectTypedExit(b, 'LIMIT_EXCEEDED', /limits\.maxCachePositions/);
    expect(c.outcome).toBe('exit');
    expect(c.error).toBeNull();
    const m = new TransformerLM({ family: 'llama', vocabSize: 16, nLayer: 4, nHead: 1, nEmbd: 8, headDim: 1024, intermediateSize: 8, blockSize: 64 }); // 32 KB per cached position
    expect(() => m.createCache(64, 1 << 20)).toThrow(/the full cache's bytes .* above the limit of 8,589,934,592 \(limits\.maxCacheBytes\)/);
    expect(() => m.createCache(1.5, 8)).toThrow(/createCache: batch must be a positive integer, got 1\.5/);
    expect(() => m.createCache(1, NaN)).toThrow(/maxLen must be a positive integer/);
    m.dispose();
  });

  it('a header claiming a 3 GB tensor the config does not imply is refused before the data is read (sparse file, 1 GB child)', async () => {
    const dir = await fixtureCopy('llama-gqa');
    const n = 750_000_000;
    const header = Buffer.from(JSON.stringify({ 'model.embed_tokens.weight': { dtype: 'F32', shape: [n / 32, 32], data_offsets: [0, 4 * n] } }));
    const fh = await open(join(dir, 'model.safetensors'), 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    await fh.write(Buffer.concat([len, header]));
    await fh.truncate(8 + header.length + 4 * n);
    await fh.close();
    const r = await isolated(load(dir));
    expectTypedExit(r, 'CHECKPOINT_SHAPE_MISMATCH', /"model\.embed_tokens\.weight" has shape \[23437500,32\], but config\.json implies \[96,32\]/);
    expect(r.peakRssMb ?? 0).toBeLessThan(1024);
  });

  it('headers with too many tensors, absurd shapes or sizes beyond the file are typed errors', async () => {
    const many = await fixtureCopy('llama-gqa');
    const one = { dtype: 'U8' as const, shape: [1], data: new Uint8Array(1) };
    await writeFile(join(many, 'model.safetensors'), serializeSafetensors(new Map(Array.from({ length: 140_000 }, (_, i) => [`t${i}`, one]))));
    expectTypedExit(await isolated(load(many)), 'LIMIT_EXCEEDED', /the number of tensors in the checkpoint is 140,000, above the limit of 131,072 \(limits\.maxTensors\)/);
    const overflow = await fixtureCopy('llama-gqa');
    const head = Buffer.from(JSON.stringify({ 'model.norm.weight': { dtype: 'F32', shape: [2 ** 31, 2 ** 31], data_offsets: [0, 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(head.length));
    await writeFile(join(overflow, 'model.safetensors'), Buffer.concat([len, head, Buffer.alloc(4)]));
    await refused(overflow, 'CHECKPOINT_INVALID', /tensor "model\.norm\.weight": data_offsets \[0, 4\] span 4 bytes but shape \[2147483648,2147483648\] of F32 needs 18446744073709552000 bytes/);
    const past = await fixtureCopy('llama-gqa');
    const bytes = await readFile(join(past, 'model.safetensors'));
    await writeFile(join(past, 'model.safetensors'), bytes.subarray(0, bytes.length - 4));
    await refused(past, 'CHECKPOINT_INVALID', /model\.safetensors: safetensors: tensor "lm_head\.weight": data_offsets \[\d+, \d+\] end beyond the data section \(\d+ bytes\)\.$/);
    const big = await fixtureCopy('llama-gqa');
    const fh = await open(join(big, 'config.json'), 'r+');
    await fh.truncate(64 * 1024 * 1024); // sparse: 64 MB of NULs after the JSON
    await fh.close();
    await refused(big, 'LIMIT_EXCEEDED', /the size of .*config\.json in bytes is 67,108,864, above the limit of 33,554,432 \(limits\.maxJsonBytes\)/);
    const index = await sharded((m) => {
      for (let i = 0; i < 140_000; i++) m[`extra.${i}`] = 'model-00001-of-00002.safetensors';
    });
    await refused(index, 'LIMIT_EXCEEDED', /the number of weight_map entries is 140,\d+, above the limit of 131,072/);
  });

  it('deeply nested JSON is refused before parsing, in config.json, generation_config.json and the index', async () => {
    const deep = (k: number) => '['.repeat(k) + ']'.repeat(k);
    const text = await readFile(join(fixtureDir('llama-gqa'), 'config.json'), 'utf8');
    await refused(await fixtureCopy('llama-gqa', text.replace('"rope_scaling": null', `"rope_scaling": ${deep(1_000_000)}`)), 'CHECKPOINT_INVALID', /config\.json nests arrays\/objects deeper than 64 levels/);
    // within the depth limit, a nested value in an error message is described, not serialised
    await refused(await fixtureCopy('llama-gqa', text.replace('"rope_scaling": null', `"rope_scaling": ${deep(60)}`)), 'UNSUPPORTED_MODEL_TYPE', /"rope_scaling" = an array of 1 is not supported/);
    const gen = await fixtureCopy('llama-gqa');
    await writeFile(join(gen, 'generation_config.json'), `{"eos_token_id": 2, "x": ${deep(100_000)}}`);
    await refused(gen, 'CHECKPOINT_INVALID', /generation_config\.json nests arrays\/objects deeper than 64 levels/);
    const idx = await sharded();
    await writeFile(join(idx, 'model.safetensors.index.json'), `{"weight_map": {"a": ${deep(100_000)}}}`);
    await refused(idx, 'CHECKPOINT_INVALID', /index\.json nests arrays\/objects deeper than 64 levels/);
  });
});

describe('garbage refused', () => {
  it('NaN / Infinity weights in any float dtype: a typed error naming the tensor and where', async () => {
    const set = (name: string, dtype: 'F32' | 'F16' | 'BF16' | 'F64', at: number, v: number) =>
      withTensors((t) => {
        const raw = t.get(name)!;
        const values = Float32Array.from(new Float32Array(raw.data.slice().buffer));
        values[at] = v;
        const data =
          dtype === 'F32' ? new Uint8Array(values.buffer)
          : dtype === 'F16' ? new Uint8Array(float32ToFloat16Bits(values).buffer)
          : dtype === 'BF16' ? new Uint8Array(float32ToBfloat16Bits(values).buffer)
          : new Uint8Array(Float64Array.from(values, (x, i) => (i === at ? v : x)).buffer);
        t.set(name, { dtype, shape: raw.shape, data });
      });
    await refused(await set('model.layers.1.self_attn.k_proj.weight', 'F32', 17, NaN), 'CHECKPOINT_INVALID', /tensor "model\.layers\.1\.self_attn\.k_proj\.weight" holds NaN at flat index 17 of shape \[16,32\]: weights must be finite/);
    await refused(await set('model.norm.weight', 'F16', 3, Infinity), 'CHECKPOINT_INVALID', /"model\.norm\.weight" holds Infinity at flat index 3/);
    await refused(await set('lm_head.weight', 'BF16', 0, -Infinity), 'CHECKPOINT_INVALID', /"lm_head\.weight" holds -Infinity at flat index 0/);
    await refused(await set('model.embed_tokens.weight', 'F64', 5, 1e300), 'CHECKPOINT_INVALID', /holds Infinity \(as float32\) at flat index 5/);
  });

  it('NaN in a classifier score or a value head is refused too', async () => {
    const dir = await withTensors((t) => t.set('score.weight', { dtype: 'F32', shape: [2, 32], data: new Uint8Array(new Float32Array(64).fill(NaN).buffer) }));
    await expectError(() => loadSequenceClassifier(dir), 'CHECKPOINT_INVALID', /"score\.weight" holds NaN/);
    const backbone = await loadModel(fixtureDir('llama-gqa'));
    await writeSafetensors(join(dir, 'value_head.safetensors'), new Map([
      ['v_head.summary.weight', { dtype: 'F32', shape: [1, 32], data: new Uint8Array(128) }],
      ['v_head.summary.bias', { dtype: 'F32', shape: [1], data: new Uint8Array(new Float32Array([Infinity]).buffer) }],
    ]));
    await expectError(() => ValueHead.load(dir, backbone), 'CHECKPOINT_INVALID', /"v_head\.summary\.bias" holds Infinity at flat index 0/);
    backbone.dispose();
  });

  it('non-finite or out-of-range config numbers are refused', async () => {
    const text = await readFile(join(fixtureDir('llama-gqa'), 'config.json'), 'utf8');
    const edits: Array<[string, string, RegExp]> = [
      ['"rope_theta": 10000.0', '"rope_theta": 1e400', /"rope_theta" must be a finite number, got Infinity/],
      ['"rms_norm_eps": 1e-06', '"rms_norm_eps": -1e400', /"rms_norm_eps" must be a finite number, got -Infinity/],
      ['"rms_norm_eps": 1e-06', '"rms_norm_eps": "NaN"', /"rms_norm_eps" must be a finite number, got "NaN"/],
      ['"initializer_range": 0.02', '"initializer_range": 1e999', /"initializer_range" must be a finite number/],
      ['"rope_theta": 10000.0', '"rope_theta": 0.5', /ropeTheta must be a number in \[1,/],
      ['"num_hidden_layers": 2', '"num_hidden_layers": 9007199254740993', /"num_hidden_layers" must be a positive integer, got 9007199254740992/],
      ['"num_hidden_layers": 2', '"num_hidden_layers": 2.5', /"num_hidden_layers" must be a positive integer/],
      ['"eos_token_id": 2', '"eos_token_id": 1e300', /"eos_token_id" must be a token id/],
    ];
    for (const [from, to, why] of edits) await refused(await fixtureCopy('llama-gqa', text.replace(from, to)), 'CONFIG_INVALID', why);
    const gpt2 = await readFile(join(fixtureDir('gpt2-tied'), 'config.json'), 'utf8');
    await refused(await fixtureCopy('gpt2-tied', gpt2.replace(/"layer_norm_epsilon": [^,]+/, '"layer_norm_epsilon": 1e400')), 'CONFIG_INVALID', /"layer_norm_epsilon" must be a finite number/);
    const gen = await fixtureCopy('llama-gqa');
    await writeFile(join(gen, 'generation_config.json'), '{"max_new_tokens": 1e300}');
    await refused(gen, 'CONFIG_INVALID', /"max_new_tokens" must be an integer ≥ 0, got 1e\+300/);
  });
});

describe('fuzz: mutated config.json and index.json', () => {
  /** JSON literals a hostile file may put anywhere. */
  const VALUES = [
    '1e9', '1e12', '2147483648', '4294967297', '9007199254740993', '1e308', '1e400', '-1e400', '-1', '0', '-0', '0.5', '1.5', '1e-320',
    '4096', '65536', '1048576', 'null', 'true', 'false', '"32"', '""', '"llama"', '"mixtral"', '"gpt2"', '[]', '{}', '[1,2]', '[2,1e9]',
    '{"type":"linear","factor":2}', '"' + 'x'.repeat(100_000) + '"', '['.repeat(200) + ']'.repeat(200),
  ];
  const KEYS = ['num_local_experts', 'num_experts_per_tok', 'n_inner', 'head_dim', 'sliding_window', 'rope_scaling', 'llm_ts', 'tie_word_embeddings', 'pad_token_id', 'n_positions', 'max_position_embeddings'];
  const PATHS: unknown[] = ['../secret.safetensors', '/etc/passwd', '..', '.', '', '../../../../etc/shadow', 'a\\b.safetensors', '\u0000', 'model-00003-of-00002.safetensors', 'config.json', 5, null, [], {}];

  /** Whether a mutated text still parses (as an index: with a weight_map object), so it can be mutated again. */
  function parsesAsWeightMap(text: string, isIndex: boolean): boolean {
    try {
      const v = JSON.parse(text) as Record<string, unknown>;
      return typeof v === 'object' && v !== null && (!isIndex || (typeof v.weight_map === 'object' && v.weight_map !== null && !Array.isArray(v.weight_map)));
    } catch {
      return false;
    }
  }

  /** One seeded mutation of a JSON text (as text, so duplicates, bad literals and truncation are possible). */
  function mutate(text: string, next: () => number, isIndex: boolean): { text: string; escape: boolean } {
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const obj = JSON.parse(text) as Record<string, unknown>;
    const target = isIndex ? (obj.weight_map as Record<string, unknown>) : obj;
    const keys = Object.keys(target);
    /** The text with `target` serialised plus `extra` (raw "key": value text) at its start. */
    const emit = (extra?: string): string => {
      const inner = extra === undefined ? JSON.stringify(target) : JSON.stringify(target).replace(/^\{/, `{${extra}${Object.keys(target).length ? ',' : ''}`);
      return isIndex ? JSON.stringify({ ...obj, weight_map: '__WM__' }).replace('"__WM__"', () => inner) : inner;
    };
    const lit = (k: string) => `${JSON.stringify(k)}: ${pick(VALUES)}`;
    switch (Math.floor(next() * (isIndex ? 7 : 6))) {
      case 0: { // a value replaced by a hostile literal
        const k = pick(keys);
        delete target[k];
        return { text: emit(lit(k)), escape: false };
      }
      case 1: // a key removed
        delete target[pick(keys)];
        return { text: emit(), escape: false };
      case 2: // a known HF key (or, in an index, a tensor name) added with a hostile value
        return { text: emit(lit(isIndex ? 'model.extra.weight' : pick(KEYS))), escape: false };
      case 3: // a duplicate key
        return { text: emit(lit(pick(keys))), escape: false };
      case 4: // truncated text
        return { text: text.slice(0, Math.floor(next() * text.length)), escape: false };
      case 5: { // a number scaled
        const k = pick(keys);
        if (typeof target[k] === 'number') target[k] = (target[k] as number) * pick([2, 1000, 1e6, -1, 0.5]);
        return { text: emit(), escape: false };
      }
      default: { // a shard name replaced by a hostile path
        const p = pick(PATHS);
        target[pick(keys)] = p;
        return { text: emit(), escape: typeof p === 'string' && (p.includes('..') || p.startsWith('/')) };
      }
    }
  }

  it('300 seeded cases: each loads or throws a typed error, none reads outside, in a 15 s / 1 GB child', async () => {
    const bases = { llama: await sharded(), gpt2: fixtureDir('gpt2-tied'), mixtral: fixtureDir('mixtral-moe') };
    // A complete shard set beside the fuzzed directories: following "../dN/…" would load it.
    for (const f of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) PATHS.push(`../${bases.llama.split('/').at(-1)}/${f}`);
    const next = rng(1212);
    const cases: Array<{ dir: string; escape: boolean }> = [];
    for (let i = 0; i < 300; i++) {
      const base = (['llama', 'gpt2', 'mixtral'] as const)[i % 3]!;
      const src = bases[base];
      const dir = join(root, `fuzz${i}`);
      await mkdir(dir);
      const files = base === 'llama' ? ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'] : ['model.safetensors'];
      for (const f of files) await symlink(join(src, f), join(dir, f)); // symlinked entries, as in the HF cache
      const onIndex = base === 'llama' && next() < 0.5;
      let text = await readFile(join(src, onIndex ? 'model.safetensors.index.json' : 'config.json'), 'utf8');
      let escape = false;
      for (let k = next() < 0.2 ? 2 : 1; k > 0; k--) {
        const m = mutate(text, next, onIndex);
        [text, escape] = [m.text, escape || m.escape];
        if (!parsesAsWeightMap(text, onIndex)) break; // no second mutation on a text that is no longer one
      }
      const c = onIndex ? await readFile(join(src, 'config.json'), 'utf8') : text;
      const idx = base !== 'llama' ? '' : onIndex ? text : await readFile(join(src, 'model.safetensors.index.json'), 'utf8');
      await writeFile(join(dir, 'config.json'), c);
      if (idx) await writeFile(join(dir, 'model.safetensors.index.json'), idx);
      cases.push({ dir, escape });
    }
    await writeFile(join(root, 'fuzz.json'), JSON.stringify(cases.map((c) => c.dir)));
    const r = await isolated(`
      import { readFileSync } from 'node:fs';
      const out = [];
      for (const dir of JSON.parse(readFileSync(${JSON.stringify(join(root, 'fuzz.json'))}, 'utf8'))) {
        const t0 = performance.now();
        try {
          (await T.loadModel(dir)).dispose();
          out.push({ ok: true, ms: performance.now() - t0 });
        } catch (e) {
          out.push({ ok: false, name: e?.name, code: e?.code, message: String(e?.message).slice(0, 2000), ms: performance.now() - t0 });
        }
      }
      console.log(JSON.stringify(out));`);
    expect(r.outcome, r.stderr.slice(-2000)).toBe('exit');
    expect(r.error, r.stderr.slice(-2000)).toBeNull();
    const results = JSON.parse(r.stdout) as Array<{ ok: boolean; name?: string; code?: string; message?: string; ms: number }>;
    expect(results).toHaveLength(300);
    const codes: Record<string, number> = {};
    results.forEach((res, i) => {
      const label = `case ${i} (${cases[i]!.dir}): ${res.name} ${res.code} ${res.message}`;
      if (!res.ok) expect(res.name, label).toBe('TransformerError');
      if (cases[i]!.escape) expect(res.ok, label).toBe(false);
      expect(res.message ?? '', label).not.toContain(SECRET);
      expect(res.message ?? '', label).not.toMatch(/root:/);
      expect(res.ms, label).toBeLessThan(2000);
      codes[res.ok ? 'loaded' : res.code!] = (codes[res.ok ? 'loaded' : res.code!] ?? 0) + 1;
    });
    // The mutations reach every class of refusal, and harmless ones still load.
    for (const c of ['loaded', 'CONFIG_INVALID', 'CHECKPOINT_INVALID', 'LIMIT_EXCEEDED', 'CHECKPOINT_UNSAFE_PATH', 'CHECKPOINT_SHAPE_MISMATCH']) expect(codes[c] ?? 0, JSON.stringify(codes)).toBeGreaterThan(0);
  });
});
