// Meanings of ISO/IEC 7816-4 status words (§5.6, tables 5 and 6), as scriptor prints them after each response.

const EXACT: Record<number, string> = {
  0x9000: 'Normal processing.',
  0x6200: 'Warning: state of non-volatile memory unchanged.',
  0x6281: 'Warning: part of returned data may be corrupted.',
  0x6282: 'Warning: end of file or record reached before reading Ne bytes.',
  0x6283: 'Warning: selected file deactivated.',
  0x6284: 'Warning: file control information not formatted.',
  0x6300: 'Warning: state of non-volatile memory changed (authentication failed).',
  0x6381: 'Warning: file filled up by the last write.',
  0x6400: 'Execution error: state of non-volatile memory unchanged.',
  0x6500: 'Execution error: state of non-volatile memory changed.',
  0x6581: 'Execution error: memory failure.',
  0x6700: 'Checking error: wrong length.',
  0x6800: 'Checking error: functions in CLA not supported.',
  0x6881: 'Checking error: logical channel not supported.',
  0x6882: 'Checking error: secure messaging not supported.',
  0x6900: 'Checking error: command not allowed.',
  0x6981: 'Checking error: command incompatible with file structure.',
  0x6982: 'Checking error: security status not satisfied.',
  0x6983: 'Checking error: authentication method blocked.',
  0x6984: 'Checking error: reference data not usable.',
  0x6985: 'Checking error: conditions of use not satisfied.',
  0x6986: 'Checking error: command not allowed (no current EF).',
  0x6987: 'Checking error: expected secure messaging data objects missing.',
  0x6988: 'Checking error: incorrect secure messaging data objects.',
  0x6a00: 'Checking error: wrong parameters P1-P2.',
  0x6a80: 'Checking error: incorrect parameters in the command data field.',
  0x6a81: 'Checking error: function not supported.',
  0x6a82: 'Checking error: file or application not found.',
  0x6a83: 'Checking error: record not found.',
  0x6a84: 'Checking error: not enough memory space in the file.',
  0x6a86: 'Checking error: incorrect parameters P1-P2.',
  0x6a88: 'Checking error: referenced data or reference data not found.',
  0x6b00: 'Checking error: wrong parameters P1-P2.',
  0x6d00: 'Checking error: instruction code not supported or invalid.',
  0x6e00: 'Checking error: class not supported.',
  0x6f00: 'Checking error: no precise diagnosis.',
};

/** A one-line meaning for SW1 SW2. */
export function statusWordMeaning(sw1: number, sw2: number): string {
  const sw = (sw1 << 8) | sw2;
  const exact = EXACT[sw];
  if (exact) return exact;
  switch (sw1) {
    case 0x61: return `Normal processing: ${sw2 === 0 ? '256 or more' : sw2} response bytes still available (GET RESPONSE).`;
    case 0x6c: return `Checking error: wrong Le; ${sw2 === 0 ? 256 : sw2} bytes available (resend with that Le).`;
    case 0x63:
      if ((sw2 & 0xf0) === 0xc0) return `Warning: counter ${sw2 & 0x0f} (e.g. PIN tries remaining).`;
      return 'Warning: state of non-volatile memory changed.';
    case 0x62: return 'Warning: state of non-volatile memory unchanged.';
    case 0x64: return 'Execution error: state of non-volatile memory unchanged.';
    case 0x65: return 'Execution error: state of non-volatile memory changed.';
    case 0x66: return 'Execution error: security-related issue.';
    case 0x68: return 'Checking error: functions in CLA not supported.';
    case 0x69: return 'Checking error: command not allowed.';
    case 0x6a: return 'Checking error: wrong parameters P1-P2.';
    default:
      if (sw1 === 0x90) return 'Normal processing (proprietary SW2).';
      if (sw1 >= 0x92 && sw1 <= 0x9f) return 'Proprietary status.';
      return 'Unknown status word.';
  }
}
