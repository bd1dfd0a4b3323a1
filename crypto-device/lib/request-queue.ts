// FIFO serialisation of device requests, so concurrent callers of one handle wait their turn instead of
// getting STATUS_DEVICE_BUSY from the driver's one-request-at-a-time rule.

export class RequestQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private depth = 0;

  /** Requests queued or running. */
  get pending(): number {
    return this.depth;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.depth++;
    const result = this.tail.then(job);
    // The chain must survive a failed job; the failure still reaches this caller through `result`.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result.finally(() => {
      this.depth--;
    });
  }
}
