// The models benchmarks/inference runs, each exported to GGUF once per weight type so llama.cpp and
// our engine read the same bytes:
//   stories260K — the real trained llama2.c model (../shared/data; skipped when absent)
//   stories15M-shape — Llama, dim 288, 6 layers, 6 heads, hidden 768, 32,000 vocab, random weights
//   gpt2-small-shape — GPT-2, 768 wide, 12 layers, 12 heads, 50,257 vocab (124M), random weights
// llama.cpp needs a real vocabulary in the file: GPT-2's byte-level BPE (tiktoken's r50k_base),
// truncated to the model's vocab size (a prefix of BPE ranks is itself a valid BPE vocabulary).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransformerLM, loadLlama2c } from '@llm/transformer';
import { exportGguf } from '@llm/quant';
import { getEncodingDefinition } from '@llm/tokenizer-bpe';
import { sharedDataPath } from '@llm/kit';

export const MODELS = [
  { name: 'stories260K', types: ['f32', 'q8_0'], build: () => {
    const path = sharedDataPath('stories260K.bin');
    return path ? loadLlama2c(new Uint8Array(readFileSync(path))) : null;
  } },
  { name: 'stories15M-shape', types: ['f32', 'q8_0', 'q4_0'], build: () => new TransformerLM({
    family: 'llama', vocabSize: 32000, nLayer: 6, nHead: 6, nKvHead: 6, nEmbd: 288, intermediateSize: 768, blockSize: 256, normEps: 1e-5, seed: 15,
  }) },
  { name: 'gpt2-small-shape', types: ['f32', 'q8_0', 'q4_0'], build: () => new TransformerLM({
    family: 'gpt2', vocabSize: 50257, nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024, seed: 124,
  }) },
];

/** GPT-2's BPE cut to `vocabSize` tokens (50,257 = the whole of r50k_base with <|endoftext|>). */
export function truncatedGpt2(vocabSize) {
  const full = getEncodingDefinition('r50k_base');
  const ranks = new Map([...full.ranks].filter(([, r]) => r < vocabSize));
  const specialTokens = new Map([...full.specialTokens].filter(([, r]) => r < vocabSize));
  return { name: `gpt2-bpe-${vocabSize}`, pattern: full.pattern, ranks, specialTokens };
}

/** GGUF files of `model` for each type (written once into `dir`, reused when present). */
export async function ggufFiles(model, name, types, dir) {
  const tokenizer = truncatedGpt2(model.config.vocabSize);
  const files = {};
  for (const type of types) {
    const file = join(dir, `${name}-${type}.gguf`);
    if (!existsSync(file)) await exportGguf({ model, tokenizer }, file, { type });
    files[type] = file;
  }
  return files;
}
