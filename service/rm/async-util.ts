// Small async building blocks for the RM: a FIFO mutex and an abortable one-shot wait on a waiter set.

/** Serialises whole winscard operations on one reader (pcscd takes the reader's mutex the same way). */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
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

/** True when `p` has not settled after a few macrotask turns: an IRP the driver really pended. */
export async function stillPending(p: Promise<unknown>, turns = 4): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns && !settled; i++) await new Promise<void>((r) => setImmediate(r));
  return !settled;
}
