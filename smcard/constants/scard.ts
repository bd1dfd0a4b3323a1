// Windows' SCARD vocabulary as the reader stack uses it (winsmcrd.h, winscard.h; docs/smclib.md §1.2, §1.3,
// §1.4): reader/card states, protocols, power codes, dispositions, share modes, reader types and mechanical
// properties, all under one `WinScard` name. pcsc-lite's client-side vocabulary (service/contract/pcsclite.ts)
// disagrees with it: SCARD_PROTOCOL_RAW is 0x10000 here and 4 there, and the card states are these ordinals here
// but bit masks there. The namespace keeps the two apart (no export of this module shares a name with one of
// pcsc-lite's; test/smcard/constants/scard-vocabularies.test.ts holds that). Only the resource manager translates,
// in service/rm/protocol-map.ts.

/** `WinScard.X` is the headers' `SCARD_X`. */
export const WinScard = {
  // ReaderCapabilities.CurrentState / GET_STATE output (winsmcrd.h): ordinals, not bits.
  UNKNOWN: 0,
  ABSENT: 1,
  PRESENT: 2,
  SWALLOWED: 3,
  POWERED: 4,
  NEGOTIABLE: 5,
  SPECIFIC: 6,

  // Protocol bits.
  PROTOCOL_UNDEFINED: 0x00000000,
  PROTOCOL_OPTIMAL: 0x00000000,
  PROTOCOL_T0: 0x00000001,
  PROTOCOL_T1: 0x00000002,
  PROTOCOL_Tx: 0x00000003,
  PROTOCOL_RAW: 0x00010000,
  PROTOCOL_DEFAULT: 0x80000000,

  // IOCTL_SMARTCARD_POWER input (the minor code).
  POWER_DOWN: 0,
  COLD_RESET: 1,
  WARM_RESET: 2,

  // SCardDisconnect dispositions (winscard.h).
  LEAVE_CARD: 0,
  RESET_CARD: 1,
  UNPOWER_CARD: 2,
  EJECT_CARD: 3,

  // Share modes (winscard.h).
  SHARE_EXCLUSIVE: 1,
  SHARE_SHARED: 2,
  SHARE_DIRECT: 3,

  // ReaderCapabilities.ReaderType (winsmcrd.h; PARALELL is the header's spelling).
  READER_TYPE_SERIAL: 0x01,
  READER_TYPE_PARALELL: 0x02,
  READER_TYPE_KEYBOARD: 0x04,
  READER_TYPE_SCSI: 0x08,
  READER_TYPE_IDE: 0x10,
  READER_TYPE_USB: 0x20,
  READER_TYPE_PCMCIA: 0x40,
  READER_TYPE_TPM: 0x80,
  READER_TYPE_NFC: 0x100,
  READER_TYPE_UICC: 0x200,
  READER_TYPE_NGC: 0x400,
  READER_TYPE_EMBEDDEDSE: 0x800,
  READER_TYPE_VENDOR: 0xf0,

  // ReaderCapabilities.MechProperties bits.
  READER_SWALLOWS: 0x1,
  READER_EJECTS: 0x2,
  READER_CONFISCATES: 0x4,
  READER_CONTACTLESS: 0x8,
} as const;

const STATE_NAMES = ['SCARD_UNKNOWN', 'SCARD_ABSENT', 'SCARD_PRESENT', 'SCARD_SWALLOWED', 'SCARD_POWERED', 'SCARD_NEGOTIABLE', 'SCARD_SPECIFIC'];

/** `SCARD_NEGOTIABLE`, or `SCARD_STATE_<n>` for an out-of-range value. */
export function winScardStateName(state: number): string {
  return STATE_NAMES[state] ?? `SCARD_STATE_${state}`;
}

const NAMED_PROTOCOLS = WinScard.PROTOCOL_T0 | WinScard.PROTOCOL_T1 | WinScard.PROTOCOL_RAW | WinScard.PROTOCOL_DEFAULT;

/** `SCARD_PROTOCOL_T0|SCARD_PROTOCOL_T1`, `SCARD_PROTOCOL_UNDEFINED` for 0. */
export function winScardProtocolNames(mask: number): string {
  const m = mask >>> 0;
  if (m === 0) return 'SCARD_PROTOCOL_UNDEFINED';
  const parts: string[] = [];
  if (m & WinScard.PROTOCOL_T0) parts.push('SCARD_PROTOCOL_T0');
  if (m & WinScard.PROTOCOL_T1) parts.push('SCARD_PROTOCOL_T1');
  if (m & WinScard.PROTOCOL_RAW) parts.push('SCARD_PROTOCOL_RAW');
  if (m & WinScard.PROTOCOL_DEFAULT) parts.push('SCARD_PROTOCOL_DEFAULT');
  const rest = m & ~NAMED_PROTOCOLS;
  if (rest) parts.push(`0x${(rest >>> 0).toString(16)}`);
  return parts.join('|');
}

const POWER_NAMES = ['SCARD_POWER_DOWN', 'SCARD_COLD_RESET', 'SCARD_WARM_RESET'];

/** `SCARD_COLD_RESET`, or `SCARD_POWER_0x…` for an unknown minor code. */
export function winScardPowerName(code: number): string {
  return POWER_NAMES[code] ?? `SCARD_POWER_0x${(code >>> 0).toString(16)}`;
}
