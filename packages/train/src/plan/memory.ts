/**
 * Training memory of a float32 model under AdamW, without activation recomputation:
 *   weights 4·N + gradients 4·N + AdamW m and v 8·N bytes (16·N), plus activations kept for the
 *   backward pass. Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation
 *   in Large Transformer Models", §4.1) counted in elements and stored as float32, with no dropout
 *   masks (dropout 0, our default) — per layer, for s = blockSize, b = batch, C = width, H heads,
 *   K kv heads, D head dim, I = MLP width:
 *     attention: norm output sbC + q sbHD + k, v 2·sbKD + softmax probabilities b·H·s² + attention output sbHD
 *     MLP (gpt2):  norm output sbC + pre-activation sbI + activation output sbI
 *     MLP (llama): norm output sbC + gate sbI + up sbI + silu(gate) sbI + product sbI
 *     the two norms' inputs 2·sbC
 *   (gpt2 with D·H = C, I = 4C: 16·sbC + b·H·s² elements, the paper's 34sbh + 5as²b bytes without
 *   the masks and at 4 bytes), and for the head: the final norm's input sbC, logits sbV and the
 *   softmax of the cross-entropy sbV.
 *
 *   // gpt2, L 1, C 8, H 2, T 4, V 10, batch 2 (N = 1,000 with biases, tied head)
 *   trainingMemory({ family: 'gpt2', … }, 2).activations   // → 4·(16·2·4·8 + 2·2·16 + 2·4·8 + 2·2·4·10) = 5,248 bytes
 */
import { checkpointShapes, resolveConfig, type ModelConfig, type ModelConfigInput } from '@llm/transformer';
import { TrainError } from '../errors.js';

export interface TrainingMemory {
  /** Parameters N (a tied head counted once). */
  params: number;
  weights: number;
  gradients: number;
  /** AdamW's first and second moments. */
  optimizer: number;
  /** Activations kept for the backward pass (formula above). */
  activations: number;
  /** Activation bytes of one block, and of the final norm + logits + softmax. */
  perLayer: number;
  head: number;
  /** weights + gradients + optimizer + activations. */
  total: number;
}

/** A plan may size models far above what this machine loads: only the parameter cap is lifted, the other checks stay. */
const PLAN_LIMITS = { limits: { maxParameters: Number.MAX_SAFE_INTEGER } };

/** Exact parameter count of a config (from the model's own layout; nothing is allocated). */
export function configParams(config: ModelConfigInput | ModelConfig): number {
  let n = 0;
  for (const shape of checkpointShapes(resolveConfig(config, PLAN_LIMITS)).values()) n += shape.reduce((a, d) => a * d, 1);
  return n;
}

export function trainingMemory(config: ModelConfigInput | ModelConfig, batchSize: number): TrainingMemory {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainError('INVALID_ARGUMENT', `batchSize must be an integer ≥ 1, got ${batchSize}`);
  const c = resolveConfig(config, PLAN_LIMITS);
  if (c.nExperts > 0) throw new TrainError('INVALID_ARGUMENT', 'trainingMemory: mixture-of-experts models are not covered by the activation formula');
  const params = configParams(c);
  const [s, b, C, H, K, D, I, V] = [c.blockSize, batchSize, c.nEmbd, c.nHead, c.nKvHead, c.headDim, c.intermediateSize, c.vocabSize];
  const sb = s * b;
  const attention = sb * C + sb * H * D + 2 * sb * K * D + b * H * s * s + sb * H * D;
  const mlp = c.family === 'llama' ? sb * C + 4 * sb * I : sb * C + 2 * sb * I;
  const norms = 2 * sb * C;
  const perLayer = 4 * (attention + mlp + norms);
  const head = 4 * (sb * C + 2 * sb * V);
  const activations = c.nLayer * perLayer + head;
  const weights = 4 * params;
  return { params, weights, gradients: weights, optimizer: 2 * weights, activations, perLayer, head, total: 4 * weights + activations };
}
