// @ts-check
// Status word meanings after ISO/IEC 7816-4 §5.6 (the interindustry values); unknown values say so.

/** @type {Record<string, string>} */
const EXACT = {
  9000: 'success',
  6200: 'warning: state of non-volatile memory unchanged',
  6281: 'warning: part of the returned data may be corrupted',
  6282: 'warning: end of file or record reached before Ne bytes',
  6283: 'warning: selected file deactivated',
  6284: 'warning: file control information not formatted correctly',
  6300: 'warning: verification failed',
  6381: 'warning: file filled up by the last write',
  6400: 'error: execution failed, memory unchanged',
  6581: 'error: memory failure',
  6700: 'error: wrong length (Lc or Le)',
  6800: 'error: functions in CLA not supported',
  6881: 'error: logical channel not supported',
  6882: 'error: secure messaging not supported',
  6900: 'error: command not allowed',
  6981: 'error: command incompatible with file structure',
  6982: 'error: security status not satisfied',
  6983: 'error: authentication method blocked',
  6984: 'error: reference data not usable',
  6985: 'error: conditions of use not satisfied',
  6986: 'error: command not allowed (no current EF)',
  6987: 'error: expected secure messaging data objects missing',
  6988: 'error: incorrect secure messaging data objects',
  '6A80': 'error: incorrect parameters in the data field',
  '6A81': 'error: function not supported',
  '6A82': 'error: file or application not found',
  '6A83': 'error: record not found',
  '6A84': 'error: not enough memory space in the file',
  '6A86': 'error: incorrect parameters P1-P2',
  '6A87': 'error: Nc inconsistent with P1-P2',
  '6A88': 'error: referenced data or reference data not found',
  '6A89': 'error: file already exists',
  '6A8A': 'error: DF name already exists',
  '6B00': 'error: wrong parameters P1-P2',
  '6D00': 'error: instruction code not supported or invalid',
  '6E00': 'error: class not supported',
  '6F00': 'error: no precise diagnosis',
};

/**
 * @param {number} sw1
 * @param {number} sw2
 * @returns {string}
 */
export function swMeaning(sw1, sw2) {
  const key = ((sw1 << 8) | sw2).toString(16).toUpperCase().padStart(4, '0');
  const exact = EXACT[key];
  if (exact !== undefined) return exact;
  if (sw1 === 0x61) return `success: ${sw2 === 0 ? '256 or more' : sw2} more byte(s) available (GET RESPONSE)`;
  if (sw1 === 0x6c) return `error: wrong Le; the exact length is ${sw2 === 0 ? 256 : sw2}`;
  if (sw1 === 0x63 && (sw2 & 0xf0) === 0xc0) return `warning: verification failed, ${sw2 & 0x0f} tries left`;
  if (sw1 === 0x62 || sw1 === 0x63) return 'warning (state of non-volatile memory may have changed)';
  if (sw1 >= 0x64 && sw1 <= 0x6f) return 'error (no interindustry meaning for this value)';
  if (sw1 === 0x90 || (sw1 & 0xf0) === 0x90) return 'proprietary';
  return 'not an ISO 7816-4 status word';
}
