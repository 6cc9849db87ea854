/**
 * `llm-quant inspect <file>`: a GGUF's version, metadata (arrays summarized) and tensors (name,
 * type, shape, bytes), with totals. `--json` prints the same as one JSON object.
 */
import { Command } from 'commander';
import { GGML_TYPE_NAMES, type GgufValue } from '../gguf/format.js';
import { readGguf } from '../gguf/reader.js';

const MAX_SHOWN = 80;

function show(v: GgufValue): string {
  if (v.type === 9) {
    const head = v.value.slice(0, 4).map((x) => (typeof x === 'object' ? `[${x.value.length} items]` : JSON.stringify(typeof x === 'bigint' ? String(x) : x)));
    return `[${v.value.length} items${v.value.length ? `: ${head.join(', ')}${v.value.length > 4 ? ', …' : ''}` : ''}]`;
  }
  const s = typeof v.value === 'bigint' ? String(v.value) : v.type === 6 ? String(Number(v.value.toPrecision(7))) : JSON.stringify(v.value);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}… (${s.length} chars)` : s;
}

const human = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('Show a GGUF file: metadata, tensors, types and sizes.')
    .argument('<file>', 'GGUF file')
    .option('--json', 'print one JSON object', false)
    .action(async (file: string, o: { json: boolean }) => {
      const g = await readGguf(file);
      const params = g.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
      const bytes = g.tensors.reduce((s, t) => s + t.byteLength, 0);
      const byType = new Map<string, number>();
      for (const t of g.tensors) byType.set(GGML_TYPE_NAMES[t.type] ?? String(t.type), (byType.get(GGML_TYPE_NAMES[t.type] ?? String(t.type)) ?? 0) + 1);
      if (o.json) {
        const meta = Object.fromEntries([...g.metadata].map(([k, v]) => [k, show(v)]));
        const tensors = g.tensors.map((t) => ({ name: t.name, type: GGML_TYPE_NAMES[t.type] ?? t.type, shape: t.shape, bytes: t.byteLength }));
        process.stdout.write(JSON.stringify({ file, version: g.version, alignment: g.alignment, tensorCount: g.tensors.length, parameters: params, tensorBytes: bytes, bitsPerParam: (8 * bytes) / params, metadata: meta, tensors }, null, 2) + '\n');
        return;
      }
      const out: string[] = [];
      out.push(`${file}: GGUF v${g.version}, ${g.metadata.size} metadata keys, ${g.tensors.length} tensors, ${params.toLocaleString('en-US')} parameters, ${human(bytes)} of tensor data (${((8 * bytes) / Math.max(1, params)).toFixed(2)} bits/param; ${[...byType].map(([k, n]) => `${n} ${k}`).join(', ')})`);
      out.push('', 'metadata:');
      for (const [k, v] of g.metadata) out.push(`  ${k} = ${show(v)}`);
      out.push('', 'tensors:');
      const w = Math.max(...g.tensors.map((t) => t.name.length), 4);
      for (const t of g.tensors) out.push(`  ${t.name.padEnd(w)}  ${(GGML_TYPE_NAMES[t.type] ?? String(t.type)).padEnd(5)}  [${t.shape.join(', ')}]  ${human(t.byteLength)}`);
      process.stdout.write(out.join('\n') + '\n');
    });
}
