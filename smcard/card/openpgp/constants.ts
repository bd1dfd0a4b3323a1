// Fixed values of the OpenPGP application (OpenPGP card specification 3.4): AID parts, instruction bytes,
// the capability objects both GnuPG and OpenSC read, and the factory passwords.

/** RID D2 76 00 01 24 and application 01: what hosts SELECT (the full AID adds version, maker and serial). */
export const OPENPGP_RID_APP = Uint8Array.of(0xd2, 0x76, 0x00, 0x01, 0x24, 0x01);
/** Specification version 3.4, BCD. */
export const VERSION = Uint8Array.of(0x03, 0x04);
/** Manufacturer ID from the range the specification leaves for test and unmanaged cards (FF00..FFFE). */
export const MANUFACTURER = Uint8Array.of(0xff, 0x7c);

/** Instructions of the application beyond those in ../ins.ts. */
export const PGP_INS = {
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  RESET_RETRY_COUNTER: 0x2c,
  PSO: 0x2a,
  ACTIVATE_FILE: 0x44,
  GENERATE_ASYMMETRIC_KEY_PAIR: 0x47,
  GET_CHALLENGE: 0x84,
  INTERNAL_AUTHENTICATE: 0x88,
  SELECT_DATA: 0xa5,
  GET_DATA: 0xca,
  GET_NEXT_DATA: 0xcc,
  PUT_DATA: 0xda,
  PUT_DATA_ODD: 0xdb,
  TERMINATE_DF: 0xe6,
} as const;

/**
 * Historical bytes (DO 5F52, also the ATR's): category 00, card capabilities `73 00 00 E0` (command chaining,
 * extended Lc/Le, extended length information in 7F66), status indicator 05 (operational), 90 00.
 */
export const HISTORICAL_BYTES = Uint8Array.of(0x00, 0x73, 0x00, 0x00, 0xe0, 0x05, 0x90, 0x00);

/** Largest command and response the card takes and gives (DO 7F66); extended APDUs carry them in one piece. */
export const MAX_APDU = 2048;
/** Largest cardholder certificate (C0 bytes 5-6) and challenge (bytes 3-4). */
export const MAX_CERTIFICATE = 2048;
export const MAX_CHALLENGE = 2048;
/** Largest login data, URL and private DO (C0 bytes 7-8). */
export const MAX_SPECIAL_DO = 255;

/**
 * Extended capabilities (C0): GET CHALLENGE, key import, PW1 status changeable, private DOs, algorithm attributes
 * changeable, KDF DO (7D); no secure messaging; the three maxima above; PIN block 2 format not supported; MSE not supported.
 */
export const EXTENDED_CAPABILITIES = Uint8Array.of(
  0x7d,
  0x00,
  MAX_CHALLENGE >> 8,
  MAX_CHALLENGE & 0xff,
  MAX_CERTIFICATE >> 8,
  MAX_CERTIFICATE & 0xff,
  MAX_SPECIAL_DO >> 8,
  MAX_SPECIAL_DO & 0xff,
  0x00,
  0x00,
);

/** Factory passwords and their limits. PINs are UTF-8 strings sent unpadded. */
export const FACTORY_PW1 = '123456';
export const FACTORY_PW3 = '12345678';
export const PW1_MIN = 6;
export const PW3_MIN = 8;
export const RC_MIN = 8;
/** Max length of PW1, resetting code and PW3 as announced in C4 (127 each). */
export const PW_MAX = 127;
export const MAX_TRIES = 3;

/** Longest name (5B), language preferences (5F2D). */
export const MAX_NAME = 39;
export const MAX_LANGUAGE = 8;
