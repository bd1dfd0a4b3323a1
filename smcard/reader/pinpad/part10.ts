// PC/SC part 10 as a PIN-pad reader speaks it: feature tags, the TLV answers of GET_FEATURE_REQUEST,
// GET_TLV_PROPERTIES and IFD_PIN_PROPERTIES, and the packed little-endian PIN_VERIFY / PIN_MODIFY structures.

import { scardCtlCode } from '../../constants/ioctl.js';

/** Feature tags (PC/SC part 10 §2.2); the ones this reader offers are listed in PINPAD_FEATURES. */
export const FEATURE = {
  VERIFY_PIN_DIRECT: 0x06,
  MODIFY_PIN_DIRECT: 0x07,
  IFD_PIN_PROPERTIES: 0x0a,
  GET_TLV_PROPERTIES: 0x12,
} as const;

/**
 * The control code of a feature, in the reader stack's (Windows) numbering: SCARD_CTL_CODE(3400 + tag), next to
 * CM_IOCTL_GET_FEATURE_REQUEST itself, in the vendor range. The pcsc-lite transport renumbers them for its clients.
 */
export function featureCode(tag: number): number {
  return scardCtlCode(3400 + tag);
}

export const PINPAD_FEATURES: readonly number[] = [
  FEATURE.VERIFY_PIN_DIRECT,
  FEATURE.MODIFY_PIN_DIRECT,
  FEATURE.IFD_PIN_PROPERTIES,
  FEATURE.GET_TLV_PROPERTIES,
];

/** GET_FEATURE_REQUEST's answer: tag, length 4, control code big-endian, per feature. */
export function featureList(codeOf: (tag: number) => number = featureCode): Uint8Array {
  const out = new Uint8Array(PINPAD_FEATURES.length * 6);
  PINPAD_FEATURES.forEach((tag, i) => {
    out[i * 6] = tag;
    out[i * 6 + 1] = 4;
    new DataView(out.buffer).setUint32(i * 6 + 2, codeOf(tag) >>> 0, false);
  });
  return out;
}

/** bEntryValidationCondition bits. */
export const VALIDATION = { MAX_SIZE_REACHED: 0x01, KEY_PRESSED: 0x02, TIMEOUT: 0x04 } as const;

/** What the virtual keypad declares about itself. */
export interface PinpadProperties {
  /** Smallest and largest PIN, in digits, the keypad accepts. */
  minPinSize: number;
  maxPinSize: number;
  /** Seconds the pad waits when the structure says 0 ("the reader's default"). */
  defaultTimeoutSeconds: number;
  /** USB-style ids reported in GET_TLV_PROPERTIES. */
  idVendor: number;
  idProduct: number;
  firmwareId: string;
}

export const DEFAULT_PINPAD_PROPERTIES: Readonly<PinpadProperties> = Object.freeze({
  minPinSize: 1,
  maxPinSize: 16,
  defaultTimeoutSeconds: 30,
  idVendor: 0x1d6b,
  idProduct: 0x5c01,
  firmwareId: 'vscr-pinpad',
});

/** The conditions this pad accepts, as one bEntryValidationCondition byte. */
const SUPPORTED_VALIDATION = VALIDATION.MAX_SIZE_REACHED | VALIDATION.KEY_PRESSED | VALIDATION.TIMEOUT;

/** PIN_PROPERTIES_STRUCTURE: wLcdLayout (0: no display), bEntryValidationCondition, bTimeOut2. */
export function pinProperties(): Uint8Array {
  return Uint8Array.of(0x00, 0x00, SUPPORTED_VALIDATION, 0x00);
}

/** GET_TLV_PROPERTIES: one-byte tag, one-byte length, little-endian value (PC/SC part 10 §2.6.14). */
export function tlvProperties(p: PinpadProperties): Uint8Array {
  const parts: number[] = [];
  const put = (tag: number, value: number[]): void => void parts.push(tag, value.length, ...value);
  const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
  put(0x01, le16(0)); // wLcdLayout: no display
  put(0x02, [SUPPORTED_VALIDATION]); // bEntryValidationCondition
  put(0x03, [0]); // bTimeOut2
  put(0x06, [p.minPinSize]); // bMinPINSize
  put(0x07, [p.maxPinSize]); // bMaxPINSize
  put(0x08, [...Buffer.from(p.firmwareId, 'latin1')]); // sFirmwareID
  put(0x09, [0]); // bPPDUSupport: none
  put(0x0a, [0x00, 0x00, 0x01, 0x00]); // dwMaxAPDUDataSize: 65536, as the reader's TRANSMIT takes extended APDUs
  put(0x0b, le16(p.idVendor)); // wIdVendor
  put(0x0c, le16(p.idProduct)); // wIdProduct
  return Uint8Array.from(parts);
}

/** The fields both structures share, decoded. */
export interface PinFormat {
  timeoutSeconds: number;
  firstKeyTimeoutSeconds: number;
  /** bmFormatString */
  formatString: number;
  /** bmPINBlockString */
  blockString: number;
  /** bmPINLengthFormat */
  lengthFormat: number;
  minDigits: number;
  maxDigits: number;
  validation: number;
}

export interface PinVerifyStructure extends PinFormat {
  apdu: Uint8Array;
}

export interface PinModifyStructure extends PinFormat {
  insertionOffsetOld: number;
  insertionOffsetNew: number;
  /** bit 0: the new PIN is entered twice; bit 1: the current PIN is entered first. */
  confirmPin: number;
  apdu: Uint8Array;
}

/** Header lengths of the packed structures, up to and including ulDataLength. */
export const PIN_VERIFY_HEADER = 19;
export const PIN_MODIFY_HEADER = 24;

/** Decodes PIN_VERIFY_STRUCTURE; null when it is too short or its ulDataLength disagrees with the buffer. */
export function parsePinVerify(input: Uint8Array): PinVerifyStructure | null {
  if (input.length < PIN_VERIFY_HEADER + 4) return null;
  const v = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const wPINMaxExtraDigit = v.getUint16(5, true);
  const dataLength = v.getUint32(15, true);
  if (dataLength !== input.length - PIN_VERIFY_HEADER) return null;
  return {
    timeoutSeconds: input[0],
    firstKeyTimeoutSeconds: input[1],
    formatString: input[2],
    blockString: input[3],
    lengthFormat: input[4],
    minDigits: wPINMaxExtraDigit >>> 8,
    maxDigits: wPINMaxExtraDigit & 0xff,
    validation: input[7],
    apdu: input.slice(PIN_VERIFY_HEADER),
  };
}

/** Decodes PIN_MODIFY_STRUCTURE; null when it is too short or its ulDataLength disagrees with the buffer. */
export function parsePinModify(input: Uint8Array): PinModifyStructure | null {
  if (input.length < PIN_MODIFY_HEADER + 4) return null;
  const v = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const wPINMaxExtraDigit = v.getUint16(7, true);
  const dataLength = v.getUint32(20, true);
  if (dataLength !== input.length - PIN_MODIFY_HEADER) return null;
  return {
    timeoutSeconds: input[0],
    firstKeyTimeoutSeconds: input[1],
    formatString: input[2],
    blockString: input[3],
    lengthFormat: input[4],
    insertionOffsetOld: input[5],
    insertionOffsetNew: input[6],
    minDigits: wPINMaxExtraDigit >>> 8,
    maxDigits: wPINMaxExtraDigit & 0xff,
    confirmPin: input[9],
    validation: input[10],
    apdu: input.slice(PIN_MODIFY_HEADER),
  };
}

/** Builds a PIN_VERIFY_STRUCTURE (tests and clients). */
export function buildPinVerify(f: Omit<PinVerifyStructure, 'validation'> & { validation?: number }): Uint8Array {
  const out = new Uint8Array(PIN_VERIFY_HEADER + f.apdu.length);
  const v = new DataView(out.buffer);
  out.set([f.timeoutSeconds, f.firstKeyTimeoutSeconds, f.formatString, f.blockString, f.lengthFormat], 0);
  v.setUint16(5, (f.minDigits << 8) | f.maxDigits, true);
  out[7] = f.validation ?? VALIDATION.KEY_PRESSED;
  out[8] = 0; // bNumberMessage
  v.setUint16(9, 0x0409, true); // wLangId
  // bMsgIndex and bTeoPrologue stay 0.
  v.setUint32(15, f.apdu.length, true);
  out.set(f.apdu, PIN_VERIFY_HEADER);
  return out;
}

/** Builds a PIN_MODIFY_STRUCTURE (tests and clients). */
export function buildPinModify(f: Omit<PinModifyStructure, 'validation'> & { validation?: number }): Uint8Array {
  const out = new Uint8Array(PIN_MODIFY_HEADER + f.apdu.length);
  const v = new DataView(out.buffer);
  out.set([f.timeoutSeconds, f.firstKeyTimeoutSeconds, f.formatString, f.blockString, f.lengthFormat, f.insertionOffsetOld, f.insertionOffsetNew], 0);
  v.setUint16(7, (f.minDigits << 8) | f.maxDigits, true);
  out[9] = f.confirmPin;
  out[10] = f.validation ?? VALIDATION.KEY_PRESSED;
  out[11] = 0; // bNumberMessage
  v.setUint16(12, 0x0409, true); // wLangId
  // bMsgIndex1..3 and bTeoPrologue stay 0.
  v.setUint32(20, f.apdu.length, true);
  out.set(f.apdu, PIN_MODIFY_HEADER);
  return out;
}
