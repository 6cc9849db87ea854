/** Test helpers for the SFT and distillation tests (not part of the public API). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectErrorAsync } from '@llm/kit';
import { GPT2_PATTERN, Tokenizer, bytesToBinary } from '@llm/tokenizer-bpe';
import { TrainError, type TrainErrorCode } from '../errors.js';

/**
 * A byte-level tokenizer without merges: token id = byte value (so 'hi' → [104, 105]), plus
 * special tokens <|im_start|> 256, <|im_end|> 257, <s> 258, </s> 259 (or the given ones).
 */
export function byteTokenizer(
  specials: Array<[string, number]> = [['<|im_start|>', 256], ['<|im_end|>', 257], ['<s>', 258], ['</s>', 259]],
): Tokenizer {
  const ranks = new Map(Array.from({ length: 256 }, (_, b) => [bytesToBinary(Uint8Array.of(b)), b] as [string, number]));
  return new Tokenizer({ name: 'byte', pattern: GPT2_PATTERN, ranks, specialTokens: new Map(specials) });
}

/** UTF-8 bytes of a string as plain ids (what byteTokenizer gives for text without special tokens). */
export const bytes = (s: string): number[] => [...new TextEncoder().encode(s)];

/** A fresh temporary directory. */
export function tempDir(prefix = 'llm-train-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `text` to `name` inside a fresh temp dir; returns the path. */
export function tempFile(name: string, text: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

/** Assert fn throws (or the promise rejects with) a TrainError with `code` and a message matching every fragment (the kit's expectErrorAsync, typed). */
export const expectTrainError = (fn: PromiseLike<unknown> | (() => unknown), code: TrainErrorCode, ...fragments: Array<string | RegExp>): Promise<TrainError> => expectErrorAsync(fn, code, fragments, TrainError);
