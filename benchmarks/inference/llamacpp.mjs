// llama.cpp's side of benchmarks/inference (node-llama-cpp 3.21.1, CPU): decode tok/s at batch 1,
// prefill tok/s of a 128-token prompt, and batch-8 decode throughput, per thread count.
export async function llamaCppRates(llama, file, { threads, prompt, decodeTokens, rounds, batch }) {
  const model = await llama.loadModel({ modelPath: file });
  try {
    const ctx = await model.createContext({ contextSize: 512, sequences: batch, threads, batchSize: 512, flashAttention: false });
    try {
      const seqs = Array.from({ length: batch }, () => ctx.getSequence());
      const prefill = [];
      const decode = [];
      const batched = [];
      for (let r = 0; r < rounds; r++) {
        await seqs[0].clearHistory();
        let t0 = performance.now();
        await seqs[0].evaluateWithoutGeneratingNewTokens(prompt);
        prefill.push((prompt.length / (performance.now() - t0)) * 1000);
        await seqs[0].clearHistory();
        decode.push(await decodeRate(seqs[0], prompt.slice(0, 8), decodeTokens));
        for (const s of seqs) await s.clearHistory();
        t0 = performance.now();
        const started = [];
        await Promise.all(seqs.map((s, i) => decodeRate(s, prompt.slice(i, i + 8), decodeTokens, started)));
        batched.push(((batch * decodeTokens) / (performance.now() - Math.max(...started))) * 1000);
      }
      return { prefill, decode, batched };
    } finally {
      await ctx.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** Greedy tokens/s after the first generated token (the prompt's evaluation excluded). */
async function decodeRate(seq, prompt, n, started) {
  let count = 0;
  let t1 = 0;
  for await (const _ of seq.evaluate(prompt, { temperature: 0 })) {
    if (count === 0) {
      t1 = performance.now();
      started?.push(t1);
    }
    if (++count > n) break;
  }
  return (n / (performance.now() - t1)) * 1000;
}
