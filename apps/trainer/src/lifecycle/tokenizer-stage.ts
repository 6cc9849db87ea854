/**
 * Stage 1: the text and the tokenizer. The generated corpus (or --data) is written to
 * `<out>/corpus.txt`; a byte-level BPE is learned from it plus rendered chat conversations (so the
 * chat markup and tool-call JSON get their own tokens, and the SFT examples fit the context), with
 * ChatML's special tokens; the chat format's template is written beside it.
 *
 *   const outputs = await tokenizerStage(cfg, log);   // ['corpus.txt', 'tokenizer.json', 'chat_template.jinja']
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@llm/tensor-gpu';
import { applyChatTemplate, saveTokenizer, trainBpe } from '@llm/tokenizer-bpe';
import { generateCorpus } from '../corpus/generator.js';
import { CHAT_SPECIAL_TOKENS, CHAT_TEMPLATE, chatTemplate, flatten } from '../corpus/chat-format.js';
import { generateInstructions } from '../corpus/instructions.js';
import { describeVocab } from '../commands/tokenizer.js';
import { stageBar } from './bar.js';
import type { LifecycleConfig } from './config.js';

export const CORPUS_FILE = 'corpus.txt';
export const TOKENIZER_FILE = 'tokenizer.json';
export const TEMPLATE_FILE = 'chat_template.jinja';

const encode = (s: string) => new TextEncoder().encode(s);

/** The files the pretrain stage reads: --data, or the generated corpus. */
export function pretrainData(cfg: LifecycleConfig): string[] {
  return cfg.data ?? [join(cfg.out, CORPUS_FILE)];
}

export async function tokenizerStage(cfg: LifecycleConfig, log: (s: string) => void): Promise<string[]> {
  const out = cfg.out;
  await mkdir(out, { recursive: true });
  const outputs: string[] = [];
  if (!cfg.data) {
    const text = generateCorpus({ seed: 1, bytes: cfg.corpusBytes });
    await writeFileAtomic(join(out, CORPUS_FILE), encode(text));
    log(`corpus: ${text.length.toLocaleString('en-US')} characters of generated stories and dialogues → ${join(out, CORPUS_FILE)}`);
    outputs.push(CORPUS_FILE);
  }
  const [first] = pretrainData(cfg);
  const corpus = await readFile(first!, 'utf8');
  // the chat format as the later stages render it (its own seed: not the SFT examples themselves)
  const template = chatTemplate();
  const chats = generateInstructions({ seed: cfg.seed + 7, count: Math.max(200, Math.round(cfg.sft.examples / 2)) }).map((c) => applyChatTemplate(flatten(c, template), { template: 'chatml' }));
  const total = cfg.vocabSize - 256 - CHAT_SPECIAL_TOKENS.length;
  const bar = stageBar('tokenizer', total);
  const t0 = performance.now();
  let def;
  try {
    def = await trainBpe([corpus, ...chats], {
      vocabSize: cfg.vocabSize,
      specialTokens: [...CHAT_SPECIAL_TOKENS],
      name: 'start',
      onProgress: (p) => p.phase === 'merge' && bar.update(p.merges, 'merges'),
    });
  } finally {
    bar.stop();
  }
  await saveTokenizer(join(out, TOKENIZER_FILE), def, 'hf');
  await writeFileAtomic(join(out, TEMPLATE_FILE), encode(CHAT_TEMPLATE));
  log(`tokenizer: ${describeVocab(def, cfg.vocabSize)} learned from ${first} and ${chats.length} chat conversations in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${join(out, TOKENIZER_FILE)} (+ ${TEMPLATE_FILE})`);
  return [...outputs, TOKENIZER_FILE, TEMPLATE_FILE];
}
