// SCardGetStatusChange's per-pass evaluation, as libpcsclite 1.9.9 computes it client-side
// (docs/pcsclite-protocol.md §6.3): current → event state bits, CHANGED, the event counter in the high word,
// UNAWARE, IGNORE, unknown readers and the `\\?PnP?\Notification` pseudo-reader. Pure: no I/O, no time.

import type { ReaderStateOut } from './contract.js';
import { PNP_NOTIFICATION_READER, READER_STATE, SCARD_STATE } from '../contract/pcsclite.js';

/** What one pass needs to know about a published reader. */
export interface ReaderView {
  name: string;
  eventCounter: number;
  readerState: number;
  sharing: number;
  atr: Uint8Array;
}

/** One rgReaderStates entry, updated in place across passes (dwEventState accumulates like libpcsclite's). */
export type StatusEntry = ReaderStateOut;

export function isPnpReader(name: string): boolean {
  return name.toLowerCase() === PNP_NOTIFICATION_READER.toLowerCase();
}

/** The first requested name that is neither published nor the PnP reader, if any (→ SCARD_E_UNKNOWN_READER). */
export function firstUnknownReader(entries: readonly StatusEntry[], readers: readonly ReaderView[]): string | null {
  for (const e of entries) {
    if (isPnpReader(e.szReader)) continue;
    if (!readers.some((r) => r.name === e.szReader)) return e.szReader;
  }
  return null;
}

export function allIgnored(entries: readonly StatusEntry[]): boolean {
  return entries.every((e) => (e.dwCurrentState & SCARD_STATE.IGNORE) !== 0);
}

const S = SCARD_STATE;

/**
 * One pass over every entry. `initialReaderCount` is the number of readers when the call started (the PnP
 * reader reports CHANGED when it differs). Returns true when at least one entry got CHANGED (the break flag).
 */
export function evaluatePass(entries: StatusEntry[], readers: readonly ReaderView[], initialReaderCount: number): boolean {
  let changed = false;
  const flag = (e: StatusEntry): void => {
    e.dwEventState |= S.CHANGED;
    changed = true;
  };
  for (const e of entries) {
    const cur = e.dwCurrentState >>> 0;
    if (cur & S.IGNORE) continue;
    const rs = readers.find((r) => r.name === e.szReader);
    if (!rs) {
      if (isPnpReader(e.szReader)) {
        if (readers.length !== initialReaderCount) flag(e);
      } else {
        e.dwEventState = S.UNKNOWN | S.UNAVAILABLE;
        if (!(cur & S.UNKNOWN)) flag(e);
      }
      continue;
    }
    const st = rs.readerState;
    // The reader has come back after being away.
    if (cur & S.UNKNOWN) {
      flag(e);
      e.dwEventState &= ~S.UNKNOWN;
    }
    if (cur & 0xffff0000 && cur >>> 16 !== rs.eventCounter) flag(e);
    e.dwEventState = ((e.dwEventState & 0xffff) | (rs.eventCounter << 16)) >>> 0;

    if (st & READER_STATE.UNKNOWN) {
      e.dwEventState = S.UNAVAILABLE;
      if (!(cur & S.UNAVAILABLE)) flag(e);
    } else if (cur & S.UNAVAILABLE) {
      e.dwEventState &= ~S.UNAVAILABLE;
      flag(e);
    }

    if (st & READER_STATE.PRESENT) {
      e.rgbAtr = rs.atr.slice();
      e.cbAtr = rs.atr.length;
    } else {
      e.rgbAtr = new Uint8Array(0);
      e.cbAtr = 0;
    }

    if (st & READER_STATE.ABSENT) {
      e.dwEventState |= S.EMPTY;
      e.dwEventState &= ~(S.PRESENT | S.UNAWARE | S.IGNORE | S.UNKNOWN | S.UNAVAILABLE | S.ATRMATCH | S.MUTE | S.INUSE);
      if (cur & S.PRESENT) flag(e);
    } else if (st & READER_STATE.PRESENT) {
      e.dwEventState |= S.PRESENT;
      e.dwEventState &= ~(S.EMPTY | S.UNAWARE | S.IGNORE | S.UNKNOWN | S.UNAVAILABLE | S.MUTE);
      if (cur & S.EMPTY) flag(e);
      if (st & READER_STATE.SWALLOWED) {
        e.dwEventState |= S.MUTE;
        if (!(cur & S.MUTE)) flag(e);
      } else if (cur & S.MUTE) {
        flag(e);
      }
    }

    if (rs.sharing === -1) {
      e.dwEventState |= S.EXCLUSIVE;
      e.dwEventState &= ~S.INUSE;
      if (cur & S.INUSE) flag(e);
    } else if (rs.sharing >= 1) {
      // A card must be inserted for the reader to be INUSE.
      if (st & READER_STATE.PRESENT) {
        e.dwEventState |= S.INUSE;
        e.dwEventState &= ~S.EXCLUSIVE;
        if (cur & S.EXCLUSIVE) flag(e);
      }
    } else {
      e.dwEventState &= ~(S.EXCLUSIVE | S.INUSE);
      if (cur & (S.INUSE | S.EXCLUSIVE)) flag(e);
    }

    if (cur === S.UNAWARE) flag(e);
    e.dwEventState >>>= 0;
  }
  return changed;
}
