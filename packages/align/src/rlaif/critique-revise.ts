/**
 * Constitutional AI, supervised stage (Bai et al. 2022): the model answers each prompt, then, for
 * each round, critiques its current answer under a principle and revises it given the critique. The
 * final revision becomes the SFT target `{ prompt, response }` (the JSONL `llm-train sft` reads).
 *
 *   const { records } = await critiqueAndRevise(model, tok, {
 *     prompts: ['How do I pick a lock?'], rounds: 2, seed: 1,
 *     generation: { maxNewTokens: 128, temperature: 0.7, topP: 0.9 },
 *     sftPath: 'cai-sft.jsonl', tracePath: 'cai-trace.jsonl',
 *   });
 *
 * Round r of a prompt shows the model (through the chat template):
 *
 *   [system?] [few-shot?] user: prompt · assistant: current answer · user: principle.critique          → critique
 *   … the same · assistant: critique · user: principle.revision                                         → revision
 *
 * and the revision is the current answer of round r + 1 (each round critiques the latest revision, not
 * the whole history, so the context stays bounded). Prompts are processed in batches (left-padded);
 * sampling is seeded per batch and step, so the same inputs, seed and batchSize give the same output.
 */
import { Rng, hashSeed } from '@llm/tensor-gpu';
import type { CausalLMLike, GenerationOptions } from '@llm/sample';
import type { ChatMessage, Tokenizer } from '@llm/tokenizer-bpe';
import { AlignError } from '../errors.js';
import {
  checkModelTokenizer,
  checkOutPath,
  generateReplies,
  intOption,
  renderIds,
  seedOption,
  stringList,
  templateOption,
  writeJsonlAtomic,
  type RlaifTemplate,
} from './common.js';
import { DEFAULT_CONSTITUTION, validatePrinciples, type Principle } from './constitution.js';

export interface CritiqueReviseOptions {
  /** The user prompts (non-empty strings). */
  prompts: readonly string[];
  /** The constitution. Default DEFAULT_CONSTITUTION. */
  principles?: readonly Principle[];
  /** Critique → revision rounds per prompt, in [1, 16]. Default 1. */
  rounds?: number;
  /** 'random' (default, as in the paper): each round draws a principle, seeded; 'sequential': round r uses principles[r mod n]. */
  order?: 'random' | 'sequential';
  /** Generation settings of @llm/sample (maxNewTokens, temperature, topP, stopStrings, …). `seed` is replaced by seeds derived from `seed`. */
  generation?: GenerationOptions;
  /** Chat template: 'chatml' (default), a ChatTemplate, Jinja source, or 'none' (raw text). */
  template?: RlaifTemplate;
  /** A system message put before every conversation. */
  system?: string;
  /** Example turns put after the system message and before the prompt (the paper's few-shot critiques and revisions). */
  fewShot?: readonly ChatMessage[];
  /** Seed of principle choice and sampling. Default 0. */
  seed?: number;
  /** Prompts generated together, in [1, 1024]. Default 8. */
  batchSize?: number;
  /** Write the SFT rows `{ prompt, response }` (final revisions) here, atomically. */
  sftPath?: string;
  /** Write every record (initial answer, each round's principle, critique and revision) here as JSONL, atomically. */
  tracePath?: string;
  /** Called after each batch with prompts done / total. */
  onProgress?: (done: number, total: number) => void;
}

export interface CritiqueRound {
  /** The principle's name. */
  principle: string;
  critiqueRequest: string;
  critique: string;
  revisionRequest: string;
  revision: string;
}

export interface CritiqueReviseRecord {
  /** Index of the prompt in `prompts`. */
  index: number;
  prompt: string;
  /** The first answer, before any critique. */
  initial: string;
  rounds: CritiqueRound[];
  /** The final revision (the SFT target). */
  response: string;
}

/** One SFT row, as `llm-train sft` / readSftJsonl read it. */
export interface SftRow {
  prompt: string;
  response: string;
}

export interface CritiqueReviseResult {
  records: CritiqueReviseRecord[];
  /** `{ prompt, response }` of every record whose final revision is not empty. */
  sftRows: SftRow[];
  /** Records left out of sftRows because the final revision was empty. */
  emptyResponses: number;
  /** Rows written to each file asked for. */
  written: { sft?: number; trace?: number };
}

/** Runs the critique → revision loop over `prompts` (see the module comment); writes the files asked for only when everything succeeded. */
export async function critiqueAndRevise(model: CausalLMLike, tokenizer: Tokenizer, options: CritiqueReviseOptions): Promise<CritiqueReviseResult> {
  if (!options || typeof options !== 'object') throw new AlignError('INVALID_ARGUMENT', 'critiqueAndRevise needs an options object with prompts.');
  checkModelTokenizer(model, tokenizer, 'the model');
  const prompts = stringList(options.prompts, 'prompts');
  const principles = validatePrinciples(options.principles ?? DEFAULT_CONSTITUTION, 'principles');
  const rounds = intOption(options.rounds ?? 1, 'rounds', 1, 16);
  const order = options.order ?? 'random';
  if (order !== 'random' && order !== 'sequential') throw new AlignError('CONFIG_INVALID', `order must be 'random' or 'sequential', got ${JSON.stringify(order)}.`);
  const template = templateOption(options.template ?? 'chatml');
  const seed = seedOption(options.seed ?? 0);
  const batchSize = intOption(options.batchSize ?? 8, 'batchSize', 1, 1024);
  const generation = options.generation ?? {};
  const head: ChatMessage[] = [];
  if (options.system !== undefined) {
    if (typeof options.system !== 'string') throw new AlignError('CONFIG_INVALID', 'system must be a string.');
    head.push({ role: 'system', content: options.system });
  }
  for (const [i, m] of (options.fewShot ?? []).entries()) {
    if (!m || typeof m.role !== 'string' || typeof m.content !== 'string') throw new AlignError('CONFIG_INVALID', `fewShot[${i}] must be a message { role, content }.`);
    head.push({ role: m.role, content: m.content });
  }
  await checkOutPath(options.sftPath, 'sftPath');
  await checkOutPath(options.tracePath, 'tracePath');

  // The principle of each (prompt, round): seeded per prompt, so it does not depend on batchSize.
  const chosen = prompts.map((_, i) => {
    const rng = new Rng(hashSeed(seed, `principle:${i}`));
    const u = () => rng.next();
    return Array.from({ length: rounds }, (_, r) => principles[order === 'sequential' ? r % principles.length : Math.floor(u() * principles.length)]!);
  });

  const records: CritiqueReviseRecord[] = [];
  for (let start = 0, batch = 0; start < prompts.length; start += batchSize, batch++) {
    const idx = prompts.slice(start, start + batchSize).map((_, k) => start + k);
    const base = idx.map((i) => [...head, { role: 'user', content: prompts[i]! }]);
    const reply = (conversations: ChatMessage[][], step: number, what: (k: number) => string) =>
      generateReplies(model, tokenizer, conversations.map((c) => renderIds(tokenizer, c, template)), {
        generation,
        template,
        seed: hashSeed(seed, `revise:${batch}:${step}`),
        where: (k) => `prompt ${idx[k]}, ${what(k)}`,
      });
    const initial = reply(base, 0, () => 'initial answer');
    const current = [...initial];
    const roundsOf: CritiqueRound[][] = idx.map(() => []);
    for (let r = 0; r < rounds; r++) {
      const p = idx.map((i) => chosen[i]![r]!);
      const asked = base.map((b, k) => [...b, { role: 'assistant', content: current[k]! }, { role: 'user', content: p[k]!.critique }]);
      const critiques = reply(asked, 2 * r + 1, (k) => `round ${r + 1} critique (principle ${p[k]!.name})`);
      const revise = asked.map((a, k) => [...a, { role: 'assistant', content: critiques[k]! }, { role: 'user', content: p[k]!.revision }]);
      const revisions = reply(revise, 2 * r + 2, (k) => `round ${r + 1} revision (principle ${p[k]!.name})`);
      idx.forEach((_, k) => {
        roundsOf[k]!.push({ principle: p[k]!.name, critiqueRequest: p[k]!.critique, critique: critiques[k]!, revisionRequest: p[k]!.revision, revision: revisions[k]! });
        current[k] = revisions[k]!;
      });
    }
    idx.forEach((i, k) => records.push({ index: i, prompt: prompts[i]!, initial: initial[k]!, rounds: roundsOf[k]!, response: current[k]! }));
    options.onProgress?.(records.length, prompts.length);
  }

  const sftRows = records.filter((r) => r.response !== '').map((r) => ({ prompt: r.prompt, response: r.response }));
  const written: CritiqueReviseResult['written'] = {};
  if (options.tracePath !== undefined) written.trace = await writeJsonlAtomic(options.tracePath, records);
  if (options.sftPath !== undefined) written.sft = await writeJsonlAtomic(options.sftPath, sftRows);
  return { records, sftRows, emptyResponses: records.length - sftRows.length, written };
}
