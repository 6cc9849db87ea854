/**
 * The slow, obviously-correct reference trainer (minbpe's loop): every merge recounts all pairs
 * over every pre-tokenized piece of the corpus, then rewrites every piece. Exported as
 * `trainBpeReference` for checking `trainBpeWithMerges` against (the tests and the training
 * benchmark do); far too slow for real corpora (hours for what `trainBpe` does in a second).
 *
 *   trainBpeReference('aaabdaaabac', { vocabSize: 259 }).merges.map((m) => [m.left, m.right])
 *   // [[97, 97], [97, 98], [256, 257]]
 *
 * It follows the same rules as `trainBpe`: same pre-tokenization, same pair counts (overlapping
 * occurrences counted), same tie-break (highest count, then smallest left id, then smallest right
 * id), left-to-right replacement, id reuse when a merge recreates existing bytes.
 */
import { resolveTrainOptions, type TrainOptions } from './options.js';
import { type PieceSplitter, forEachPiece, forEachSegment, specialsRegex } from './pretokenize.js';
import type { TrainResult } from './train.js';
import { TrainingVocab, buildDefinition } from './vocab.js';

/** Trains on a string or on chunks, recounting everything on every merge. */
export function trainBpeReference(input: string | Iterable<string>, opts: TrainOptions): TrainResult {
  const o = resolveTrainOptions(opts);
  const pieces = splitAll(
    typeof input === 'string' ? [input] : input,
    o.splitter,
    o.specials.map(([t]) => t),
  );
  const vocab = new TrainingVocab();
  const merges: TrainResult['merges'] = [];
  while (vocab.size - 256 < o.maxNewTokens) {
    const best = bestPair(pieces);
    if (best === undefined || best.count < o.minFrequency) break;
    const id = vocab.merge(best.left, best.right);
    merges.push({ left: best.left, right: best.right, id });
    for (let i = 0; i < pieces.length; i++) pieces[i] = mergePair(pieces[i]!, best.left, best.right, id);
    o.onProgress?.({ merges: vocab.size - 256, total: o.maxNewTokens, phase: 'merge' });
  }
  return { definition: buildDefinition(vocab, o.specials, o.name, o.pattern), merges };
}

/** Every piece of every chunk as a list of UTF-8 byte values (duplicates kept). */
function splitAll(chunks: Iterable<string>, splitter: PieceSplitter, specials: string[]): number[][] {
  const encoder = new TextEncoder();
  const out: number[][] = [];
  const specialRe = specialsRegex(specials);
  for (const chunk of chunks) {
    forEachSegment(chunk, specialRe, (seg) =>
      forEachPiece(seg, splitter, (p) => out.push([...encoder.encode(p)])),
    );
  }
  return out;
}

/** minbpe's get_stats over all pieces, then the max under the documented tie-break. */
function bestPair(pieces: number[][]): { left: number; right: number; count: number } | undefined {
  const counts = new Map<string, number>();
  for (const ids of pieces) {
    for (let i = 0; i + 1 < ids.length; i++) {
      const key = `${ids[i]},${ids[i + 1]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  let best: { left: number; right: number; count: number } | undefined;
  for (const [key, count] of counts) {
    const [left, right] = key.split(',').map(Number) as [number, number];
    const better =
      best === undefined ||
      count > best.count ||
      (count === best.count && (left < best.left || (left === best.left && right < best.right)));
    if (better) best = { left, right, count };
  }
  return best;
}

/** minbpe's merge(): replace (a, b) by c, left to right, without overlap. */
function mergePair(ids: number[], a: number, b: number, c: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; ) {
    if (ids[i] === a && i + 1 < ids.length && ids[i + 1] === b) {
      out.push(c);
      i += 2;
    } else {
      out.push(ids[i]!);
      i += 1;
    }
  }
  return out;
}
