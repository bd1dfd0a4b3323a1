// Small async building blocks for the RM: a FIFO mutex and an abortable one-shot wait on a waiter set.

/**
 * Serialises whole winscard operations on one reader (pcscd takes the reader's mutex the same way): the one FIFO
 * mutex, from the layer drivers share (kernel/async-mutex.ts).
 */
export { AsyncMutex } from '../../kernel/async-mutex.js';

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
