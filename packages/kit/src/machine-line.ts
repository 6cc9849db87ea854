/**
 * The one line every benchmark prints about the machine it ran on: core count, CPU model and
 * Node version, plus whatever the benchmark adds (backend, mode).
 *
 *   machineLine();                     // → '2× AMD EPYC 7B13, Node v20.19.2'
 *   machineLine(`backend ${backend}`); // → '2× AMD EPYC 7B13, Node v20.19.2, backend wasm'
 */
import os from 'node:os';

export function machineLine(...extras: string[]): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown CPU';
  return [`${cpus.length}× ${model}`, `Node ${process.version}`, ...extras].join(', ');
}
