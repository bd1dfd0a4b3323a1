// SCardConnect / SCardReconnect / SCardDisconnect with pcscd 1.9.9's order of checks (docs/pcsclite-protocol.md §7
// rows 0x04–0x06) over the IOCTL sequences of docs/smclib.md §5.3/§5.5.

import { waitOnce } from './async-util.js';
import { cyclePower, ejectCard, negotiateProtocol, powerUpCard, resetCard, unpowerCard } from './card-sequences.js';
import { allocateHandle } from './handle-allocator.js';
import { cancelIdlePowerDown } from './idle-power.js';
import { SCARD, SCARD_DISPOSITION, SCARD_PROTOCOL, SCARD_SHARE } from '../contract/pcsclite.js';
import { cardPresent } from './reader-state.js';
import { dropHandle, flagRepowered, flagReset, lockedByOther, readerUnavailable, type RmCore } from './rm-core.js';
import { readerSharing, type CardHandle, type ContextRecord, type RmReader } from './rm-types.js';
import { READER_STATE } from '../contract/pcsclite.js';

/** pcsc-lite's per-reader handle table size (PCSCLITE_MAX_READER_CONTEXTS). */
const MAX_HANDLES_PER_READER = 16;

const ANY_KNOWN_PROTOCOL = SCARD_PROTOCOL.T0 | SCARD_PROTOCOL.T1 | SCARD_PROTOCOL.RAW | SCARD_PROTOCOL.ANY_OLD;

function validShare(share: number): boolean {
  return share === SCARD_SHARE.EXCLUSIVE || share === SCARD_SHARE.SHARED || share === SCARD_SHARE.DIRECT;
}

export interface ConnectResult {
  rv: number;
  hCard: number;
  dwActiveProtocol: number;
}

export async function connect(core: RmCore, ctx: ContextRecord | null, szReader: string, share: number, preferred: number): Promise<ConnectResult> {
  const fail = (rv: number): ConnectResult => ({ rv, hCard: 0, dwActiveProtocol: 0 });
  if (share !== SCARD_SHARE.DIRECT && !(preferred & ANY_KNOWN_PROTOCOL)) return fail(SCARD.E_PROTO_MISMATCH);
  if (!validShare(share)) return fail(SCARD.E_INVALID_VALUE);
  const reader = core.registry.findPublished(szReader);
  if (!reader) return fail(SCARD.E_UNKNOWN_READER);
  if (readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
  if (readerSharing(reader) === -1) return fail(SCARD.E_SHARING_VIOLATION);
  // pcscd checks the context last (MSGAddHandle after SCardConnect, docs/pcsclite-protocol.md §7 0x04), so an empty reader says
  // E_NO_SMARTCARD before a dead context says E_INVALID_HANDLE. The side-effect-free checks keep that order; a
  // dead context never powers a card or negotiates a protocol (pcscd would, then drop the handle).
  if (!ctx || ctx.released) {
    if (share !== SCARD_SHARE.DIRECT && !cardPresent(reader.readerState)) return fail(SCARD.E_NO_SMARTCARD);
    if (share === SCARD_SHARE.EXCLUSIVE && readerSharing(reader) !== 0) return fail(SCARD.E_SHARING_VIOLATION);
    return fail(SCARD.E_INVALID_HANDLE);
  }
  for (;;) {
    // pcscd blocks a new connection while a transaction runs on the reader.
    while (reader.lockOwner !== 0) {
      if (!(await waitOnce(reader.lockWaiters, ctx.abort.signal))) return fail(SCARD.E_INVALID_HANDLE);
      if (readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
      if (readerSharing(reader) === -1) return fail(SCARD.E_SHARING_VIOLATION);
    }
    const r = await reader.ops.run(() => connectLocked(core, ctx, reader, share, preferred));
    if (r !== 'retry') return r;
  }
}

/** The part of Connect that talks to the reader, under its ops mutex; 'retry' when a transaction began meanwhile. */
async function connectLocked(core: RmCore, ctx: ContextRecord, reader: RmReader, share: number, preferred: number): Promise<ConnectResult | 'retry'> {
  const fail = (rv: number): ConnectResult => ({ rv, hCard: 0, dwActiveProtocol: 0 });
  if (readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
  if (readerSharing(reader) === -1) return fail(SCARD.E_SHARING_VIOLATION);
  if (reader.lockOwner !== 0) return 'retry';
  if (share !== SCARD_SHARE.DIRECT) {
    if (!cardPresent(reader.readerState)) return fail(SCARD.E_NO_SMARTCARD);
    const before = { atr: reader.atr, state: reader.readerState };
    const up = await powerUpCard(reader);
    if (before.atr !== reader.atr || before.state !== reader.readerState) core.changes.emit();
    // Powered up under open handles (it lost power behind our back): for them the card was reset.
    if (before.atr !== reader.atr) flagRepowered(reader);
    if (up.rv !== SCARD.S_SUCCESS) return fail(up.rv);
    const protoBefore = reader.protocol;
    const rv = await negotiateProtocol(reader, preferred, up.smclibState);
    if (reader.protocol !== protoBefore) core.changes.emit();
    if (rv !== SCARD.S_SUCCESS) return fail(rv);
  }
  if (share === SCARD_SHARE.EXCLUSIVE && readerSharing(reader) !== 0) return fail(SCARD.E_SHARING_VIOLATION);
  if (reader.handles.size >= MAX_HANDLES_PER_READER) return fail(SCARD.E_NO_MEMORY);
  if (ctx.released || readerUnavailable(reader)) return fail(ctx.released ? SCARD.E_INVALID_HANDLE : SCARD.E_READER_UNAVAILABLE);
  const h: CardHandle = { hCard: allocateHandle(), context: ctx, reader, shareMode: share, event: 'none', closed: false };
  cancelIdlePowerDown(reader);
  reader.handles.add(h);
  ctx.handles.add(h);
  core.handles.set(h.hCard, h);
  if (share === SCARD_SHARE.EXCLUSIVE) {
    reader.lockOwner = h.hCard;
    reader.lockCount = 1;
  }
  reader.log.debug({ hCard: h.hCard, share, protocol: reader.protocol }, 'SCardConnect');
  core.changes.emit();
  return { rv: SCARD.S_SUCCESS, hCard: h.hCard, dwActiveProtocol: reader.protocol };
}

export async function reconnect(core: RmCore, h: CardHandle, share: number, preferred: number, init: number): Promise<{ rv: number; dwActiveProtocol: number }> {
  const fail = (rv: number): { rv: number; dwActiveProtocol: number } => ({ rv, dwActiveProtocol: 0 });
  if (init !== SCARD_DISPOSITION.LEAVE_CARD && init !== SCARD_DISPOSITION.RESET_CARD && init !== SCARD_DISPOSITION.UNPOWER_CARD) return fail(SCARD.E_INVALID_VALUE);
  if (!validShare(share)) return fail(SCARD.E_INVALID_VALUE);
  if (share !== SCARD_SHARE.DIRECT && !(preferred & ANY_KNOWN_PROTOCOL)) return fail(SCARD.E_PROTO_MISMATCH);
  const reader = h.reader;
  if (readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
  if (lockedByOther(h)) return fail(SCARD.E_SHARING_VIOLATION);
  return reader.ops.run(async () => {
    if (h.closed) return fail(SCARD.E_INVALID_HANDLE);
    if (readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
    if (lockedByOther(h)) return fail(SCARD.E_SHARING_VIOLATION);
    if (init === SCARD_DISPOSITION.RESET_CARD || init === SCARD_DISPOSITION.UNPOWER_CARD) {
      if (!cardPresent(reader.readerState)) return fail(SCARD.E_NO_SMARTCARD);
      const rv = init === SCARD_DISPOSITION.RESET_CARD ? await resetCard(reader) : await cyclePower(reader);
      flagReset(reader);
      core.changes.emit();
      if (rv !== SCARD.S_SUCCESS) return fail(rv);
    } else {
      if (!cardPresent(reader.readerState)) return fail(SCARD.E_NO_SMARTCARD);
      if (reader.readerState & READER_STATE.SWALLOWED) return fail(SCARD.W_UNRESPONSIVE_CARD);
    }
    if (share !== SCARD_SHARE.DIRECT) {
      const atrBefore = reader.atr;
      const up = await powerUpCard(reader);
      if (atrBefore !== reader.atr) flagRepowered(reader, h); // powered up again: a reset for the other handles
      if (up.rv !== SCARD.S_SUCCESS) return fail(up.rv);
      const rv = await negotiateProtocol(reader, preferred, up.smclibState);
      if (rv !== SCARD.S_SUCCESS) return fail(rv);
    }
    if (share === SCARD_SHARE.EXCLUSIVE && h.shareMode !== SCARD_SHARE.EXCLUSIVE) {
      if (reader.handles.size !== 1) return fail(SCARD.E_SHARING_VIOLATION);
      reader.lockOwner = h.hCard;
      reader.lockCount += 1;
    } else if (share !== SCARD_SHARE.EXCLUSIVE && h.shareMode === SCARD_SHARE.EXCLUSIVE && reader.lockOwner === h.hCard) {
      reader.lockCount -= 1;
      if (reader.lockCount <= 0) {
        reader.lockOwner = 0;
        reader.lockCount = 0;
      }
    } else if (share === SCARD_SHARE.EXCLUSIVE && reader.lockOwner === 0) {
      // An exclusive handle whose lock a card removal cleared takes it back.
      reader.lockOwner = h.hCard;
      reader.lockCount = 1;
    }
    h.shareMode = share;
    h.event = 'none';
    core.changes.emit();
    return { rv: SCARD.S_SUCCESS, dwActiveProtocol: reader.protocol };
  });
}

/** SCardDisconnect. `signal` ends the wait for another handle's transaction (context released). */
export async function disconnect(core: RmCore, h: CardHandle, disposition: number, signal: AbortSignal): Promise<number> {
  if (disposition < 0 || disposition > SCARD_DISPOSITION.EJECT_CARD || !Number.isInteger(disposition)) return SCARD.E_INVALID_VALUE;
  const reader = h.reader;
  if (h.closed) return SCARD.E_INVALID_HANDLE;
  if (reader.gone) {
    dropHandle(core, h);
    core.changes.emit();
    return SCARD.S_SUCCESS;
  }
  if (disposition !== SCARD_DISPOSITION.LEAVE_CARD) {
    // A reset must not pull the card from under another handle's transaction: wait for it.
    while (lockedByOther(h) && !reader.gone) {
      if (!(await waitOnce(reader.lockWaiters, signal))) break;
    }
  }
  return reader.ops.run(async () => {
    if (h.closed) return SCARD.E_INVALID_HANDLE;
    // Dispose first, release the lock after: a waiter must wake to a card already reset (and flagged).
    if (!reader.gone && cardPresent(reader.readerState)) {
      if (disposition === SCARD_DISPOSITION.RESET_CARD) {
        await resetCard(reader);
        flagReset(reader);
      } else if (disposition === SCARD_DISPOSITION.UNPOWER_CARD) {
        await unpowerCard(reader);
        flagReset(reader);
      } else if (disposition === SCARD_DISPOSITION.EJECT_CARD) {
        // pcscd ignores a reader that cannot eject: the handle is released either way.
        const rv = await ejectCard(reader);
        if (rv !== SCARD.S_SUCCESS) reader.log.debug({ rv }, 'eject not performed');
      }
    }
    dropHandle(core, h);
    core.changes.emit();
    return SCARD.S_SUCCESS;
  });
}
