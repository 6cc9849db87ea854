/**
 * Worker threads that run their share of every step on the engine's shared memory: each
 * instantiates the same wasm module on the same memory and, when the main thread bumps the `go`
 * word, calls forward_thread(model, batch, tid, nth, barrier) while the main thread runs tid 0.
 * Phases inside the step are separated by the wasm-side barrier (assembly/engine/sync.ts).
 *
 *   const pool = new WorkerPool(module, memory, 2);   // the main thread + 1 worker
 *   pool.run(wasm, modelPtr, batchPtr);               // one step, all threads
 *   pool.close();
 *
 * Control record (bytes in the reserved scratch [0, 64 KiB)): at CTL [go, model, batch, quit],
 * at CTL + 16 the barrier [count, generation, abort, shared]. A worker that dies makes the other
 * threads' barrier give up after ~10 s and set `abort`: run() then throws WORKER_FAILED.
 */
import { Worker } from 'node:worker_threads';
import { InferError } from '../errors.js';
import type { EngineExports } from '../wasm/module.js';

/** Top of the reserved scratch [0, 64 KiB) (AssemblyScript would put any static data at 1 KiB). */
export const CTL = 65536 - 64;
const BAR = CTL + 16;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, tid, nth, ctl, bar } = workerData;
const wasm = new WebAssembly.Instance(module, { env: { memory, abort() {} } }).exports;
let seen = 0;
for (;;) {
  const c = new Int32Array(memory.buffer, ctl, 4);
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  if (Atomics.load(c, 3) === 1) break;
  wasm.forward_thread(c[1] >>> 0, c[2] >>> 0, tid, nth, bar);
}
`;

export class WorkerPool {
  readonly threads: number;
  private readonly memory: WebAssembly.Memory;
  private readonly workers: Worker[] = [];
  private failed: string | null = null;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number) {
    this.threads = threads;
    this.memory = memory;
    new Int32Array(memory.buffer, CTL, 8).fill(0);
    for (let tid = 1; tid < threads; tid++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, tid, nth: threads, ctl: CTL, bar: BAR } });
      w.on('error', (e) => (this.failed = `worker ${tid} failed: ${e.message}`));
      w.on('exit', (code) => {
        if (code !== 0 && !this.failed) this.failed = `worker ${tid} exited with code ${code}`;
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /** One step on every thread; returns when all are done. */
  run(wasm: EngineExports, model: number, batch: number): void {
    if (this.failed) throw new InferError('WORKER_FAILED', `${this.failed}; compile the model again (or with threads: 1).`);
    const c = new Int32Array(this.memory.buffer, CTL, 8);
    c[1] = model;
    c[2] = batch;
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    wasm.forward_thread(model, batch, 0, this.threads, BAR);
    if (Atomics.load(c, 6) !== 0) {
      this.failed ??= 'a worker thread stopped answering';
      throw new InferError('WORKER_FAILED', `${this.failed}; the step's results were discarded. Compile the model again (or with threads: 1).`);
    }
  }

  /** Stops the workers. Idempotent. */
  close(): void {
    const c = new Int32Array(this.memory.buffer, CTL, 8);
    Atomics.store(c, 3, 1);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    for (const w of this.workers.splice(0)) void w.terminate();
  }
}
