/**
 * Host-side checks of prompt ids, once per prompt before anything is uploaded: the model does not
 * read ids back from the device to range-check them (that would cost a sync per decode step), and
 * sampled ids are in range by construction, so this is where a bad id is caught.
 *
 *   checkPrompt(model.config, [1, 2, 300], 0);   // SampleError: prompt 0 has token id 300, outside the vocabulary [0, 256).
 */
import { SampleError } from './errors.js';
import type { CausalLMLike } from './model.js';

/** Every id an integer in [0, vocabSize). `what` names the ids in the message. */
export function checkTokenIds(ids: readonly number[], vocabSize: number, what: string): void {
  const bad = Array.prototype.find.call(ids, (id: number) => !Number.isInteger(id) || id < 0 || id >= vocabSize) as number | undefined;
  if (bad !== undefined) throw new SampleError('INVALID_ARGUMENT', `${what} has token id ${bad}, outside the vocabulary [0, ${vocabSize}).`);
}

/** A prompt to generate from (`config` = the model's): non-empty, ids in the vocabulary, shorter than the context. */
export function checkPrompt(config: CausalLMLike['config'], prompt: readonly number[], row: number): void {
  if (!Array.isArray(prompt) && !ArrayBuffer.isView(prompt)) throw new SampleError('INVALID_ARGUMENT', `prompt ${row} must be an array of token ids.`);
  if (prompt.length === 0) throw new SampleError('INVALID_ARGUMENT', `prompt ${row} is empty: give at least one token (e.g. a BOS id).`);
  checkTokenIds(prompt, config.vocabSize, `prompt ${row}`);
  if (prompt.length >= config.blockSize) throw new SampleError('INVALID_ARGUMENT', `prompt ${row} has ${prompt.length} tokens; the model's context is ${config.blockSize}, leaving no room to generate. Trim the prompt.`);
}

/** One prompt or a list of them → rows of ids. */
export function normalisePrompts(prompts: readonly number[] | readonly (readonly number[])[]): number[][] {
  const list = (x: unknown) => Array.isArray(x) || ArrayBuffer.isView(x);
  if (!list(prompts) || (typeof prompts[0] !== 'number' && !(prompts as readonly unknown[]).every(list))) {
    throw new SampleError('INVALID_ARGUMENT', 'prompts must be an array of token ids, or an array of such arrays.');
  }
  if (prompts.length === 0) throw new SampleError('INVALID_ARGUMENT', 'no prompt given.');
  return typeof prompts[0] === 'number' ? [Array.from(prompts as readonly number[])] : (prompts as readonly (readonly number[])[]).map((p) => Array.from(p));
}

/**
 * How many tokens of a prompt to keep so that prompt + reply share a `blockSize` context fairly:
 * all of it when it fits beside a `maxNewTokens` reply; otherwise the reply is promised at most
 * half the context, and the prompt keeps the rest (its last tokens are the ones to keep). A chat
 * trims whole turns to this room; a one-shot prompt keeps its tail.
 *
 *   promptRoom(64, 300)   // 32: a 300-token reply cannot fit anyway; keep 32 tokens of prompt
 *   promptRoom(1024, 100) // 924
 */
export function promptRoom(blockSize: number, maxNewTokens: number): number {
  return blockSize - Math.max(1, Math.min(maxNewTokens, Math.floor(blockSize / 2)));
}
