// Reader/card states, protocols, power codes, dispositions, share modes, reader types and mechanical
// properties with their Windows values (docs/smclib.md §1.2, §1.3, §1.4): the driver-side vocabulary of the
// reader stack. pcsc-lite's client-side vocabulary is a different table (service/contract/pcsclite.ts) and the
// two disagree: SCARD_PROTOCOL_RAW is 0x10000 here and 4 there, SCARD_STATE_* are bit masks there and these
// ordinals here. Only the resource manager translates between them.

/** ReaderCapabilities.CurrentState / GET_STATE output (winsmcrd.h). */
export const SCARD_STATE = {
  SCARD_UNKNOWN: 0,
  SCARD_ABSENT: 1,
  SCARD_PRESENT: 2,
  SCARD_SWALLOWED: 3,
  SCARD_POWERED: 4,
  SCARD_NEGOTIABLE: 5,
  SCARD_SPECIFIC: 6,
} as const;
export const {
  SCARD_UNKNOWN,
  SCARD_ABSENT,
  SCARD_PRESENT,
  SCARD_SWALLOWED,
  SCARD_POWERED,
  SCARD_NEGOTIABLE,
  SCARD_SPECIFIC,
} = SCARD_STATE;

const STATE_NAMES = ['SCARD_UNKNOWN', 'SCARD_ABSENT', 'SCARD_PRESENT', 'SCARD_SWALLOWED', 'SCARD_POWERED', 'SCARD_NEGOTIABLE', 'SCARD_SPECIFIC'];

/** `SCARD_NEGOTIABLE`, or `SCARD_STATE_<n>` for an out-of-range value. */
export function scardStateName(state: number): string {
  return STATE_NAMES[state] ?? `SCARD_STATE_${state}`;
}

export const SCARD_PROTOCOL = {
  UNDEFINED: 0x00000000,
  OPTIMAL: 0x00000000,
  T0: 0x00000001,
  T1: 0x00000002,
  Tx: 0x00000003,
  RAW: 0x00010000,
  DEFAULT: 0x80000000,
} as const;
export const SCARD_PROTOCOL_UNDEFINED = SCARD_PROTOCOL.UNDEFINED;
export const SCARD_PROTOCOL_T0 = SCARD_PROTOCOL.T0;
export const SCARD_PROTOCOL_T1 = SCARD_PROTOCOL.T1;
export const SCARD_PROTOCOL_Tx = SCARD_PROTOCOL.Tx;
export const SCARD_PROTOCOL_RAW = SCARD_PROTOCOL.RAW;
export const SCARD_PROTOCOL_DEFAULT = SCARD_PROTOCOL.DEFAULT;

/** `SCARD_PROTOCOL_T0|SCARD_PROTOCOL_T1`, `SCARD_PROTOCOL_UNDEFINED` for 0. */
export function scardProtocolNames(mask: number): string {
  const m = mask >>> 0;
  if (m === 0) return 'SCARD_PROTOCOL_UNDEFINED';
  const parts: string[] = [];
  if (m & SCARD_PROTOCOL_T0) parts.push('SCARD_PROTOCOL_T0');
  if (m & SCARD_PROTOCOL_T1) parts.push('SCARD_PROTOCOL_T1');
  if (m & SCARD_PROTOCOL_RAW) parts.push('SCARD_PROTOCOL_RAW');
  if (m & SCARD_PROTOCOL_DEFAULT) parts.push('SCARD_PROTOCOL_DEFAULT');
  const rest = m & ~(SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_RAW | SCARD_PROTOCOL_DEFAULT);
  if (rest) parts.push(`0x${(rest >>> 0).toString(16)}`);
  return parts.join('|');
}

/** IOCTL_SMARTCARD_POWER input (the minor code). */
export const SCARD_POWER_DOWN = 0;
export const SCARD_COLD_RESET = 1;
export const SCARD_WARM_RESET = 2;
const POWER_NAMES = ['SCARD_POWER_DOWN', 'SCARD_COLD_RESET', 'SCARD_WARM_RESET'];
export function scardPowerName(code: number): string {
  return POWER_NAMES[code] ?? `SCARD_POWER_0x${(code >>> 0).toString(16)}`;
}

/** SCardDisconnect dispositions (winscard.h). */
export const SCARD_LEAVE_CARD = 0;
export const SCARD_RESET_CARD = 1;
export const SCARD_UNPOWER_CARD = 2;
export const SCARD_EJECT_CARD = 3;

/** Share modes (winscard.h). */
export const SCARD_SHARE_EXCLUSIVE = 1;
export const SCARD_SHARE_SHARED = 2;
export const SCARD_SHARE_DIRECT = 3;

/** ReaderCapabilities.ReaderType (winsmcrd.h; PARALELL is the header's spelling). */
export const SCARD_READER_TYPE = {
  SERIAL: 0x01,
  PARALELL: 0x02,
  KEYBOARD: 0x04,
  SCSI: 0x08,
  IDE: 0x10,
  USB: 0x20,
  PCMCIA: 0x40,
  TPM: 0x80,
  NFC: 0x100,
  UICC: 0x200,
  NGC: 0x400,
  EMBEDDEDSE: 0x800,
  VENDOR: 0xf0,
} as const;

/** ReaderCapabilities.MechProperties bits. */
export const SCARD_READER_SWALLOWS = 0x1;
export const SCARD_READER_EJECTS = 0x2;
export const SCARD_READER_CONFISCATES = 0x4;
export const SCARD_READER_CONTACTLESS = 0x8;
