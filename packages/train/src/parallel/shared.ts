/**
 * The shared memory of a data-parallel run: one SharedArrayBuffer that every replica maps, holding
 * a control block (barrier, stop and abort flags, weight checksums), per-rank step statistics
 * (loss, tokens, metrics), per-rank gradient presence flags, one gradient slot per rank and the
 * reduced (averaged) gradient.
 *
 *   const comm = new Comm(sab, layout, rank);
 *   comm.writeGradient(i, g.dataSync(), offset);   // this rank's flat gradient into its slot
 *   comm.barrier();                                 // everyone has written
 *   comm.reduceChunk();                             // rank r sums elements [r·P/N, (r+1)·P/N) of all slots, in rank order
 *   comm.barrier();                                 // the reduced gradient is complete
 *
 * Every element of the reduced gradient is summed by one rank, slot 0 + slot 1 + … in that fixed
 * order with float32 rounding after each add — the same arithmetic as the single-process loop's
 * gradient accumulation — and every replica reads the same result, so replicas stay bit-identical.
 * Only this file touches Atomics; the main thread only sets ABORT / STOP (it never waits).
 */

/** Int32 indices of the control block. */
export const CTL = {
  /** Ranks arrived at the current barrier. */
  COUNT: 0,
  /** Barrier generation (bumped when the last rank arrives). */
  GEN: 1,
  /** Set by the main thread when a worker failed: every waiting rank throws ReplicaAborted. */
  ABORT: 2,
  /** Stop requested (1 abort signal, 2 early stop); sampled by the last rank arriving at a barrier. */
  STOP: 3,
  /** The stop value sampled at the last completed barrier (the same for every rank). */
  DECIDED: 4,
  /** First of `workers` weight checksums (uint32 stored as int32). */
  CHECKSUM: 16,
} as const;

export const STOP_ABORT = 1;
export const STOP_EARLY = 2;
/** Most objective metrics a step can log through shared memory. */
export const MAX_METRICS = 32;
/** Most workers a run takes. */
export const MAX_WORKERS = 48;
const CTL_INTS = 64;
const STATS = 4 + MAX_METRICS; // [loss, tokens, metric count, unused, metric values…] per rank (float64)

export interface Layout {
  workers: number;
  /** Elements of each trainable weight, in trainableParameters() order. */
  sizes: number[];
  /** Offset of each weight in a flat gradient. */
  offsets: number[];
  /** Total trainable elements (P). */
  total: number;
  bytes: number;
  statsAt: number;
  presenceAt: number;
  slotsAt: number;
  resultAt: number;
}

export function makeLayout(workers: number, sizes: number[]): Layout {
  const offsets: number[] = [];
  let total = 0;
  for (const s of sizes) {
    offsets.push(total);
    total += s;
  }
  const statsAt = CTL_INTS * 4;
  const presenceAt = statsAt + workers * STATS * 8;
  const slotsAt = presenceAt + Math.ceil((workers * sizes.length) / 8) * 8;
  const resultAt = slotsAt + workers * total * 4;
  return { workers, sizes, offsets, total, bytes: resultAt + total * 4, statsAt, presenceAt, slotsAt, resultAt };
}

/** Thrown in a replica when the main thread aborted the run (another worker failed). */
export class ReplicaAborted extends Error {
  constructor() {
    super('the run was aborted by the main thread (another worker failed)');
    this.name = 'ReplicaAborted';
  }
}

/** Main-thread side: request a stop / abort the run (never blocks). */
export function requestStop(sab: SharedArrayBuffer, value: number): void {
  const ctl = new Int32Array(sab, 0, CTL_INTS);
  Atomics.compareExchange(ctl, CTL.STOP, 0, value);
}

export function abortAll(sab: SharedArrayBuffer): void {
  const ctl = new Int32Array(sab, 0, CTL_INTS);
  Atomics.store(ctl, CTL.ABORT, 1);
  Atomics.notify(ctl, CTL.GEN);
}

export interface StepStats {
  loss: number;
  tokens: number;
  metrics: Record<string, number>;
}

/** A replica's view of the shared memory. */
export class Comm {
  readonly ctl: Int32Array;
  private readonly stats: Float64Array;
  private readonly presence: Uint8Array;
  private readonly slots: Float32Array[];
  readonly result: Float32Array;

  constructor(sab: SharedArrayBuffer, readonly layout: Layout, readonly rank: number) {
    const { workers: N, total: P } = layout;
    this.ctl = new Int32Array(sab, 0, CTL_INTS);
    this.stats = new Float64Array(sab, layout.statsAt, N * STATS);
    this.presence = new Uint8Array(sab, layout.presenceAt, N * layout.sizes.length);
    this.slots = Array.from({ length: N }, (_, r) => new Float32Array(sab, layout.slotsAt + r * P * 4, P));
    this.result = new Float32Array(sab, layout.resultAt, P);
  }

  /**
   * Wait until every rank has arrived. Returns the stop value sampled by the last rank to arrive
   * (the same for every rank). Throws ReplicaAborted when the main thread aborted the run.
   */
  barrier(): number {
    const { ctl } = this;
    if (Atomics.load(ctl, CTL.ABORT)) throw new ReplicaAborted();
    const gen = Atomics.load(ctl, CTL.GEN);
    if (Atomics.add(ctl, CTL.COUNT, 1) === this.layout.workers - 1) {
      Atomics.store(ctl, CTL.COUNT, 0);
      Atomics.store(ctl, CTL.DECIDED, Atomics.load(ctl, CTL.STOP));
      Atomics.add(ctl, CTL.GEN, 1);
      Atomics.notify(ctl, CTL.GEN);
    } else {
      while (Atomics.load(ctl, CTL.GEN) === gen) {
        if (Atomics.load(ctl, CTL.ABORT)) throw new ReplicaAborted();
        Atomics.wait(ctl, CTL.GEN, gen, 250);
      }
    }
    if (Atomics.load(ctl, CTL.ABORT)) throw new ReplicaAborted();
    return Atomics.load(ctl, CTL.DECIDED);
  }

  /** Ask every replica to stop at the next step's first barrier (rank 0: early stop). */
  requestStop(value: number): void {
    Atomics.compareExchange(this.ctl, CTL.STOP, 0, value);
  }

  /** This rank's gradient of weight i (null: the loss does not depend on it). */
  writeGradient(i: number, values: Float32Array | null): void {
    const { offsets, sizes } = this.layout;
    const slot = this.slots[this.rank]!;
    if (values) slot.set(values, offsets[i]);
    else slot.fill(0, offsets[i], offsets[i]! + sizes[i]!);
    this.presence[this.rank * sizes.length + i] = values ? 1 : 0;
  }

  writeStats(s: StepStats): void {
    const at = this.rank * STATS;
    const keys = Object.keys(s.metrics).sort().slice(0, MAX_METRICS);
    this.stats[at] = s.loss;
    this.stats[at + 1] = s.tokens;
    this.stats[at + 2] = keys.length;
    keys.forEach((k, j) => (this.stats[at + 4 + j] = s.metrics[k]!));
  }

  /** Sum over ranks (in rank order) of loss, tokens and metrics; metric names are this rank's. */
  readStats(metricNames: string[]): StepStats {
    const names = [...metricNames].sort().slice(0, MAX_METRICS);
    let loss = 0;
    let tokens = 0;
    const metrics: Record<string, number> = Object.fromEntries(names.map((k) => [k, 0]));
    for (let r = 0; r < this.layout.workers; r++) {
      const at = r * STATS;
      loss += this.stats[at]!;
      tokens += this.stats[at + 1]!;
      names.forEach((k, j) => (metrics[k]! += this.stats[at + 4 + j]!));
    }
    return { loss, tokens, metrics };
  }

  /** Sum this rank's share of the elements over all slots, slot 0 first, rounding to float32 after each add. */
  reduceChunk(): void {
    const { workers: N, total: P } = this.layout;
    const lo = Math.floor((P * this.rank) / N);
    const hi = Math.floor((P * (this.rank + 1)) / N);
    const out = this.result;
    out.set(this.slots[0]!.subarray(lo, hi), lo);
    for (let r = 1; r < N; r++) {
      const s = this.slots[r]!;
      for (let i = lo; i < hi; i++) out[i] = out[i]! + s[i]!; // Float32Array store: float32 rounding after each add
    }
  }

  /** Whether any rank has a gradient for weight i (after the reduce barrier). */
  present(i: number): boolean {
    const n = this.layout.sizes.length;
    for (let r = 0; r < this.layout.workers; r++) if (this.presence[r * n + i]) return true;
    return false;
  }

  /** A copy of the reduced gradient of weight i. */
  reduced(i: number): Float32Array {
    const at = this.layout.offsets[i]!;
    return this.result.slice(at, at + this.layout.sizes[i]!);
  }

  /** Publish this rank's weight checksum; after a barrier, the ranks whose checksum differs from rank 0's. */
  compareChecksums(sum: number): number[] {
    Atomics.store(this.ctl, CTL.CHECKSUM + this.rank, sum | 0);
    this.barrier();
    const ref = Atomics.load(this.ctl, CTL.CHECKSUM);
    const bad: number[] = [];
    for (let r = 1; r < this.layout.workers; r++) if (Atomics.load(this.ctl, CTL.CHECKSUM + r) !== ref) bad.push(r);
    this.barrier(); // nobody overwrites a checksum before everyone has compared
    return bad;
  }
}

/** FNV-1a over the float32 bit patterns of the weights (in order): equal iff bit-identical (up to collisions). */
export function checksum(arrays: Float32Array[]): number {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i]!, 0x01000193) >>> 0;
  }
  return h;
}
