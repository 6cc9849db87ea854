// llm-train with PEFT, end to end as a user runs it (the built bin in a child process): sft --peft
// writes <out>/adapter in HF PEFT format, eval / sample attach it with --adapter, merge folds it
// into a full checkpoint with the same perplexity, an adapter run resumes exactly, and bad input
// is one line with an exit code.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from './corpus/generator.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let root: string;

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The error is one `llm-train:` line, the last, and never a stack. */
function oneErrorLine(r: { stderr: string }, what: string): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('llm-train: ')), `${what}: ${r.stderr}`).toHaveLength(1);
  expect(r.stderr, what).not.toMatch(/^\s+at /m);
  return lines.at(-1)!;
}

/** Tensor names → float32 values of a safetensors file. */
async function readTensors(path: string): Promise<Map<string, Float32Array>> {
  const buf = await readFile(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const out = new Map<string, Float32Array>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(e.dtype).toBe('F32');
    const bytes = buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]);
    out.set(name, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
  }
  return out;
}

const readJson = async (p: string) => JSON.parse(await readFile(join(root, p), 'utf8')) as Record<string, unknown>;
const SFT = ['--init', 'base/checkpoint', '--data', 'chat.jsonl', '--batch-size', '4', '--eval-iters', '1', '--warmup-iters', '1'];
const PERPLEXITY = /^[\d,]+ tokens · loss [\d.]+ nats\/token · perplexity [\d.]+ · [\d.]+ bits\/token$/;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llm-peft-'));
  await writeFile(join(root, 'stories.txt'), generateCorpus({ seed: 5, bytes: 30_000 }));
  const chat = [
    { prompt: 'What does a cow say?', response: 'A cow says moo.' },
    { prompt: 'Name a color.', response: 'Blue is a color.' },
  ];
  await writeFile(join(root, 'chat.jsonl'), Array.from({ length: 20 }, (_, i) => JSON.stringify(chat[i % 2])).join('\n'));
  const t = cli(['tokenizer', '--data', 'stories.txt', '--vocab-size', '300', '--out', 'tok.json']);
  expect(t.code, t.stderr).toBe(0);
  const p = cli(['pretrain', '--data', 'stories.txt', '--out', 'base', '--tokenizer', 'tok.json', '--max-iters', '2', '--eval-interval', '0', '--n-layer', '1', '--n-head', '2', '--n-embd', '32', '--block-size', '128', '--batch-size', '4', '--eval-iters', '1', '--warmup-iters', '1']);
  expect(p.code, p.stderr).toBe(0);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('llm-train --peft', () => {
  it('sft --peft lora writes out/adapter (PEFT format), the base untouched; eval --adapter = eval of the merged checkpoint; sample --adapter runs', async () => {
    const baseFiles = ['config.json', 'model.safetensors', 'tokenizer.json'];
    const before = await Promise.all(baseFiles.map((f) => readFile(join(root, 'base/checkpoint', f))));
    const s = cli(['sft', ...SFT, '--out', 'lora', '--peft', 'lora', '--max-iters', '6', '--eval-interval', '3', '--val-fraction', '0.2', '--lr', '1e-2']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/^peft: lora r 8 · alpha 16 · dropout 0\.05 · targets c_attn · lr 0\.01$/m);
    expect(s.stderr).toMatch(/^trainable params: 1,024 \|\| all params: [\d,]+ \|\| trainable%: \d+\.\d{4}$/m);
    expect(s.stderr.trim().split('\n').at(-1)).toMatch(/^wrote lora[/\\]adapter \(the best \(lowest validation loss\) adapter, HF PEFT format, \+ tokenizer\.json\)/);
    expect(await readJson('lora/adapter/adapter_config.json')).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 8, lora_alpha: 16, lora_dropout: 0.05, target_modules: ['c_attn'], fan_in_fan_out: true, base_model_name_or_path: 'base/checkpoint' });
    const w = await readTensors(join(root, 'lora/adapter/adapter_model.safetensors'));
    expect([...w.keys()].sort()).toEqual(['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight', 'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight']);
    expect(w.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')!.some((x) => x !== 0)).toBe(true); // trained (B starts at zero)
    expect(existsSync(join(root, 'lora/adapter/tokenizer.json'))).toBe(true);
    for (const f of ['adapter_model.safetensors', 'trainer_state.json', 'optimizer.safetensors', 'tokenizer.json']) expect(existsSync(join(root, 'lora/checkpoint', f)), f).toBe(true);
    expect(existsSync(join(root, 'lora/checkpoint/model.safetensors'))).toBe(false);
    expect((await readJson('lora/run.json')).options).toMatchObject({ init: 'base/checkpoint', peft: 'lora', loraR: 8, loraAlpha: 16, lr: 1e-2 });
    const after = await Promise.all(baseFiles.map((f) => readFile(join(root, 'base/checkpoint', f))));
    after.forEach((b, i) => expect(b.equals(before[i]!), baseFiles[i]).toBe(true));

    // --checkpoint defaults to the adapter's base_model_name_or_path
    const ea = cli(['eval', '--adapter', 'lora/adapter', '--data', 'stories.txt']);
    expect(ea.code, ea.stderr).toBe(0);
    expect(ea.stderr).toMatch(/^model: base[/\\]checkpoint \+ adapter lora[/\\]adapter$/m);
    expect(ea.stdout.trim()).toMatch(PERPLEXITY);
    const m = cli(['merge', '--init', 'base/checkpoint', '--adapter', 'lora/adapter', '--out', 'merged']);
    expect(m.code, m.stderr).toBe(0);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(join(root, 'merged', f)), f).toBe(true);
    const em = cli(['eval', '--checkpoint', 'merged', '--data', 'stories.txt']);
    expect(em.code, em.stderr).toBe(0);
    expect(em.stdout).toBe(ea.stdout); // the same tokens, loss, perplexity and bits as printed
    expect(cli(['eval', '--checkpoint', 'base/checkpoint', '--data', 'stories.txt']).stdout).not.toBe(ea.stdout); // the adapter changed the model
    const again = cli(['merge', '--adapter', 'lora/adapter', '--out', 'merged']);
    expect(again.code).toBe(2);
    expect(oneErrorLine(again, 'merge into a full --out')).toBe('llm-train: --out merged already holds files: choose another --out, or add --force to write into it');
    expect(cli(['merge', '--adapter', 'lora/adapter', '--out', 'merged', '--force']).code).toBe(0);

    const sa = cli(['sample', '--checkpoint', 'base/checkpoint', '--adapter', 'lora/adapter', '--prompt', 'Once', '--max-tokens', '12', '--seed', '3']);
    expect(sa.code, sa.stderr).toBe(0);
    expect(sa.stdout.startsWith('Once')).toBe(true);
  });

  it('--peft prompt (text init), prefix and ia3 train a few steps and write adapters that eval / sample attach; a prompt adapter cannot merge', async () => {
    const few = ['--max-iters', '2', '--eval-interval', '0', '--val-fraction', '0'];
    const prompt = cli(['sft', ...SFT, ...few, '--out', 'prompt', '--peft', 'prompt', '--num-virtual-tokens', '8', '--prompt-init-text', 'Answer briefly:']);
    expect(prompt.code, prompt.stderr).toBe(0);
    expect(prompt.stderr).toMatch(/^peft: prompt tuning · 8 virtual tokens · init from "Answer briefly:" · lr 0\.03$/m);
    expect(prompt.stderr).toMatch(/^trainable params: 256 \|\| all params: [\d,]+ \|\| trainable%: /m);
    expect(await readJson('prompt/adapter/adapter_config.json')).toMatchObject({ peft_type: 'PROMPT_TUNING', num_virtual_tokens: 8, prompt_tuning_init: 'TEXT', prompt_tuning_init_text: 'Answer briefly:' });
    expect([...(await readTensors(join(root, 'prompt/adapter/adapter_model.safetensors'))).keys()]).toEqual(['prompt_embeddings']);
    const prefix = cli(['sft', ...SFT, ...few, '--out', 'prefix', '--peft', 'prefix', '--num-virtual-tokens', '4']);
    expect(prefix.code, prefix.stderr).toBe(0);
    expect(await readJson('prefix/adapter/adapter_config.json')).toMatchObject({ peft_type: 'PREFIX_TUNING', num_virtual_tokens: 4, prefix_projection: false });
    const ia3 = cli(['sft', ...SFT, ...few, '--out', 'ia3', '--peft', 'ia3']);
    expect(ia3.code, ia3.stderr).toBe(0);
    expect(ia3.stderr).toMatch(/^trainable params: [\d,]+ \|\| all params: /m);
    expect(await readJson('ia3/adapter/adapter_config.json')).toMatchObject({ peft_type: 'IA3' });
    expect(existsSync(join(root, 'ia3/adapter/adapter_model.safetensors'))).toBe(true);

    // a text-initialized prompt adapter attaches (eval), a prefix one generates (sample)
    const ep = cli(['eval', '--adapter', 'prompt/adapter', '--data', 'stories.txt']);
    expect(ep.code, ep.stderr).toBe(0);
    expect(ep.stdout.trim()).toMatch(PERPLEXITY);
    const sp = cli(['sample', '--adapter', 'prefix/adapter', '--prompt', 'Once', '--max-tokens', '12']);
    expect(sp.code, sp.stderr).toBe(0);
    expect(sp.stdout.startsWith('Once')).toBe(true);
    const mp = cli(['merge', '--adapter', 'prompt/adapter', '--out', 'never']);
    expect(mp.code).toBe(1);
    expect(oneErrorLine(mp, 'merge a prompt adapter')).toMatch(/^llm-train: --adapter prompt\/adapter is a PROMPT_TUNING adapter, which cannot be merged into the base weights: prompt tuning learns virtual-token embeddings .* Run it attached instead/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('an adapter run resumes exactly: 3 steps + --resume to 6 = 6 steps in one go (adapter and optimizer state)', async () => {
    const run = ['sft', ...SFT, '--peft', 'lora', '--lora-dropout', '0.1', '--eval-interval', '0', '--val-fraction', '0', '--lr-decay-iters', '6'];
    const whole = cli([...run, '--out', 'whole', '--max-iters', '6']);
    expect(whole.code, whole.stderr).toBe(0);
    const half = cli([...run, '--out', 'half', '--max-iters', '3']);
    expect(half.code, half.stderr).toBe(0);
    const changed = cli(['sft', '--out', 'half', '--resume', '--max-iters', '6', '--lora-r', '4']);
    expect(changed.code).toBe(2);
    expect(oneErrorLine(changed, 'resume with another rank')).toMatch(/^llm-train: --resume: --lora-r 4 \(the run has 8\): a resumed run keeps the method and adapter it was started with/);
    const resumed = cli(['sft', '--out', 'half', '--resume', '--max-iters', '6']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/adapter resumed at step 3/);
    expect(resumed.stderr).toMatch(/done: 6 steps/);
    for (const f of ['adapter/adapter_model.safetensors', 'checkpoint/optimizer.safetensors']) {
      const [a, b] = await Promise.all(['whole', 'half'].map((d) => readFile(join(root, d, f))));
      expect(a!.equals(b!), f).toBe(true);
    }
    expect((await readJson('half/checkpoint/trainer_state.json')).step).toBe(6);
  });

  it('bad input: one line and an exit code, nothing written', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['sft', ...SFT, '--peft', 'lorax', '--out', 'never'], 2, /^llm-train: --peft must be one of none, lora, qlora, dora, prompt, prefix, ia3, adapter, got "lorax"$/],
      [['sft', ...SFT, '--lora-r', '4', '--out', 'never'], 2, /^llm-train: --lora-r applies to --peft lora\|qlora\|dora, and no --peft was given$/],
      [['sft', ...SFT, '--peft', 'lora', '--target-modules', 'q_proj', '--out', 'never'], 2, /^llm-train: --peft lora: .*q_proj.* match no linear module of this model; its linears are: .*c_attn/],
      [['eval', '--adapter', 'missing', '--data', 'stories.txt'], 1, /^llm-train: --adapter missing: no such adapter directory/],
      [['sample', '--checkpoint', 'base/checkpoint', '--adapter', 'base/checkpoint'], 1, /^llm-train: --adapter base\/checkpoint: adapter config not found: .*this is a full model checkpoint, not an adapter: pass it as --checkpoint/],
      [['merge', '--init', 'base/checkpoint', '--adapter', 'missing', '--out', 'never'], 1, /^llm-train: --adapter missing: no such adapter directory/],
    ];
    for (const [args, code, msg] of cases) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(oneErrorLine(r, args.join(' ')), args.join(' ')).toMatch(msg);
    }
    expect(existsSync(join(root, 'never'))).toBe(false);
    const help = cli(['sft', '--help']);
    expect(help.stdout).toMatch(/--peft <none\|lora\|qlora\|dora\|prompt\|prefix\|ia3\|adapter>[\s\S]*--lora-r <int>[\s\S]*--target-modules[\s\S]*--bottleneck-size/);
    expect(cli(['merge', '--help']).stdout).toMatch(/--adapter <string>[\s\S]*--force/);
  });
});
