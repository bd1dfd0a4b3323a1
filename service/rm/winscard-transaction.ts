// SCardBeginTransaction / SCardEndTransaction: the reader lock with pcscd's LockCount and dispositions
// (docs/pcsclite-protocol.md §7 rows 0x07/0x08). BEGIN blocks until the lock is free instead of pcscd's
// SHARING_VIOLATION-and-retry, which is what a libpcsclite caller observes anyway.

import { waitOnce, wakeAll } from './async-util.js';
import { cyclePower, resetCard } from './card-sequences.js';
import { SCARD, SCARD_DISPOSITION, SCARD_SHARE } from '../contract/pcsclite.js';
import { cardPresent } from './reader-state.js';
import { flagReset, lockedByOther, pendingEventRv, readerUnavailable, type RmCore } from './rm-core.js';
import type { CardHandle } from './rm-types.js';

export async function beginTransaction(_core: RmCore, h: CardHandle): Promise<number> {
  const reader = h.reader;
  for (;;) {
    if (h.closed) return SCARD.E_INVALID_HANDLE;
    if (readerUnavailable(reader)) return SCARD.E_READER_UNAVAILABLE;
    const ev = pendingEventRv(h);
    if (ev !== SCARD.S_SUCCESS) return ev;
    if (!lockedByOther(h)) {
      reader.lockOwner = h.hCard;
      reader.lockCount += 1;
      return SCARD.S_SUCCESS;
    }
    if (!(await waitOnce(reader.lockWaiters, h.context.abort.signal))) return SCARD.E_INVALID_HANDLE;
  }
}

export async function endTransaction(core: RmCore, h: CardHandle, disposition: number): Promise<number> {
  if (!Number.isInteger(disposition) || disposition < 0 || disposition > SCARD_DISPOSITION.EJECT_CARD) return SCARD.E_INVALID_VALUE;
  const reader = h.reader;
  if (readerUnavailable(reader)) return SCARD.E_READER_UNAVAILABLE;
  const ev = pendingEventRv(h);
  if (ev !== SCARD.S_SUCCESS) return ev;
  if (disposition !== SCARD_DISPOSITION.LEAVE_CARD && lockedByOther(h)) return SCARD.E_SHARING_VIOLATION;
  if ((disposition === SCARD_DISPOSITION.RESET_CARD || disposition === SCARD_DISPOSITION.UNPOWER_CARD) && cardPresent(reader.readerState)) {
    await reader.ops.run(async () => {
      await (disposition === SCARD_DISPOSITION.RESET_CARD ? resetCard(reader) : cyclePower(reader));
      // pcscd flags every handle, the caller's too (RFSetReaderEventState in SCardEndTransaction).
      flagReset(reader);
    });
    core.changes.emit();
  }
  if (lockedByOther(h)) return SCARD.E_SHARING_VIOLATION;
  const floor = h.shareMode === SCARD_SHARE.EXCLUSIVE ? 1 : 0;
  if (reader.lockOwner !== h.hCard || reader.lockCount <= floor) return SCARD.E_NOT_TRANSACTED;
  reader.lockCount -= 1;
  if (reader.lockCount === 0) {
    reader.lockOwner = 0;
    wakeAll(reader.lockWaiters);
  }
  return SCARD.S_SUCCESS;
}
