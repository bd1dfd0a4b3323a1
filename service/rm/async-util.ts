// Small async building blocks for the RM: a FIFO mutex and an abortable one-shot wait on a waiter set.

/** Serialises whole winscard operations on one reader (pcscd takes the reader's mutex the same way). */
export class AsyncMutex {
  private held = false;
  /** Callers waiting for the mutex, first come first served; each is handed the mutex directly. */
  private readonly waiting: (() => void)[] = [];

  /**
   * Runs `fn` once every earlier caller's `fn` has settled. An uncontended call starts `fn` at once instead of
   * a microtask later: with nobody ahead the order is the same, and the APDU path saves a promise chain.
   */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held) return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(fn));
    this.held = true;
    return this.start(fn);
  }

  /** Runs `fn` holding the mutex and passes the mutex on when it settles; a synchronous throw rejects. */
  private start<T>(fn: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = fn();
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

/**
 * Resolves `true` when one of `waiters` is called (the caller then re-checks its condition), `false` when
 * `signal` aborts. Never rejects.
 */
export function waitOnce(waiters: Set<() => void>, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const wake = (): void => {
      waiters.delete(wake);
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    };
    const onAbort = (): void => {
      waiters.delete(wake);
      resolve(false);
    };
    waiters.add(wake);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wakes every waiter of the set once. */
export function wakeAll(waiters: Set<() => void>): void {
  for (const w of [...waiters]) w();
}
