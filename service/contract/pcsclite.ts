// PC/SC constants with pcsc-lite's numeric values (pcsclite.h, 1.9.9), shared by the resource manager,
// its transports and the clients. See docs/pcsclite-protocol.md §2, §5.2, §8.

const SCARD_VALUES = {
  S_SUCCESS: 0x00000000,
  F_INTERNAL_ERROR: 0x80100001,
  E_CANCELLED: 0x80100002,
  E_INVALID_HANDLE: 0x80100003,
  E_INVALID_PARAMETER: 0x80100004,
  E_INVALID_TARGET: 0x80100005,
  E_NO_MEMORY: 0x80100006,
  F_WAITED_TOO_LONG: 0x80100007,
  E_INSUFFICIENT_BUFFER: 0x80100008,
  E_UNKNOWN_READER: 0x80100009,
  E_TIMEOUT: 0x8010000a,
  E_SHARING_VIOLATION: 0x8010000b,
  E_NO_SMARTCARD: 0x8010000c,
  E_UNKNOWN_CARD: 0x8010000d,
  E_CANT_DISPOSE: 0x8010000e,
  E_PROTO_MISMATCH: 0x8010000f,
  E_NOT_READY: 0x80100010,
  E_INVALID_VALUE: 0x80100011,
  E_SYSTEM_CANCELLED: 0x80100012,
  F_COMM_ERROR: 0x80100013,
  F_UNKNOWN_ERROR: 0x80100014,
  E_INVALID_ATR: 0x80100015,
  E_NOT_TRANSACTED: 0x80100016,
  E_READER_UNAVAILABLE: 0x80100017,
  P_SHUTDOWN: 0x80100018,
  E_PCI_TOO_SMALL: 0x80100019,
  E_READER_UNSUPPORTED: 0x8010001a,
  E_DUPLICATE_READER: 0x8010001b,
  E_CARD_UNSUPPORTED: 0x8010001c,
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  /** pcsc-lite defines E_UNSUPPORTED_FEATURE as E_UNEXPECTED (0x8010001F), unlike Windows (0x80100022). */
  E_UNEXPECTED: 0x8010001f,
  E_UNSUPPORTED_FEATURE: 0x8010001f,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  W_UNSUPPORTED_CARD: 0x80100065,
  W_UNRESPONSIVE_CARD: 0x80100066,
  W_UNPOWERED_CARD: 0x80100067,
  W_RESET_CARD: 0x80100068,
  W_REMOVED_CARD: 0x80100069,
  W_SECURITY_VIOLATION: 0x8010006a,
} as const;

declare const scardBrand: unique symbol;
/**
 * A pcsc-lite return code (rv): a number branded so that an NTSTATUS cannot pass for one. The driver's statuses
 * become return codes only through the resource manager's mapping (service/rm/error-map.ts).
 */
export type ScardCode = number & { readonly [scardBrand]: true };

/** pcsc-lite's return codes by name (pcsclite.h), typed as ScardCode. */
export const SCARD: { readonly [K in keyof typeof SCARD_VALUES]: ScardCode } = SCARD_VALUES as { readonly [K in keyof typeof SCARD_VALUES]: ScardCode };

/** A number from outside (a wire field, a test) taken as a pcsc-lite return code. */
export function asScardCode(value: number): ScardCode {
  return (value >>> 0) as ScardCode;
}

const SCARD_NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(SCARD_VALUES)) {
  // E_UNEXPECTED and E_UNSUPPORTED_FEATURE share a value; keep the name pcsc-lite's pcsc_stringify_error uses.
  if (!SCARD_NAMES.has(value) || name === 'E_UNSUPPORTED_FEATURE') SCARD_NAMES.set(value, `SCARD_${name}`);
}

/** `SCARD_E_NO_SMARTCARD`, or `SCARD_0x…` for an unknown value. */
export function scardName(rv: number): string {
  return SCARD_NAMES.get(rv >>> 0) ?? `SCARD_0x${(rv >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

export const SCARD_SCOPE = { USER: 0, TERMINAL: 1, SYSTEM: 2, GLOBAL: 3 } as const;
export const SCARD_PROTOCOL = { UNDEFINED: 0, T0: 1, T1: 2, RAW: 4, T15: 8, ANY: 3, ANY_OLD: 0x1000 } as const;
export const SCARD_SHARE = { EXCLUSIVE: 1, SHARED: 2, DIRECT: 3 } as const;
export const SCARD_DISPOSITION = { LEAVE_CARD: 0, RESET_CARD: 1, UNPOWER_CARD: 2, EJECT_CARD: 3 } as const;

/** `readerState` bits of pcsc-lite's READER_STATE and of SCardStatus' pdwState (low 16 bits). */
export const READER_STATE = {
  UNKNOWN: 0x0001,
  ABSENT: 0x0002,
  PRESENT: 0x0004,
  SWALLOWED: 0x0008,
  POWERED: 0x0010,
  NEGOTIABLE: 0x0020,
  SPECIFIC: 0x0040,
} as const;

/** SCARD_STATE_* bits of SCardGetStatusChange's dwCurrentState / dwEventState. */
export const SCARD_STATE = {
  UNAWARE: 0x0000,
  IGNORE: 0x0001,
  CHANGED: 0x0002,
  UNKNOWN: 0x0004,
  UNAVAILABLE: 0x0008,
  EMPTY: 0x0010,
  PRESENT: 0x0020,
  ATRMATCH: 0x0040,
  EXCLUSIVE: 0x0080,
  INUSE: 0x0100,
  MUTE: 0x0200,
  UNPOWERED: 0x0400,
} as const;

/** readerSharing values in READER_STATE. */
export const PCSCLITE_SHARING = { EXCLUSIVE_CONTEXT: -1, NO_CONTEXT: 0, LAST_CONTEXT: 1 } as const;

export const INFINITE = 0xffffffff;
export const MAX_ATR_SIZE = 33;
export const MAX_READERNAME = 128;
export const PCSCLITE_MAX_READERS_CONTEXTS = 16;
/** Size of `getset_struct.pbAttr`; a larger `cbAttrLen` closes the connection (§1.4). */
export const MAX_BUFFER_SIZE = 264;
/** 4+3+65536+3+2: the largest extended APDU exchange; a larger `cbSendLength` closes the connection (§1.4). */
export const MAX_BUFFER_SIZE_EXTENDED = 65548;
export const PNP_NOTIFICATION_READER = '\\\\?PnP?\\Notification';

/** pcsc-lite's SCARD_CTL_CODE(code) = 0x42000000 + code (reader.h). */
export function pcscliteCtlCode(code: number): number {
  return (0x42000000 + code) >>> 0;
}
/** CM_IOCTL_GET_FEATURE_REQUEST as pcsc-lite clients send it. */
export const CM_IOCTL_GET_FEATURE_REQUEST = pcscliteCtlCode(3400);

export { SCARD_ATTR } from '../../smcard/constants/scard-attributes.js';
