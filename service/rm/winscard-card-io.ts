// SCardTransmit / SCardControl / SCardGetAttrib / SCardSetAttrib / SCardStatus: pcscd's guard order
// (docs/pcsclite-protocol.md §7 rows 0x09–0x10, 0x0B) in front of the IOCTLs of docs/smclib.md §5.4 and §3.7.

import { NTSTATUS } from '../../kernel/ntstatus.js';
import { controlStatusToScard, ntStatusToScard } from './error-map.js';
import { MAX_BUFFER_SIZE_EXTENDED, MAX_ATR_SIZE, SCARD, SCARD_ATTR, SCARD_PROTOCOL } from '../contract/pcsclite.js';
import { pcscliteProtocolOf, winProtocolOf } from './protocol-map.js';
import { IOCTL_SMARTCARD, readDword, scardCtlCode } from './reader-ioctl.js';
import { clearApduOrigin, setApduOrigin } from './apdu-origin.js';
import { cardPresent } from './reader-state.js';
import { lockedByOther, pendingEventRv, readerUnavailable, type RmCore } from './rm-core.js';
import type { CardHandle } from './rm-types.js';

const EMPTY = new Uint8Array(0);

/** Every SMCLIB IOCTL except the PC/SC part 10 feature request: what SCardControl may not send to the driver. */
const RM_OWNED_IOCTLS = new Set<number>(Object.values(IOCTL_SMARTCARD).filter((c) => c !== IOCTL_SMARTCARD.GET_FEATURE_REQUEST));

/** pcsc-lite's SCARD_CTL_CODE(fn) = 0x42000000 + fn becomes Windows' SCARD_CTL_CODE(fn) = 0x310000 | fn << 2. */
export function toWindowsControlCode(code: number): number | null {
  const c = code >>> 0;
  if ((c & 0xff000000) >>> 0 === 0x42000000) {
    const fn = c - 0x42000000;
    return fn <= 0xfff ? scardCtlCode(fn) : null;
  }
  return c;
}

export interface TransmitResult {
  rv: number;
  ioRecvPciProtocol: number;
  pbRecvBuffer: Uint8Array;
}

function transmitFailure(rv: number): TransmitResult {
  return { rv, ioRecvPciProtocol: 0, pbRecvBuffer: EMPTY };
}

/** pcscd's SCardTransmit checks after the handle: sharing, reader status, event state, card, protocol. */
function transmitGuard(h: CardHandle, sendProtocol: number): number {
  const reader = h.reader;
  if (lockedByOther(h)) return SCARD.E_SHARING_VIOLATION;
  if (readerUnavailable(reader)) return SCARD.E_READER_UNAVAILABLE;
  const ev = pendingEventRv(h);
  if (ev !== SCARD.S_SUCCESS) return ev;
  if (sendProtocol !== SCARD_PROTOCOL.RAW && !cardPresent(reader.readerState)) return SCARD.E_NO_SMARTCARD;
  if (sendProtocol !== SCARD_PROTOCOL.RAW && sendProtocol !== SCARD_PROTOCOL.ANY_OLD && sendProtocol !== reader.protocol) {
    return SCARD.E_PROTO_MISMATCH;
  }
  return SCARD.S_SUCCESS;
}

/**
 * The APDU hot path: no closure or promise beyond the reader mutex and the IRP itself, so the per-call cost
 * stays with the driver and the card.
 */
export function transmit(_core: RmCore, h: CardHandle, sendProtocol: number, apdu: Uint8Array, cbRecvLength: number): Promise<TransmitResult> {
  if (apdu.length > MAX_BUFFER_SIZE_EXTENDED) return Promise.resolve(transmitFailure(SCARD.E_INSUFFICIENT_BUFFER));
  if (cbRecvLength < 2) return Promise.resolve(transmitFailure(SCARD.E_INSUFFICIENT_BUFFER));
  const early = transmitGuard(h, sendProtocol);
  if (early !== SCARD.S_SUCCESS) return Promise.resolve(transmitFailure(early));
  return h.reader.ops.run(() => transmitLocked(h, sendProtocol, apdu, cbRecvLength));
}

async function transmitLocked(h: CardHandle, sendProtocol: number, apdu: Uint8Array, cbRecvLength: number): Promise<TransmitResult> {
  const reader = h.reader;
  // The state may have moved while queued behind another operation.
  const rv = h.closed ? SCARD.E_INVALID_HANDLE : transmitGuard(h, sendProtocol);
  if (rv !== SCARD.S_SUCCESS || !reader.io) return transmitFailure(rv || SCARD.E_READER_UNAVAILABLE);
  const headerProtocol = winProtocolOf(sendProtocol === SCARD_PROTOCOL.ANY_OLD ? reader.protocol : sendProtocol);
  // The output buffer is the caller's receive buffer plus the SCARD_IO_REQUEST header, as pcscd hands the
  // client's pcbRecvLength to the driver: a response that does not fit comes back as STATUS_BUFFER_TOO_SMALL,
  // which maps to the same SCARD_E_INSUFFICIENT_BUFFER the length check below gives.
  setApduOrigin(reader.symbolicLink, h.context.hContext, h.hCard);
  let r;
  try {
    r = await reader.io.transmit(headerProtocol, apdu, Math.min(cbRecvLength, MAX_BUFFER_SIZE_EXTENDED));
  } finally {
    clearApduOrigin(reader.symbolicLink);
  }
  if (r.status !== NTSTATUS.STATUS_SUCCESS) return transmitFailure(ntStatusToScard(r.status, 'transmit'));
  if (r.information < 8) return transmitFailure(SCARD.E_NOT_TRANSACTED);
  const replyProtocol = readDword(r.output) ?? headerProtocol;
  // A copy, not a view: a short reply lives in V8's heap, and a view would force its buffer out of it (measured
  // several times dearer than copying a few bytes).
  const data = r.output.slice(8, r.information);
  if (data.length > cbRecvLength) return transmitFailure(SCARD.E_INSUFFICIENT_BUFFER);
  return { rv: SCARD.S_SUCCESS, ioRecvPciProtocol: pcscliteProtocolOf(replyProtocol), pbRecvBuffer: data };
}

export async function control(
  _core: RmCore,
  h: CardHandle,
  controlCode: number,
  input: Uint8Array,
  cbRecvLength: number,
): Promise<{ rv: number; pbRecvBuffer: Uint8Array }> {
  const reader = h.reader;
  const fail = (rv: number): { rv: number; pbRecvBuffer: Uint8Array } => ({ rv, pbRecvBuffer: EMPTY });
  if (input.length > MAX_BUFFER_SIZE_EXTENDED) return fail(SCARD.E_INSUFFICIENT_BUFFER);
  if (lockedByOther(h)) return fail(SCARD.E_SHARING_VIOLATION);
  if (readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
  const code = toWindowsControlCode(controlCode);
  if (code === null) return fail(SCARD.E_UNSUPPORTED_FEATURE);
  // The reader's own IOCTLs belong to the RM: card tracking to the card monitor (a client pending one would
  // break it, docs/smclib.md §3.3), power, protocol, transmit and attributes to the winscard calls that keep the
  // reader state. pcsc-lite's SCARD_CTL_CODE(1..16) lands on exactly these codes (code 1 is POWER); pcscd hands
  // such codes to a driver that does not know them, which answers "not supported".
  if (RM_OWNED_IOCTLS.has(code)) return fail(SCARD.E_UNSUPPORTED_FEATURE);
  return reader.ops.run(async () => {
    if (!reader.io || readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
    const r = await reader.io.call(code, input, Math.min(cbRecvLength, MAX_BUFFER_SIZE_EXTENDED));
    if (r.status === NTSTATUS.STATUS_SUCCESS) {
      if (r.information > cbRecvLength) return fail(SCARD.E_INSUFFICIENT_BUFFER);
      return { rv: SCARD.S_SUCCESS, pbRecvBuffer: r.output.slice(0, r.information) };
    }
    if (code === IOCTL_SMARTCARD.GET_FEATURE_REQUEST && (r.status === NTSTATUS.STATUS_NOT_SUPPORTED || r.status === NTSTATUS.STATUS_INVALID_DEVICE_REQUEST)) {
      // PC/SC part 10: an empty TLV list means "no features"; SMCLIB readers usually refuse 3400 (docs/smclib.md §3.2).
      return { rv: SCARD.S_SUCCESS, pbRecvBuffer: EMPTY };
    }
    return fail(controlStatusToScard(r.status));
  });
}

/** Attributes the RM answers itself (docs/smclib.md §1.5: "answered by the RM, not the driver"). */
function rmAttribute(h: CardHandle, attrId: number): Uint8Array | null {
  const ansi = (s: string): Uint8Array => new Uint8Array(Buffer.from(`${s}\0`, 'latin1'));
  const wide = (s: string): Uint8Array => new Uint8Array(Buffer.from(`${s}\0`, 'utf16le'));
  const name = h.reader.name ?? '';
  switch (attrId >>> 0) {
    case SCARD_ATTR.DEVICE_FRIENDLY_NAME_A:
      return ansi(name);
    case SCARD_ATTR.DEVICE_FRIENDLY_NAME_W:
      return wide(name);
    case SCARD_ATTR.DEVICE_SYSTEM_NAME_A:
      return ansi(h.reader.symbolicLink);
    case SCARD_ATTR.DEVICE_SYSTEM_NAME_W:
      return wide(h.reader.symbolicLink);
    default:
      return null;
  }
}

function attribGuard(h: CardHandle): number {
  if (lockedByOther(h)) return SCARD.E_SHARING_VIOLATION;
  if (readerUnavailable(h.reader)) return SCARD.E_READER_UNAVAILABLE;
  return pendingEventRv(h);
}

export async function getAttrib(_core: RmCore, h: CardHandle, attrId: number, cbAttrLen: number): Promise<{ rv: number; pbAttr: Uint8Array }> {
  const fail = (rv: number): { rv: number; pbAttr: Uint8Array } => ({ rv, pbAttr: EMPTY });
  const rv = attribGuard(h);
  if (rv !== SCARD.S_SUCCESS) return fail(rv);
  const own = rmAttribute(h, attrId);
  if (own) return own.length > cbAttrLen ? fail(SCARD.E_INSUFFICIENT_BUFFER) : { rv: SCARD.S_SUCCESS, pbAttr: own };
  const reader = h.reader;
  return reader.ops.run(async () => {
    if (!reader.io || readerUnavailable(reader)) return fail(SCARD.E_READER_UNAVAILABLE);
    const r = await reader.io.getAttribute(attrId, Math.min(cbAttrLen, MAX_BUFFER_SIZE_EXTENDED));
    if (r.status !== NTSTATUS.STATUS_SUCCESS) return fail(ntStatusToScard(r.status, 'attrib'));
    return { rv: SCARD.S_SUCCESS, pbAttr: r.output.slice(0, r.information) };
  });
}

export async function setAttrib(_core: RmCore, h: CardHandle, attrId: number, value: Uint8Array): Promise<number> {
  const rv = attribGuard(h);
  if (rv !== SCARD.S_SUCCESS) return rv;
  const reader = h.reader;
  return reader.ops.run(async () => {
    if (!reader.io || readerUnavailable(reader)) return SCARD.E_READER_UNAVAILABLE;
    const r = await reader.io.setAttribute(attrId, value);
    return ntStatusToScard(r.status, 'attrib');
  });
}

export interface StatusResult {
  rv: number;
  szReaderName: string;
  dwState: number;
  dwProtocol: number;
  pbAtr: Uint8Array;
}

export function status(_core: RmCore, h: CardHandle): StatusResult {
  const reader = h.reader;
  const out: StatusResult = {
    rv: SCARD.S_SUCCESS,
    szReaderName: reader.name ?? '',
    dwState: ((reader.eventCounter << 16) | reader.readerState) >>> 0,
    dwProtocol: reader.protocol,
    pbAtr: reader.atr.slice(),
  };
  if (lockedByOther(h)) return { ...out, rv: SCARD.E_SHARING_VIOLATION };
  if (reader.atr.length > MAX_ATR_SIZE) return { ...out, rv: SCARD.F_INTERNAL_ERROR };
  const ev = pendingEventRv(h);
  if (ev !== SCARD.S_SUCCESS) return { ...out, rv: ev };
  if (readerUnavailable(reader)) return { ...out, rv: SCARD.E_READER_UNAVAILABLE };
  return out;
}
