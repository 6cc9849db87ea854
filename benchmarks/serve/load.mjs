// Load generator for benchmarks/serve: N concurrent streaming chat completions against an
// OpenAI-compatible server (plain fetch + SSE parsing), recording time-to-first-token, tokens and
// [DONE] framing per request.
//
//   const r = await fireRequests(baseUrl, { concurrency: 32, maxTokens: 64, prompt: i => `...` });
//   // → { wallMs, tokens, ttftMs: number[], done: number, errors: string[] }

/** One streaming request; resolves when its stream ends. */
async function streamOne(baseUrl, body) {
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let buf = '';
  let ttft = null;
  let tokens = 0;
  let done = false;
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
      if (data === '[DONE]') { done = true; continue; }
      if (!data) continue;
      const msg = JSON.parse(data);
      if (msg.usage) tokens = msg.usage.completion_tokens;
      if (ttft === null && msg.choices?.[0]?.delta?.content) ttft = performance.now() - t0;
    }
  }
  return { ttft: ttft ?? performance.now() - t0, tokens, done, ms: performance.now() - t0 };
}

/** `concurrency` requests at once; every one must end with [DONE]. */
export async function fireRequests(baseUrl, { concurrency, maxTokens, prompt, model }) {
  const t0 = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: concurrency }, (_, i) =>
      streamOne(baseUrl, { model, messages: [{ role: 'user', content: prompt(i) }], max_tokens: maxTokens, temperature: 0 }),
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
  };
}

/** The p-th percentile (0–100) of sorted values, nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
