// Event registration across connections: waiters for reader changes, and hContext → connection for CANCEL (§5.4).

import { SCARD } from '../contract/pcsclite.js';

/** What the hub needs from a connection: a way to push the asynchronous 8-byte message. */
export interface SignalTarget {
  readonly id: number;
  sendSignal(rv: number): void;
}

/**
 * pcscd's `EHRegisterClientForEvent` list plus its context list. Invariant (§5.4): per registration (0x13) a
 * connection receives at most one 8-byte message — a change signal, a cancel signal or the STOP reply — because
 * each of them removes the registration first.
 */
export class EventHub {
  private readonly waiters = new Set<SignalTarget>();
  private readonly contexts = new Map<number, SignalTarget>();

  /** CMD_WAIT_READER_STATE_CHANGE: the caller sends the snapshot in the same tick, so no change can slip between. */
  register(target: SignalTarget): void {
    this.waiters.add(target);
  }

  /** True when the target was still registered (so it is owed exactly one reply). */
  unregister(target: SignalTarget): boolean {
    return this.waiters.delete(target);
  }

  isRegistered(target: SignalTarget): boolean {
    return this.waiters.has(target);
  }

  get waiterCount(): number {
    return this.waiters.size;
  }

  /** Any observable change: every waiter gets `{0, 0}` once and is unregistered (EHSignalEventToClients). */
  signalAll(): void {
    if (this.waiters.size === 0) return;
    const targets = [...this.waiters];
    this.waiters.clear();
    for (const target of targets) target.sendSignal(SCARD.S_SUCCESS);
  }

  /** Records which connection owns `hContext` (ESTABLISH replaces the connection's previous context). */
  bindContext(hContext: number, target: SignalTarget): void {
    this.contexts.set(hContext >>> 0, target);
  }

  unbindContext(hContext: number, target: SignalTarget): void {
    const key = hContext >>> 0;
    if (this.contexts.get(key) === target) this.contexts.delete(key);
  }

  /**
   * SCARD_CANCEL from any connection: a waiting target gets `{0, SCARD_E_CANCELLED}` and the canceller rv 0;
   * a context that is unknown or not waiting gives SCARD_E_INVALID_HANDLE (both verified against pcscd).
   */
  cancel(hContext: number): number {
    const target = this.contexts.get(hContext >>> 0);
    if (!target || !this.waiters.delete(target)) return SCARD.E_INVALID_HANDLE;
    target.sendSignal(SCARD.E_CANCELLED);
    return SCARD.S_SUCCESS;
  }
}
