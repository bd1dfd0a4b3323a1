// Puts a PIN typed on the keypad into the APDU template of a PIN_VERIFY/PIN_MODIFY structure, as a CCID reader's
// firmware does: bmFormatString (unit, position, justification, encoding), bmPINBlockString and bmPINLengthFormat.

import type { PinFormat } from './part10.js';

/** Offset of the APDU's data field: positions in the structures count from the first byte after Lc. */
const DATA_OFFSET = 5;

/** The layout the three format bytes describe, decoded. */
export interface PinLayout {
  /** Bit offset of the PIN block inside the data field. */
  pinBitOffset: number;
  rightJustify: boolean;
  encoding: 'binary' | 'bcd' | 'ascii';
  /** Bytes of the PIN block; 0 = as long as the PIN (the reader also sets Lc). */
  blockBytes: number;
  /** Bits of the PIN-length field; 0 = no length field. */
  lengthBits: number;
  /** Bit offset of the length field inside the data field. */
  lengthBitOffset: number;
}

export function pinLayout(f: Pick<PinFormat, 'formatString' | 'blockString' | 'lengthFormat'>): PinLayout | null {
  const encodingBits = f.formatString & 0x03;
  if (encodingBits === 0x03) return null;
  const bytesUnit = (f.formatString & 0x80) !== 0;
  const position = (f.formatString >>> 3) & 0x0f;
  const lengthUnitBytes = (f.lengthFormat & 0x10) !== 0;
  const lengthPosition = f.lengthFormat & 0x0f;
  return {
    pinBitOffset: bytesUnit ? position * 8 : position,
    rightJustify: (f.formatString & 0x04) !== 0,
    encoding: encodingBits === 0 ? 'binary' : encodingBits === 1 ? 'bcd' : 'ascii',
    blockBytes: f.blockString & 0x0f,
    lengthBits: f.blockString >>> 4,
    lengthBitOffset: lengthUnitBytes ? lengthPosition * 8 : lengthPosition,
  };
}

/** Writes `width` bits of `value` at bit `offset` (counted from the most significant bit of bytes[0]). */
function putBits(bytes: Uint8Array, offset: number, width: number, value: number): void {
  for (let i = 0; i < width; i++) {
    const bit = (value >>> (width - 1 - i)) & 1;
    const at = offset + i;
    const mask = 0x80 >>> (at & 7);
    bytes[at >>> 3] = bit ? bytes[at >>> 3] | mask : bytes[at >>> 3] & ~mask;
  }
}

/**
 * The APDU with `digits` written into the block that starts `insertionOffset` bytes after the format's PIN
 * position (PIN_MODIFY's bInsertionOffsetOld/New; 0 for VERIFY). The length field, if any, is written at its
 * position shifted by the same offset. Template bytes the PIN does not cover (padding such as FF) stay as they
 * are. Null when the layout does not fit the template or the PIN does not fit the block.
 */
export function insertPin(apdu: Uint8Array, format: PinFormat, digits: string, insertionOffset = 0): Uint8Array | null {
  const layout = pinLayout(format);
  if (layout === null || !/^[0-9]*$/.test(digits) || apdu.length < DATA_OFFSET) return null;
  const unitBits = layout.encoding === 'bcd' ? 4 : 8;
  const pinBits = digits.length * unitBits;
  const variable = layout.blockBytes === 0;
  const blockBits = variable ? Math.ceil(pinBits / 8) * 8 : layout.blockBytes * 8;
  if (pinBits > blockBits || layout.pinBitOffset % unitBits !== 0) return null;
  const start = insertionOffset * 8 + layout.pinBitOffset;
  let out = apdu.slice();
  if (variable) {
    // A variable block: the data field ends with the PIN, and Lc says how long it now is (short APDUs only).
    const dataBytes = (start + blockBits) / 8;
    if (!Number.isInteger(dataBytes) || dataBytes > 255) return null;
    const grown = new Uint8Array(DATA_OFFSET + Math.max(dataBytes, apdu.length - DATA_OFFSET));
    grown.set(apdu);
    grown[4] = grown.length - DATA_OFFSET;
    out = grown;
  }
  const data = out.subarray(DATA_OFFSET);
  if (start + blockBits > data.length * 8) return null;
  const first = layout.rightJustify ? start + blockBits - pinBits : start;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(i) - 0x30;
    putBits(data, first + i * unitBits, unitBits, layout.encoding === 'ascii' ? 0x30 + d : d);
  }
  if (layout.lengthBits > 0) {
    const lengthAt = insertionOffset * 8 + layout.lengthBitOffset;
    if (lengthAt + layout.lengthBits > data.length * 8 || digits.length >= 1 << layout.lengthBits) return null;
    putBits(data, lengthAt, layout.lengthBits, digits.length);
  }
  return out;
}
