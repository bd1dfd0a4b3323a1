// Pure codecs for every pcsc-lite 1.9.9 message (docs/pcsclite-protocol.md §4–§5), shared by the daemon and clients.

import { readU32LE } from '../../kernel/bytes.js';
import { Command, HEADER_SIZE, MAX_ATR_SIZE, MAX_BUFFER_SIZE, MAX_READERNAME } from './protocol.js';
import { bytes, cstring, defineStruct, i32, u32 } from './struct.js';

/** `struct rxHeader`: every client message starts with it; the server's replies have none (§1.3). */
export const rxHeader = defineStruct('rxHeader', HEADER_SIZE, { size: u32(0), command: u32(4) });

export const versionStruct = defineStruct('version_struct', 12, { major: i32(0), minor: i32(4), rv: u32(8) });

export const establishStruct = defineStruct('establish_struct', 12, {
  dwScope: u32(0),
  hContext: u32(4),
  rv: u32(8),
});

export const releaseStruct = defineStruct('release_struct', 8, { hContext: u32(0), rv: u32(4) });

export const connectStruct = defineStruct('connect_struct', 152, {
  hContext: u32(0),
  szReader: cstring(4, MAX_READERNAME),
  dwShareMode: u32(132),
  dwPreferredProtocols: u32(136),
  hCard: i32(140),
  dwActiveProtocol: u32(144),
  rv: u32(148),
});

export const reconnectStruct = defineStruct('reconnect_struct', 24, {
  hCard: i32(0),
  dwShareMode: u32(4),
  dwPreferredProtocols: u32(8),
  dwInitialization: u32(12),
  dwActiveProtocol: u32(16),
  rv: u32(20),
});

export const disconnectStruct = defineStruct('disconnect_struct', 12, {
  hCard: i32(0),
  dwDisposition: u32(4),
  rv: u32(8),
});

export const beginStruct = defineStruct('begin_struct', 8, { hCard: i32(0), rv: u32(4) });

export const endStruct = defineStruct('end_struct', 12, { hCard: i32(0), dwDisposition: u32(4), rv: u32(8) });

export const statusStruct = defineStruct('status_struct', 8, { hCard: i32(0), rv: u32(4) });

/** hContext is `int32_t` here (and `uint32_t` elsewhere); it names another connection's context (§5.4). */
export const cancelStruct = defineStruct('cancel_struct', 8, { hContext: i32(0), rv: u32(4) });

/** Reply to STOP_WAITING and the asynchronous event / cancel signal (§4). */
export const waitReaderStateChange = defineStruct('wait_reader_state_change', 8, { timeOut: u32(0), rv: u32(4) });

/** Followed by `cbSendLength` bytes of C-APDU; the reply by `pcbRecvLength` bytes only when rv == 0. */
export const transmitStruct = defineStruct('transmit_struct', 32, {
  hCard: i32(0),
  ioSendPciProtocol: u32(4),
  ioSendPciLength: u32(8),
  cbSendLength: u32(12),
  ioRecvPciProtocol: u32(16),
  ioRecvPciLength: u32(20),
  pcbRecvLength: u32(24),
  rv: u32(28),
});

/** Followed by `cbSendLength` bytes; the reply by `dwBytesReturned` bytes only when rv == 0. */
export const controlStruct = defineStruct('control_struct', 24, {
  hCard: i32(0),
  dwControlCode: u32(4),
  cbSendLength: u32(8),
  cbRecvLength: u32(12),
  dwBytesReturned: u32(16),
  rv: u32(20),
});

/** GET_ATTRIB and SET_ATTRIB share this layout. */
export const getsetStruct = defineStruct('getset_struct', 280, {
  hCard: i32(0),
  dwAttrId: u32(4),
  pbAttr: bytes(8, MAX_BUFFER_SIZE),
  cbAttrLen: u32(272),
  rv: u32(276),
});

/** One slot of `READER_STATE[16]` (`struct pubReaderStatesList`, §5.1); 3 bytes of padding sit at 173. */
export const readerStateStruct = defineStruct('READER_STATE', 184, {
  readerName: cstring(0, MAX_READERNAME),
  eventCounter: u32(128),
  readerState: u32(132),
  readerSharing: i32(136),
  cardAtr: bytes(140, MAX_ATR_SIZE),
  cardAtrLength: u32(176),
  cardProtocol: u32(180),
});

/** The struct each command carries (commands 0x12–0x14 have an empty body). */
export const COMMAND_STRUCT = {
  [Command.CMD_VERSION]: versionStruct,
  [Command.SCARD_ESTABLISH_CONTEXT]: establishStruct,
  [Command.SCARD_RELEASE_CONTEXT]: releaseStruct,
  [Command.SCARD_CONNECT]: connectStruct,
  [Command.SCARD_RECONNECT]: reconnectStruct,
  [Command.SCARD_DISCONNECT]: disconnectStruct,
  [Command.SCARD_BEGIN_TRANSACTION]: beginStruct,
  [Command.SCARD_END_TRANSACTION]: endStruct,
  [Command.SCARD_TRANSMIT]: transmitStruct,
  [Command.SCARD_CONTROL]: controlStruct,
  [Command.SCARD_STATUS]: statusStruct,
  [Command.SCARD_CANCEL]: cancelStruct,
  [Command.SCARD_GET_ATTRIB]: getsetStruct,
  [Command.SCARD_SET_ATTRIB]: getsetStruct,
} as const;

/** A client request frame: header + struct (+ TRANSMIT/CONTROL payload), as libpcsclite writes it. */
export function encodeRequest(command: Command, body: Uint8Array = new Uint8Array(0), extra?: Uint8Array): Uint8Array {
  const head = rxHeader.encode({ size: body.length, command });
  const out = new Uint8Array(head.length + body.length + (extra?.length ?? 0));
  out.set(head, 0);
  out.set(body, head.length);
  if (extra) out.set(extra, head.length + body.length);
  return out;
}

/** `struct + data` for TRANSMIT/CONTROL replies; data is appended only on success (§3). */
export function withPayload(struct: Uint8Array, rv: number, data: Uint8Array): Uint8Array {
  if (rv !== 0 || data.length === 0) return struct;
  const out = new Uint8Array(struct.length + data.length);
  out.set(struct, 0);
  out.set(data, struct.length);
  return out;
}

/** The transmit_struct fields the daemon reads (offsets of `transmitStruct`), without building the full record. */
export interface TransmitRequestFields {
  hCard: number;
  ioSendPciProtocol: number;
  pcbRecvLength: number;
}

/** Reads what a TRANSMIT needs from its 32-byte struct: the hot path's cheaper twin of `transmitStruct.decode`. */
export function readTransmitRequest(body: Uint8Array): TransmitRequestFields {
  if (body.length < transmitStruct.size) throw new RangeError(`transmit_struct: need ${transmitStruct.size} bytes, got ${body.length}`);
  return { hCard: readU32LE(body, 0) | 0, ioSendPciProtocol: readU32LE(body, 4), pcbRecvLength: readU32LE(body, 24) };
}

/**
 * The TRANSMIT reply in one buffer: the client's struct echoed with ioRecvPciProtocol, pcbRecvLength and rv set,
 * followed by `data` when rv == 0 — the same bytes as `withPayload(transmitStruct.encode({...req, ...}, body), …)`.
 */
export function encodeTransmitReply(body: Uint8Array, ioRecvPciProtocol: number, pcbRecvLength: number, rv: number, data: Uint8Array): Buffer {
  const payload = rv === 0 ? data : EMPTY;
  const out = Buffer.allocUnsafe(transmitStruct.size + payload.length);
  out.set(body.subarray(0, transmitStruct.size), 0);
  out.writeUInt32LE(ioRecvPciProtocol >>> 0, 16);
  out.writeUInt32LE(pcbRecvLength >>> 0, 24);
  out.writeUInt32LE(rv >>> 0, 28);
  if (payload.length > 0) out.set(payload, transmitStruct.size);
  return out;
}

const EMPTY = new Uint8Array(0);


/** The 8-byte message a registered waiter receives: rv 0 = "something changed", E_CANCELLED after CANCEL. */
export function encodeSignal(rv: number): Uint8Array {
  return waitReaderStateChange.encode({ timeOut: 0, rv });
}
