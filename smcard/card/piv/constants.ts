// PIV card-edge numbers (SP 800-73-4 Parts 1 and 2, SP 800-78-4 Tables 6-1/6-2) and the Yubico extension
// instructions yubico-piv-tool sends: AIDs, key references, algorithm identifiers and the data-object table.

import type { KeyAlgorithm } from '../asymmetric/keys.js';

/** The PIV application identifier (RID A000000308, PIX 00001000 0100). */
export const PIV_AID = Uint8Array.from([0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00]);
export const PIV_AID_HEX = 'A000000308000010000100';
/** SELECT may name the PIV application by its RID alone. */
export const MIN_SELECT_PREFIX = 5;

export const PIV_INS = {
  VERIFY: 0x20,
  CHANGE_REFERENCE_DATA: 0x24,
  RESET_RETRY_COUNTER: 0x2c,
  GENERATE_ASYMMETRIC_KEY_PAIR: 0x47,
  GENERAL_AUTHENTICATE: 0x87,
  GET_DATA: 0xcb,
  PUT_DATA: 0xdb,
  // Yubico extensions.
  YK_ATTEST: 0xf9,
  YK_SET_PIN_RETRIES: 0xfa,
  YK_RESET: 0xfb,
  YK_GET_VERSION: 0xfd,
  YK_IMPORT_KEY: 0xfe,
  YK_SET_MANAGEMENT_KEY: 0xff,
  YK_GET_SERIAL: 0xf8,
} as const;

/** Key references (P2 of GENERAL AUTHENTICATE / GENERATE). */
export const KEY_REF = {
  PIV_AUTHENTICATION: 0x9a,
  MANAGEMENT: 0x9b,
  DIGITAL_SIGNATURE: 0x9c,
  KEY_MANAGEMENT: 0x9d,
  CARD_AUTHENTICATION: 0x9e,
  ATTESTATION: 0xf9,
} as const;

/** PIN references (P2 of VERIFY and friends). */
export const PIN_REF = { GLOBAL: 0x00, PIV_PIN: 0x80, PUK: 0x81 } as const;

/** Asymmetric slots that hold keys: 9A, 9C, 9D, 9E and the retired 82…95. */
export function isKeySlot(ref: number): boolean {
  return ref === 0x9a || ref === 0x9c || ref === 0x9d || ref === 0x9e || (ref >= 0x82 && ref <= 0x95);
}

/** Algorithm identifiers for the asymmetric keys (RSA-4096 is Yubico's 16). */
export const ASYM_ALG: Readonly<Record<number, KeyAlgorithm>> = {
  0x06: 'rsa1024',
  0x07: 'rsa2048',
  0x05: 'rsa3072',
  0x16: 'rsa4096',
  0x11: 'p256',
  0x14: 'p384',
};

export type ManagementAlgorithm = '3des' | 'aes128' | 'aes192' | 'aes256';

/** Management-key algorithms: identifier, key length, cipher block. `00` is the old alias of 3DES. */
export const MGMT_ALG: Readonly<Record<ManagementAlgorithm, { id: number; keyLength: number; block: number; cipher: string }>> = {
  '3des': { id: 0x03, keyLength: 24, block: 8, cipher: 'des-ede3' },
  aes128: { id: 0x08, keyLength: 16, block: 16, cipher: 'aes-128-ecb' },
  aes192: { id: 0x0a, keyLength: 24, block: 16, cipher: 'aes-192-ecb' },
  aes256: { id: 0x0c, keyLength: 32, block: 16, cipher: 'aes-256-ecb' },
};

export function mgmtAlgorithmById(id: number): ManagementAlgorithm | null {
  if (id === 0x00) return '3des';
  const entry = Object.entries(MGMT_ALG).find(([, v]) => v.id === id);
  return entry ? (entry[0] as ManagementAlgorithm) : null;
}

/** The well-known factory management key 0102030405060708 three times. */
export const DEFAULT_MANAGEMENT_KEY = '010203040506070801020304050607080102030405060708';

/** Who may use a key: never a PIN, the PIN once per session, or a fresh VERIFY before every use. */
export type PinPolicy = 'never' | 'once' | 'always';
export type TouchPolicy = 'never' | 'always' | 'cached';

/** Yubico `AA` / `AB` values. */
export const PIN_POLICY_BY_BYTE: Readonly<Record<number, PinPolicy>> = { 0x01: 'never', 0x02: 'once', 0x03: 'always' };
export const TOUCH_POLICY_BY_BYTE: Readonly<Record<number, TouchPolicy>> = { 0x01: 'never', 0x02: 'always', 0x03: 'cached' };

/** The PIV default for a slot: 9C needs the PIN before every signature, 9E needs none, the rest once. */
export function defaultPinPolicy(slot: number): PinPolicy {
  if (slot === KEY_REF.DIGITAL_SIGNATURE) return 'always';
  if (slot === KEY_REF.CARD_AUTHENTICATION) return 'never';
  return 'once';
}

/** Data-object tags (BER tag of the 5C reference). */
export const DO = {
  DISCOVERY: 0x7e,
  CARD_AUTH_CERT: 0x5fc101,
  CHUID: 0x5fc102,
  FINGERPRINTS: 0x5fc103,
  PIV_AUTH_CERT: 0x5fc105,
  SECURITY_OBJECT: 0x5fc106,
  CCC: 0x5fc107,
  FACIAL_IMAGE: 0x5fc108,
  PRINTED_INFO: 0x5fc109,
  SIGNATURE_CERT: 0x5fc10a,
  KEY_MANAGEMENT_CERT: 0x5fc10b,
  KEY_HISTORY: 0x5fc10c,
  IRIS: 0x5fc121,
  BIT_GROUP: 0x7f61,
  SM_SIGNER: 0x5fc122,
  PAIRING_CODE: 0x5fc123,
  YK_ATTESTATION_CERT: 0x5fff01,
} as const;

/** Objects whose reading needs the PIN (SP 800-73-4 Part 1 Table 1). */
const PIN_PROTECTED = new Set<number>([DO.FINGERPRINTS, DO.FACIAL_IMAGE, DO.PRINTED_INFO, DO.IRIS]);

export function readNeedsPin(tag: number): boolean {
  return PIN_PROTECTED.has(tag);
}

/** Every tag GET DATA / PUT DATA may name: the PIV data model, the retired-key certificates and Yubico's 5FFFxx. */
export function isDataObjectTag(tag: number): boolean {
  return (tag >= 0x5fc101 && tag <= 0x5fc123) || tag === DO.DISCOVERY || tag === DO.BIT_GROUP || (tag >= 0x5fff00 && tag <= 0x5fff15);
}

/** Certificate container of a key slot (retired 82…95 → 5FC10D…5FC120). */
export function certTagOf(slot: number): number | null {
  switch (slot) {
    case 0x9a:
      return DO.PIV_AUTH_CERT;
    case 0x9c:
      return DO.SIGNATURE_CERT;
    case 0x9d:
      return DO.KEY_MANAGEMENT_CERT;
    case 0x9e:
      return DO.CARD_AUTH_CERT;
    case 0xf9:
      return DO.YK_ATTESTATION_CERT;
    default:
      return slot >= 0x82 && slot <= 0x95 ? 0x5fc10d + (slot - 0x82) : null;
  }
}

/** Largest object PUT DATA stores (bounds what a host can make the card hold). */
export const MAX_OBJECT_SIZE = 16384;
