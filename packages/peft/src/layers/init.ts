/**
 * Seeded host-side init of adapter weights (the seed and the module name pick the stream, so init
 * does not depend on creation order).
 *
 *   kaimingUniformA5(new Rng(1), 4, 16); // [4·16] in U(−1/4, 1/4)
 */
import type { Rng } from '@llm/tensor-gpu';

/**
 * torch.nn.init.kaiming_uniform_(w, a=√5) on w [rows, fanIn]: gain √(2/(1+a²)) = √(1/3),
 * bound = gain·√(3/fanIn) = 1/√fanIn, so U(−1/√fanIn, 1/√fanIn) — nn.Linear's default init and
 * PEFT's lora_A init (peft/tuners/lora/layer.py reset_lora_parameters).
 */
export function kaimingUniformA5(rng: Rng, rows: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(rows * fanIn);
  for (let i = 0; i < out.length; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

/** n samples of N(0, std²) (Box–Muller). */
export function normal(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rng.next(), 1e-12);
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
