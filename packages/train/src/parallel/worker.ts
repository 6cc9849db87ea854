/**
 * Entry of a data-parallel worker thread (built by tsup as dist/parallel-worker.js; trainParallel
 * starts one per replica). It initializes its own tfjs backend, imports the setup module, builds
 * its replica, reports the weights' names and shapes, receives the shared buffer and trains.
 * Errors go to the main thread as a message (name, code, message), never as tensors.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '@llm/tensor-gpu';
import { Comm, makeLayout, ReplicaAborted } from './shared.js';
import { runReplica, type ReplicaOptions, type SetupFn } from './replica.js';

export interface WorkerInit extends ReplicaOptions {
  /** URL (file:) of the setup module. */
  setup: string;
  /** Structured-cloneable arguments of its setup function. */
  args: unknown;
  /** The backend each worker starts (default 'wasm'). */
  backend: NonNullable<Parameters<typeof initBackend>[0]>['backend'];
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('parallel-worker must run in a worker thread (trainParallel starts it)');
  const init = workerData as WorkerInit;
  try {
    await initBackend({ backend: init.backend, log: false });
    const mod = (await import(init.setup)) as { setup?: SetupFn; default?: SetupFn };
    const fn = mod.setup ?? mod.default;
    if (typeof fn !== 'function') throw new Error(`the setup module ${init.setup} exports no \`setup\` function (nor a default one)`);
    const built = await fn(init.args, { rank: init.rank, workers: init.workers });
    const connect = () =>
      new Promise<Comm>((resolve) => {
        port.once('message', (m: { type: 'start'; sab: SharedArrayBuffer; sizes: number[] }) => resolve(new Comm(m.sab, makeLayout(init.workers, m.sizes), init.rank)));
      });
    try {
      await runReplica(built, init, connect, (m) => port.postMessage(m));
    } finally {
      built.model.dispose();
      (built.teacher as { dispose?: () => void } | undefined)?.dispose?.();
    }
  } catch (e) {
    if (e instanceof ReplicaAborted) return; // another worker failed: the main thread reports that
    const err = e as Error & { code?: unknown };
    port.postMessage({ type: 'error', rank: init.rank, name: err?.name ?? 'Error', code: typeof err?.code === 'string' ? err.code : null, message: err?.message ?? String(e), stack: err?.stack ?? null });
  }
}

void main();
