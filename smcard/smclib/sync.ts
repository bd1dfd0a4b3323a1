// OsData.Mutex and OsData.SpinLock: callback serialisation and the short state critical sections (docs/smclib.md §3.1.5).

/** A FIFO async mutex: "no two callback functions will be called at the same time". */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  private holders = 0;

  get locked(): boolean {
    return this.holders > 0;
  }

  /** Runs `fn` once every earlier holder has released; releases even if `fn` throws. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.holders++;
    // Plain promise chaining rather than async/await: this runs for every callback IRP, and the release
    // handlers are registered before the caller's, so the next holder is let in before the caller resumes.
    const result = previous.then(fn);
    result.then(
      () => this.unlock(release),
      () => this.unlock(release),
    );
    return result;
  }

  private unlock(release: () => void): void {
    this.holders--;
    release();
  }
}

/**
 * A spin lock guarding CurrentState, the ATR and NotificationIrp. JavaScript runs one turn at a time, so a
 * synchronous critical section is already atomic; the class exists to mark those sections and to catch
 * re-entry (a host bug: a real spin lock would deadlock).
 */
export class SpinLock {
  private held = false;

  run<T>(fn: () => T): T {
    if (this.held) throw new Error('SpinLock re-entered (would deadlock)');
    this.held = true;
    try {
      return fn();
    } finally {
      this.held = false;
    }
  }
}
