// Tokenizer benchmark: encode and decode throughput (MB/s of UTF-8 text, median of N runs, same
// text, same process) for cl100k_base and o200k_base — @llm/tokenizer-bpe against tiktoken (WASM),
// js-tiktoken, gpt-tokenizer and @huggingface/tokenizers — on whole documents and on 4 KB chunks
// of ≥ 5 MB of mixed text (see corpus.mjs). Every peer's ids are compared with tiktoken's before
// timing; a peer that disagrees is still timed but flagged.
//
//   node benchmarks/tokenizer/encode.mjs                 full run (≈ 12–15 min on 2 cores: the slow peers dominate)
//   node benchmarks/tokenizer/encode.mjs --quick         1.2 MB, 3 runs (≈ 2 min)
//   node benchmarks/tokenizer/encode.mjs --runs 7 --json out.json
//
// Our package is imported as '@llm/tokenizer-bpe' (build it first: npm run build --workspace
// @llm/tokenizer-bpe); TOKENIZER_BPE_MODULE=/abs/path.js points at another build instead.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { machineLine, timeRuns } from '@llm/kit';
import { buildCorpus } from './corpus.mjs';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argValue = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const RUNS = Number(argValue('--runs', quick ? 3 : 5));
const jsonPath = argValue('--json', null);
const ENCODINGS = argValue('--encodings', 'cl100k_base,o200k_base').split(',');
const CHUNK_BYTES = 4096;

const utf8Bytes = (s) => Buffer.byteLength(s, 'utf8');

/** Splits text into pieces of about `bytes` UTF-8 bytes, never inside a surrogate pair. */
function chunk(text, bytes) {
  const out = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    size += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 0 : c >= 0xdc00 && c <= 0xdfff ? 4 : 3;
    if (size >= bytes && !(c >= 0xd800 && c <= 0xdbff)) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
      size = 0;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** Median MB/s of `f` over RUNS runs (after the verification run that warmed it up). */
function throughput(f, mb) {
  return mb / (timeRuns(f, { reps: RUNS }).median / 1000);
}

const sameIds = (a, b) => a.length === b.length && a.every((x, k) => x === b[k]);

async function loadOurs() {
  const spec = process.env.TOKENIZER_BPE_MODULE ? pathToFileURL(process.env.TOKENIZER_BPE_MODULE).href : '@llm/tokenizer-bpe';
  const mod = await import(spec);
  if (typeof mod.getEncoding !== 'function') {
    throw new Error(`${spec} does not export getEncoding — build @llm/tokenizer-bpe first (npm run build --workspace @llm/tokenizer-bpe)`);
  }
  return mod;
}

/** Each peer: { name, load(encoding) → { encode(text) → ids, decode(ids) → string } | { unavailable } }. */
function peers(ours) {
  return [
    {
      name: '@llm/tokenizer-bpe',
      load: (enc) => {
        const tok = ours.getEncoding(enc);
        return { encode: (t) => tok.encode(t), decode: (ids) => tok.decode(ids) };
      },
    },
    {
      name: 'tiktoken (WASM)',
      load: (enc) => {
        const tk = require('tiktoken').get_encoding(enc);
        const td = new TextDecoder();
        return { encode: (t) => tk.encode(t), decode: (ids) => td.decode(tk.decode(Uint32Array.from(ids))) };
      },
    },
    {
      name: 'js-tiktoken',
      load: (enc) => {
        const { Tiktoken } = require('js-tiktoken/lite');
        const tk = new Tiktoken(require(`js-tiktoken/ranks/${enc}`));
        return { encode: (t) => tk.encode(t), decode: (ids) => tk.decode(ids) };
      },
    },
    {
      name: 'gpt-tokenizer',
      load: async (enc) => {
        const g = await import(`gpt-tokenizer/encoding/${enc}`);
        return { encode: (t) => g.encode(t), decode: (ids) => g.decode(ids) };
      },
    },
    {
      name: '@huggingface/tokenizers',
      load: async (enc) => {
        // No network here, so no tokenizer.json from the Hub (Xenova/gpt-4, Xenova/gpt-4o): build
        // one from the same ranks with our HF exporter, if the package exports it.
        if (typeof ours.toHfTokenizerJson !== 'function') {
          return { unavailable: 'needs a tokenizer.json (Hub, offline here) and @llm/tokenizer-bpe does not export toHfTokenizerJson' };
        }
        const { Tokenizer } = await import('@huggingface/tokenizers');
        const json = ours.toHfTokenizerJson(ours.getEncodingDefinition(enc));
        const tok = new Tokenizer(JSON.parse(JSON.stringify(json)), {});
        return {
          encode: (t) => tok.encode(t, { add_special_tokens: false }).ids,
          decode: (ids) => tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
          note: 'tokenizer.json built offline from the tiktoken ranks by toHfTokenizerJson',
        };
      },
    },
  ];
}

async function benchEncoding(enc, ours, text, chunks) {
  const mb = utf8Bytes(text) / 1e6;
  const reference = require('tiktoken').get_encoding(enc);
  const refDoc = Array.from(reference.encode(text));
  const refChunks = chunks.map((c) => Array.from(reference.encode(c)));
  reference.free();
  const rows = [];
  for (const peer of peers(ours)) {
    let impl;
    try {
      impl = await peer.load(enc);
    } catch (e) {
      impl = { unavailable: `failed to load: ${e.message.split('\n')[0]}` };
    }
    if (impl.unavailable) {
      console.log(`  ${peer.name}: not benchmarked — ${impl.unavailable}`);
      rows.push({ peer: peer.name, unavailable: impl.unavailable });
      continue;
    }
    const t0 = performance.now();
    const docIds = Array.from(impl.encode(text));
    const firstMs = performance.now() - t0;
    const badChunks = chunks.filter((c, k) => !sameIds(Array.from(impl.encode(c)), refChunks[k])).length;
    const docOk = sameIds(docIds, refDoc);
    const decodeOk = impl.decode(refDoc) === new TextDecoder().decode(Buffer.from(text));
    const row = {
      peer: peer.name,
      idsMatchTiktoken: docOk && badChunks === 0,
      mismatchingChunks: badChunks,
      documentIdsMatch: docOk,
      decodeMatches: decodeOk,
      firstEncodeMs: Math.round(firstMs),
      encodeDocMBs: throughput(() => impl.encode(text), mb),
      encodeChunksMBs: throughput(() => {
        for (const c of chunks) impl.encode(c);
      }, mb),
      decodeDocMBs: throughput(() => impl.decode(refDoc), mb),
      decodeChunksMBs: throughput(() => {
        for (const ids of refChunks) impl.decode(ids);
      }, mb),
      note: impl.note,
    };
    rows.push(row);
    const flag = row.idsMatchTiktoken ? 'ids = tiktoken' : `IDS DIFFER (document ${docOk ? 'same' : 'differs'}, ${badChunks}/${chunks.length} chunks differ)`;
    console.log(`  ${peer.name}: encode ${row.encodeDocMBs.toFixed(2)} / ${row.encodeChunksMBs.toFixed(2)} MB/s, decode ${row.decodeDocMBs.toFixed(1)} / ${row.decodeChunksMBs.toFixed(1)} MB/s — ${flag}${decodeOk ? '' : ', DECODE DIFFERS'}`);
  }
  return rows;
}

function table(enc, rows) {
  const fmt = (x) => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
  const lines = [
    `\n${enc}  (MB/s of UTF-8 text, median of ${RUNS} runs; doc = whole text, 4KB = ${CHUNK_BYTES}-byte chunks)`,
    '| peer | encode doc | encode 4KB | decode doc | decode 4KB | ids vs tiktoken |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const ids = r.unavailable ? `not run: ${r.unavailable}` : r.idsMatchTiktoken ? 'identical' : `differ (${r.mismatchingChunks} chunks)`;
    lines.push(`| ${r.peer} | ${fmt(r.encodeDocMBs)} | ${fmt(r.encodeChunksMBs)} | ${fmt(r.decodeDocMBs)} | ${fmt(r.decodeChunksMBs)} | ${ids} |`);
  }
  const ours = rows.find((r) => r.peer === '@llm/tokenizer-bpe');
  const gpt = rows.find((r) => r.peer === 'gpt-tokenizer');
  if (ours?.encodeDocMBs && gpt?.encodeDocMBs) {
    lines.push(`\nvs gpt-tokenizer: encode ×${(ours.encodeDocMBs / gpt.encodeDocMBs).toFixed(2)} (doc), ×${(ours.encodeChunksMBs / gpt.encodeChunksMBs).toFixed(2)} (4KB); decode ×${(ours.decodeDocMBs / gpt.decodeDocMBs).toFixed(2)} (doc), ×${(ours.decodeChunksMBs / gpt.decodeChunksMBs).toFixed(2)} (4KB)`);
  }
  return lines.join('\n');
}

async function main() {
  const corpus = buildCorpus({ targetBytes: quick ? 1_200_000 : 5_500_000 });
  console.log(
    corpus.shakespeare
      ? `text: Tiny Shakespeare (${corpus.shakespearePath}) + generated code/CJK/emoji/multilingual text`
      : `text: ${corpus.shakespearePath} is ABSENT — generated text only (prose from a built-in word list, code, CJK, emoji, multilingual)`,
  );
  console.log(`      ${(utf8Bytes(corpus.text) / 1e6).toFixed(2)} MB: ${Object.entries(corpus.parts).map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)}`).join(', ')}`);
  const chunks = chunk(corpus.text, CHUNK_BYTES);
  console.log(`      ${chunks.length} chunks of ~${CHUNK_BYTES} bytes; ${machineLine()}`);
  const ours = await loadOurs();
  const results = {};
  const tables = [];
  for (const enc of ENCODINGS) {
    console.log(`\n${enc}:`);
    results[enc] = await benchEncoding(enc, ours, corpus.text, chunks);
    tables.push(table(enc, results[enc]));
  }
  console.log(tables.join('\n'));
  if (jsonPath) {
    const meta = { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, runs: RUNS, bytes: utf8Bytes(corpus.text), parts: corpus.parts, shakespeare: corpus.shakespeare };
    writeFileSync(jsonPath, `${JSON.stringify({ meta, results }, null, 2)}\n`);
  }
}

await main();
