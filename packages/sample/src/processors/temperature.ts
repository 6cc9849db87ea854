/**
 * Temperature scaling, as HF transformers' TemperatureLogitsWarper (generation/logits_process.py):
 * logits ← logits / t for t > 0. t < 1 sharpens, t > 1 flattens; −Infinity stays −Infinity.
 * Temperature 0 is not a division: `buildProcessors({ temperature: 0 })` uses GreedyProcessor
 * instead (HF: "0 … equivalent to shifting all probability mass to the most likely token").
 *
 *   new TemperatureProcessor(0.5).process(Float32Array.of(1, -2, -Infinity), ctx);   // → [2, -4, -Infinity]
 */
import type { LogitsProcessor, SampleContext } from '../types.js';
import { requireFinite, invalid } from './validate.js';

export class TemperatureProcessor implements LogitsProcessor {
  readonly temperature: number;

  constructor(temperature: number) {
    requireFinite('temperature', temperature);
    if (!(temperature > 0)) {
      invalid(`temperature must be > 0, got ${temperature} (for greedy decoding use temperature 0 in buildProcessors)`);
    }
    this.temperature = temperature;
  }

  process(logits: Float32Array, _ctx: SampleContext): void {
    for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! / this.temperature;
  }
}
