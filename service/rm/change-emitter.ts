// Fan-out of "something a client could observe changed" to onChange listeners and GetStatusChange waiters.

import type { Logger } from 'pino';

export class ChangeEmitter {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly log: Logger) {}

  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Synchronous, so a waiter evaluates the state that caused the event; a throwing listener is logged, not fatal. */
  emit(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch (err) {
        this.log.error({ err }, 'onChange listener threw');
      }
    }
  }
}
