// OsData.Mutex and OsData.SpinLock: callback serialisation and the short state critical sections (docs/smclib.md §3.1.5).

/** OsData.Mutex is the kernel's FIFO mutex: "no two callback functions will be called at the same time". */
export { AsyncMutex } from '../../kernel/async-mutex.js';

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
