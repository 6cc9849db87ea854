/**
 * Runs a snippet of ESM JavaScript in its own Node process under a time and memory budget — how
 * the hostile-input suites run each case: a hang, a native abort or a runaway allocation ends that
 * child, not the test runner, and is reported as such.
 *
 *   const r = await runIsolated(`import { loadModel } from '@llm/transformer'; await loadModel(${JSON.stringify(dir)});`, { cwd: pkgDir });
 *   r.outcome;      // 'exit' | 'timeout' | 'memory'
 *   r.code;         // exit code (1 for an uncaught error)
 *   r.error;        // { name, code, message } of the error the snippet threw, when it threw one
 *   r.peakRssMb;    // highest resident memory seen (Linux; null elsewhere)
 *
 * The snippet's uncaught error is printed as one JSON line on stderr (`__ISOLATED_ERROR__{…}`) so
 * the parent can check its class and code. Memory is watched through /proc (resident set, which
 * includes wasm and ArrayBuffer memory that --max-old-space-size does not cover) and the child is
 * killed when it exceeds the budget.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface IsolatedOptions {
  /** Wall-clock budget (default 15 s). */
  timeoutMs?: number;
  /** Resident memory budget (default 1024 MB). */
  memoryMb?: number;
  /** Working directory: bare imports resolve from here (a package folder). */
  cwd?: string;
}

export interface IsolatedError {
  name: string;
  code?: string;
  message: string;
}

export interface IsolatedResult {
  outcome: 'exit' | 'timeout' | 'memory';
  code: number | null;
  stdout: string;
  stderr: string;
  /** The snippet's uncaught error, or null when it finished (or was killed). */
  error: IsolatedError | null;
  ms: number;
  peakRssMb: number | null;
}

const MARK = '__ISOLATED_ERROR__';
/** Preloaded into the child: its uncaught error (sync or async, imports included) as one marked JSON line, exit 1. */
const REPORTER = `data:text/javascript,${encodeURIComponent(`
  const report = (e) => {
    process.stderr.write('${MARK}' + JSON.stringify({ name: e?.name ?? typeof e, code: e?.code, message: String(e?.message ?? e) }) + '\\n');
    process.exit(1);
  };
  process.on('uncaughtException', report);
  process.on('unhandledRejection', report);
`)}`;

export function runIsolated(code: string, opts: IsolatedOptions = {}): Promise<IsolatedResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const memoryMb = opts.memoryMb ?? 1024;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', REPORTER, '--input-type=module', '-e', code], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let outcome: IsolatedResult['outcome'] = 'exit';
  let peak: number | null = null;
  const watch = setInterval(() => {
    const rss = residentMb(child.pid);
    if (rss === null) return;
    peak = Math.max(peak ?? 0, rss);
    if (rss > memoryMb) {
      outcome = 'memory';
      child.kill('SIGKILL');
    }
  }, 25);
  const timer = setTimeout(() => {
    outcome = 'timeout';
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (exit) => {
      clearInterval(watch);
      clearTimeout(timer);
      const line = stderr.split('\n').find((l) => l.startsWith(MARK));
      const error = line ? (JSON.parse(line.slice(MARK.length)) as IsolatedError) : null;
      resolve({ outcome, code: exit, stdout, stderr, error, ms: performance.now() - t0, peakRssMb: peak });
    });
  });
}

/** Resident set size of a process in MB (Linux /proc), or null when it cannot be read. */
function residentMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
