import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import {
  parseSafetensors,
  rawToFloat32,
  rawToTensor,
  readSafetensors,
  serializeSafetensors,
  tensorToRaw,
  writeSafetensors,
  type RawTensor,
  type SafetensorsDtype,
} from './index.js';
import { expectError } from '../testing/expect-error.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...parts: (Uint8Array | number[])[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
const u64 = (n: number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
};
const f32Bytes = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);
const raw = (dtype: SafetensorsDtype, shape: number[], data: number[] | Uint8Array): RawTensor => ({
  dtype,
  shape,
  data: data instanceof Uint8Array ? data : Uint8Array.from(data),
});


let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'safetensors-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('byte layout (matches the reference writer)', () => {
  it('writes one F32 tensor exactly as the reference does', () => {
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64); // already a multiple of 8: no padding
    const expected = bytes(u64(64), utf8(header), f32Bytes([0, 1, 2, 3, 4, 5]));
    const got = serializeSafetensors({ 'attn.0': raw('F32', [1, 2, 3], f32Bytes([0, 1, 2, 3, 4, 5])) });
    expect(got).toEqual(expected);
  });

  it('pads the header with spaces so that the data starts at a multiple of 8', () => {
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(65);
    const expected = bytes(u64(72), utf8(header), utf8('       '), f32Bytes([0, 1, 2, 3, 4, 5]));
    expect(serializeSafetensors({ attn0: raw('F32', [1, 1, 2, 3], f32Bytes([0, 1, 2, 3, 4, 5])) })).toEqual(expected);
  });

  it('writes empty files and metadata like the reference', () => {
    expect(serializeSafetensors({})).toEqual(bytes(u64(8), utf8('{}      ')));
    expect(serializeSafetensors({}, {})).toEqual(bytes(u64(8), utf8('{}      ')));
    const header = '{"__metadata__":{"framework":"pt"}}';
    expect(serializeSafetensors({}, { framework: 'pt' })).toEqual(bytes(u64(40), utf8(header), utf8('     ')));
  });

  it('orders by dtype alignment then name (code points), metadata first, data back to back', () => {
    const inputs: Record<string, RawTensor> = {
      m: raw('BOOL', [2], [1, 0]),
      b: raw('U8', [3], [1, 2, 3]),
      a: raw('F16', [2], [0x00, 0x3c, 0x00, 0xc0]),
      c: raw('F32', [], f32Bytes([1.5])),
      '10': raw('F32', [1], f32Bytes([2])),
      '9': raw('F32', [0], []),
      z: raw('I64', [1], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      e: raw('I32', [2, 0], []),
      é: raw('I8', [1], [0xff]),
    };
    const header =
      '{"__metadata__":{"b":"x","format":"pt"},' +
      '"z":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
      '"10":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"9":{"dtype":"F32","shape":[0],"data_offsets":[12,12]},' +
      '"c":{"dtype":"F32","shape":[],"data_offsets":[12,16]},' +
      '"e":{"dtype":"I32","shape":[2,0],"data_offsets":[16,16]},' +
      '"a":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},' +
      '"é":{"dtype":"I8","shape":[1],"data_offsets":[20,21]},' +
      '"b":{"dtype":"U8","shape":[3],"data_offsets":[21,24]},' +
      '"m":{"dtype":"BOOL","shape":[2],"data_offsets":[24,26]}}';
    const headerBytes = utf8(header); // 'é' is 2 bytes in UTF-8
    expect(headerBytes.length).toBe(534);
    const expected = bytes(
      u64(536),
      headerBytes,
      utf8('  '), // 2 spaces: 534 -> 536
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // z
      f32Bytes([2]), // 10
      f32Bytes([1.5]), // c
      [0x00, 0x3c, 0x00, 0xc0], // a
      [0xff], // é
      [1, 2, 3], // b
      [1, 0], // m
    );
    expect(serializeSafetensors(inputs, { format: 'pt', b: 'x' })).toEqual(expected);
  });

  it('sorts names by code point (UTF-8 byte order), not UTF-16 units', () => {
    const out = serializeSafetensors({ '\u{1F600}': raw('U8', [0], []), '\uFFFD': raw('U8', [0], []) });
    const text = new TextDecoder().decode(out.subarray(8));
    expect(text.indexOf('\uFFFD')).toBeLessThan(text.indexOf('\u{1F600}'));
  });

  it('accepts headers that are not padded', () => {
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    const file = parseSafetensors(bytes(u64(65), utf8(header), f32Bytes([0, 1, 2, 3, 4, 5])));
    expect(Array.from(rawToFloat32(file.tensors.get('attn0') as RawTensor))).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('round trips', () => {
  const dtypes: SafetensorsDtype[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];
  const sizes: Record<SafetensorsDtype, number> = {
    F64: 8,
    F32: 4,
    F16: 2,
    BF16: 2,
    I64: 8,
    I32: 4,
    I16: 2,
    I8: 1,
    U8: 1,
    BOOL: 1,
  };
  const shapes = [[2, 3], [], [0], [3, 0, 2], [1, 1, 1, 5]];

  function sampleTensors(): Map<string, RawTensor> {
    const tensors = new Map<string, RawTensor>();
    let seed = 7;
    for (const dtype of dtypes) {
      for (const [i, shape] of shapes.entries()) {
        const n = shape.reduce((a, b) => a * b, 1) * sizes[dtype];
        const data = Uint8Array.from({ length: n }, () => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return dtype === 'BOOL' ? seed & 1 : seed & 0xff;
        });
        tensors.set(`${dtype.toLowerCase()}.${i}`, { dtype, shape, data });
      }
    }
    return tensors;
  }

  function expectSame(got: Map<string, RawTensor>, want: Map<string, RawTensor>): void {
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, t] of want) {
      const g = got.get(name) as RawTensor;
      expect({ name, dtype: g.dtype, shape: g.shape }).toEqual({ name, dtype: t.dtype, shape: t.shape });
      expect(new Uint8Array(g.data)).toEqual(new Uint8Array(t.data));
    }
  }

  it('keeps bytes, shapes and dtypes of every dtype, 0-d and empty tensors (buffer)', () => {
    const tensors = sampleTensors();
    const file = parseSafetensors(serializeSafetensors(tensors, { note: 'héllo', '': '' }));
    expectSame(file.tensors, tensors);
    expect(file.metadata).toEqual({ note: 'héllo', '': '' });
  });

  it('keeps them through writeSafetensors / readSafetensors on disk', async () => {
    const tensors = sampleTensors();
    const path = join(dir, 'all.safetensors');
    await writeSafetensors(path, tensors, { step: '3' });
    const file = await readSafetensors(path);
    expectSame(file.tensors, tensors);
    expect(file.metadata).toEqual({ step: '3' });
    expect(new Uint8Array(await readFile(path))).toEqual(serializeSafetensors(tensors, { step: '3' }));
  });

  it('leaves I/O errors to Node', async () => {
    await expect(readSafetensors(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('re-serializes a parsed file to the same bytes', () => {
    const original = serializeSafetensors(sampleTensors(), { a: 'b' });
    const { tensors, metadata } = parseSafetensors(original);
    expect(serializeSafetensors(tensors, metadata)).toEqual(original);
  });

  it('handles names that are special in JS objects', () => {
    const tensors = JSON.parse('{"__proto__":1,"constructor":2,"0":3}') as Record<string, number>;
    const input = Object.fromEntries(Object.keys(tensors).map((k) => [k, raw('U8', [1], [tensors[k] as number])]));
    const file = parseSafetensors(serializeSafetensors(input, JSON.parse('{"__proto__":"p"}')));
    expect([...file.tensors.keys()]).toEqual(['0', '__proto__', 'constructor']);
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
    expect(Object.entries(file.metadata)).toEqual([['__proto__', 'p']]);
  });

  it('reports no metadata as {}', () => {
    expect(parseSafetensors(serializeSafetensors({})).metadata).toEqual({});
  });
});

describe('tfjs conversions', () => {
  it('round-trips float32, int32 and bool tensors, scalars and empty tensors', () => {
    const inputs = {
      f: tf.tensor([
        [1.5, -2],
        [3, 4],
      ]),
      i: tf.tensor([1, -5, 7], [3], 'int32'),
      b: tf.tensor([true, false, true], [3], 'bool'),
      s: tf.scalar(3),
      e: tf.zeros([2, 0]),
    };
    const file = parseSafetensors(serializeSafetensors(inputs));
    const dtypes = Object.fromEntries([...file.tensors].map(([k, t]) => [k, t.dtype]));
    expect(dtypes).toEqual({ f: 'F32', i: 'I32', b: 'BOOL', s: 'F32', e: 'F32' });
    for (const [name, t] of Object.entries(inputs)) {
      const back = rawToTensor(file.tensors.get(name) as RawTensor);
      expect(back.shape).toEqual(t.shape);
      expect(back.dtype).toBe(name === 'b' ? 'int32' : t.dtype);
      expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
      back.dispose();
      t.dispose();
    }
  });

  it('converts to F16 and BF16 with round-to-nearest-even', () => {
    const t = tf.tensor([1, 0.1, 65504, 1e5, -2]);
    const h = tensorToRaw(t, 'F16');
    expect(Array.from(h.data)).toEqual([0x00, 0x3c, 0x66, 0x2e, 0xff, 0x7b, 0x00, 0x7c, 0x00, 0xc0]);
    expect(Array.from(rawToFloat32(h))).toEqual([1, 0.0999755859375, 65504, Infinity, -2]);
    const b = tensorToRaw(t, 'BF16');
    expect(Array.from(rawToFloat32(b))).toEqual([1, 0.10009765625, 65536, 99840, -2]);
    const back = rawToTensor(h);
    expect(back.dtype).toBe('float32');
    back.dispose();
    t.dispose();
  });

  it('narrows integers only when every value fits', () => {
    const t = tf.tensor([-128, 0, 127], [3], 'int32');
    expect(Array.from(tensorToRaw(t, 'I8').data)).toEqual([0x80, 0, 0x7f]);
    expectError(() => tensorToRaw(t, 'U8'), 'SAFETENSORS_WRITE', /value -128 at index 0 is not a U8/);
    const f = tf.tensor([1, 2.5]);
    expectError(() => tensorToRaw(f, 'I32'), 'SAFETENSORS_WRITE', /value 2.5 at index 1/);
    expect(Array.from(tensorToRaw(tf.tensor([0, 255], [2], 'int32'), 'U8').data)).toEqual([0, 255]);
    tf.dispose([t, f]);
  });

  it('rejects tensors it cannot store', () => {
    const s = tf.tensor(['a']);
    expectError(() => tensorToRaw(s), 'SAFETENSORS_WRITE', /tfjs dtype string/);
    s.dispose();
    const d = tf.scalar(1);
    d.dispose();
    expectError(() => serializeSafetensors({ d }), 'SAFETENSORS_WRITE', /disposed/);
  });

  it('decodes integer dtypes to int32 tensors', () => {
    const cases: [RawTensor, number[]][] = [
      [raw('I8', [2], [1, 255]), [1, -1]],
      [raw('U8', [2], [1, 255]), [1, 255]],
      [raw('I16', [1], [0x00, 0x80]), [-32768]],
      [raw('BOOL', [3], [0, 1, 7]), [0, 1, 1]],
      [raw('I64', [2], [5, 0, 0, 0, 0, 0, 0, 0, 0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), [5, -7]],
    ];
    for (const [r, values] of cases) {
      const t = rawToTensor(r);
      expect([t.dtype, Array.from(t.dataSync())]).toEqual(['int32', values]);
      t.dispose();
    }
    const f64 = rawToTensor(raw('F64', [1], new Uint8Array(new Float64Array([0.1]).buffer)));
    expect([f64.dtype, f64.dataSync()[0]]).toEqual(['float32', Math.fround(0.1)]);
    f64.dispose();
  });

  it('refuses I64 values that do not fit in int32', () => {
    const big = raw('I64', [2], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]); // 0, 2^31
    const before = tf.memory().numTensors;
    expectError(() => rawToTensor(big), 'SAFETENSORS_UNSUPPORTED', /I64 value 2147483648 at index 1/);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(rawToFloat32(big))).toEqual([0, 2 ** 31]);
  });

  it('decodes F32 data that is not 4-byte aligned', () => {
    const header =
      '{"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"f":{"dtype":"F32","shape":[2],"data_offsets":[3,11]}}';
    const file = bytes([9, 9, 9], u64(header.length), utf8(header), [1, 2, 3], f32Bytes([1.25, -3]));
    const parsed = parseSafetensors(file.subarray(3)); // a view at an odd offset, too
    const f = parsed.tensors.get('f') as RawTensor;
    expect(f.data.byteOffset % 4).not.toBe(0);
    expect(Array.from(rawToFloat32(f))).toEqual([1.25, -3]);
    const t = rawToTensor(f);
    expect(Array.from(t.dataSync())).toEqual([1.25, -3]);
    t.dispose();
  });

  it('rejects raw tensors whose bytes do not match their shape', () => {
    expectError(() => rawToFloat32(raw('F32', [2], [0, 0, 0])), 'SAFETENSORS_INVALID', /needs 8 bytes, data has 3/);
    expectError(() => rawToTensor(raw('U16' as SafetensorsDtype, [1], [0, 0])), 'SAFETENSORS_INVALID', /dtype "U16"/);
  });
});

describe('write validation', () => {
  const ok = raw('U8', [2], [1, 2]);
  it.each([
    ['an empty name', { '': ok }, /non-empty strings/],
    ['the reserved name', { __metadata__: ok }, /"__metadata__" is reserved/],
    [
      'a shape/bytes mismatch',
      { w: raw('F32', [2, 2], [0, 0, 0, 0]) },
      /tensor "w": shape \[2,2\] of F32 needs 16 bytes, data has 4/,
    ],
    [
      'an unsupported dtype',
      { w: raw('U16' as SafetensorsDtype, [1], [0, 0]) },
      /tensor "w": unknown or unsupported dtype "U16"/,
    ],
    ['a missing dtype', { w: { shape: [1], data: new Uint8Array(1) } }, /unknown or unsupported dtype undefined/],
    ['a negative dim', { w: raw('U8', [-1], []) }, /tensor "w": dim 0 is -1/],
    ['data that is not bytes', { w: { dtype: 'U8', shape: [2], data: [1, 2] } }, /data must be a Uint8Array/],
    ['a value that is not a tensor', { w: 5 }, /expected a RawTensor or tf.Tensor, got 5/],
    ['an unpaired surrogate', { '\uD800': ok }, /unpaired surrogate/],
  ])('rejects %s', (_what, tensors, fragment) => {
    expectError(() => serializeSafetensors(tensors as Record<string, RawTensor>), 'SAFETENSORS_WRITE', fragment);
  });

  it('rejects bad containers, names and metadata', () => {
    const m = new Map<unknown, RawTensor>([[1, ok]]) as unknown as Map<string, RawTensor>;
    expectError(() => serializeSafetensors(m), 'SAFETENSORS_WRITE', /non-empty strings, got 1/);
    expectError(() => serializeSafetensors(null as never), 'SAFETENSORS_WRITE', /Map or an object/);
    const bad = { k: 1 } as unknown as Record<string, string>;
    expectError(
      () => serializeSafetensors({ w: ok }, bad),
      'SAFETENSORS_WRITE',
      /metadata "k" must be a string, got 1/,
    );
    expectError(() => serializeSafetensors({ w: ok }, [] as never), 'SAFETENSORS_WRITE', /metadata must be an object/);
  });
});
