/**
 * One request's sampler: @llm/sample's processor chain (buildProcessors), its seeded RNG (the
 * stream @llm/sample's generate gives row 0, so a request draws what `generate` would draw), an
 * optional constraint (JSON schema, regex) and log-probabilities. The batch never shares state.
 *
 *   const s = new RequestSampler({ temperature: 0 }, { promptIds: [1, 2] });
 *   const { id } = s.next(logits);   // argmax for temperature 0
 */
import type { Rng } from '@llm/tensor-gpu';
import { argmax, buildProcessors, checkModelLogits, logSoftmax, resolveGenerationConfig, rowRng, sampleToken, SampleError, type Constraint, type LogitsProcessor, type SamplingOptions } from '@llm/sample';

export interface TokenLogprob {
  token: number;
  logprob: number;
  top: { token: number; logprob: number }[];
}

export interface SamplerSetup {
  promptIds: readonly number[];
  seed?: number;
  constraint?: Constraint;
  /** null: no logprobs; k ≥ 0: the chosen token's logprob and the k most likely. */
  topLogprobs?: number | null;
}

export class RequestSampler {
  private readonly chain: LogitsProcessor[];
  private readonly greedy: boolean;
  private readonly rng: Rng;
  private readonly ctx: { ids: number[]; promptLength: number };
  private cstate: unknown;

  constructor(sampling: SamplingOptions, private readonly setup: SamplerSetup) {
    const cfg = resolveGenerationConfig({ ...sampling, maxNewTokens: 1 });
    this.chain = buildProcessors(cfg);
    this.greedy = !cfg.doSample || cfg.temperature === 0;
    this.rng = rowRng(setup.seed ?? 0, 0);
    this.ctx = { ids: [...setup.promptIds], promptLength: setup.promptIds.length };
    this.cstate = setup.constraint?.start();
  }

  /** Sample the next token from the model's logits [V] (modified in place). */
  next(logits: Float32Array): { id: number; logprob: TokenLogprob | null; constraintDone: boolean } {
    checkModelLogits(logits, 'server');
    const k = this.setup.topLogprobs;
    const lp = k === null || k === undefined ? null : logSoftmax(logits);
    const c = this.setup.constraint;
    if (c) c.mask(logits, this.cstate);
    for (const p of this.chain) p.process(logits, this.ctx);
    if (!logits.some((x) => x > -Infinity)) throw new SampleError('CONSTRAINT_INVALID', 'every token is banned (the sampling options or the constraint leave nothing to sample)');
    const id = this.greedy ? argmax(logits) : sampleToken(logits, () => this.rng.next());
    this.ctx.ids.push(id);
    if (c) this.cstate = c.advance(this.cstate, id);
    return { id, logprob: lp ? { token: id, logprob: lp[id]!, top: topK(lp, k!) } : null, constraintDone: c ? c.isFinished(this.cstate) : false };
  }

  /** Whether the constraint (if any) accepts the output so far. */
  get complete(): boolean {
    return this.setup.constraint ? this.setup.constraint.isComplete(this.cstate) : true;
  }
}

function topK(lp: Float32Array, k: number): { token: number; logprob: number }[] {
  if (k <= 0) return [];
  const idx = Array.from(lp.keys()).filter((i) => lp[i]! > -Infinity);
  idx.sort((a, b) => lp[b]! - lp[a]! || a - b);
  return idx.slice(0, k).map((i) => ({ token: i, logprob: lp[i]! }));
}
