// TRANSMIT: the library's pre-checks on SCARD_IO_REQUEST, and the T=0 / raw framing helpers drivers call
// (SmartcardT0Request/T0Reply, SmartcardRawRequest/RawReply) (docs/smclib.md §3.6).

import { readU32LE } from '../../kernel/bytes.js';
import { NTSTATUS } from '../../kernel/ntstatus.js';
import { WinScard } from '../constants/scard.js';
import { SCARD_IO_REQUEST_LENGTH } from '../constants/smclib.js';
import type { SmartcardExtension } from './extension.js';

/** The minimum TRANSMIT output: SCARD_IO_REQUEST plus SW1 SW2 (NFCCX requires 10). */
export const MIN_TRANSMIT_OUTPUT = SCARD_IO_REQUEST_LENGTH + 2;

export interface TransmitRequest {
  protocol: number;
  pciLength: number;
  apdu: Uint8Array;
}

export type TransmitCheck = { status: typeof NTSTATUS.STATUS_SUCCESS; request: TransmitRequest } | { status: number; request?: undefined };

/** Library-side TRANSMIT checks in §3.6 order: state, input length, dwProtocol, cbPciLength, APDU length, output. */
export function checkTransmit(ext: SmartcardExtension, input: Uint8Array, outputLength: number): TransmitCheck {
  const status = transmitCheckStatus(ext, input, input.length, outputLength);
  if (status !== NTSTATUS.STATUS_SUCCESS) return { status };
  const protocol = readU32LE(input, 0);
  const pciLength = readU32LE(input, 4);
  const start = ext.Options.honourPciLength ? pciLength : SCARD_IO_REQUEST_LENGTH;
  return { status: NTSTATUS.STATUS_SUCCESS, request: { protocol, pciLength, apdu: input.slice(start) } };
}

/**
 * The status checkTransmit would give for the first `inputLength` bytes of `input`, without copying the APDU out
 * or making a view of it (the library's own TRANSMIT path).
 */
export function transmitCheckStatus(ext: SmartcardExtension, input: Uint8Array, inputLength: number, outputLength: number): number {
  const o = ext.Options;
  // A plain read: JavaScript runs one turn at a time, so the SpinLock section would only add a closure per IRP.
  const selected = ext.ReaderCapabilities.CurrentState === WinScard.SPECIFIC ? ext.CardCapabilities.Protocol.Selected : -1;
  if (selected < 0) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  if (inputLength < SCARD_IO_REQUEST_LENGTH) return NTSTATUS.STATUS_INVALID_PARAMETER;
  const protocol = readU32LE(input, 0);
  const pciLength = readU32LE(input, 4);
  if (protocol !== selected >>> 0) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  let start = SCARD_IO_REQUEST_LENGTH;
  if (o.honourPciLength) {
    if (pciLength < SCARD_IO_REQUEST_LENGTH || pciLength > inputLength) return NTSTATUS.STATUS_INVALID_PARAMETER;
    start = pciLength;
  }
  const min = protocol === WinScard.PROTOCOL_T0 ? o.minApduLengthT0 : o.minApduLengthT1;
  if (inputLength - start < min) return NTSTATUS.STATUS_INVALID_PARAMETER;
  if (outputLength < MIN_TRANSMIT_OUTPUT) return NTSTATUS.STATUS_BUFFER_TOO_SMALL;
  return NTSTATUS.STATUS_SUCCESS;
}

/** The APDU of the current TRANSMIT request (after cbPciLength), copied so the reply may reuse the buffer. */
export function requestApdu(ext: SmartcardExtension): Uint8Array {
  const req = ext.IoRequest.RequestBuffer;
  const length = Math.min(ext.IoRequest.RequestBufferLength, req.length);
  if (length < SCARD_IO_REQUEST_LENGTH) return new Uint8Array(0);
  const pci = readU32LE(req, 4);
  const start = ext.Options.honourPciLength && pci >= SCARD_IO_REQUEST_LENGTH && pci <= length ? pci : SCARD_IO_REQUEST_LENGTH;
  return req.slice(start, length);
}

/**
 * SmartcardT0Request: appends the T=0 TPDU for the current APDU to SmartcardRequest.Buffer after the driver's
 * header (BufferLength preset). A 4-byte case-1 APDU becomes a 5-byte TPDU with P3 = 00; case 4 is sent as
 * case 3 (Le dropped, the card answers 61xx). Extended lengths do not exist in T=0.
 */
export function SmartcardT0Request(ext: SmartcardExtension): number {
  const apdu = requestApdu(ext);
  let tpdu: Uint8Array;
  if (apdu.length < 4) return NTSTATUS.STATUS_INVALID_PARAMETER;
  if (apdu.length === 4) {
    tpdu = Uint8Array.of(...apdu, 0x00);
    ext.T0.Lc = 0;
    ext.T0.Le = 0;
  } else if (apdu.length === 5) {
    tpdu = apdu;
    ext.T0.Lc = 0;
    ext.T0.Le = apdu[4] === 0 ? 256 : apdu[4];
  } else {
    const lc = apdu[4];
    if (lc === 0) return NTSTATUS.STATUS_INVALID_PARAMETER; // extended length: not representable in T=0
    if (apdu.length === 5 + lc) tpdu = apdu;
    else if (apdu.length === 6 + lc) tpdu = apdu.subarray(0, 5 + lc);
    else return NTSTATUS.STATUS_INVALID_PARAMETER;
    ext.T0.Lc = lc;
    ext.T0.Le = apdu.length === 6 + lc ? apdu[5 + lc] || 256 : 0;
  }
  const req = ext.SmartcardRequest;
  if (req.BufferLength + tpdu.length > req.BufferSize || req.BufferLength + tpdu.length > req.Buffer.length) return NTSTATUS.STATUS_BUFFER_OVERFLOW;
  req.Buffer.set(tpdu, req.BufferLength);
  req.BufferLength += tpdu.length;
  return NTSTATUS.STATUS_SUCCESS;
}

/** Copies SmartcardReply into the user reply as {Selected, 8} + data + SW; sets Information. */
function copyReply(ext: SmartcardExtension, requireSw: boolean): number {
  const reply = ext.SmartcardReply.Buffer.subarray(0, ext.SmartcardReply.BufferLength);
  if (requireSw && reply.length < 2) return NTSTATUS.STATUS_DEVICE_PROTOCOL_ERROR;
  return writeTransmitReply(ext, reply);
}

/** SmartcardT0Reply: DEVICE_PROTOCOL_ERROR without SW1 SW2, BUFFER_TOO_SMALL if the user buffer is short. */
export function SmartcardT0Reply(ext: SmartcardExtension): number {
  return copyReply(ext, true);
}

/** SmartcardRawRequest: the APDU as-is after the driver header. */
export function SmartcardRawRequest(ext: SmartcardExtension): number {
  const apdu = requestApdu(ext);
  const req = ext.SmartcardRequest;
  if (req.BufferLength + apdu.length > req.BufferSize || req.BufferLength + apdu.length > req.Buffer.length) return NTSTATUS.STATUS_BUFFER_OVERFLOW;
  req.Buffer.set(apdu, req.BufferLength);
  req.BufferLength += apdu.length;
  return NTSTATUS.STATUS_SUCCESS;
}

/** SmartcardRawReply: like T0Reply without the status-word check. */
export function SmartcardRawReply(ext: SmartcardExtension): number {
  return copyReply(ext, false);
}

/**
 * Writes `SCARD_IO_REQUEST{dwProtocol = selected, cbPciLength = 8}` + response into IoRequest.ReplyBuffer and
 * sets Information = 8 + n; BUFFER_TOO_SMALL (Information 0) if it does not fit.
 */
export function writeTransmitReply(ext: SmartcardExtension, response: Uint8Array): number {
  const io = ext.IoRequest;
  const total = SCARD_IO_REQUEST_LENGTH + response.length;
  if (total > io.ReplyBufferLength || total > io.ReplyBuffer.length) {
    io.Information.value = 0;
    return NTSTATUS.STATUS_BUFFER_TOO_SMALL;
  }
  const out = io.ReplyBuffer;
  const selected = ext.CardCapabilities.Protocol.Selected >>> 0;
  out[0] = selected & 0xff;
  out[1] = (selected >>> 8) & 0xff;
  out[2] = (selected >>> 16) & 0xff;
  out[3] = selected >>> 24;
  out[4] = SCARD_IO_REQUEST_LENGTH;
  out[5] = 0;
  out[6] = 0;
  out[7] = 0;
  out.set(response, SCARD_IO_REQUEST_LENGTH);
  io.Information.value = total;
  return NTSTATUS.STATUS_SUCCESS;
}
