// WDFWAITLOCK for the host thread: an async mutex with FIFO hand-over, used for IoLock and ResetLock.

export class WaitLock {
  private held = false;
  private queue: Array<() => void> = [];

  constructor(readonly name: string) {}

  get isHeld(): boolean {
    return this.held;
  }

  /** WdfWaitLockAcquire with an infinite timeout. */
  async acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  /** WdfWaitLockAcquire with a zero timeout: false when someone else holds it. */
  tryAcquire(): boolean {
    if (this.held) return false;
    this.held = true;
    return true;
  }

  release(): void {
    const next = this.queue.shift();
    // Ownership passes straight to the next waiter so nobody can barge in between.
    if (next) next();
    else this.held = false;
  }

  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
