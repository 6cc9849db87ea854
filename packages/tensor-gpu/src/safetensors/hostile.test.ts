// Hostile and malformed input: every problem must surface as a TensorGpuError that says what and
// where, and nothing may allocate from, or loop on, sizes the file claims before they are checked.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TensorGpuError } from '../errors.js';
import { findDuplicateKey, parseUntrustedJson } from '../json.js';
import { parseSafetensors, rawToFloat32, readSafetensors, readSafetensorsHeader, serializeSafetensors } from './index.js';
import { expectError } from '../testing/expect-error.js';
import { expectErrorAsync, rng, runIsolated } from '@llm/kit';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A file with the given header text (unpadded) and `data` (a length of zeros, or bytes). */
function file(header: string | Uint8Array, data: number | Uint8Array = 0, headerLength?: bigint): Uint8Array {
  const h = typeof header === 'string' ? utf8(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const entry = (dtype: unknown, shape: unknown, offsets: unknown): string =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

const invalid = (buf: Uint8Array, fragment: string | RegExp): void => {
  expectError(() => parseSafetensors(buf), 'SAFETENSORS_INVALID', fragment);
};

describe('hostile headers', () => {
  it('rejects files shorter than 8 bytes', () => {
    invalid(new Uint8Array(0), /file is 0 bytes, shorter than the 8-byte header length/);
    invalid(new Uint8Array(7), /file is 7 bytes/);
  });

  it('rejects header lengths beyond the file or above the limit, without allocating', () => {
    invalid(file('{}', 0, 1000n), /header length \(the first 8 bytes\) goes beyond the end of the file \(2 bytes after the length\): a truncated file\?/);
    invalid(file('{}', 0, 2n ** 64n - 1n), /header length \(the first 8 bytes\) is above the limit of 100000000 bytes: not a safetensors file\?/);
    // The length is not quoted: for a text file it would be the file's first 8 bytes.
    expect(expectError(() => parseSafetensors(utf8('root:x:0:0:root:/root:/bin/bash')), 'SAFETENSORS_INVALID').message).not.toMatch(/\d{10,}|root/);
    invalid(file('{}', 0, 100_000_001n), /above the limit/);
    const padded = file('{}      ');
    expect(parseSafetensors(padded).tensors.size).toBe(0);
    expectError(
      () => parseSafetensors(padded, { maxHeaderBytes: 4 }),
      'SAFETENSORS_INVALID',
      /header length \(the first 8 bytes\) is above the limit of 4 bytes/,
    );
  });

  it('rejects headers that are not UTF-8, JSON or an object', () => {
    invalid(file(new Uint8Array([0x7b, 0xff, 0x7d])), /header is not valid UTF-8/);
    invalid(file(new Uint8Array([0x7b, 0xed, 0xa0, 0x80, 0x7d])), /not valid UTF-8/); // encoded surrogate
    invalid(file('\uFEFF{}'), /header must be a JSON object starting with "\{" at byte 8, not another character/); // a BOM is not allowed
    invalid(file(' {}'), /starting with "\{"/);
    invalid(file('[]'), /starting with "\{"/);
    invalid(file('null'), /starting with/);
    invalid(file(''), /starting with "\{" at byte 8, but it is empty/);
    invalid(file('{"a":'), /header is not valid JSON \(the text ends early\)/);
    invalid(file('{} x'), /not valid JSON \(syntax error at character 3\)/);
    invalid(file('{}\0'), /not valid JSON/); // padding must be spaces
  });

  it('rejects entries that are not objects or have missing / wrong-typed fields', () => {
    invalid(file('{"w":5}'), /tensor "w": entry must be an object, got 5/);
    invalid(file('{"w":[1]}'), /tensor "w": entry must be an object, got an array/);
    invalid(file('{"w":null}'), /got null/);
    invalid(
      file(`{"w":${JSON.stringify({ shape: [1], data_offsets: [0, 4] })}}`, 4),
      /tensor "w": dtype must be a string, got undefined/,
    );
    invalid(file(`{"w":${entry(4, [1], [0, 4])}}`, 4), /dtype must be a string, got 4/);
    invalid(file(`{"w":${entry('F32', undefined, [0, 4])}}`, 4), /tensor "w": shape must be an array, got undefined/);
    invalid(file(`{"w":${entry('F32', 4, [0, 4])}}`, 4), /shape must be an array, got 4/);
    invalid(
      file(`{"w":${entry('F32', [1], undefined)}}`, 4),
      /tensor "w": data_offsets must be an array \[begin, end\]/,
    );
    invalid(file(`{"w":${entry('F32', [1], [0])}}`, 4), /data_offsets must be an array/);
    invalid(file(`{"w":${entry('F32', [1], [0, 4, 8])}}`, 4), /data_offsets must be an array/);
    invalid(
      file(`{"w":${entry('F32', [1], ['0', 4])}}`, 4),
      /data_offsets \["0", 4\] must be non-negative safe integers/,
    );
  });

  it('rejects negative, fractional and unsafe dims and offsets', () => {
    invalid(
      file(`{"w":${entry('F32', [-1], [0, 4])}}`, 4),
      /tensor "w": dim 0 is -1, expected a non-negative safe integer/,
    );
    invalid(file(`{"w":${entry('F32', [1, 1.5], [0, 4])}}`, 4), /dim 1 is 1.5/);
    invalid(file(`{"w":${entry('F32', ['1'], [0, 4])}}`, 4), /dim 0 is "1"/);
    invalid(
      file('{"w":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}', 4),
      /dim 0 is 9007199254740992/,
    );
    invalid(file('{"w":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', 4), /dim 0 is Infinity/);
    invalid(
      file(`{"w":${entry('F32', [1], [-4, 0])}}`, 4),
      /data_offsets \[-4, 0\] must be non-negative safe integers/,
    );
    invalid(file(`{"w":${entry('F32', [1], [0, 4.5])}}`, 4), /\[0, 4.5\]/);
    invalid(
      file('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551620]}}', 4),
      /must be non-negative safe integers/,
    );
  });

  it('separates unknown dtypes (invalid) from known but unsupported ones', () => {
    invalid(file(`{"w":${entry('F33', [1], [0, 4])}}`, 4), /tensor "w": unknown dtype "F33"/);
    invalid(file(`{"w":${entry('f32', [1], [0, 4])}}`, 4), /unknown dtype "f32"/);
    const unsupported = file(`{"w":${entry('U16', [2], [0, 4])}}`, 4);
    expectError(
      () => parseSafetensors(unsupported),
      'SAFETENSORS_UNSUPPORTED',
      /tensor "w": dtype U16 is not supported/,
    );
    expectError(
      () => parseSafetensors(file(`{"w":${entry('F8_E4M3', [4], [0, 4])}}`, 4)),
      'SAFETENSORS_UNSUPPORTED',
      /F8_E4M3/,
    );
  });

  it('rejects offsets that are reversed, out of range or disagree with the shape', () => {
    invalid(file(`{"w":${entry('F32', [0], [4, 0])}}`, 4), /tensor "w": data_offsets begin 4 is greater than end 0/);
    invalid(
      file(`{"w":${entry('F32', [2], [0, 8])}}`, 4),
      /tensor "w": data_offsets \[0, 8\] end beyond the data section \(4 bytes\)/,
    );
    invalid(
      file(`{"w":${entry('F32', [2, 3], [0, 16])}}`, 16),
      /tensor "w": data_offsets \[0, 16\] span 16 bytes but shape \[2,3\] of F32 needs 24 bytes/,
    );
    invalid(file(`{"w":${entry('BF16', [], [0, 4])}}`, 4), /shape \[\] of BF16 needs 2 bytes/);
  });

  it('rejects overlapping tensors, gaps and trailing bytes', () => {
    const a = entry('F32', [1], [0, 4]);
    invalid(
      file(`{"a":${a},"b":${entry('F32', [1], [2, 6])}}`, 8),
      /tensor "b": data_offsets \[2, 6\] overlap tensor "a" which ends at 4/,
    );
    invalid(file(`{"a":${a},"b":${a}}`, 4), /overlap tensor "(a|b)"/); // same bytes twice
    invalid(file(`{"a":${a},"z":${entry('U8', [0], [2, 2])}}`, 4), /tensor "z": data_offsets \[2, 2\] overlap/);
    invalid(
      file(`{"a":${a},"b":${entry('F32', [1], [8, 12])}}`, 12),
      /tensor "b": data_offsets \[8, 12\] leave a gap: bytes \[4, 8\) belong to no tensor/,
    );
    invalid(file(`{"b":${entry('F32', [1], [2, 6])}}`, 6), /leave a gap: bytes \[0, 2\)/);
    invalid(file(`{"a":${a}}`, 6), /tensors cover 4 bytes but the data section has 6: trailing bytes/);
    invalid(file('{}', 1), /tensors cover 0 bytes but the data section has 1/);
    // Empty tensors may share an offset, at either end of a neighbour.
    const ok = file(
      `{"a":${a},"e":${entry('F16', [0], [4, 4])},"f":${entry('I8', [2, 0], [4, 4])},"g":${entry('U8', [0], [0, 0])}}`,
      4,
    );
    expect([...parseSafetensors(ok).tensors.keys()]).toEqual(['g', 'a', 'e', 'f']);
  });

  it('rejects duplicate names, even when spelled with escapes, and duplicate fields', () => {
    const a = entry('F32', [1], [0, 4]);
    invalid(file(`{"a":${a},"a":${a}}`, 4), /duplicate key "a" in header at the top level/);
    invalid(file(`{"a":${a},"\\u0061":${a}}`, 4), /duplicate key "a"/);
    invalid(
      file(`{"a":{"dtype":"F32","shape":[1],"dtype":"F32","data_offsets":[0,4]}}`, 4),
      /duplicate key "dtype" in header in entry "a"/,
    );
    invalid(file(`{"__metadata__":{},"a":${a},"__metadata__":{}}`, 4), /duplicate key "__metadata__"/);
    invalid(
      file(`{"__metadata__":{"k":"1","k":"2"},"a":${a}}`, 4),
      /duplicate key "k" in header in entry "__metadata__"/,
    );
  });

  it('rejects __metadata__ that is not a string -> string map', () => {
    const a = entry('F32', [1], [0, 4]);
    invalid(file(`{"__metadata__":[],"a":${a}}`, 4), /__metadata__ must be an object of strings, got an array/);
    invalid(file(`{"__metadata__":null,"a":${a}}`, 4), /got null/);
    invalid(file(`{"__metadata__":"x","a":${a}}`, 4), /got "x"/);
    invalid(file(`{"__metadata__":{"k":1},"a":${a}}`, 4), /__metadata__ "k" must be a string, got 1/);
    invalid(file(`{"__metadata__":{"k":{"x":"y"}},"a":${a}}`, 4), /__metadata__ "k" must be a string, got an object/);
    invalid(file(`{"__metadata__":{"k":"\\ud800"},"a":${a}}`, 4), /__metadata__ "k" contains an unpaired/);
  });

  it('rejects names with unpaired surrogate escapes (not representable in UTF-8)', () => {
    invalid(file(`{"\\udc00":${entry('F32', [1], [0, 4])}}`, 4), /unpaired UTF-16 surrogate/);
  });

  it('does not hang or overflow on absurd shapes', () => {
    const dims = JSON.stringify(Array.from({ length: 200_000 }, () => 9007199254740991));
    const t0 = performance.now();
    invalid(file(`{"w":{"dtype":"F32","shape":${dims},"data_offsets":[0,4]}}`, 4), /needs Infinity bytes/);
    invalid(file(`{"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,4]}}`, 4), /needs 0 bytes/);
    invalid(file(`{"w":{"dtype":"F32","shape":[4294967296,4294967297],"data_offsets":[0,4]}}`, 4), /span 4 bytes/);
    const deep = `{"w":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    invalid(file(deep), /header nests arrays\/objects deeper than 3 levels \(at character 7\)/);
    invalid(file(`{"w":{"dtype":"F32","shape":[[1]],"data_offsets":[0,4]}}`, 4), /deeper than 3 levels/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('accepts a file with no tensors and reports where it can', () => {
    expect(parseSafetensors(file('{}')).tensors.size).toBe(0);
    expectError(() => parseSafetensors('nope' as never), 'SAFETENSORS_INVALID', /expected a Uint8Array/);
  });
});

describe('findDuplicateKey', () => {
  it('scans nested objects and arrays and ignores keys-like strings in values', () => {
    expect(findDuplicateKey('{"a":"a","b":["a","a"],"c":{"a":1}}')).toBeUndefined();
    expect(findDuplicateKey('{"x":[{"k":1,"k":2}]}')).toEqual({ key: 'k', where: 'in entry "x"' });
    expect(findDuplicateKey('{"s":"quote\\"s","s":1}')).toEqual({ key: 's', where: 'at the top level' });
  });
});


describe('fuzz', () => {
  const valid = serializeSafetensors(
    {
      'layer.0.weight': { dtype: 'F32', shape: [2, 3], data: new Uint8Array(24).fill(0x3f) },
      'layer.0.bias': { dtype: 'BF16', shape: [3], data: new Uint8Array(6).fill(0x40) },
      ids: { dtype: 'I64', shape: [2], data: new Uint8Array(16).fill(1) },
      mask: { dtype: 'BOOL', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
      scalar: { dtype: 'F16', shape: [], data: new Uint8Array([0, 0x3c]) },
      empty: { dtype: 'I8', shape: [0, 4], data: new Uint8Array(0) },
    },
    { format: 'pt', note: 'fuzz' },
  );
  const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));

  function mutate(next: () => number): Uint8Array {
    const pick = (n: number): number => Math.floor(next() * n);
    const buf = valid.slice();
    switch (pick(6)) {
      case 0: // random byte anywhere
        for (let k = 1 + pick(3); k > 0; k--) buf[pick(buf.length)] = pick(256);
        return buf;
      case 1: // bit flips in the header
        for (let k = 1 + pick(3); k > 0; k--) buf[8 + pick(headerEnd - 8)]! ^= 1 << pick(8);
        return buf;
      case 2: // a digit or structural character in the header replaced by another one
        buf[8 + pick(headerEnd - 8)] = '0123456789{}[]",:-.e '.charCodeAt(pick(21));
        return buf;
      case 3: // truncation
        return buf.slice(0, pick(buf.length));
      case 4: // random header length
        new DataView(buf.buffer).setBigUint64(0, BigInt(pick(2 ** 20)) * (next() < 0.5 ? 1n : 4099n), true);
        return buf;
      default: {
        // a byte inserted into or removed from the header
        const at = 8 + pick(headerEnd - 8);
        return next() < 0.5
          ? Uint8Array.from([...buf.subarray(0, at), pick(256), ...buf.subarray(at)])
          : Uint8Array.from([...buf.subarray(0, at), ...buf.subarray(at + 1)]);
      }
    }
  }

  it('either parses or throws TensorGpuError for thousands of corrupted files', () => {
    expect(parseSafetensors(valid).tensors.size).toBe(6);
    const next = rng(20240601);
    const outcomes = { parsed: 0, invalid: 0, unsupported: 0 };
    for (let i = 0; i < 4000; i++) {
      const buf = mutate(next);
      try {
        const parsed = parseSafetensors(buf);
        for (const t of parsed.tensors.values()) rawToFloat32(t);
        outcomes.parsed++;
      } catch (err) {
        if (!(err instanceof TensorGpuError)) throw new Error(`case ${i}: non-TensorGpuError ${String(err)}`);
        if (err.code === 'SAFETENSORS_INVALID') outcomes.invalid++;
        else if (err.code === 'SAFETENSORS_UNSUPPORTED') outcomes.unsupported++;
        else throw new Error(`case ${i}: unexpected code ${err.code}`);
      }
    }
    expect(outcomes.invalid).toBeGreaterThan(1000);
    expect(outcomes.parsed).toBeGreaterThan(100); // data-only flips and harmless header edits still parse
  });
});

describe('untrusted JSON', () => {
  const bad = (text: string, fragment: RegExp, opts?: Parameters<typeof parseUntrustedJson>[1]): void => {
    expectError(() => parseUntrustedJson(text, opts), 'JSON_INVALID', fragment);
  };

  it('refuses deep nesting before parsing it, duplicate keys, and syntax errors, quoting none of the text', () => {
    expect(parseUntrustedJson('{"a":[1,{"b":null}],"c":"}"}')).toEqual({ a: [1, { b: null }], c: '}' });
    const t0 = performance.now();
    bad('['.repeat(1_000_000) + ']'.repeat(1_000_000), /JSON text nests arrays\/objects deeper than 64 levels \(at character 64\)/);
    expect(performance.now() - t0).toBeLessThan(1000);
    bad('{"a":{"b":{}}}', /x.json nests .* deeper than 2 levels/, { maxDepth: 2, what: 'x.json' });
    bad('{"n_layer":1,"n_layer":1000000000}', /duplicate key "n_layer" in config.json at the top level/, { what: 'config.json' });
    bad(`{"${'k'.repeat(10_000)}":1,"${'k'.repeat(10_000)}":2}`, /^duplicate key "k{50,60}\.\.\. in JSON text at the top level$/);
    for (const secret of ['root:x:0:0:root:/root:/bin/bash', '{"a": SECRET-TOKEN-1234}', '{"a":"SECRET-TOKEN-1234"', '{"a":1} SECRET-TOKEN']) {
      const e = expectError(() => parseUntrustedJson(secret), 'JSON_INVALID', /^JSON text is not valid JSON \((syntax error at character \d+|the text ends early|unexpected character)\)$/);
      expect(e.message).not.toMatch(/root|SECRET/);
    }
  });
});

describe('hostile files on disk', () => {
  let root: string;
  const pkgDir = fileURLToPath(new URL('../..', import.meta.url));
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tg-hostile-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('reads the header alone: names, dtypes, shapes and byte ranges checked against the file size', async () => {
    const path = join(root, 'ok.safetensors');
    await writeFile(path, serializeSafetensors({ a: { dtype: 'F32', shape: [2], data: new Uint8Array(8) }, b: { dtype: 'F16', shape: [3], data: new Uint8Array(6) } }));
    const h = await readSafetensorsHeader(path);
    const dataStart = h.fileBytes - 14;
    expect(h.tensors.get('a')).toEqual({ dtype: 'F32', shape: [2], byteOffset: dataStart, byteLength: 8 });
    expect(h.tensors.get('b')).toEqual({ dtype: 'F16', shape: [3], byteOffset: dataStart + 8, byteLength: 6 });
    const short = join(root, 'short.safetensors');
    await writeFile(short, file(`{"w":${entry('F32', [4], [0, 16])}}`, 8));
    await expectErrorAsync(() => readSafetensorsHeader(short), 'SAFETENSORS_INVALID', /tensor "w": data_offsets \[0, 16\] end beyond the data section \(8 bytes\)/, TensorGpuError);
    await expectErrorAsync(() => readSafetensors(short), 'SAFETENSORS_INVALID', /end beyond the data section/, TensorGpuError);
  });

  it('a file bigger than one buffer is refused before anything is allocated for it (sparse 5 GB file)', async () => {
    const path = join(root, 'huge.safetensors');
    const n = 1_250_000_000; // F32 elements: 5 GB of data
    const head = file(`{"w":${entry('F32', [n], [0, 4 * n])}}`);
    const fh = await open(path, 'w');
    await fh.write(head);
    await fh.truncate(head.length + 4 * n); // sparse: no disk used
    await fh.close();
    expect((await readSafetensorsHeader(path)).tensors.get('w')!.byteLength).toBe(4 * n);
    await expectErrorAsync(() => readSafetensors(path), 'SAFETENSORS_UNSUPPORTED', /is 5000000\d+ bytes, more than one buffer can hold here/, TensorGpuError);
  });

  it('directories, devices and FIFOs are refused without blocking on them', async () => {
    await expectErrorAsync(() => readSafetensors(root), 'SAFETENSORS_INVALID', /is not a regular file/, TensorGpuError);
    await expectErrorAsync(() => readSafetensorsHeader('/dev/zero'), 'SAFETENSORS_INVALID', /\/dev\/zero is not a regular file/, TensorGpuError);
    const fifo = join(root, 'fifo.safetensors');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for reading blocks until a writer comes: in its own process, so a regression hangs that process only.
    const r = await runIsolated(
      `import { readSafetensors } from '@llm/tensor-gpu'; await readSafetensors(${JSON.stringify(fifo)});`,
      { cwd: pkgDir, timeoutMs: 15_000, memoryMb: 1024 },
    );
    expect(r.outcome).toBe('exit');
    expect(r.error).toMatchObject({ name: 'TensorGpuError', code: 'SAFETENSORS_INVALID', message: expect.stringMatching(/is not a regular file/) });
  });
});
