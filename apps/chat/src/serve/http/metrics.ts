/**
 * GET /metrics in Prometheus text format: requests by endpoint and status, tokens (prompt,
 * generated) and the generation rate over the last 10 s, queue depth, running sequences, KV
 * blocks in use / total, prefix-cache hits / lookups, preemptions and cancellations.
 *
 *   const m = new Metrics(ctx);
 *   m.request('/v1/chat/completions', 200);
 *   m.render();   // '# HELP llm_requests_total …\nllm_requests_total{endpoint="/v1/chat/completions",status="200"} 1\n…'
 */
import type { ServeContext } from '../context.js';

const WINDOW_MS = 10_000;

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly recent: { t: number; n: number }[] = [];

  constructor(private readonly ctx: ServeContext) {
    ctx.scheduler.onStep = (n) => {
      if (n > 0) this.recent.push({ t: Date.now(), n });
      this.trim();
    };
  }

  request(endpoint: string, status: number): void {
    const key = `endpoint="${endpoint}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** Generated tokens per second over the last 10 s. */
  tokensPerSecond(): number {
    this.trim();
    return this.recent.reduce((s, r) => s + r.n, 0) / (WINDOW_MS / 1000);
  }

  private trim(): void {
    const cut = Date.now() - WINDOW_MS;
    while (this.recent.length && this.recent[0]!.t < cut) this.recent.shift();
  }

  render(): string {
    const s = this.ctx.scheduler.stats();
    const kv = this.ctx.engine.cacheStats();
    const out: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, rows: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) out.push(`${name}${labels ? `{${labels}}` : ''} ${v}`);
    };
    metric('llm_requests_total', 'counter', 'HTTP requests by endpoint and status.', [...this.requests]);
    metric('llm_generation_requests_total', 'counter', 'Generations submitted to the scheduler (one per choice).', [['', s.requestsTotal]]);
    metric('llm_generation_cancelled_total', 'counter', 'Generations cancelled (client gone).', [['', s.cancelled]]);
    metric('llm_prompt_tokens_total', 'counter', 'Prompt tokens submitted.', [['', s.promptTokens]]);
    metric('llm_generated_tokens_total', 'counter', 'Tokens generated.', [['', s.generatedTokens]]);
    metric('llm_tokens_per_second', 'gauge', 'Generated tokens per second over the last 10 s.', [['', this.tokensPerSecond()]]);
    metric('llm_queue_depth', 'gauge', 'Generations waiting to be admitted.', [['', s.queueDepth]]);
    metric('llm_running_sequences', 'gauge', 'Sequences in the running batch.', [['', s.running]]);
    metric('llm_kv_blocks_in_use', 'gauge', 'KV-cache blocks in use (prefix cache included).', [['', kv.blocksInUse]]);
    metric('llm_kv_blocks_total', 'gauge', 'KV-cache blocks in the pool.', [['', kv.blocksTotal]]);
    metric('llm_prefix_cache_hits_total', 'counter', 'Admissions that reused a cached prompt prefix.', [['', s.prefixHits]]);
    metric('llm_prefix_cache_lookups_total', 'counter', 'Prefix-cache lookups.', [['', s.prefixLookups]]);
    metric('llm_preemptions_total', 'counter', 'Sequences preempted when the KV cache was full.', [['', s.preemptions]]);
    metric('llm_engine_steps_total', 'counter', 'Engine steps (one per scheduler iteration).', [['', s.steps]]);
    return `${out.join('\n')}\n`;
  }
}
