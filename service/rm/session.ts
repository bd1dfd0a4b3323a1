// One client of the RM (pcsc-lite's winscard_svc role): the contexts and card handles it owns, the ownership
// checks, GetStatusChange waits and Cancel, and close() that releases everything at once.

import { setMaxListeners } from 'node:events';
import { allocateHandle, releaseHandle } from './handle-allocator.js';
import type { ReaderStateIn, ReaderStateOut, RmSession } from './contract.js';
import { INFINITE, PCSCLITE_MAX_READERS_CONTEXTS, SCARD, SCARD_DISPOSITION, SCARD_SCOPE } from '../contract/pcsclite.js';
import { holdsTransaction, type RmCore } from './rm-core.js';
import { readerSharing, type CardHandle, type ContextRecord } from './rm-types.js';
import { allIgnored, evaluatePass, firstUnknownReader, type ReaderView, type StatusEntry } from './status-change.js';
import { connect, disconnect, reconnect } from './winscard-connect.js';
import { beginTransaction, endTransaction } from './winscard-transaction.js';
import { control, getAttrib, setAttrib, status, transmit, type TransmitResult } from './winscard-card-io.js';

/** Contexts one session may hold; pcscd allows one per connection, a JSON-RPC client may want a few. */
const MAX_CONTEXTS_PER_SESSION = 256;
/** setTimeout's ceiling; longer finite GetStatusChange timeouts are re-armed. */
const MAX_TIMER_MS = 0x7fffffff;

let sessionSeq = 0;

function toOut(e: StatusEntry): ReaderStateOut {
  const out: ReaderStateOut = { szReader: e.szReader, dwCurrentState: e.dwCurrentState, dwEventState: e.dwEventState >>> 0, cbAtr: e.cbAtr, rgbAtr: e.rgbAtr };
  if (e.pvUserData !== undefined) out.pvUserData = e.pvUserData;
  return out;
}

export class Session implements RmSession {
  readonly id: string;
  private readonly contexts = new Set<ContextRecord>();
  private closed = false;

  constructor(
    private readonly core: RmCore,
    readonly label: string,
    private readonly onClosed: (s: Session) => void = () => undefined,
  ) {
    this.id = `${label}#${++sessionSeq}`;
  }

  private ctx(hContext: number): ContextRecord | null {
    const c = this.core.contexts.get(hContext >>> 0);
    return c && !c.released && c.sessionId === this.id ? c : null;
  }

  private card(hCard: number): CardHandle | null {
    const h = this.core.handles.get(hCard >>> 0);
    return h && !h.closed && h.context.sessionId === this.id ? h : null;
  }

  establishContext(dwScope: number): { rv: number; hContext: number } {
    if (this.core.stopped) return { rv: SCARD.E_NO_SERVICE, hContext: 0 };
    if (this.closed) return { rv: SCARD.E_INVALID_HANDLE, hContext: 0 };
    const scopes: number[] = Object.values(SCARD_SCOPE);
    if (!scopes.includes(dwScope)) return { rv: SCARD.E_INVALID_VALUE, hContext: 0 };
    if (this.contexts.size >= MAX_CONTEXTS_PER_SESSION) return { rv: SCARD.E_NO_MEMORY, hContext: 0 };
    const abort = new AbortController();
    // Each blocked BEGIN/CONNECT of the context listens on it; many at once are legitimate, not a leak.
    setMaxListeners(0, abort.signal);
    const c: ContextRecord = {
      hContext: allocateHandle(),
      sessionId: this.id,
      handles: new Set(),
      released: false,
      abort,
      statusWaits: new Set(),
    };
    this.contexts.add(c);
    this.core.contexts.set(c.hContext, c);
    return { rv: SCARD.S_SUCCESS, hContext: c.hContext };
  }

  async releaseContext(hContext: number): Promise<number> {
    const c = this.ctx(hContext);
    if (!c) return SCARD.E_INVALID_HANDLE;
    await this.release(c, SCARD.E_CANCELLED);
    return SCARD.S_SUCCESS;
  }

  /** pcscd's context release: handles disconnected, a transaction holder's card reset (docs/pcsclite-protocol.md §7 0x02). */
  private async release(c: ContextRecord, waitRv: number): Promise<void> {
    if (c.released) return;
    c.released = true;
    c.abort.abort();
    for (const settle of [...c.statusWaits]) settle(waitRv);
    for (const h of [...c.handles]) {
      const disp = holdsTransaction(h) && h.event === 'none' ? SCARD_DISPOSITION.RESET_CARD : SCARD_DISPOSITION.LEAVE_CARD;
      await disconnect(this.core, h, disp, c.abort.signal);
    }
    this.contexts.delete(c);
    this.core.contexts.delete(c.hContext);
    releaseHandle(c.hContext);
  }

  isValidContext(hContext: number): number {
    return this.ctx(hContext) ? SCARD.S_SUCCESS : SCARD.E_INVALID_HANDLE;
  }

  ownsContext(hContext: number): boolean {
    return this.ctx(hContext) !== null;
  }

  ownsCard(hCard: number): boolean {
    return this.card(hCard) !== null;
  }

  listReaders(hContext: number, _groups?: string[] | null): { rv: number; readers: string[] } {
    if (!this.ctx(hContext)) return { rv: SCARD.E_INVALID_HANDLE, readers: [] };
    // pcsc-lite ignores mszGroups: every reader is in SCard$DefaultReaders.
    const readers = this.core.registry.published().map((r) => r.name ?? '');
    return readers.length ? { rv: SCARD.S_SUCCESS, readers } : { rv: SCARD.E_NO_READERS_AVAILABLE, readers: [] };
  }

  listReaderGroups(hContext: number): { rv: number; groups: string[] } {
    if (!this.ctx(hContext)) return { rv: SCARD.E_INVALID_HANDLE, groups: [] };
    return { rv: SCARD.S_SUCCESS, groups: ['SCard$DefaultReaders'] };
  }

  private views(): ReaderView[] {
    return this.core.registry.published().map((r) => ({
      name: r.name ?? '',
      eventCounter: r.eventCounter,
      readerState: r.readerState,
      sharing: readerSharing(r),
      atr: r.atr,
    }));
  }

  async getStatusChange(
    hContext: number,
    dwTimeout: number,
    readerStates: ReaderStateIn[],
    signal?: AbortSignal,
  ): Promise<{ rv: number; readerStates: ReaderStateOut[] }> {
    const entries: StatusEntry[] = readerStates.map((s) => {
      const e: StatusEntry = { szReader: s.szReader, dwCurrentState: s.dwCurrentState >>> 0, dwEventState: 0, cbAtr: 0, rgbAtr: new Uint8Array(0) };
      if (s.pvUserData !== undefined) e.pvUserData = s.pvUserData;
      return e;
    });
    const done = (rv: number): { rv: number; readerStates: ReaderStateOut[] } => ({ rv, readerStates: entries.map(toOut) });
    const c = this.ctx(hContext);
    if (!c) return done(SCARD.E_INVALID_HANDLE);
    if (entries.length > PCSCLITE_MAX_READERS_CONTEXTS) return done(SCARD.E_INVALID_VALUE);
    if (entries.length === 0 || allIgnored(entries)) return done(SCARD.S_SUCCESS);
    if (firstUnknownReader(entries, this.views()) !== null) return done(SCARD.E_UNKNOWN_READER);
    const initialCount = this.views().length;
    const timeout = dwTimeout >>> 0;
    if (evaluatePass(entries, this.views(), initialCount)) return done(SCARD.S_SUCCESS);
    if (timeout === 0) return done(SCARD.E_TIMEOUT);

    let outcome: number | null = null;
    let wake: (() => void) | null = null;
    const settle = (rv: number): void => {
      outcome ??= rv;
      wake?.();
    };
    const onAbort = (): void => settle(SCARD.E_CANCELLED);
    const off = this.core.changes.on(() => wake?.());
    c.statusWaits.add(settle);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) settle(SCARD.E_CANCELLED);
    let timer: NodeJS.Timeout | null = null;
    if (timeout !== INFINITE) {
      const deadline = Date.now() + timeout;
      const arm = (): void => {
        const left = deadline - Date.now();
        if (left <= 0) settle(SCARD.E_TIMEOUT);
        else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      arm();
    }
    try {
      for (;;) {
        if (outcome !== null) return done(outcome);
        if (evaluatePass(entries, this.views(), initialCount)) return done(SCARD.S_SUCCESS);
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    } finally {
      off();
      c.statusWaits.delete(settle);
      signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    }
  }

  cancel(hContext: number): number {
    // Any session may cancel a context's wait, as pcscd accepts CANCEL on a fresh connection (docs/pcsclite-protocol.md §5.4).
    const c = this.core.contexts.get(hContext >>> 0);
    if (!c || c.released) return SCARD.E_INVALID_HANDLE;
    for (const settle of [...c.statusWaits]) settle(SCARD.E_CANCELLED);
    return SCARD.S_SUCCESS;
  }

  async connect(hContext: number, szReader: string, dwShareMode: number, dwPreferredProtocols: number): Promise<{ rv: number; hCard: number; dwActiveProtocol: number }> {
    return connect(this.core, this.ctx(hContext), szReader, dwShareMode >>> 0, dwPreferredProtocols >>> 0);
  }

  async reconnect(hCard: number, dwShareMode: number, dwPreferredProtocols: number, dwInitialization: number): Promise<{ rv: number; dwActiveProtocol: number }> {
    const h = this.card(hCard);
    if (!h) return { rv: SCARD.E_INVALID_HANDLE, dwActiveProtocol: 0 };
    return reconnect(this.core, h, dwShareMode >>> 0, dwPreferredProtocols >>> 0, dwInitialization >>> 0);
  }

  async disconnect(hCard: number, dwDisposition: number): Promise<number> {
    const h = this.card(hCard);
    if (!h) return SCARD.E_INVALID_HANDLE;
    return disconnect(this.core, h, dwDisposition >>> 0, h.context.abort.signal);
  }

  async beginTransaction(hCard: number): Promise<number> {
    const h = this.card(hCard);
    if (!h) return SCARD.E_INVALID_HANDLE;
    return beginTransaction(this.core, h);
  }

  async endTransaction(hCard: number, dwDisposition: number): Promise<number> {
    const h = this.card(hCard);
    if (!h) return SCARD.E_INVALID_HANDLE;
    return endTransaction(this.core, h, dwDisposition >>> 0);
  }

  /** Not `async`: the APDU hot path hands the card-io promise straight back instead of wrapping it again. */
  transmit(hCard: number, ioSendPciProtocol: number, pbSendBuffer: Uint8Array, cbRecvLength: number): Promise<TransmitResult> {
    const h = this.card(hCard);
    if (!h) return Promise.resolve({ rv: SCARD.E_INVALID_HANDLE, ioRecvPciProtocol: 0, pbRecvBuffer: new Uint8Array(0) });
    return transmit(this.core, h, ioSendPciProtocol >>> 0, pbSendBuffer, cbRecvLength >>> 0);
  }

  async control(hCard: number, dwControlCode: number, pbSendBuffer: Uint8Array, cbRecvLength: number): Promise<{ rv: number; pbRecvBuffer: Uint8Array }> {
    const h = this.card(hCard);
    if (!h) return { rv: SCARD.E_INVALID_HANDLE, pbRecvBuffer: new Uint8Array(0) };
    return control(this.core, h, dwControlCode >>> 0, pbSendBuffer, cbRecvLength >>> 0);
  }

  async getAttrib(hCard: number, dwAttrId: number, cbAttrLen: number): Promise<{ rv: number; pbAttr: Uint8Array }> {
    const h = this.card(hCard);
    if (!h) return { rv: SCARD.E_INVALID_HANDLE, pbAttr: new Uint8Array(0) };
    return getAttrib(this.core, h, dwAttrId >>> 0, cbAttrLen >>> 0);
  }

  async setAttrib(hCard: number, dwAttrId: number, pbAttr: Uint8Array): Promise<number> {
    const h = this.card(hCard);
    if (!h) return SCARD.E_INVALID_HANDLE;
    return setAttrib(this.core, h, dwAttrId >>> 0, pbAttr);
  }

  async status(hCard: number): Promise<{ rv: number; szReaderName: string; dwState: number; dwProtocol: number; pbAtr: Uint8Array }> {
    const h = this.card(hCard);
    if (!h) return { rv: SCARD.E_INVALID_HANDLE, szReaderName: '', dwState: 0, dwProtocol: 0, pbAtr: new Uint8Array(0) };
    return status(this.core, h);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.contexts].map((c) => this.release(c, SCARD.E_CANCELLED)));
    this.onClosed(this);
  }

  /** RM shutdown: end waits with SCARD_E_SYSTEM_CANCELLED; handles fail with READER_UNAVAILABLE from here on. */
  systemCancel(): void {
    for (const c of this.contexts) {
      for (const settle of [...c.statusWaits]) settle(SCARD.E_SYSTEM_CANCELLED);
    }
  }
}
