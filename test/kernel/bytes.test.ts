// The shared byte helpers (kernel/bytes.ts): little-endian DWORDs, concatenation, and hex both ways, on Node's
// Buffer and on the plain loop browsers run.

import { describe, expect, it } from 'vitest';
import { concatBytes, parseHex, parseHexDigitsPortable, readU32LE, toHex, toHexPortable, writeU32LE } from '../../kernel/bytes.js';

describe('kernel/bytes', () => {
  it('reads and writes little-endian DWORDs, unsigned', () => {
    const b = Uint8Array.of(0xaa, 0x04, 0x03, 0x02, 0x81, 0xbb);
    expect(readU32LE(b, 1)).toBe(0x81020304);
    writeU32LE(b, 1, 0xfffffffe);
    expect([...b]).toEqual([0xaa, 0xfe, 0xff, 0xff, 0xff, 0xbb]);
    expect(readU32LE(b, 1)).toBe(4294967294);
  });

  it('concatenates into a new array', () => {
    const a = Uint8Array.of(1, 2);
    const out = concatBytes([a, new Uint8Array(0), Uint8Array.of(3)]);
    expect([...out]).toEqual([1, 2, 3]);
    expect(out.buffer).not.toBe(a.buffer);
    expect(concatBytes([]).length).toBe(0);
  });

  it('hex: lowercase out, either case in, null for odd length or other characters', () => {
    expect(toHex(Uint8Array.of(0x00, 0xa4, 0xff, 0x0b).subarray(1))).toBe('a4ff0b');
    expect([...(parseHex('00A4ff') ?? [])]).toEqual([0x00, 0xa4, 0xff]);
    expect(parseHex('')?.length).toBe(0);
    expect(parseHex('abc')).toBeNull();
    expect(parseHex('00 a4')).toBeNull();
    expect(parseHex('0g')).toBeNull();
  });

  it('the browser path (no Buffer) gives Buffer\'s answers for every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    expect(toHexPortable(all)).toBe(toHex(all));
    expect(toHexPortable(all.subarray(3, 5))).toBe('fcfb');
    expect([...parseHexDigitsPortable(toHex(all).toUpperCase())]).toEqual([...all]);
  });
});
