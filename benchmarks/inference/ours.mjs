// Our side of benchmarks/inference: the same rates as llamacpp.mjs, through @llm/infer's sequence
// API (greedy argmax on the host, as llama.cpp's sampler does at temperature 0).

const argmax = (v) => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
};

export function oursRates(engine, { prompt, decodeTokens, rounds, batch }) {
  const prefill = [];
  const decode = [];
  const batched = [];
  for (let r = 0; r < rounds; r++) {
    let seq = engine.newSequence();
    let t0 = performance.now();
    engine.step([{ seq, tokens: prompt }]);
    prefill.push((prompt.length / (performance.now() - t0)) * 1000);
    seq.free();

    seq = engine.newSequence();
    let [logits] = engine.step([{ seq, tokens: prompt.slice(0, 8) }]);
    t0 = performance.now();
    for (let i = 0; i < decodeTokens; i++) [logits] = engine.step([{ seq, tokens: [argmax(logits)] }]);
    decode.push((decodeTokens / (performance.now() - t0)) * 1000);
    seq.free();

    const seqs = Array.from({ length: batch }, () => engine.newSequence());
    let out = engine.step(seqs.map((s, i) => ({ seq: s, tokens: prompt.slice(i, i + 8) })));
    t0 = performance.now();
    for (let i = 0; i < decodeTokens; i++) out = engine.step(seqs.map((s, j) => ({ seq: s, tokens: [argmax(out[j])] })));
    batched.push(((batch * decodeTokens) / (performance.now() - t0)) * 1000);
    for (const s of seqs) s.free();
  }
  return { prefill, decode, batched };
}
