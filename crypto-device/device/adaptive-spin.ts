// Whether a thread should spin before it naps in a futex wait. A spin pays only while what it waits for usually
// comes within it (back-to-back requests, the other thread on a vCPU of its own). When the scheduler has put the
// host thread and the device worker on one vCPU, which it does on a loaded VM (a woken thread goes next to its
// waker), a spin only keeps the other thread off the CPU: perf and per-request timings showed 4 KiB requests
// taking the whole spin window plus a wake-up each time. So a thread stops spinning after a few spins in a row
// came to nothing, and tries once more every so often.

/** Spins in a row that found nothing before spinning stops. */
const MISS_LIMIT = 4;
/** While spinning is off, every this many waits spin anyway, to notice that it would pay again. */
const PROBE_EVERY = 32;

export class AdaptiveSpin {
  private misses = 0;
  private skipped = 0;

  constructor(readonly micros: number) {}

  /** The spin for the next wait, in microseconds: the full one, or 0 while spinning is off (except probes). */
  next(): number {
    if (this.misses < MISS_LIMIT) return this.micros;
    if (++this.skipped < PROBE_EVERY) return 0;
    this.skipped = 0;
    return this.micros;
  }

  /** After a wait that spun: did the event come during the spin? */
  record(hit: boolean): void {
    this.misses = hit ? 0 : Math.min(this.misses + 1, MISS_LIMIT);
  }
}
