/**
 * What the HTTP handlers share: the served model (its id, engine, scheduler), its tokenizer and
 * chat template, the stop tokens of a turn, embeddings (when the engine can give hidden states)
 * and the retrieval index of `--docs`.
 *
 *   const ctx = createServeContext({ modelId: 'tiny', engine, tokenizer, template, embed });
 *   ctx.scheduler.submit(...)
 */
import type { ChatTemplate, Tokenizer } from '@llm/tokenizer-bpe';
import { indexVocab, vocabFromTokenizer, type VocabIndex } from '@llm/sample';
import type { DocIndex } from './rag/doc-index.js';
import type { StepEngine } from './scheduler/engine.js';
import { Scheduler, type SchedulerOptions } from './scheduler/scheduler.js';

export interface ServeContextOptions {
  modelId: string;
  engine: StepEngine;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  /** Mean of the final hidden states of `ids` ([C]); null = /v1/embeddings answers 400. */
  embed?: ((ids: number[]) => Float32Array) | null;
  docs?: DocIndex | null;
  /** The model's own end-of-sequence ids (config / generation_config). */
  eosTokenIds?: readonly number[];
  scheduler?: SchedulerOptions;
  /** Passages put into a prompt with --docs (default 3). */
  topPassages?: number;
}

export interface ServeContext {
  readonly modelId: string;
  readonly created: number;
  readonly engine: StepEngine;
  readonly scheduler: Scheduler;
  readonly tokenizer: Tokenizer;
  readonly template: ChatTemplate;
  readonly embed: ((ids: number[]) => Float32Array) | null;
  readonly docs: DocIndex | null;
  readonly topPassages: number;
  /** Ids that end a turn (EOS and end-of-turn specials). */
  readonly stopTokenIds: number[];
  /** End-of-turn markers, also stop strings (a tokenizer without them as specials spells them out). */
  readonly endMarkers: string[];
  /** Longest token in bytes: a text of c characters has at least c / maxTokenBytes tokens. */
  readonly maxTokenBytes: number;
  /** The vocabulary indexed for constraints (built on first use). */
  vocab(): VocabIndex;
}

const END_OF_TURN = ['<|im_end|>', '<|eot_id|>', '</s>', '<|end|>', '<|endoftext|>'];

export function createServeContext(o: ServeContextOptions): ServeContext {
  const specials = o.tokenizer.specialTokens;
  const stopTokenIds = [...new Set([...END_OF_TURN.map((t) => specials.get(t)).filter((x): x is number => x !== undefined), ...(o.eosTokenIds ?? [])])];
  let maxTokenBytes = 1;
  for (let id = 0; id < o.tokenizer.vocabSize; id++) {
    try {
      maxTokenBytes = Math.max(maxTokenBytes, o.tokenizer.tokenToBytes(id).length);
    } catch {
      /* a gap in the vocabulary */
    }
  }
  let vocab: VocabIndex | null = null;
  return {
    modelId: o.modelId,
    created: Math.floor(Date.now() / 1000),
    engine: o.engine,
    scheduler: new Scheduler(o.engine, o.tokenizer, o.scheduler),
    tokenizer: o.tokenizer,
    template: o.template,
    embed: o.embed ?? null,
    docs: o.docs ?? null,
    topPassages: o.topPassages ?? 3,
    stopTokenIds,
    endMarkers: END_OF_TURN,
    maxTokenBytes,
    vocab: () => (vocab ??= indexVocab(vocabFromTokenizer(o.tokenizer))),
  };
}
