// The RM's internal records: readers as the registry keeps them, contexts and card handles as sessions own them.

import type { Logger } from 'pino';
import type { ReaderDeviceInterface } from '../../smcard/reader/contract.js';
import type { AsyncMutex } from './async-util.js';
import type { ReaderIo } from './reader-ioctl.js';

/** Pending-event flag of a handle (docs/pcsclite-protocol.md §7 RFSetReaderEventState). */
export type HandleEvent = 'none' | 'reset' | 'removed';

export interface RmReader {
  readonly iface: ReaderDeviceInterface;
  readonly symbolicLink: string;
  readonly log: Logger;
  /** Null until the attribute queries succeeded. */
  name: string | null;
  unitNo: number;
  /** Slot in readerStates(); -1 while unpublished. */
  slot: number;
  io: ReaderIo | null;
  published: boolean;
  failure: string | null;
  /** Removed from the bus, failed after publication, or RM shut down: every handle gets READER_UNAVAILABLE. */
  gone: boolean;
  /** pcsc-lite READER_STATE bits (0x02 absent, 0x34 present+powered+negotiable, 0x0C mute, 0x04 unpowered). */
  readerState: number;
  eventCounter: number;
  atr: Uint8Array;
  /** Negotiated protocol in pcsc-lite numbering, 0 when none. */
  protocol: number;
  handles: Set<CardHandle>;
  /** hCard holding the reader lock (transaction or exclusive connection), 0 when free. */
  lockOwner: number;
  /** pcscd's LockCount: 1 for an exclusive connection, +1 per BeginTransaction. */
  lockCount: number;
  /** Woken whenever the lock is released or the reader's state changes. */
  lockWaiters: Set<() => void>;
  /** Serialises card operations (connect, transmit, dispositions) on this reader. */
  ops: AsyncMutex;
}

export interface ContextRecord {
  readonly hContext: number;
  readonly sessionId: string;
  handles: Set<CardHandle>;
  released: boolean;
  /** Aborted by release/close: ends waits (BEGIN, CONNECT) of this context. */
  readonly abort: AbortController;
  /** Running GetStatusChange calls of this context; Cancel resolves them. */
  statusWaits: Set<(rv: number) => void>;
}

export interface CardHandle {
  readonly hCard: number;
  readonly context: ContextRecord;
  readonly reader: RmReader;
  shareMode: number;
  event: HandleEvent;
  closed: boolean;
}

/** pcsc-lite readerSharing: −1 exclusive, else the number of SHARED/DIRECT handles. */
export function readerSharing(reader: RmReader): number {
  let n = 0;
  for (const h of reader.handles) {
    if (h.shareMode === 1) return -1;
    n++;
  }
  return n;
}
