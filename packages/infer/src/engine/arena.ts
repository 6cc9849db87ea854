/**
 * A bump allocator over one shared WebAssembly.Memory: everything the engine reads (weights,
 * records, KV pool, scratch) is laid out once at compile time, so there is no free. Bytes
 * [0, 65536) stay reserved scratch. Grows the memory as needed, up to wasm32's 4 GiB.
 *
 *   const arena = new Arena(createMemory(2));
 *   const p = arena.alloc(1024);            // 65536 (16-byte aligned)
 *   arena.f32(p, 256).fill(1);              // a view of those bytes
 */
import { InferError } from '../errors.js';
import { MAX_PAGES, PAGE_BYTES } from '../wasm/module.js';

export const RESERVED_BYTES = 65536;

export class Arena {
  readonly memory: WebAssembly.Memory;
  /** Next free byte. */
  top = RESERVED_BYTES;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
  }

  /** `bytes` bytes aligned to `align` (default 16); throws OUT_OF_MEMORY past 4 GiB. */
  alloc(bytes: number, align = 16): number {
    const start = Math.ceil(this.top / align) * align;
    const end = start + bytes;
    if (end > MAX_PAGES * PAGE_BYTES) {
      throw new InferError('OUT_OF_MEMORY', `the engine needs ${(end / 2 ** 30).toFixed(2)} GiB of WebAssembly memory, above wasm32's 4 GiB. Use smaller weights (weights: 'q8_0' or 'q4_0'), a smaller maxTokens, or a smaller model.`);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE_BYTES);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new InferError('OUT_OF_MEMORY', `could not grow WebAssembly memory to ${(end / 2 ** 20).toFixed(0)} MiB (${(e as Error).message}). Free memory, or use smaller weights / maxTokens.`);
      }
    }
    this.top = end;
    return start;
  }

  /** Copy bytes in; returns their offset. */
  put(bytes: Uint8Array | Float32Array, align = 16): number {
    const p = this.alloc(bytes.byteLength, align);
    this.u8(p, bytes.byteLength).set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return p;
  }

  u8(p: number, n: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, p, n);
  }
  f32(p: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, p, n);
  }
  i32(p: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, p, n);
  }
  u32(p: number, n: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, p, n);
  }
}
