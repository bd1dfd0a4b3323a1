// READER_STATE[16] snapshots (2944 bytes) for CMD_GET_READERS_STATE / CMD_WAIT_READER_STATE_CHANGE (§5).

import { readerStateStruct } from './codec.js';
import {
  MAX_ATR_SIZE,
  PCSCLITE_MAX_READERS_CONTEXTS,
  READER_NOT_INITIALIZED,
  READER_STATE_SIZE,
  READER_STATES_SIZE,
} from './protocol.js';

/** One published reader as a client sees it (the wire fields of §5.1). */
export interface ReaderStateEntry {
  readerName: string;
  eventCounter: number;
  readerState: number;
  readerSharing: number;
  cardAtr: Uint8Array;
  cardProtocol: number;
}

/** What the resource manager reports per reader (a subset of service/rm/contract.ts ReaderSnapshot). */
export interface ReaderSnapshotLike {
  name: string;
  eventCounter: number;
  readerState: number;
  sharing: number;
  atr: Uint8Array;
  protocol: number;
}

export function entryFromSnapshot(s: ReaderSnapshotLike): ReaderStateEntry {
  return {
    readerName: s.name,
    eventCounter: s.eventCounter & 0xffff,
    readerState: s.readerState,
    readerSharing: s.sharing,
    cardAtr: s.atr,
    cardProtocol: s.protocol,
  };
}

const EMPTY_SLOT = readerStateStruct.encode({
  readerName: '',
  eventCounter: 0,
  readerState: 0,
  readerSharing: 0,
  cardAtr: new Uint8Array(0),
  cardAtrLength: READER_NOT_INITIALIZED,
  cardProtocol: 0,
});

/**
 * Encodes up to 16 readers in slot order; remaining slots look like pcscd's unused ones (empty name, which the
 * client skips, and cardAtrLength 34). Readers beyond 16 cannot be represented and are dropped.
 */
export function encodeReaderStates(entries: readonly ReaderStateEntry[]): Uint8Array {
  const out = new Uint8Array(READER_STATES_SIZE);
  for (let i = 0; i < PCSCLITE_MAX_READERS_CONTEXTS; i++) {
    const e = entries[i];
    if (!e) {
      out.set(EMPTY_SLOT, i * READER_STATE_SIZE);
      continue;
    }
    const atr = e.cardAtr.subarray(0, MAX_ATR_SIZE);
    out.set(
      readerStateStruct.encode({
        readerName: e.readerName,
        eventCounter: e.eventCounter,
        readerState: e.readerState,
        readerSharing: e.readerSharing,
        cardAtr: atr,
        cardAtrLength: atr.length,
        cardProtocol: e.cardProtocol,
      }),
      i * READER_STATE_SIZE,
    );
  }
  return out;
}

/** Decodes a 2944-byte snapshot into the used slots (non-empty names), as libpcsclite does (§6.2). */
export function decodeReaderStates(data: Uint8Array): ReaderStateEntry[] {
  if (data.length !== READER_STATES_SIZE) {
    throw new RangeError(`READER_STATE[16]: need ${READER_STATES_SIZE} bytes, got ${data.length}`);
  }
  const out: ReaderStateEntry[] = [];
  for (let i = 0; i < PCSCLITE_MAX_READERS_CONTEXTS; i++) {
    const slot = readerStateStruct.decode(data.subarray(i * READER_STATE_SIZE, (i + 1) * READER_STATE_SIZE));
    if (slot.readerName === '') continue;
    const atrLength = Math.min(slot.cardAtrLength, MAX_ATR_SIZE);
    out.push({
      readerName: slot.readerName,
      eventCounter: slot.eventCounter,
      readerState: slot.readerState,
      readerSharing: slot.readerSharing,
      cardAtr: slot.cardAtr.slice(0, atrLength),
      cardProtocol: slot.cardProtocol,
    });
  }
  return out;
}
