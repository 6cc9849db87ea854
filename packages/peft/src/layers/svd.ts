/**
 * Singular value decomposition on the host in float64 (one-sided Jacobi, Hestenes): exact to
 * rounding, O(min(m,n)²·max(m,n)) per sweep — meant for PiSSA's init of small and medium layers.
 *
 *   const { u, s, vt, k } = svd(Float64Array.from([3, 0, 0, 4]), 2, 2); // s = [4, 3]
 *
 * Dimension legend: m rows, n columns, k = min(m, n); u [m, k], s [k] descending, vt [k, n].
 */
export interface Svd {
  u: Float64Array;
  s: Float64Array;
  vt: Float64Array;
  k: number;
}

export function svd(w: ArrayLike<number>, m: number, n: number, maxSweeps = 60): Svd {
  const trans = n > m; // orthogonalize the columns of A [p, q] with q ≤ p
  const p = trans ? n : m;
  const q = trans ? m : n;
  const cols: Float64Array[] = Array.from({ length: q }, (_, j) => {
    const c = new Float64Array(p);
    for (let i = 0; i < p; i++) c[i] = trans ? w[j * n + i]! : w[i * n + j]!;
    return c;
  });
  const V: Float64Array[] = Array.from({ length: q }, (_, j) => {
    const c = new Float64Array(q);
    c[j] = 1;
    return c;
  });
  const eps = 1e-15;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let j = 0; j < q - 1; j++) {
      for (let k = j + 1; k < q; k++) {
        const a = cols[j]!, b = cols[k]!;
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < p; i++) {
          alpha += a[i]! * a[i]!;
          beta += b[i]! * b[i]!;
          gamma += a[i]! * b[i]!;
        }
        if (Math.abs(gamma) <= eps * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < p; i++) {
          const x = a[i]!, y = b[i]!;
          a[i] = c * x - s * y;
          b[i] = s * x + c * y;
        }
        const va = V[j]!, vb = V[k]!;
        for (let i = 0; i < q; i++) {
          const x = va[i]!, y = vb[i]!;
          va[i] = c * x - s * y;
          vb[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const sig = cols.map((c) => Math.sqrt(c.reduce((acc, x) => acc + x * x, 0)));
  const order = sig.map((_, i) => i).sort((x, y) => sig[y]! - sig[x]!);
  const k = q;
  const s = Float64Array.from(order, (i) => sig[i]!);
  // A = Uₐ Σ Vₐᵀ with Uₐ = cols/σ [p, k], Vₐ = V [q, k]
  const Ua = new Float64Array(p * k);
  const Va = new Float64Array(q * k);
  order.forEach((src, dst) => {
    const sg = sig[src]!;
    for (let i = 0; i < p; i++) Ua[i * k + dst] = sg > 0 ? cols[src]![i]! / sg : 0;
    for (let i = 0; i < q; i++) Va[i * k + dst] = V[src]![i]!;
  });
  if (!trans) return { u: Ua, s, vt: transpose(Va, q, k), k }; // W = A
  return { u: Va, s, vt: transpose(Ua, p, k), k }; // W = Aᵀ = Vₐ Σ Uₐᵀ
}

function transpose(x: Float64Array, r: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j]!;
  return out;
}
