/**
 * `llm-train sft`: supervised fine-tuning of a checkpoint on prompt/response or chat `messages`
 * JSONL, with the loss on response (assistant) tokens only.
 *
 *   llm-train sft --data chat.jsonl                 # fine-tunes out/best (what npm start wrote) into out/sft
 *   llm-train sft --init out/best --data chat.jsonl --out out/sft --template chatml
 *   llm-train sft --init hf-model/ --data chat.jsonl --template hf-model   (its chat_template.jinja or tokenizer_config.json)
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { findModelDir, summarize } from '@llm/transformer';
import { chatmlTemplate, loadChatTemplate, TokenizerError, type ChatTemplate } from '@llm/tokenizer-bpe';
import { resolveTokenizer, loadTrainingCheckpoint, readSftJsonl, tokenizeRecords, SftSampler, type LoadedCheckpoint } from '@llm/train';
import { addOptions, CliError, type OptSpec } from '../options.js';
import { requireResumable, runTraining } from '../run.js';
import { TRAIN_OPTIONS, checkFreshRun, resolveRunOptions, trainConfig } from './pretrain.js';
import { writeRunSettings } from '../run-settings.js';

const SFT_DEFAULTS: Record<string, unknown> = { out: 'out/sft', maxIters: 300, lr: 1e-4, minLr: 1e-5, warmupIters: 20, evalInterval: 50, evalIters: 10, batchSize: 8 };

export const SFT_SPECS: OptSpec[] = [
  { name: 'data', flag: 'data', kind: 'paths', help: 'JSONL: {"prompt","response"} or {"messages": [{role, content}]} per line' },
  { name: 'init', flag: 'init', kind: 'string', def: 'out', help: 'checkpoint to fine-tune, or a run folder: its best/ or checkpoint/ (default: the run npm start / llm-train pretrain wrote in out/)' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <init>/tokenizer.json)' },
  { name: 'template', flag: 'template', kind: 'string', def: 'chatml', help: '"chatml", or the chat template of an HF checkpoint directory, tokenizer_config.json or chat_template.jinja' },
  { name: 'maxLength', flag: 'max-length', kind: 'int', min: 2, help: 'cut examples to this many tokens (default: the model context)' },
  { name: 'valFraction', flag: 'val-fraction', kind: 'number', min: 0, max: 0.5, def: 0.05, help: 'fraction of examples held out' },
  { name: 'allowSpecialTokensInData', flag: 'allow-special-tokens-in-data', kind: 'bool', def: false, help: 'encode special-token text inside messages (e.g. "<|im_end|>") as the special tokens; by default message content is plain text and only the template\'s markup makes special tokens' },
  ...TRAIN_OPTIONS.map((s) => (s.name in SFT_DEFAULTS ? { ...s, def: SFT_DEFAULTS[s.name] } : s)),
];

export function sftCommand(): Command {
  return addOptions(new Command('sft').description('fine-tune a checkpoint on prompt/response or chat JSONL (loss on responses only)'), SFT_SPECS).action(async (_o, cmd: Command) => {
    await sft(await resolveRunOptions(cmd, SFT_SPECS));
  });
}

async function loadTemplate(spec: string): Promise<ChatTemplate> {
  if (spec === 'chatml') return chatmlTemplate();
  if (!(await stat(spec).catch(() => null))) throw new CliError(`--template must be "chatml" or an existing tokenizer_config.json, chat_template.jinja or checkpoint directory, got ${spec}`);
  return loadChatTemplate(spec).catch((e: unknown) => {
    throw e instanceof TokenizerError ? new CliError(e.message, 1) : e;
  });
}

export async function sft(o: Record<string, unknown>): Promise<void> {
  const log = (s: string) => void process.stderr.write(`${s}\n`);
  if (!o.data) throw new CliError('--data is required (a JSONL file)');
  const cfg = trainConfig(o);
  await checkFreshRun(o);
  const template = await loadTemplate(o.template as string);
  const records = (await Promise.all((o.data as string[]).map((p) => readSftJsonl(p)))).flat();
  await initBackend({ log: false });
  const out = o.out as string;
  const from = o.resume ? join(out, 'checkpoint') : await findModelDir(o.init as string, { nested: false }).catch((e: unknown) => {
    throw new CliError(`--init: ${(e as Error).message}`, 1);
  });
  const ck: LoadedCheckpoint = await loadTrainingCheckpoint(from);
  requireResumable(o.resume ? ck : null, o.force === true);
  if (!o.resume) await writeRunSettings(out, 'sft', { ...o, init: from });
  const resumed = o.resume ? ck : null;
  const model = ck.model;
  const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(ck.dir, 'tokenizer.json'));
  if (tok.tokenizer.vocabSize > model.config.vocabSize) throw new CliError(`the tokenizer has ${tok.tokenizer.vocabSize} symbols, the model only ${model.config.vocabSize}`);
  const maxLength = Math.min((o.maxLength as number | undefined) ?? model.config.blockSize, model.config.blockSize);
  const { examples, skipped } = tokenizeRecords(records, tok.tokenizer, template, { maxLength, allowSpecialInContent: o.allowSpecialTokensInData === true });
  if (skipped.length) log(`sft: skipped ${skipped.length} example(s) with no response token within ${maxLength} tokens (e.g. ${skipped.slice(0, 3).join(', ')})`);
  const nVal = Math.floor(examples.length * (o.valFraction as number));
  const seed = o.seed as number;
  const eos = model.config.eosTokenId; // one id or (HF) a list: pad with the first
  const padId = model.config.padTokenId ?? (typeof eos === 'number' ? eos : eos?.[0]) ?? 0;
  const common = { batchSize: o.batchSize as number, padId, maxLength };
  const trainEx = examples.slice(0, examples.length - nVal);
  const valEx = examples.slice(examples.length - nVal);
  const data = {
    train: new SftSampler(trainEx, { ...common, seed }),
    ...(nVal > 0 ? { val: new SftSampler(valEx, { ...common, seed: seed + 1 }) } : {}),
  };
  const responseTokens = trainEx.reduce((a, e) => a + e.labels.filter((l) => l !== -100).length, 0);
  log(`model: ${summarize(model)} · from ${ck.dir}`);
  log(`sft: ${trainEx.length} train / ${valEx.length} val examples · ${responseTokens.toLocaleString('en-US')} response tokens · template ${template.name}`);
  await runTraining(model, data, { ...cfg, evalTrain: false }, { tok, resumed, log, resumeHint: `llm-train sft --out ${out} --resume`, force: o.force === true });
  if (!o.resume && ck.optimizerState) {
    // the base run's optimizer state is not used by a fresh fine-tune
    for (const t of ck.optimizerState.values()) t.dispose();
  }
  model.dispose();
}
