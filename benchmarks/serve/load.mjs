// Load generator for benchmarks/serve: N concurrent streaming chat completions against an
// OpenAI-compatible server (plain fetch + SSE parsing), recording time-to-first-token, tokens,
// the text and the [DONE] framing per request; a request can be cancelled mid-stream.
//
//   const r = await fireRequests(baseUrl, { concurrency: 32, maxTokens: 64, prompt: i => `...` });
//   // → { wallMs, tokens, ttftMs: number[], done: number, errors: string[], results: (one per request, in order) }
//   const one = await streamOne(baseUrl, { messages, max_tokens: 16 }, { cancelAfterChunks: 1 });
//   // → { ttft, tokens, text, doneCount, afterDone, cancelled, ms }

/**
 * One streaming request; resolves when its stream ends. `cancelAfterChunks`: abort the request
 * (AbortController) once that many content deltas have arrived — the client going away mid-stream.
 * `doneCount` counts `data: [DONE]` events, `afterDone` the events that came after the first one.
 */
export async function streamOne(baseUrl, body, { cancelAfterChunks = 0 } = {}) {
  const t0 = performance.now();
  const ac = new AbortController();
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    signal: ac.signal,
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let buf = '';
  let ttft = null;
  let tokens = 0;
  let doneCount = 0;
  let afterDone = 0;
  let chunks = 0;
  let text = '';
  let finishReason = null;
  let cancelled = false;
  try {
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
        if (!data) continue;
        if (doneCount > 0) afterDone++;
        if (data === '[DONE]') { doneCount++; continue; }
        const msg = JSON.parse(data);
        if (msg.error) throw new Error(`stream error: ${msg.error.message}`);
        if (msg.usage) tokens = msg.usage.completion_tokens;
        const choice = msg.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (choice?.delta?.content) {
          if (ttft === null) ttft = performance.now() - t0;
          text += choice.delta.content;
          chunks++;
          if (cancelAfterChunks > 0 && chunks >= cancelAfterChunks && !cancelled) {
            cancelled = true;
            ac.abort();
          }
        }
      }
    }
  } catch (e) {
    if (!cancelled) throw e;
  }
  return { ttft: ttft ?? performance.now() - t0, tokens, text, finishReason, done: doneCount === 1 && afterDone === 0, doneCount, afterDone, cancelled, ms: performance.now() - t0 };
}

/** `concurrency` requests at once; every one must end with [DONE]. `extra`: more body fields (e.g. logit_bias). */
export async function fireRequests(baseUrl, { concurrency, maxTokens, prompt, model, extra = {} }) {
  const t0 = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: concurrency }, (_, i) =>
      streamOne(baseUrl, { model, messages: [{ role: 'user', content: prompt(i) }], max_tokens: maxTokens, temperature: 0, ...extra }),
    ),
  );
  const wallMs = performance.now() - t0;
  const ok = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
  return {
    wallMs,
    tokens: ok.reduce((a, r) => a + r.tokens, 0),
    ttftMs: ok.map((r) => r.ttft).sort((a, b) => a - b),
    done: ok.filter((r) => r.done).length,
    errors: settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason?.message ?? s.reason)),
    results: settled.map((s) => (s.status === 'fulfilled' ? s.value : null)),
  };
}

/** The p-th percentile (0–100) of sorted values, nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
