/**
 * Loading what `llm-chat serve` serves: a checkpoint directory (or a run folder) or a .gguf file,
 * an optional PEFT adapter, the tokenizer and chat template, and the step engine — @llm/infer's
 * paged engine (`--engine infer`, the default when it is built) or the tfjs reference adapter
 * (`--engine tfjs`). A .gguf file runs on the engine as its own blocks (loadGgufForInference: Q8_0
 * stays Q8_0, with Q8 activations as llama.cpp), not dequantized. Embeddings always come from the
 * tfjs model's final hidden states.
 *
 *   const served = await loadServed({ model: 'out/sft/best', engine: 'auto', maxBatch: 8 });
 *   served.engine.step(...); served.embed([1, 2, 3]);
 */
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { tf } from '@llm/tensor-gpu';
import { findModelDir, loadModel, type TransformerLM } from '@llm/transformer';
import { Tokenizer, chatmlTemplate, jinjaChatTemplate, loadChatTemplate, loadTokenizer, trainBpeSync, type ChatTemplate } from '@llm/tokenizer-bpe';
import { compileForInference, loadGgufForInference } from '@llm/infer';
import { importGguf } from '@llm/quant';
import { loadAdapter } from '@llm/peft';
import { ServeError } from './errors.js';
import type { StepEngine } from './scheduler/engine.js';
import { TfjsEngine } from './scheduler/tfjs-engine.js';

export type EngineKind = 'auto' | 'infer' | 'tfjs';

export interface LoadServedOptions {
  model: string;
  adapter?: string;
  engine?: EngineKind;
  /** Context (default the model's blockSize; at most it). */
  ctx?: number;
  maxBatch?: number;
  /** KV blocks of 16 positions (default (maxBatch + 4) full contexts' worth). */
  kvBlocks?: number;
  /** "chatml", a tokenizer_config.json / chat_template.jinja / checkpoint dir; default the checkpoint's, else ChatML. */
  template?: string;
  /** Told when `auto` falls back to the tfjs engine. */
  onNote?: (message: string) => void;
}

export interface Served {
  modelId: string;
  model: TransformerLM;
  tokenizer: Tokenizer;
  template: ChatTemplate;
  engine: StepEngine;
  engineKind: 'infer' | 'tfjs';
  embed: (ids: number[]) => Float32Array;
  eosTokenIds: number[];
  /** Free the model and the engine. */
  dispose(): void;
}

/** Mean of the final hidden states of `ids` ([C]). */
export function meanHidden(model: TransformerLM, ids: number[]): Float32Array {
  return tf.tidy(() => {
    const out = model.run(tf.tensor2d([ids], [1, ids.length], 'int32'), { logits: false }); // hidden [1, T, C]
    return out.hidden.mean(1).dataSync() as Float32Array; // [C]
  });
}


export async function loadServed(o: LoadServedOptions): Promise<Served> {
  const info = await stat(o.model).catch(() => null);
  let model: TransformerLM;
  let tokenizer: Tokenizer | null = null;
  let template: ChatTemplate | null = null;
  let dir: string | null = null;
  const isGguf = info?.isFile() === true && o.model.toLowerCase().endsWith('.gguf');
  if (isGguf) {
    const g = await importGguf(o.model);
    model = g.model;
    tokenizer = g.tokenizer;
    if (g.chatTemplate) template = jinjaChatTemplate(g.chatTemplate);
  } else {
    dir = await findModelDir(o.model);
    model = await loadModel(dir);
    tokenizer = new Tokenizer(await loadTokenizer(join(dir, 'tokenizer.json')));
  }
  if (!tokenizer) tokenizer = new Tokenizer(trainBpeSync('', { vocabSize: 256, name: 'byte' }));
  if (tokenizer.vocabSize > model.config.vocabSize) throw new ServeError('INVALID_REQUEST', `the tokenizer has ${tokenizer.vocabSize} symbols, the model ${model.config.vocabSize}: the checkpoint's tokenizer.json does not belong to it`);
  if (o.adapter) {
    await loadAdapter(model, o.adapter);
  }
  if (o.template && o.template !== 'chatml') template = await loadChatTemplate(o.template);
  else if (o.template === 'chatml') template = chatmlTemplate();
  else if (!template && dir) template = await loadChatTemplate(dir).catch(() => chatmlTemplate());
  template ??= chatmlTemplate();

  const ctx = Math.min(o.ctx ?? model.config.blockSize, model.config.blockSize);
  const maxBatch = o.maxBatch ?? 8;
  const blockTokens = 16;
  const kvBlocks = o.kvBlocks ?? (maxBatch + 4) * Math.ceil(ctx / blockTokens);
  let engine: StepEngine | null = null;
  let engineKind: 'infer' | 'tfjs' = 'tfjs';
  if (o.engine !== 'tfjs') {
    if (!o.adapter) {
      try {
        const opts = { maxTokens: kvBlocks * blockTokens, blockTokens };
        const inf = isGguf ? await loadGgufForInference(o.model, opts) : compileForInference(model, opts);
        engine = wrapCtx(inf as unknown as StepEngine, ctx); // its step takes only its own sequences, which newSequence gives
        engineKind = 'infer';
      } catch (e) {
        if (o.engine === 'infer') throw e;
        o.onNote?.(`the infer engine cannot run this model (${(e as Error).message}); using the tfjs engine`);
      }
    } else if (o.engine === 'infer') {
      throw new ServeError('INVALID_REQUEST', '--engine infer cannot run an unmerged --adapter; merge it first (llm-train merge) or use --engine tfjs');
    }
  }
  engine ??= new TfjsEngine(model, { ctx, blockTokens, blocksTotal: kvBlocks });
  const eos = model.config.eosTokenId;
  const name = dir ? basename(resolve(dir)) : basename(o.model).replace(/\.gguf$/i, '');
  return {
    modelId: name,
    model,
    tokenizer,
    template,
    engine,
    engineKind,
    embed: (ids) => meanHidden(model, ids),
    eosTokenIds: eos === null ? [] : typeof eos === 'number' ? [eos] : [...eos],
    dispose: () => {
      (engine as { dispose?: () => void }).dispose?.();
      model.dispose();
    },
  };
}

/** The engine with its context capped at `ctx` (the scheduler reads config.blockSize). */
function wrapCtx(e: StepEngine, ctx: number): StepEngine {
  if (e.config.blockSize <= ctx) return e;
  return {
    config: { vocabSize: e.config.vocabSize, blockSize: ctx },
    newSequence: () => e.newSequence(),
    step: (inputs, opts) => e.step(inputs, opts),
    cacheStats: () => e.cacheStats(),
    dispose: () => (e as { dispose?: () => void }).dispose?.(),
  } as StepEngine;
}
