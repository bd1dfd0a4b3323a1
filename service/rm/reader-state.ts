// The composite readerState values pcscd 1.9.9 actually produces (docs/pcsclite-protocol.md §5.2).

import { READER_STATE } from '../contract/pcsclite.js';

export const READER_STATE_VALUE = {
  /** 0x0002: no card. */
  ABSENT: READER_STATE.ABSENT,
  /** 0x0034: present + powered + negotiable; stays so after a protocol is negotiated. */
  POWERED: READER_STATE.PRESENT | READER_STATE.POWERED | READER_STATE.NEGOTIABLE,
  /** 0x000C: present but the reset failed. */
  MUTE: READER_STATE.PRESENT | READER_STATE.SWALLOWED,
  /** 0x0004: after SCARD_UNPOWER_CARD. */
  UNPOWERED: READER_STATE.PRESENT,
  /** 0x0001: the driver failed after the reader was published; pcscd keeps it listed like this. */
  FAILED: READER_STATE.UNKNOWN,
} as const;

export function cardPresent(readerState: number): boolean {
  return (readerState & READER_STATE.PRESENT) !== 0;
}
