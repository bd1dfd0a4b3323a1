// KEVENT-like notification events and a wait-for-any, so the DPC can signal a request waiting on the host thread.

/** A notification event: stays signalled until cleared, wakes every waiter (KeSetEvent / KeClearEvent). */
export class KernelEvent {
  private signalled = false;
  private waiters: Array<() => void> = [];

  constructor(readonly name: string) {}

  get isSet(): boolean {
    return this.signalled;
  }

  set(): void {
    this.signalled = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  clear(): void {
    this.signalled = false;
  }

  /** Registers a one-shot wake-up; returns a function that withdraws it. */
  onSet(wake: () => void): () => void {
    this.waiters.push(wake);
    return () => {
      const i = this.waiters.indexOf(wake);
      if (i >= 0) this.waiters.splice(i, 1);
    };
  }
}

/**
 * KeWaitForMultipleObjects(WaitAny): resolves with the index of the first signalled event (lowest index wins
 * when several are already set), or -1 when `timeoutMs` passes first. No timeout means wait forever (the
 * original driver's wait for a running command; ours bounds it, crypto-device/driver/device-logic.ts).
 */
export function waitForAny(events: readonly KernelEvent[], timeoutMs?: number): Promise<number> {
  const ready = events.findIndex((e) => e.isSet);
  if (ready >= 0) return Promise.resolve(ready);
  return new Promise((resolve) => new AnyWait(events, timeoutMs, resolve));
}

/** One waitForAny in progress. A class rather than closures: every device request makes one. */
class AnyWait {
  private readonly withdraw: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    events: readonly KernelEvent[],
    timeoutMs: number | undefined,
    private readonly resolve: (index: number) => void,
  ) {
    for (let index = 0; index < events.length; index++) this.withdraw.push(events[index].onSet(() => this.finish(index)));
    this.timer = timeoutMs === undefined ? undefined : setTimeout(() => this.finish(-1), timeoutMs);
  }

  private finish(index: number): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.withdraw) w();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.resolve(index);
  }
}
