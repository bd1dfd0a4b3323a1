// ISO 7816-4 status words the card answers with, and the typed error handlers throw to produce one.
// Values: docs/smclib.md §8.3 (and ISO/IEC 7816-4 §5.6 for the few it does not list).

export const SW = {
  OK: 0x9000,
  /** '61xx': xx more bytes are waiting for GET RESPONSE (the low byte is added at run time). */
  BYTES_REMAINING: 0x6100,
  /** '6282': end of file reached before Ne bytes were read. */
  END_OF_FILE: 0x6282,
  /** '6283': the selected file is deactivated. */
  FILE_DEACTIVATED: 0x6283,
  /** '63Cx': verification failed, x tries left (the low nibble is added at run time). */
  VERIFY_FAILED: 0x63c0,
  /** '6581': memory failure (the state could not be written to the data directory). */
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  /** '6883': the last command of a chain was expected (a chain was broken off by another command). */
  LAST_COMMAND_EXPECTED: 0x6883,
  CHAINING_NOT_SUPPORTED: 0x6884,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  /** '6986': command not allowed (no current EF). */
  NO_CURRENT_EF: 0x6986,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  /** '6A84': not enough memory space in the file. */
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  /** '6A88': referenced data (a PIN reference) not found. */
  REFERENCE_NOT_FOUND: 0x6a88,
  /** '6B00': wrong parameters P1-P2 (offset outside the EF). */
  WRONG_OFFSET: 0x6b00,
  /** '6Cxx': wrong Le, xx is the exact length (T=0 only; see APDUS.md). */
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  /** '6F00': no precise diagnosis (used for crypto device failures). */
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

export type StatusWordName = keyof typeof SW;

/** What a command handler returns: response data and the status word (vicc's `(sw, data)`). */
export interface CardResponse {
  readonly sw: number;
  readonly data: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function ok(data: Uint8Array = EMPTY): CardResponse {
  return { sw: SW.OK, data };
}

/** A handler's way to answer with an error status word; the processor turns it into a response APDU. */
export class SwError extends Error {
  readonly sw: number;
  constructor(sw: number, message?: string) {
    super(message ?? `card status ${formatSw(sw)}`);
    this.name = 'SwError';
    this.sw = sw & 0xffff;
  }
}

/** `6A82`-style upper-case hex. */
export function formatSw(sw: number): string {
  return (sw & 0xffff).toString(16).toUpperCase().padStart(4, '0');
}

/** Warnings and success carry data; errors (64xx–6Fxx) never do (ISO 7816-4 §5.6). */
export function swCarriesData(sw: number): boolean {
  const sw1 = (sw >> 8) & 0xff;
  return sw1 === 0x90 || sw1 === 0x62 || sw1 === 0x63;
}
