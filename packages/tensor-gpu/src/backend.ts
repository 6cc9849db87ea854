/**
 * Backend choice. `initBackend()` picks the best tfjs backend that really works on this machine:
 *
 *   tensorflow-gpu (@tensorflow/tfjs-node-gpu) → tensorflow (@tensorflow/tfjs-node) → wasm → cpu
 *
 * A backend that is installed but broken (e.g. npm skipped the install script that downloads
 * libtensorflow) is reported and skipped, never fatal. On wasm it also installs tensor-gpu's
 * kernels (fast matMul, the missing UnsortedSegmentSum, fused cross-entropy gradient).
 *
 *   const info = await initBackend();          // or LLM_BACKEND=cpu node app.js
 *   // [tensor-gpu] backend wasm (SIMD, 1 thread) — tensorflow-gpu: not installed; tensorflow: not installed
 *   info.backend === 'wasm'
 */
import { tf } from './tf.js';
import { TensorGpuError } from './errors.js';
import { installKernels } from './kernels/install.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendRequest = 'auto' | BackendName;

export interface BackendAttempt {
  backend: BackendName;
  ok: boolean;
  reason: string;
}

export interface BackendInfo {
  /** Which of our backend names is active. */
  backend: BackendName;
  /** The tfjs engine's backend name ('tensorflow' for both native ones). */
  tfjsBackend: string;
  /** Why this one was chosen and why the better ones were not. */
  reason: string;
  /** Threads the backend computes with (1 for wasm under Node, 1 for cpu). */
  threads: number;
  /** WebAssembly SIMD in use (wasm backend only). */
  simd: boolean;
  /** Every backend tried, in order. */
  attempts: BackendAttempt[];
}

export interface InitBackendOptions {
  /** 'auto' (default; the env var LLM_BACKEND overrides the default) or one backend by name. */
  backend?: BackendRequest;
  /** Install tensor-gpu's kernels on the chosen backend (default true). */
  fastKernels?: boolean;
  /** Where the one-line report goes (default console.error); false for silence. */
  log?: ((line: string) => void) | false;
}

const ORDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const NATIVE_PACKAGE: Record<string, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** Resolve the request: explicit option, else LLM_BACKEND, else 'auto'. Unknown names throw. */
export function resolveBackendRequest(requested?: string): BackendRequest {
  const raw = requested ?? process.env.LLM_BACKEND ?? 'auto';
  const name = raw.trim().toLowerCase();
  if (name === 'auto' || (ORDER as string[]).includes(name)) return name as BackendRequest;
  const from = requested === undefined ? ` (from the LLM_BACKEND environment variable)` : '';
  throw new TensorGpuError(
    'BACKEND_UNKNOWN',
    `Unknown backend "${raw}"${from}. Use one of: auto, ${ORDER.join(', ')}.`,
  );
}

/** Choose, initialize and report the tensor backend. See the module comment. */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const request = resolveBackendRequest(opts.backend);
  const candidates = request === 'auto' ? ORDER : [request];
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    const attempt = await tryBackend(name);
    attempts.push(attempt);
    if (attempt.ok) return finish(name, attempts, opts);
  }
  const why = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
  throw new TensorGpuError(
    'BACKEND_UNAVAILABLE',
    `Backend "${request}" could not be started (${why}). ` +
      `Use initBackend({ backend: 'auto' }) or LLM_BACKEND=auto to fall back to wasm or cpu.`,
  );
}

async function finish(name: BackendName, attempts: BackendAttempt[], opts: InitBackendOptions) {
  if (opts.fastKernels ?? true) installKernels(tf.getBackend());
  const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : false;
  const threads = name === 'wasm' ? wasmThreads() : name === 'cpu' ? 1 : 0;
  const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.backend}: ${a.reason}`);
  const reason = skipped.length ? skipped.join('; ') : 'requested';
  const info: BackendInfo = { backend: name, tfjsBackend: tf.getBackend(), reason, threads, simd, attempts };
  const log = opts.log === undefined ? (l: string) => console.error(l) : opts.log;
  if (log) log(describe(info));
  return info;
}

/** The one-line report, e.g. "[tensor-gpu] backend wasm (SIMD, 1 thread) — tensorflow: not installed". */
export function describe(info: BackendInfo): string {
  const extras = info.backend === 'wasm' ? ` (${info.simd ? 'SIMD' : 'no SIMD'}, ${info.threads} thread${info.threads === 1 ? '' : 's'})` : '';
  return `[tensor-gpu] backend ${info.backend}${extras} — ${info.reason}`;
}

async function tryBackend(name: BackendName): Promise<BackendAttempt> {
  return withHostProcessHandlers(() => startBackend(name));
}

async function startBackend(name: BackendName): Promise<BackendAttempt> {
  try {
    if (name in NATIVE_PACKAGE) await loadNative(NATIVE_PACKAGE[name]!);
    const tfjsName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
    if (!tf.findBackendFactory(tfjsName)) return { backend: name, ok: false, reason: 'not registered' };
    const ok = await withQuietWarnings(() => tf.setBackend(tfjsName));
    if (!ok) return { backend: name, ok: false, reason: 'failed to initialize' };
    await tf.ready();
    if (name === 'cpu') quietCpuNotice();
    smokeTest();
    return { backend: name, ok: true, reason: 'ok' };
  } catch (err) {
    return { backend: name, ok: false, reason: firstLine(err) };
  }
}

const PROCESS_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `start` and then removes every process-wide error handler it added. tfjs-backend-wasm's
 * Emscripten glue installs `uncaughtException` / `unhandledRejection` handlers that rethrow from
 * inside its bundle, so any later error in the host program exited with code 7 and a stack from
 * tfjs. A library must not change how its host process dies: after this, an uncaught error exits
 * with code 1 and the program's own stack, as Node does by default.
 */
async function withHostProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const emitter = process as unknown as NodeJS.EventEmitter; // typed per event name otherwise
  const before = new Map(PROCESS_EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return await start();
  } finally {
    for (const e of PROCESS_EVENTS) {
      for (const l of emitter.listeners(e)) if (!before.get(e)!.has(l)) emitter.removeListener(e, l as (...a: unknown[]) => void);
    }
  }
}

/** Load a native tfjs-node package; throws "not installed" or "installed but broken: …". */
async function loadNative(pkg: string): Promise<void> {
  try {
    const specifier = pkg; // a variable keeps bundlers from resolving the optional peer
    await import(specifier);
  } catch (err) {
    if (isMissingPackage(err, pkg)) throw new Error('not installed');
    throw new Error(
      `installed but broken (${firstLine(err)}); reinstall it with its install script allowed so it can fetch libtensorflow`,
    );
  }
}

/** True when `err` says the package itself is missing (not a file inside it, e.g. the native binding). */
function isMissingPackage(err: unknown, pkg: string): boolean {
  const msg = firstLine(err);
  const namesPkg = msg.includes(`'${pkg}'`) || msg.includes(`"${pkg}"`);
  return namesPkg && /cannot find|could not resolve/i.test(msg);
}

/** A backend counts as working only if it computes a small op correctly. */
function smokeTest(): void {
  const out = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync());
  if (out[0] !== 11) throw new Error(`smoke test computed ${out[0]} instead of 11`);
}

/**
 * tfjs-backend-cpu prints a multi-line "install tfjs-node" banner on its first write in Node.
 * initBackend already reports which better backends were skipped and why, in one line.
 */
function quietCpuNotice(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | undefined;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

function wasmThreads(): number {
  const backend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  return backend.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}

async function withQuietWarnings<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0]!.slice(0, 200);
}

