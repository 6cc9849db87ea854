/**
 * Per-row sampling streams: row b of a batch draws from its own seeded stream, so a row's output
 * does not depend on how many other rows share the batch.
 *
 *   rowRng(1, 0).next();   // same value every run
 */
import { Rng, hashSeed } from '@llm/tensor-gpu';

export const rowRng = (seed: number, row: number): Rng => new Rng(hashSeed(seed, `sample-row:${row}`));
