// Hostile and malformed input: every problem must surface as a TensorGpuError that says what and
// where, and nothing may allocate from, or loop on, sizes the file claims before they are checked.
import { describe, expect, it } from 'vitest';
import { TensorGpuError } from '../errors.js';
import { findDuplicateKey } from './read.js';
import { parseSafetensors, rawToFloat32, serializeSafetensors } from './index.js';
import { expectError } from '../testing/expect-error.js';
import { rng } from '@llm/kit';

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
    invalid(file('{}', 0, 1000n), /header length 1000 goes beyond the end of the file \(2 bytes after the length\)/);
    invalid(file('{}', 0, 2n ** 64n - 1n), /header length 18446744073709551615 is above the limit of 100000000 bytes/);
    invalid(file('{}', 0, 100_000_001n), /above the limit/);
    const padded = file('{}      ');
    expect(parseSafetensors(padded).tensors.size).toBe(0);
    expectError(
      () => parseSafetensors(padded, { maxHeaderBytes: 4 }),
      'SAFETENSORS_INVALID',
      /header length 8 is above the limit of 4/,
    );
  });

  it('rejects headers that are not UTF-8, JSON or an object', () => {
    invalid(file(new Uint8Array([0x7b, 0xff, 0x7d])), /header is not valid UTF-8/);
    invalid(file(new Uint8Array([0x7b, 0xed, 0xa0, 0x80, 0x7d])), /not valid UTF-8/); // encoded surrogate
    invalid(file('\uFEFF{}'), /header must start with "\{"/); // a BOM is not allowed
    invalid(file(' {}'), /must start with/);
    invalid(file('[]'), /must start with "\{", got "\[\]"/);
    invalid(file('null'), /must start with/);
    invalid(file(''), /must start with/);
    invalid(file('{"a":'), /header is not valid JSON/);
    invalid(file('{} x'), /not valid JSON/);
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
    invalid(file(`{"a":${a},"a":${a}}`, 4), /duplicate key "a" in header JSON at the top level/);
    invalid(file(`{"a":${a},"\\u0061":${a}}`, 4), /duplicate key "a"/);
    invalid(
      file(`{"a":{"dtype":"F32","shape":[1],"dtype":"F32","data_offsets":[0,4]}}`, 4),
      /duplicate key "dtype" in header JSON in entry "a"/,
    );
    invalid(file(`{"__metadata__":{},"a":${a},"__metadata__":{}}`, 4), /duplicate key "__metadata__"/);
    invalid(
      file(`{"__metadata__":{"k":"1","k":"2"},"a":${a}}`, 4),
      /duplicate key "k" in header JSON in entry "__metadata__"/,
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
    invalid(file(deep), /entry must be an object, got an array/);
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
