/**
 * Seeded fuzz of the GGUF reader (hostile files): truncations, byte flips, lying counts and
 * lengths over a real export. Runs in a child process under a time and memory budget
 * (@llm/kit's runIsolated) so a hang or a runaway allocation fails the test instead of the runner;
 * every case must parse or throw a QuantError, quickly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runIsolated } from '@llm/kit';
import { trainBpeSync } from '@llm/tokenizer-bpe';
import { gv } from './format.js';
import { serializeGguf } from './writer.js';
import { tokenizerMetadata } from './tokenizer-meta.js';
import { encodeTensor } from './codec.js';

const dir = mkdtempSync(join(tmpdir(), 'llm-quant-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GGUF reader fuzz', () => {
  it('2000 seeded mutations: each parses or throws QuantError, within 20 s and 512 MB', async () => {
    // A realistic file: tokenizer arrays, nested metadata, several tensor types.
    const def = trainBpeSync('hello world, the quick brown fox '.repeat(10), { vocabSize: 270, specialTokens: ['<|endoftext|>'] });
    const metadata = tokenizerMetadata(def, { vocabSize: 272, bosTokenId: 270, eosTokenId: 270, padTokenId: null });
    metadata.set('general.architecture', gv.str('llama'));
    metadata.set('x.nested', { type: 9, itemType: 9, value: [{ type: 9, itemType: 4, value: [1, 2, 3] }] });
    const bytes = await serializeGguf({
      metadata,
      tensors: [
        { name: 'a.weight', shape: [4, 64], type: 8, data: () => encodeTensor(8, new Float32Array(256).fill(0.5), 64) },
        { name: 'b.weight', shape: [64], type: 0, data: () => encodeTensor(0, new Float32Array(64), 64) },
        { name: 'c.weight', shape: [2, 32], type: 1, data: () => encodeTensor(1, new Float32Array(64), 32) },
      ],
    });
    const seedFile = join(dir, 'seed.gguf');
    writeFileSync(seedFile, bytes);
    // the built package (turbo builds before tests), resolved from the package folder
    const code = `
      import { readFileSync } from 'node:fs';
      import { parseGguf } from '@llm/quant';
      const seed = new Uint8Array(readFileSync(${JSON.stringify(seedFile)}));
      let s = 0x9e3779b9 >>> 0;
      const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
      const stats = { ok: 0, errors: 0, slowest: 0 };
      for (let i = 0; i < 2000; i++) {
        let b = seed.slice();
        const kind = i % 4;
        if (kind === 0) b = b.slice(0, Math.floor(rnd() * b.length));               // truncation
        else if (kind === 1) { for (let k = 0, n = 1 + Math.floor(rnd() * 8); k < n; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256); } // byte flips
        else {                                                                          // a lying u64/u32 at a random header position
          const dv = new DataView(b.buffer);
          const pos = Math.floor(rnd() * Math.min(b.length - 8, 4096));
          const big = [0xffffffffffffffffn, 0x7fffffffn, 2n ** 40n, 2n ** 53n, BigInt(b.length), 1n << 31n][Math.floor(rnd() * 6)];
          if (kind === 2) dv.setBigUint64(pos, big, true); else dv.setUint32(pos, Number(big & 0xffffffffn), true);
        }
        const t0 = performance.now();
        try { parseGguf(b); stats.ok++; } catch (e) {
          if (e?.name !== 'QuantError') { console.log(JSON.stringify({ bad: i, name: e?.name, message: String(e?.message) })); process.exit(3); }
          stats.errors++;
        }
        stats.slowest = Math.max(stats.slowest, performance.now() - t0);
      }
      console.log(JSON.stringify(stats));
    `;
    const r = await runIsolated(code, { timeoutMs: 20_000, memoryMb: 512, cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    expect(r.outcome, r.stderr).toBe('exit');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ok: number; errors: number; slowest: number };
    expect(stats.ok + stats.errors).toBe(2000);
    expect(stats.errors).toBeGreaterThan(1000);
    expect(stats.slowest).toBeLessThan(1000);
    console.log(`fuzz: ${stats.ok} parsed, ${stats.errors} QuantError, slowest ${stats.slowest.toFixed(1)} ms, peak RSS ${r.peakRssMb} MB`);
  }, 60_000);
});
