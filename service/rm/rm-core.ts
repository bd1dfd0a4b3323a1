// The state every winscard call shares (readers, contexts, handles) and the guard helpers that give
// pcscd's checks one spelling: RFCheckSharing, RFCheckReaderStatus, RFCheckReaderEventState.

import type { Logger } from 'pino';
import { releaseHandle } from './handle-allocator.js';
import type { ChangeEmitter } from './change-emitter.js';
import { READER_STATE, SCARD } from '../contract/pcsclite.js';
import type { ReaderRegistry } from './reader-registry.js';
import { wakeAll } from './async-util.js';
import { scheduleIdlePowerDown } from './idle-power.js';
import type { CardHandle, ContextRecord, RmReader } from './rm-types.js';

export interface RmCore {
  readonly registry: ReaderRegistry;
  readonly changes: ChangeEmitter;
  readonly log: Logger;
  readonly contexts: Map<number, ContextRecord>;
  readonly handles: Map<number, CardHandle>;
  stopped: boolean;
  /** Idle power-down grace period after a reader's last handle, in ms; 0 = never (idle-power.ts). */
  readonly powerDownDelayMs: number;
}

/** RFCheckSharing: the reader lock is free or ours. */
export function lockedByOther(h: CardHandle): boolean {
  const owner = h.reader.lockOwner;
  return owner !== 0 && owner !== h.hCard;
}

/** RFCheckReaderStatus: the reader still exists and is not in error. */
export function readerUnavailable(reader: RmReader): boolean {
  return reader.gone || (reader.readerState & READER_STATE.UNKNOWN) !== 0;
}

/** RFCheckReaderEventState: W_REMOVED_CARD / W_RESET_CARD until Reconnect. */
export function pendingEventRv(h: CardHandle): number {
  if (h.event === 'removed') return SCARD.W_REMOVED_CARD;
  if (h.event === 'reset') return SCARD.W_RESET_CARD;
  return SCARD.S_SUCCESS;
}

/** pcscd's "holds a transaction": LockCount above what an exclusive connection alone accounts for. */
export function holdsTransaction(h: CardHandle): boolean {
  const r = h.reader;
  if (r.lockOwner !== h.hCard) return false;
  return h.shareMode === 1 ? r.lockCount > 1 : r.lockCount > 0;
}

/** Flag handles of a reader after a reset by one of them (docs/pcsclite-protocol.md §7). */
export function flagReset(reader: RmReader, except?: CardHandle): void {
  for (const h of reader.handles) if (h !== except) h.event = 'reset';
}

/** The card was found unpowered and powered up again (a power failure): a reset for handles not told of worse. */
export function flagRepowered(reader: RmReader, except?: CardHandle): void {
  for (const h of reader.handles) if (h !== except && h.event === 'none') h.event = 'reset';
}

/** Forget a card handle everywhere; frees the reader lock if it held it. */
export function dropHandle(core: RmCore, h: CardHandle): void {
  if (h.closed) return;
  h.closed = true;
  h.reader.handles.delete(h);
  h.context.handles.delete(h);
  core.handles.delete(h.hCard);
  releaseHandle(h.hCard);
  if (h.reader.lockOwner === h.hCard) {
    h.reader.lockOwner = 0;
    h.reader.lockCount = 0;
  }
  wakeAll(h.reader.lockWaiters);
  if (h.reader.handles.size === 0) scheduleIdlePowerDown(core, h.reader);
}
