/**
 * Padded batches of prompt + response rows, right-padded, with next-token targets on response tokens
 * only (−100 on the prompt and padding; aligned with logits, as @llm/train's collate).
 *
 *   collateRows([{ promptIds: [5, 6], responseIds: [7, 8] }], 0)
 *   // inputs  = [5, 6, 7, 8]
 *   // targets = [-100, 7, 8, -100]    logits[t] predicts targets[t]: position 1 predicts 7, 2 predicts 8
 *   // mask    = [1, 1, 1, 1]
 *
 * Dimension legend: N rows, T longest row.
 */
import { IGNORE_INDEX } from '@llm/tensor-gpu';

export interface Rows {
  /** [N, T] token ids (padId after each row). */
  inputs: Int32Array;
  /** [N, T] next-token targets on response tokens, −100 elsewhere. */
  targets: Int32Array;
  /** [N, T] 1 real, 0 padding. */
  mask: Uint8Array;
  rows: number;
  length: number;
  /** Real tokens in the batch. */
  tokens: number;
}

export function collateRows(rows: ReadonlyArray<{ promptIds: readonly number[]; responseIds: readonly number[] }>, padId: number): Rows {
  const N = rows.length;
  const T = Math.max(...rows.map((r) => r.promptIds.length + r.responseIds.length));
  const inputs = new Int32Array(N * T).fill(padId); // [N, T]
  const targets = new Int32Array(N * T).fill(IGNORE_INDEX); // [N, T]
  const mask = new Uint8Array(N * T); // [N, T]
  let tokens = 0;
  rows.forEach((r, n) => {
    const P = r.promptIds.length;
    const len = P + r.responseIds.length;
    const o = n * T;
    inputs.set(r.promptIds, o);
    inputs.set(r.responseIds, o + P);
    for (let j = 0; j < r.responseIds.length; j++) targets[o + P - 1 + j] = r.responseIds[j]!;
    mask.fill(1, o, o + len);
    tokens += len;
  });
  return { inputs, targets, mask, rows: N, length: T, tokens };
}

/** Mask rows as number[][] (what TransformerLM.run takes). */
export function maskRows(r: Pick<Rows, 'mask' | 'rows' | 'length'>): number[][] {
  return Array.from({ length: r.rows }, (_, n) => Array.from(r.mask.subarray(n * r.length, (n + 1) * r.length)));
}

/** Plain token rows (classification / regression text) padded right. */
export function collateIds(rows: ReadonlyArray<readonly number[]>, padId: number): Omit<Rows, 'targets'> {
  const N = rows.length;
  const T = Math.max(...rows.map((r) => r.length));
  const inputs = new Int32Array(N * T).fill(padId); // [N, T]
  const mask = new Uint8Array(N * T); // [N, T]
  let tokens = 0;
  rows.forEach((r, n) => {
    inputs.set(r, n * T);
    mask.fill(1, n * T, n * T + r.length);
    tokens += r.length;
  });
  return { inputs, mask, rows: N, length: T, tokens };
}
