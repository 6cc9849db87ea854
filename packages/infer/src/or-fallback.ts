/**
 * The engine when a model can run on it, else the model itself — what CLIs and servers use so
 * inference is fast by default and still works for models the engine refuses (an unmerged
 * adapter such as LoRA, also over a quantized base; any other custom linear module). @llm/quant's
 * quantized linears (int8 / int4 / NF4, GPTQ / AWQ) run on the engine (see compileForInference).
 *
 *   const { lm, engine, reason } = compileOrFallback(model);
 *   generate(lm, prompts, opts);          // the engine (or the tfjs model: `reason` says why)
 *   engine?.dispose();
 */
import type { TransformerLM } from '@llm/transformer';
import { compileForInference, type CompileOptions } from './compile.js';
import { InferError } from './errors.js';
import type { InferenceModel } from './engine/model.js';

export interface CompiledOrFallback {
  /** What to run: the engine, or `model` itself. */
  lm: InferenceModel | TransformerLM;
  /** The engine (dispose it when done), or null when `model` runs as is. */
  engine: InferenceModel | null;
  /** Why the engine was not used (null when it was). */
  reason: string | null;
}

/** compileForInference(model, opts), or `model` with the reason when the engine cannot run it (UNSUPPORTED_MODEL). Other errors throw. */
export function compileOrFallback(model: TransformerLM, opts: CompileOptions = {}): CompiledOrFallback {
  try {
    const engine = compileForInference(model, opts);
    return { lm: engine, engine, reason: null };
  } catch (e) {
    if (e instanceof InferError && e.code === 'UNSUPPORTED_MODEL') return { lm: model, engine: null, reason: e.message };
    throw e;
  }
}
