/**
 * Ordering helpers for the truncation warpers (internal): the finite entries of a row, a stable
 * ascending order by a key, the k-th smallest value in linear time, and a softmax in a given order.
 *
 *   finiteIndices(Float32Array.of(2, -Infinity, 1, 2));                  // [0, 2, 3]
 *   ascendingOrder([0, 2, 3], Float32Array.of(2, -Infinity, 1, 2));      // [2, 0, 3]  (ties by index)
 *   kthSmallest(Float32Array.of(5, 1, 4, 1), 2);                          // 4
 */

/** Indices of the logits that are not −Infinity (probability > 0), in index order. */
export function finiteIndices(logits: Float32Array): number[] {
  const idx: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i]! !== -Infinity) idx.push(i);
  return idx;
}

/** Up to 2^21 indices (any real vocabulary) pack beside a 32-bit key into one exact float64. */
const INDEX_BITS = 2 ** 21;

/**
 * `idx` sorted ascending by `key[i]` (compared as float32, as torch compares float32 scores), ties in
 * index order — the order a stable ascending torch.sort gives. Each (key, index) pair is packed into
 * one float64, key bits high and index low, so a native numeric typed-array sort does the work
 * (about 5× faster than a comparator sort at V = 50k).
 */
export function ascendingOrder(idx: readonly number[], key: ArrayLike<number>): number[] {
  if (idx.some((i) => i >= INDEX_BITS)) {
    return [...idx].sort((a, b) => Math.fround(key[a]!) - Math.fround(key[b]!) || a - b);
  }
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const packed = new Float64Array(idx.length);
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j]!;
    f[0] = key[i]! + 0; // + 0 turns −0 into +0, so the two zeros tie as numbers do
    const b = u[0]!;
    // IEEE-754 bits → an unsigned integer with the same order: flip all bits of negatives, the sign of positives
    const ordered = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    packed[j] = ordered * INDEX_BITS + i;
  }
  packed.sort();
  return Array.from(packed, (v) => v % INDEX_BITS);
}

/**
 * The n-th smallest value (0-based) of `a`, in expected linear time (Hoare's quickselect with a
 * middle pivot). Reorders `a`.
 */
export function kthSmallest(a: Float32Array, n: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    // now a[lo..j] ≤ pivot ≤ a[i..hi], and everything strictly between j and i equals the pivot
    if (n <= j) hi = j;
    else if (n >= i) lo = i;
    else return a[n]!;
  }
  return a[n]!;
}

/** softmax over the given indices of `logits`, in float64, in the order given. */
export function softmaxAt(logits: Float32Array, idx: readonly number[]): Float64Array {
  let max = -Infinity;
  for (const i of idx) if (logits[i]! > max) max = logits[i]!;
  const p = new Float64Array(idx.length);
  let total = 0;
  for (let j = 0; j < idx.length; j++) {
    p[j] = Math.exp(logits[idx[j]!]! - max);
    total += p[j]!;
  }
  for (let j = 0; j < idx.length; j++) p[j] = p[j]! / total;
  return p;
}
