// The one FIFO async mutex: callers run one at a time in arrival order, and a holder that throws still passes
// the mutex on. smclib's OsData.Mutex, the resource manager's per-reader IOCTL lock and the crypto library's
// request queue are all this.

export class AsyncMutex {
  private held = false;
  /** Callers waiting for the mutex, first come first served; each is handed the mutex directly. */
  private readonly waiting: (() => void)[] = [];

  /** True while a holder runs (or callers wait). */
  get locked(): boolean {
    return this.held;
  }

  /** Holders running or waiting. */
  get pending(): number {
    return (this.held ? 1 : 0) + this.waiting.length;
  }

  /**
   * Runs `fn` once every earlier caller's `fn` has settled. An uncontended call starts `fn` at once, as a
   * kernel mutex that is free is taken without waiting; with nobody ahead the order is the same, and the APDU
   * path saves a promise chain. The release is chained before the caller's own continuation, so the next
   * holder is let in before the caller resumes.
   */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.held) return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(fn));
    this.held = true;
    return this.start(fn);
  }

  /** Runs `fn` holding the mutex and passes the mutex on when it settles; a synchronous throw rejects. */
  private start<T>(fn: () => Promise<T> | T): Promise<T> {
    let p: Promise<T>;
    try {
      p = Promise.resolve(fn());
    } catch (err) {
      this.release();
      return Promise.reject(err);
    }
    return p.then(this.releasePassing, this.releaseRethrowing) as Promise<T>;
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }

  private readonly releasePassing = <T>(value: T): T => {
    this.release();
    return value;
  };

  private readonly releaseRethrowing = (err: unknown): never => {
    this.release();
    throw err;
  };
}
