// Thread ranges and the barrier between the phases of a step. Every thread runs the same
// `forward` on the same memory with its own tid; each phase splits rows / tokens by `part`, and
// a barrier separates phases that read what others wrote. One thread: the barrier is a no-op.
//
//   part(10, 1, 3) → rows [3, 6) of 10 for thread 1 of 3
//   barrier record at `bar`: [count, generation, abort] (i32 words)
//
// A thread that waits more than ~10 s (a worker died) sets `abort`: every later barrier then
// passes at once, the step finishes with garbage and the host raises WORKER_FAILED.

/** Start of thread tid's share of n items (end = part(n, tid + 1, nth)). */
// @ts-ignore: decorator
@inline export function part(n: i32, tid: i32, nth: i32): i32 {
  return <i32>((<i64>n * <i64>tid) / <i64>nth);
}

export function barrier(bar: usize, nth: i32): void {
  if (nth <= 1) return;
  if (atomic.load<i32>(bar + 8) != 0) return;
  const gen = atomic.load<i32>(bar + 4);
  if (atomic.add<i32>(bar, 1) == nth - 1) {
    atomic.store<i32>(bar, 0);
    atomic.store<i32>(bar + 4, gen + 1);
    atomic.notify(bar + 4, nth);
    return;
  }
  let spins = 0;
  let waits = 0;
  while (atomic.load<i32>(bar + 4) == gen) {
    if (++spins < 20000) continue;
    // 10 ms waits; give up after ~10 s
    atomic.wait<i32>(bar + 4, gen, 10000000);
    if (++waits > 1000) {
      atomic.store<i32>(bar + 8, 1);
      return;
    }
  }
}

