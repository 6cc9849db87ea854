/**
 * Test helpers of the RLAIF tests (not part of the public API): a byte-level tokenizer with the
 * ChatML specials, and causal LMs whose logits are built from the decoded context — a scripted chat
 * model (replies chosen by a function of the conversation) and judges with known label probabilities.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionLM as ContextLM } from '@llm/sample';
import { GPT2_PATTERN, Tokenizer, bytesToBinary, type ChatMessage } from '@llm/tokenizer-bpe';

export const IM_START = 256;
export const IM_END = 257;

/** Token id = byte value; <|im_start|> 256, <|im_end|> 257 (vocabulary 258). */
export function byteTokenizer(): Tokenizer {
  const ranks = new Map(Array.from({ length: 256 }, (_, b) => [bytesToBinary(Uint8Array.of(b)), b] as [string, number]));
  return new Tokenizer({ name: 'byte', pattern: GPT2_PATTERN, ranks, specialTokens: new Map([['<|im_start|>', IM_START], ['<|im_end|>', IM_END]]) });
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'llm-rlaif-'));

/** A CausalLM whose logits at a position are `logitsAt(real context ids)`; counts forwards; `failAt` fails the n-th (@llm/sample's test double). */
export { ContextLM };

/** The ChatML messages of a rendered conversation (complete turns only). */
export function parseChatml(text: string): ChatMessage[] {
  return [...text.matchAll(/<\|im_start\|>(\w+)\n([\s\S]*?)<\|im_end\|>\n/g)].map((m) => ({ role: m[1]!, content: m[2]! }));
}

/**
 * A chat model that replies `reply(conversation)` (ASCII) to every ChatML conversation, then
 * `<|im_end|>`: the next token has logit 40, every other 0 (so sampling picks it too).
 */
export function scriptedChatLM(tok: Tokenizer, reply: (messages: ChatMessage[]) => string, blockSize = 4096): ContextLM {
  const V = 258;
  const header = '<|im_start|>assistant\n';
  return new ContextLM(V, blockSize, (ctx) => {
    const text = tok.decode(ctx);
    const at = text.lastIndexOf(header);
    const target = reply(parseChatml(text.slice(0, at)));
    const sofar = text.slice(at + header.length);
    const next = target.startsWith(sofar) && sofar.length < target.length ? target.charCodeAt(sofar.length) : IM_END;
    const logits = new Float32Array(V);
    logits[next] = 40;
    return logits;
  });
}

/**
 * A judge over the default judge prompt: P(label A) = pFirst(first, second) among the two labels,
 * and the two labels together hold `mass` of the next-token distribution (the rest spread evenly).
 * Logits are log-probabilities, so the renormalised P(A) is pFirst exactly (up to float32).
 */
export function fakeJudge(tok: Tokenizer, pFirst: (first: string, second: string) => number, mass = 1, labels: [number, number] = [65, 66]): ContextLM {
  const V = 258;
  return new ContextLM(V, 4096, (ctx) => {
    const text = tok.decode(ctx);
    const m = /Response A:\n([\s\S]*?)\n\nResponse B:\n([\s\S]*?)\n\nWhich response/.exec(text);
    if (!m) throw new Error(`fakeJudge: not a judge prompt: ${text.slice(0, 80)}`);
    const p = pFirst(m[1]!, m[2]!);
    const logits = new Float32Array(V).fill(mass < 1 ? Math.log((1 - mass) / (V - 2)) : -1e9);
    logits[labels[0]] = Math.log(p * mass);
    logits[labels[1]] = Math.log((1 - p) * mass);
    return logits;
  });
}
