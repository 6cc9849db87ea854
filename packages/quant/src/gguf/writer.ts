/**
 * GGUF v3 writer: header, metadata, tensor infos, then each tensor's bytes at an aligned offset,
 * streamed to disk atomically (@llm/tensor-gpu's writeFileAtomic).
 *
 *   await writeGguf('out.gguf', {
 *     metadata: new Map([['general.architecture', gv.str('llama')]]),
 *     tensors: [{ name: 'token_embd.weight', shape: [V, C], type: 0, data: () => f32Bytes }],
 *   });
 */
import { writeFileAtomic } from '@llm/tensor-gpu';
import { QuantError } from '../errors.js';
import { GGML_TYPE_SIZES, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, SCALAR_SIZE, alignUp, type GgufArray, type GgufValue } from './format.js';

export interface GgufTensorInput {
  name: string;
  /** Row-major shape (written reversed as ne). */
  shape: number[];
  /** ggml type id. */
  type: number;
  /** The tensor's bytes in that type (produced lazily, one tensor at a time). */
  data: () => Uint8Array | Promise<Uint8Array>;
}

export interface GgufWriteInput {
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInput[];
}

const enc = new TextEncoder();

class Out {
  chunks: Uint8Array[] = [];
  size = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.byteLength;
  }
  num(type: number, v: number | bigint | boolean): void {
    const b = new Uint8Array(SCALAR_SIZE[type]!);
    const dv = new DataView(b.buffer);
    switch (type) {
      case 0: dv.setUint8(0, v as number); break;
      case 1: dv.setInt8(0, v as number); break;
      case 2: dv.setUint16(0, v as number, true); break;
      case 3: dv.setInt16(0, v as number, true); break;
      case 4: dv.setUint32(0, v as number, true); break;
      case 5: dv.setInt32(0, v as number, true); break;
      case 6: dv.setFloat32(0, v as number, true); break;
      case 7: dv.setUint8(0, v ? 1 : 0); break;
      case 10: dv.setBigUint64(0, BigInt(v as bigint), true); break;
      case 11: dv.setBigInt64(0, BigInt(v as bigint), true); break;
      case 12: dv.setFloat64(0, v as number, true); break;
      default: throw new QuantError('INVALID_ARGUMENT', `GGUF writer: unknown scalar type ${type}`);
    }
    this.push(b);
  }
  str(s: string): void {
    const b = enc.encode(s);
    this.num(10, BigInt(b.byteLength));
    this.push(b);
  }
  item(type: number, v: unknown): void {
    if (type === 8) this.str(v as string);
    else if (type === 9) this.array(v as GgufArray);
    else this.num(type, v as number);
  }
  array(a: GgufArray): void {
    this.num(4, a.itemType);
    this.num(10, BigInt(a.value.length));
    for (const x of a.value) this.item(a.itemType, x);
  }
}

/** The header, metadata and tensor infos (padded to the alignment), and each tensor's data offset. */
export function ggufHeader(input: GgufWriteInput): { header: Uint8Array; offsets: number[]; alignment: number } {
  const a = input.metadata.get('general.alignment');
  const alignment = a && a.type === 4 ? a.value : GGUF_DEFAULT_ALIGNMENT;
  const o = new Out();
  o.num(4, GGUF_MAGIC);
  o.num(4, GGUF_VERSION);
  o.num(10, BigInt(input.tensors.length));
  o.num(10, BigInt(input.metadata.size));
  for (const [k, v] of input.metadata) {
    o.str(k);
    o.num(4, v.type);
    if (v.type === 9) o.array(v);
    else o.item(v.type, v.value);
  }
  const offsets: number[] = [];
  let off = 0;
  for (const t of input.tensors) {
    const size = GGML_TYPE_SIZES[t.type];
    if (!size) throw new QuantError('INVALID_ARGUMENT', `GGUF writer: tensor "${t.name}" has unknown ggml type ${t.type}`);
    o.str(t.name);
    o.num(4, t.shape.length);
    for (const d of [...t.shape].reverse()) o.num(10, BigInt(d));
    o.num(4, t.type);
    o.num(10, BigInt(off));
    offsets.push(off);
    const n = t.shape.reduce((x, y) => x * y, 1);
    off = alignUp(off + (n / size[0]) * size[1], alignment);
  }
  const padded = alignUp(o.size, alignment);
  const header = new Uint8Array(padded);
  let p = 0;
  for (const ch of o.chunks) {
    header.set(ch, p);
    p += ch.byteLength;
  }
  return { header, offsets, alignment };
}

async function* chunks(input: GgufWriteInput): AsyncGenerator<Uint8Array> {
  const { header, alignment } = ggufHeader(input);
  yield header;
  for (const t of input.tensors) {
    const size = GGML_TYPE_SIZES[t.type]!;
    const n = t.shape.reduce((x, y) => x * y, 1);
    const want = (n / size[0]) * size[1];
    const data = await t.data();
    if (data.byteLength !== want) throw new QuantError('INVALID_ARGUMENT', `GGUF writer: tensor "${t.name}" has ${data.byteLength} bytes, its shape and type need ${want}`);
    yield data;
    const pad = alignUp(want, alignment) - want;
    if (pad) yield new Uint8Array(pad);
  }
}

/** Write a GGUF file atomically, one tensor's bytes in memory at a time. */
export async function writeGguf(path: string, input: GgufWriteInput): Promise<void> {
  await writeFileAtomic(path, chunks(input));
}

/** The whole GGUF in memory (tests, small files). */
export async function serializeGguf(input: GgufWriteInput): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks(input)) parts.push(c);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let p = 0;
  for (const c of parts) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}
