// PIN formatting per bmFormatString / bmPINBlockString / bmPINLengthFormat, and the packed part 10 structures,
// against hand-built known answers.

import { describe, expect, it } from 'vitest';
import { insertPin, pinLayout } from '../../../../smcard/reader/pinpad/pin-format.js';
import {
  buildPinModify,
  buildPinVerify,
  featureCode,
  featureList,
  parsePinModify,
  parsePinVerify,
  PIN_MODIFY_HEADER,
  PIN_VERIFY_HEADER,
  pinProperties,
  tlvProperties,
  DEFAULT_PINPAD_PROPERTIES,
  type PinFormat,
} from '../../../../smcard/reader/pinpad/part10.js';

const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));
const fmt = (formatString: number, blockString: number, lengthFormat = 0): PinFormat => ({
  timeoutSeconds: 0, firstKeyTimeoutSeconds: 0, formatString, blockString, lengthFormat, minDigits: 4, maxDigits: 8, validation: 2,
});

describe('insertPin', () => {
  it('ASCII, bytes, left-justified into an FF-padded 8-byte block (the PIV/default-card VERIFY)', () => {
    const apdu = bytes('00 20 00 81 08 FFFFFFFFFFFFFFFF');
    expect(hex(insertPin(apdu, fmt(0x82, 0x08), '1234'))).toBe('0020008108' + '31323334ffffffff');
    expect(hex(apdu)).toBe('0020008108ffffffffffffffff'); // the template is not modified
  });

  it('BCD in an ISO 9564 format 2 block: length nibble at bit 4, PIN from byte 1, F padding kept', () => {
    // bmFormatString 0x89: bytes, position 1, left, BCD. bmPINBlockString 0x47: 4-bit length, 7-byte block.
    // bmPINLengthFormat 0x04: bits, position 4 (the low nibble of the first data byte).
    const apdu = bytes('00 20 00 81 08 20FFFFFFFFFFFFFF');
    expect(hex(insertPin(apdu, fmt(0x89, 0x47, 0x04), '12345'))).toBe('0020008108' + '2512345fffffffff');
  });

  it('right justification ends the PIN at the end of the block; binary puts one digit per byte', () => {
    const apdu = bytes('00 20 00 01 06 000000000000');
    expect(hex(insertPin(apdu, fmt(0x80 | 0x04 | 0x00, 0x06), '9876'))).toBe('0020000106' + '000009080706');
  });

  it('a 0-byte block is as long as the PIN, and Lc follows', () => {
    const apdu = bytes('00 20 00 82 00');
    expect(hex(insertPin(apdu, fmt(0x82, 0x00), '123456'))).toBe('0020008206313233343536');
  });

  it('a PIN-length byte at a byte position', () => {
    // bmPINBlockString 0x88: 8-bit length field, 8-byte block; length at byte 0, PIN at byte 1.
    const apdu = bytes('00 24 00 80 09 00 FFFFFFFFFFFFFFFF');
    expect(hex(insertPin(apdu, fmt(0x8a, 0x88, 0x10), '1234'))).toBe('0024008009' + '04' + '31323334ffffffff');
  });

  it('an insertion offset moves both the block and the length (PIN_MODIFY old/new blocks)', () => {
    const apdu = bytes('00 24 00 81 10 FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF');
    const once = insertPin(apdu, fmt(0x82, 0x08), '1234', 0)!;
    expect(hex(insertPin(once, fmt(0x82, 0x08), '87654321', 8))).toBe('0024008110' + '31323334ffffffff' + '3837363534333231');
  });

  it('refuses what does not fit: a PIN longer than the block, a block past the template, encoding 11', () => {
    expect(insertPin(bytes('0020008104FFFFFFFF'), fmt(0x82, 0x04), '12345')).toBeNull();
    expect(insertPin(bytes('0020008104FFFFFFFF'), fmt(0x82, 0x08), '1234')).toBeNull();
    expect(insertPin(bytes('0020008108FFFFFFFFFFFFFFFF'), fmt(0x83, 0x08), '1234')).toBeNull();
    expect(pinLayout({ formatString: 0x83, blockString: 0, lengthFormat: 0 })).toBeNull();
  });
});

describe('part 10 structures', () => {
  it('PIN_VERIFY_STRUCTURE is 19 packed bytes plus the APDU, little-endian', () => {
    const apdu = bytes('0020008108FFFFFFFFFFFFFFFF');
    const s = buildPinVerify({ timeoutSeconds: 30, firstKeyTimeoutSeconds: 5, formatString: 0x82, blockString: 0x08, lengthFormat: 0, minDigits: 4, maxDigits: 8, apdu });
    expect(PIN_VERIFY_HEADER).toBe(19);
    expect(hex(s.subarray(0, 19))).toBe('1e05820800' + '0804' + '02' + '00' + '0904' + '00' + '000000' + '0d000000');
    const back = parsePinVerify(s)!;
    expect(back).toMatchObject({ timeoutSeconds: 30, firstKeyTimeoutSeconds: 5, formatString: 0x82, blockString: 0x08, minDigits: 4, maxDigits: 8, validation: 2 });
    expect(hex(back.apdu)).toBe(hex(apdu));
    expect(parsePinVerify(s.subarray(0, s.length - 1))).toBeNull(); // ulDataLength disagrees
  });

  it('PIN_MODIFY_STRUCTURE is 24 packed bytes plus the APDU', () => {
    const apdu = bytes('0024008110' + 'FF'.repeat(16));
    const s = buildPinModify({
      timeoutSeconds: 0, firstKeyTimeoutSeconds: 0, formatString: 0x82, blockString: 0x08, lengthFormat: 0,
      insertionOffsetOld: 0, insertionOffsetNew: 8, minDigits: 4, maxDigits: 8, confirmPin: 0x03, apdu,
    });
    expect(PIN_MODIFY_HEADER).toBe(24);
    expect(hex(s.subarray(0, 24))).toBe('0000820800' + '0008' + '0804' + '03' + '02' + '00' + '0904' + '000000' + '000000' + '15000000');
    expect(parsePinModify(s)).toMatchObject({ insertionOffsetOld: 0, insertionOffsetNew: 8, confirmPin: 3, minDigits: 4, maxDigits: 8 });
  });

  it('the feature list carries big-endian control codes SCARD_CTL_CODE(3400 + tag)', () => {
    expect(featureCode(0x06)).toBe(0x00313538); // 0x310000 | 3406 << 2
    expect(hex(featureList())).toBe('060400313538' + '07040031353c' + '0a0400313548' + '120400313568');
  });

  it('PIN properties and TLV properties', () => {
    expect(hex(pinProperties())).toBe('00000700');
    const tlv = tlvProperties(DEFAULT_PINPAD_PROPERTIES);
    const entries = new Map<number, string>();
    for (let at = 0; at < tlv.length; at += 2 + tlv[at + 1]) entries.set(tlv[at], hex(tlv.subarray(at + 2, at + 2 + tlv[at + 1]))!);
    expect(entries.get(0x06)).toBe('01'); // bMinPINSize
    expect(entries.get(0x07)).toBe('10'); // bMaxPINSize
    expect(entries.get(0x0a)).toBe('00000100'); // dwMaxAPDUDataSize, little-endian
    expect(entries.get(0x0b)).toBe('6b1d'); // wIdVendor 0x1d6b, little-endian
    expect(Buffer.from(entries.get(0x08)!, 'hex').toString('latin1')).toBe('vscr-pinpad');
  });
});
