// Shared by sft.mjs and table.mjs: the task templates, the results table and the LoRA verdict.

export const TASKS = {
  continue: {
    prompt: ({ line }) => `### Instruction:\nContinue the play.\n### Input:\n${line}\n### Response:\n`,
    response: ({ next }) => `${next}\n`,
    describe: '"### Instruction:\\nContinue the play.\\n### Input:\\n<line>\\n### Response:\\n" → the next line of the play',
    format: 'prompt "### Instruction:\\nContinue the play.\\n### Input:\\n<line>\\n### Response:\\n" → response "<next non-empty line>\\n", loss on response tokens; train pairs from the base\'s training text, val pairs held out',
  },
  upper: {
    prompt: ({ line }) => `### Line:\n${line}\n### Upper:\n`,
    response: ({ line }) => `${line.toUpperCase()}\n`,
    describe: '"### Line:\\n…\\n### Upper:\\n" → the line uppercased',
    format: 'prompt "### Line:\\n<line>\\n### Upper:\\n" → response "<LINE UPPERCASED>\\n", loss on response tokens',
  },
};

/** LoRA proper (not DoRA / QLoRA): the rows issue 14's "< 1% trainable" claim is about. */
export const LORA_KEYS = ['lora', 'lora-all', 'lora-attn'];

const kib = (b) => (b >= 1 << 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

/** Markdown table lines, one row per run. */
export function tableOf(rows) {
  return [
    `| method | lr | val loss (end) | val loss (best) | trainable params | trainable % | step (ms, median) | AdamW state | weights |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.lr} | ${r.finalValLoss.toFixed(4)} | ${r.bestValLoss.toFixed(4)} | ${r.trainable.toLocaleString('en-US')} | ${r.trainablePercent.toFixed(3)} | ${r.medianStepMs === null ? '—' : r.medianStepMs.toFixed(0)} | ${kib(r.optimizerBytes)} | ${kib(r.weightBytes)}${r.key === 'qlora' ? ' (NF4 + float)' : ''} |`,
    ),
  ];
}

const best = (xs) => xs.reduce((a, r) => (a === null || r.bestValLoss < a.bestValLoss ? r : a), null);

/** Best full fine-tuning run vs the best LoRA run with < 1% trainable, both by best val loss. */
export function verdictOf(rows, margin) {
  const full = best(rows.filter((r) => r.key === 'full'));
  const lora = best(rows.filter((r) => LORA_KEYS.includes(r.key) && r.trainablePercent < 1));
  if (!full || !lora) return 'LoRA vs full fine-tuning: not both run (LoRA with < 1% trainable and full fine-tuning).';
  const d = lora.bestValLoss - full.bestValLoss;
  const base = full.initialValLoss;
  const gain = (x) => ((base - x.bestValLoss) / (base - full.bestValLoss)) * 100;
  return `LoRA ${d <= margin ? 'is within' : 'is NOT within'} ${margin} nats of full fine-tuning's best val loss: ${lora.method} at lr ${lora.lr} ${lora.bestValLoss.toFixed(4)} vs full fine-tuning at lr ${full.lr} ${full.bestValLoss.toFixed(4)} (${d >= 0 ? '+' : ''}${d.toFixed(4)}) with ${lora.trainablePercent.toFixed(3)}% of parameters trainable; the base alone scores ${base.toFixed(4)}, so LoRA recovers ${gain(lora).toFixed(0)}% of full fine-tuning's loss reduction.`;
}
