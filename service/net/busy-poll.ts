// Busy polling for the PC/SC transports' sockets (the SO_BUSY_POLL idea, done in the event loop): after traffic,
// keep the loop turning with setImmediate for a short window so the client's next request is read without a
// wake-up. One per server (the pcsc-lite socket, JSON-RPC over WebSocket), shared by its connections.

/**
 * A thread asleep in epoll takes about 60-70 µs to wake on a VM, about as long as a whole SCardTransmit takes
 * in here. PC/SC clients send their next request within microseconds of a reply, so polling for a short
 * while after each one saves that wake-up on almost every round trip. Each turn polls I/O without blocking, and
 * timers and other sockets are served as usual. The price is CPU: at most `micros` of one core after the last
 * message. Nothing runs while no client is talking.
 */
export class BusyPoll {
  private until = 0;
  private running = false;
  private stopped = false;

  /** `now` (milliseconds, monotonic) is injectable so tests step time instead of sleeping. */
  constructor(
    readonly micros: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isFinite(micros) || micros < 0 || micros > MAX_BUSY_POLL_MICROS) {
      throw new RangeError(`busy-poll window must be in [0, ${MAX_BUSY_POLL_MICROS}] µs (got ${micros})`);
    }
  }

  /** Traffic seen: poll until `micros` from now. */
  extend(): void {
    if (this.micros === 0 || this.stopped) return;
    this.until = this.now() + this.micros / 1000;
    if (this.running) return;
    this.running = true;
    setImmediate(this.turn);
  }

  /** For good (server shutdown). */
  stop(): void {
    this.stopped = true;
  }

  private readonly turn = (): void => {
    if (!this.stopped && this.now() < this.until) setImmediate(this.turn);
    else this.running = false;
  };
}

export const DEFAULT_BUSY_POLL_MICROS = 500;
/** Beyond this a sleeping loop is the better deal: a wake-up is cheap next to the CPU burnt waiting. */
export const MAX_BUSY_POLL_MICROS = 10_000;
