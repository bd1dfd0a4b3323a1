// Reader-level IOCTL sequences of the RM: the Connect power loop and protocol selection (docs/smclib.md §5.3),
// and the dispositions (§5.5). Callers hold the reader's ops mutex and own the SCARD_* checks around them.

import { NTSTATUS, type NtStatus } from '../../kernel/ntstatus.js';
import { ntStatusToScard } from './error-map.js';
import { SCARD, SCARD_ATTR, SCARD_PROTOCOL } from '../contract/pcsclite.js';
import { pcscliteProtocolOf, winProtocolOf } from './protocol-map.js';
import { IOCTL_SMARTCARD, SMCLIB_POWER, SMCLIB_STATE, readDword, type ReaderIo } from './reader-ioctl.js';
import { READER_STATE_VALUE } from './reader-state.js';
import type { RmReader } from './rm-types.js';

/**
 * A POWER failure as pcscd reports it: card gone (E_NO_SMARTCARD) or reader gone (E_READER_UNAVAILABLE) as the
 * one NTSTATUS mapping says, anything else the given warning.
 */
function powerFailure(status: NtStatus, otherwise: number): number {
  const rv = ntStatusToScard(status, 'power');
  return rv === SCARD.E_NO_SMARTCARD || rv === SCARD.E_READER_UNAVAILABLE ? rv : otherwise;
}

/** Record the ATR a reset produced; the reader is 0x34 again and no protocol is negotiated. */
function poweredWith(reader: RmReader, output: Uint8Array, information: number): void {
  reader.atr = output.slice(0, information);
  reader.readerState = READER_STATE_VALUE.POWERED;
  reader.protocol = 0;
}

/**
 * The §5.3 loop: GET_STATE until the card is NEGOTIABLE or SPECIFIC, swallowing/powering on the way.
 * Returns the final SMCLIB state, or an SCARD error (E_NO_SMARTCARD, W_UNPOWERED_CARD, …).
 */
export async function powerUpCard(reader: RmReader): Promise<{ rv: number; smclibState: number }> {
  const io = reader.io;
  if (!io) return { rv: SCARD.E_READER_UNAVAILABLE, smclibState: SMCLIB_STATE.UNKNOWN };
  for (let round = 0; round < 4; round++) {
    const st = await io.getState();
    if (st.status !== NTSTATUS.STATUS_SUCCESS) return { rv: ntStatusToScard(st.status, 'power'), smclibState: SMCLIB_STATE.UNKNOWN };
    switch (st.state) {
      case SMCLIB_STATE.UNKNOWN:
      case SMCLIB_STATE.ABSENT:
        return { rv: SCARD.E_NO_SMARTCARD, smclibState: st.state };
      case SMCLIB_STATE.PRESENT:
      case SMCLIB_STATE.SWALLOWED: {
        // SWALLOW is a step of the documented sequence; readers without the mechanism answer NOT_SUPPORTED.
        if (st.state === SMCLIB_STATE.PRESENT) await io.call(IOCTL_SMARTCARD.SWALLOW, new Uint8Array(0), 0);
        const r = await io.power(SMCLIB_POWER.COLD_RESET);
        if (r.status !== NTSTATUS.STATUS_SUCCESS) return { rv: powerFailure(r.status, SCARD.W_UNPOWERED_CARD), smclibState: st.state };
        poweredWith(reader, r.output, r.information);
        break;
      }
      case SMCLIB_STATE.POWERED: {
        const r = await io.power(SMCLIB_POWER.WARM_RESET);
        if (r.status !== NTSTATUS.STATUS_SUCCESS) return { rv: powerFailure(r.status, SCARD.W_UNPOWERED_CARD), smclibState: st.state };
        poweredWith(reader, r.output, r.information);
        break;
      }
      default:
        if (reader.readerState !== READER_STATE_VALUE.POWERED && reader.atr.length > 0) reader.readerState = READER_STATE_VALUE.POWERED;
        return { rv: SCARD.S_SUCCESS, smclibState: st.state };
    }
  }
  return { rv: SCARD.W_UNRESPONSIVE_CARD, smclibState: SMCLIB_STATE.UNKNOWN };
}

/**
 * Protocol selection as pcscd does it (docs/pcsclite-protocol.md §7 0x04): RAW if asked; an already negotiated protocol must be
 * among the preferences; otherwise T=1 first, then T=0, via SET_PROTOCOL (docs/smclib.md §3.5, §5.3).
 */
export async function negotiateProtocol(reader: RmReader, preferred: number, smclibState: number): Promise<number> {
  const io = reader.io;
  if (!io) return SCARD.E_READER_UNAVAILABLE;
  if (preferred & SCARD_PROTOCOL.RAW) {
    const r = await io.setProtocol(winProtocolOf(SCARD_PROTOCOL.RAW));
    if (r.status !== NTSTATUS.STATUS_SUCCESS) return ntStatusToScard(r.status, 'protocol');
    reader.protocol = SCARD_PROTOCOL.RAW;
    return SCARD.S_SUCCESS;
  }
  const wanted = preferred & SCARD_PROTOCOL.ANY_OLD ? SCARD_PROTOCOL.T0 | SCARD_PROTOCOL.T1 : preferred & (SCARD_PROTOCOL.T0 | SCARD_PROTOCOL.T1);
  if (reader.protocol === 0 && smclibState === SMCLIB_STATE.SPECIFIC) {
    // Someone negotiated before the RM knew (e.g. a reader started with a powered card): ask the driver.
    const r = await io.getAttribute(SCARD_ATTR.CURRENT_PROTOCOL_TYPE, 4);
    const p = r.status === NTSTATUS.STATUS_SUCCESS ? readDword(r.output) : null;
    if (p !== null) reader.protocol = pcscliteProtocolOf(p);
  }
  if (reader.protocol !== 0) return wanted & reader.protocol ? SCARD.S_SUCCESS : SCARD.E_PROTO_MISMATCH;
  for (const p of [SCARD_PROTOCOL.T1, SCARD_PROTOCOL.T0]) {
    if (!(wanted & p)) continue;
    const r = await io.setProtocol(winProtocolOf(p));
    if (r.status === NTSTATUS.STATUS_SUCCESS) {
      let selected = readDword(r.output.subarray(0, r.information));
      if (selected === null) {
        // BIX-style drivers complete SET_PROTOCOL with Information 0 (docs/smclib.md §5.3): ask for the attribute.
        const a = await io.getAttribute(SCARD_ATTR.CURRENT_PROTOCOL_TYPE, 4);
        selected = a.status === NTSTATUS.STATUS_SUCCESS ? readDword(a.output) : null;
      }
      reader.protocol = pcscliteProtocolOf(selected ?? p) || p;
      return SCARD.S_SUCCESS;
    }
    if (r.status === NTSTATUS.STATUS_NOT_SUPPORTED || r.status === NTSTATUS.STATUS_INVALID_DEVICE_REQUEST) continue;
    return powerFailure(r.status, SCARD.W_UNRESPONSIVE_CARD);
  }
  return SCARD.E_PROTO_MISMATCH;
}

/** One POWER reset (warm or cold) whose ATR becomes the reader's; a failure is W_UNRESPONSIVE_CARD or worse. */
async function powerReset(reader: RmReader, io: ReaderIo, minor: number): Promise<number> {
  const r = await io.power(minor);
  if (r.status !== NTSTATUS.STATUS_SUCCESS) return powerFailure(r.status, SCARD.W_UNRESPONSIVE_CARD);
  poweredWith(reader, r.output, r.information);
  return SCARD.S_SUCCESS;
}

/** SCARD_RESET_CARD: warm reset (docs/smclib.md §5.5). */
export async function resetCard(reader: RmReader): Promise<number> {
  const io = reader.io;
  if (!io) return SCARD.E_READER_UNAVAILABLE;
  return powerReset(reader, io, SMCLIB_POWER.WARM_RESET);
}

/** SCARD_UNPOWER_CARD: power down; the reader shows 0x0004 (docs/pcsclite-protocol.md §5.2). */
export async function unpowerCard(reader: RmReader): Promise<number> {
  const io = reader.io;
  if (!io) return SCARD.E_READER_UNAVAILABLE;
  const r = await io.power(SMCLIB_POWER.POWER_DOWN);
  reader.protocol = 0;
  if (r.status !== NTSTATUS.STATUS_SUCCESS) return powerFailure(r.status, SCARD.W_UNRESPONSIVE_CARD);
  reader.readerState = READER_STATE_VALUE.UNPOWERED;
  return SCARD.S_SUCCESS;
}

/** Reconnect's UNPOWER: power down then cold reset (docs/pcsclite-protocol.md §7 0x05). */
export async function cyclePower(reader: RmReader): Promise<number> {
  const io = reader.io;
  if (!io) return SCARD.E_READER_UNAVAILABLE;
  await io.power(SMCLIB_POWER.POWER_DOWN);
  return powerReset(reader, io, SMCLIB_POWER.COLD_RESET);
}

/** SCARD_EJECT_CARD: IOCTL_SMARTCARD_EJECT; NOT_SUPPORTED → E_CANT_DISPOSE (docs/smclib.md §5.5). */
export async function ejectCard(reader: RmReader): Promise<number> {
  const io = reader.io;
  if (!io) return SCARD.E_READER_UNAVAILABLE;
  const r = await io.call(IOCTL_SMARTCARD.EJECT, new Uint8Array(0), 0);
  return ntStatusToScard(r.status, 'eject');
}
